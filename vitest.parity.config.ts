import { defineConfig } from "vitest/config";

// Data-driven parity tests over every fixture set under $DINOV2_FIXTURES.
export default defineConfig({
  test: {
    include: ["src/**/*.parity.test.ts", "test/**/*.parity.test.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: "forks",
  },
});

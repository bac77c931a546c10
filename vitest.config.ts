import { defineConfig } from "vitest/config";

// The default suite: unit tests beside the code and e2e tests under test/. Parity and GPU tests
// have their own configs (npm run test:parity, npm run test:gpu).
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/*.parity.test.ts", "**/*.gpu.test.ts", "node_modules/**"],
    reporters: ["default", "./test/summary-reporter.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});

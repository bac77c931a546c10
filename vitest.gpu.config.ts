import { defineConfig } from "vitest/config";

// GPU tests: run where a WebGPU or CUDA execution provider starts (see test/gpu/README).
export default defineConfig({
  test: {
    include: ["test/gpu/**/*.gpu.test.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
    testTimeout: 600_000,
    pool: "forks",
  },
});

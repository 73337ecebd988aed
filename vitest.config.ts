import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    reporters: ["default", "./src/testing/summary-reporter.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Kernel tests create network namespaces; keep files from fighting over the two cores.
    fileParallelism: true,
    maxWorkers: 2,
  },
});

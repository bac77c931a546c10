// Prints the plain closing line CI reads: "N passed, N failed, N skipped".
import { appendFileSync } from "node:fs";
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
      if (mod.state() === "failed" && mod.children.size === 0) failed++;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    // .ci/run adds the suites up into one closing line.
    const file = process.env.DINOV2_TEST_TOTALS;
    if (file) appendFileSync(file, `${passed} ${failed} ${skipped}\n`);
  }
}

// Turns vitest's JSON report into the plain line CI counts: "N passed, N failed[, N skipped]".
// A suite that failed to load (no test of it failed, yet it failed) counts as one failure; a
// missing report (vitest crashed) counts as one; a failed `npm run check` counts as one.
// Usage: node scripts/count-tests.mjs <report.json> <check_failed: 0|1>
import { readFileSync } from "node:fs";

const check = Number(process.argv[3] ?? 0);
let report;
try {
  report = JSON.parse(readFileSync(process.argv[2], "utf8"));
} catch {
  report = undefined;
}
if (!report) {
  console.log(`0 passed, ${1 + check} failed`);
} else {
  const brokenSuites = (report.testResults ?? []).filter(
    (s) => s.status === "failed" && !(s.assertionResults ?? []).some((a) => a.status === "failed"),
  ).length;
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  const failed = (report.numFailedTests ?? 0) + brokenSuites + check;
  console.log(
    `${report.numPassedTests ?? 0} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`,
  );
}

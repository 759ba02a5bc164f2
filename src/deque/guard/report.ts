import type { GuardAction } from "./decide.ts";
import type { GuardItem, GuardReport } from "./run.ts";

const DONE: Record<GuardAction, string> = {
  demote: "demoted to draft",
  update_branch: "branch updated",
  wait: "waiting",
  none: "ok",
  skip: "skipped (draft)",
};

const WOULD: Record<GuardAction, string> = {
  demote: "would demote to draft",
  update_branch: "would update branch",
  wait: "waiting",
  none: "ok",
  skip: "skipped (draft)",
};

/** What happened to one item, in words: `demoted to draft`, `would update branch`, `demote failed`. */
function outcome(it: GuardItem, dryRun: boolean): string {
  if (it.error !== undefined) return `${it.action.replace("_", " ")} failed`;
  if (dryRun) return WOULD[it.action];
  if ((it.action === "demote" || it.action === "update_branch") && !it.applied)
    return `${it.action} not applied`;
  return DONE[it.action];
}

/** Columns aligned with two spaces; the last column is not padded. */
function columns(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) => r.map((c, j) => (j === r.length - 1 ? c : c.padEnd(widths[j]!))).join("  "))
    .join("\n");
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * A guard report as plain text for the terminal: one row per pull request (repository,
 * number, outcome, title, reasons), then errors, then a summary line with the totals and the
 * forge requests made. No colours, so it can go into a log or a comment as is.
 */
export function formatGuardReport(report: GuardReport): string {
  const out: string[] = [];
  if (report.items.length > 0) {
    out.push(
      columns([
        ["REPO", "#", "OUTCOME", "TITLE", "REASONS"],
        ...report.items.map((it) => [
          it.repo,
          String(it.number),
          outcome(it, report.dryRun),
          clip(it.title, 50),
          it.reasons.join("; "),
        ]),
      ]),
    );
  } else {
    out.push("no open pull requests");
  }
  const errors = [
    ...report.repoErrors.map((e) => e.error),
    ...report.items.flatMap((it) => (it.error !== undefined ? [it.error] : [])),
  ];
  if (errors.length > 0) out.push("", "errors:", ...errors.map((e) => `  ${e}`));
  const t = report.totals;
  const n = report.items.length;
  const verb = (done: string, would: string) => (report.dryRun ? would : done);
  const summary = [
    `${n} open pull request${n === 1 ? "" : "s"}`,
    `${t.demote} ${verb("demoted", "to demote")}`,
    `${t.update_branch} ${verb("updated", "to update")}`,
    `${t.wait} waiting`,
    `${t.none} ok`,
    `${t.skip} draft${t.skip === 1 ? "" : "s"} skipped`,
    `${t.errors} error${t.errors === 1 ? "" : "s"}`,
  ].join(", ");
  const extras = [
    report.requests !== null
      ? `${report.requests} forge request${report.requests === 1 ? "" : "s"}`
      : undefined,
    report.dryRun ? "dry run: nothing changed" : undefined,
  ].filter(Boolean);
  out.push("", extras.length > 0 ? `${summary} (${extras.join("; ")})` : summary);
  return out.join("\n");
}

import type { Command } from "commander";
import pc from "picocolors";
import type { Project } from "../../project.ts";
import { type AgentRow, type AgentsView, agentsView, latestEventCursor } from "../../store/session-views.ts";
import { type Redactor, redactorFromEnv } from "../../util/redact.ts";
import { positiveInt, printJson, withProject } from "../context.ts";
import { stateLabel, table } from "../format.ts";

/** `nightshift agents`: the grouped agent view of the dashboard, in the terminal. */
export function registerAgents(program: Command): void {
  program
    .command("agents")
    .description(
      "sessions grouped as needs input, working, ready for review, completed, failed, cancelled, with tokens, cost, context and PR",
    )
    .option("--limit <n>", "rows per group", positiveInt("--limit"), 10)
    .option("--json", "print JSON")
    .option("--watch", "redraw whenever a session changes (Ctrl-C stops)")
    .action(async (opts: { limit: number; json?: boolean; watch?: boolean }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        const redactor = redactorFromEnv(process.env, p.config.redact_env);
        // JSON too: titles and summaries come from sessions and go through the redactor.
        const read = async () =>
          redactView(await agentsView(p.store.db, { now: p.clock.now(), perGroup: opts.limit }), redactor);
        if (!opts.watch) {
          const view = await read();
          return opts.json ? printJson(view) : console.log(renderAgents(p, view));
        }
        await watch(p, read, opts.json === true);
      });
    });
}

/** The view with every title and summary redacted. */
function redactView(view: AgentsView, redactor: Redactor): AgentsView {
  const r = (t: string | null) => (t === null ? null : redactor.redact(t));
  return {
    ...view,
    groups: view.groups.map((g) => ({
      ...g,
      rows: g.rows.map((row) => ({ ...row, title: r(row.title), summary: r(row.summary) })),
    })),
  };
}

/** Redraws on every change of the store's event cursor (checked every 500 ms) until SIGINT. */
async function watch(p: Project, read: () => Promise<AgentsView>, json: boolean): Promise<void> {
  let last = "";
  let stop = false;
  const onSigint = () => {
    stop = true;
  };
  process.once("SIGINT", onSigint);
  try {
    while (!stop) {
      const c = await latestEventCursor(p.store.db);
      const key = `${c.change}-${c.transcript}`;
      if (key !== last) {
        last = key;
        const view = await read();
        if (json) process.stdout.write(`${JSON.stringify(view)}\n`);
        else process.stdout.write(`\x1b[H\x1b[2J${renderAgents(p, view)}\n`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    process.off("SIGINT", onSigint);
  }
}

const fmtTokens = (n: number) =>
  n < 1000 ? String(n) : n < 1e6 ? `${(n / 1000).toFixed(1)}k` : `${(n / 1e6).toFixed(2)}M`;

function fmtDuration(ms: number | null): string | null {
  if (ms === null) return null;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}

/** The grouped view as text: one table per non-empty group, needs input first. */
export function renderAgents(p: Project, view: AgentsView): string {
  const redactor = redactorFromEnv(process.env, p.config.redact_env);
  // Text from sessions: redacted, and no terminal control sequences (not even colours).
  const clean = (t: string) => redactor.redact(t).replace(/[\u0000-\u001f\u007f-\u009f]/g, " ");
  const now = view.at;
  const out: string[] = [];
  for (const g of view.groups) {
    out.push(pc.bold(`${g.label} (${g.count})`));
    if (g.rows.length === 0) {
      out.push(pc.dim("  none"), "");
      continue;
    }
    out.push(
      table(
        [
          "ID",
          "ROUTINE / TITLE",
          "STATE",
          "TRIGGER",
          "AGE",
          "DURATION",
          "TOKENS",
          "COST",
          "CTX",
          "PR",
          "SUMMARY",
        ],
        g.rows.map((r: AgentRow) => [
          r.id,
          clean(r.title ?? r.routine),
          stateLabel(r.state),
          r.trigger,
          fmtDuration(now - r.createdAt),
          fmtDuration(r.durationMs),
          fmtTokens(r.tokens),
          r.costUsd === null ? null : `$${r.costUsd.toFixed(4)}`,
          r.contextPercent === null ? null : `${r.contextPercent}%`,
          r.pr ? `#${r.pr.number} ${r.pr.state}${r.pr.checks !== "none" ? ` ${r.pr.checks}` : ""}` : null,
          r.summary ? clean(r.summary).slice(0, 60) : null,
        ]),
      ),
    );
    if (g.count > g.rows.length) out.push(pc.dim(`  … ${g.count - g.rows.length} more (--limit)`));
    out.push("");
  }
  return out.join("\n");
}

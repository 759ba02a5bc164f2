import type { Command } from "commander";
import pc from "picocolors";
import { listDeliveries } from "../../store/deliveries.ts";
import { listRunsWithSessions } from "../../store/runs.ts";
import { findSession, listSessions, sessionTotals, type SessionTotals } from "../../store/sessions.ts";
import { SESSION_STATES, type SessionState } from "../../session/states.ts";
import { openQuestionsOf } from "../../store/session-questions.ts";
import { parseDuration } from "../../config/duration.ts";
import { parseInstant } from "../../scheduler/one-off.ts";
import { CliError, positiveInt, printJson, withProject } from "../context.ts";
import { isoTime, sessionDuration, stateLabel, table } from "../format.ts";
import { printSummary } from "./run.ts";

export function registerSessions(program: Command): void {
  const sessions = program.command("sessions").description("list and inspect sessions (runs of routines)");

  sessions
    .command("list")
    .description("list recent sessions, newest first, with a totals line (sessions, tokens, cost)")
    .option("--routine <name>", "only this routine's sessions")
    .option(
      "--state <states>",
      `only sessions in these states, comma-separated: ${SESSION_STATES.join(", ")} (with --all, also ${RUN_ONLY_STATES.join(", ")})`,
      (v: string) => v.split(",").map((x) => x.trim()),
    )
    .option(
      "--since <when>",
      "only those started since a duration ago (24h, 7d) or a date (2026-11-01, an ISO time)",
    )
    .option("--limit <n>", "how many", positiveInt("--limit"), 20)
    .option("--all", "every fire, including runs still queued and slots skipped or missed")
    .option("--json", "print JSON")
    .action(
      async (
        opts: {
          routine?: string;
          state?: string[];
          since?: string;
          limit: number;
          all?: boolean;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        await withProject(cmd, async (p) => {
          const now = p.clock.now();
          const since = opts.since !== undefined ? parseSince(opts.since, now) : undefined;
          const allowed: readonly string[] = opts.all
            ? [...SESSION_STATES, ...RUN_ONLY_STATES]
            : SESSION_STATES;
          const bad = opts.state?.filter((x) => !allowed.includes(x)) ?? [];
          if (bad.length)
            throw new CliError(
              `--state: unknown state ${bad.map((b) => JSON.stringify(b)).join(", ")}; use ${allowed.join(", ")}${opts.all ? "" : " (or add --all for the states of queued runs)"}`,
            );
          const filter = {
            ...(opts.routine ? { routine: opts.routine } : {}),
            ...(since !== undefined ? { since } : {}),
          };
          if (opts.all) {
            const runs = await listRunsWithSessions(p.store.db, {
              ...filter,
              ...(opts.state ? { states: opts.state } : {}),
              limit: opts.limit,
            });
            if (opts.json) return printJson(runs);
            if (runs.length === 0)
              return console.log(filter.routine || since || opts.state ? "no runs match" : "no runs yet");
            console.log(
              table(
                ["RUN", "ROUTINE", "TRIGGER", "SLOT", "STATE", "ATTEMPT", "SESSION", "REASON"],
                runs.map((r) => [
                  r.id,
                  r.routine,
                  r.trigger,
                  r.scheduled_for ? isoTime(r.scheduled_for) : isoTime(r.created_at),
                  stateLabel(r.shown_state),
                  r.attempt,
                  r.session_id,
                  shortReason(
                    r.shown_state !== r.state
                      ? (r.session_reason ?? r.reason)
                      : (r.reason ?? r.session_reason),
                  ),
                ]),
              ),
            );
            const counts = new Map<string, number>();
            for (const r of runs) counts.set(r.shown_state, (counts.get(r.shown_state) ?? 0) + 1);
            return console.log(
              `\n${runs.length} run${runs.length === 1 ? "" : "s"}: ${[...counts].map(([k, n]) => `${n} ${k}`).join(", ")}`,
            );
          }
          const states = opts.state as SessionState[] | undefined;
          const rows = await listSessions(p.store.db, {
            ...filter,
            ...(states ? { states } : {}),
            limit: opts.limit,
          });
          const totals = await sessionTotals(p.store.db, { ...filter, ...(states ? { states } : {}) });
          // needs_input: the question the session waits on, in the REASON column and the JSON.
          const asked = await openQuestionsOf(
            p.store.db,
            rows.filter((s) => s.state === "needs_input").map((s) => s.id),
          );
          if (opts.json)
            return printJson(rows.map((s) => (asked.has(s.id) ? { ...s, question: asked.get(s.id) } : s)));
          if (rows.length === 0)
            return console.log(
              filter.routine || since !== undefined || states
                ? "no sessions match"
                : "no sessions yet: `nightshift run <routine>` starts one",
            );
          console.log(
            table(
              ["ID", "ROUTINE", "STATE", "TASK", "STARTED", "DURATION", "PR", "COST", "REASON"],
              rows.map((s) => [
                s.id,
                s.routine,
                stateLabel(s.state),
                s.task_outcome,
                isoTime(s.created_at),
                sessionDuration(s, now),
                s.pr_number ? `#${s.pr_number}` : null,
                s.cost_usd !== null ? `$${Number(s.cost_usd).toFixed(4)}` : null,
                asked.has(s.id)
                  ? `asks: ${asked
                      .get(s.id)!
                      .questions.map((q) => q.question)
                      .join(" / ")}`
                  : s.state === "succeeded"
                    ? null
                    : shortReason(s.reason),
              ]),
            ),
          );
          console.log(`\n${totalsLine(totals, rows.length)}`);
        });
      },
    );

  sessions
    .command("show")
    .description("show one session: outcome, usage, delivery")
    .argument("<id>", "session id (or a unique prefix)")
    .option("--json", "print JSON")
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        const s = await findSession(p.store.db, id);
        if (!s) throw new CliError(`no session "${id}" (see \`nightshift sessions list\`)`);
        const deliveries = await listDeliveries(p.store.db, s.id);
        if (opts.json) return printJson({ ...s, deliveries });
        console.log(
          [
            `${pc.bold(s.routine)} · ${s.agent}${s.model ? ` (${s.model})` : ""} · trigger ${s.trigger}${s.issue_number ? ` · issue #${s.issue_number}` : ""}`,
            `  created ${isoTime(s.created_at)} · started ${isoTime(s.started_at)} · finished ${isoTime(s.finished_at)}`,
            `  branch ${s.branch ?? "—"} from ${s.base_branch ?? "—"}@${s.base_sha?.slice(0, 10) ?? "—"}`,
            `  workspace ${s.workspace_path ?? "—"}${s.workspace_removed_at ? " (removed)" : ""}`,
            `  changes: ${s.files_changed ?? 0} files, +${s.insertions ?? 0} −${s.deletions ?? 0}`,
          ].join("\n"),
        );
        if (deliveries.length) {
          console.log("  delivery:");
          for (const d of deliveries)
            console.log(
              `    ${d.action} ${[d.repo, d.ref, d.sha?.slice(0, 10), d.detail].filter(Boolean).join(" ")}`,
            );
        }
        printSummary(s, p.clock.now(), p.config.workspaces.retention);
      });
    });
}

/** Run states that are not session states: the fires that never became sessions, or not yet. */
const RUN_ONLY_STATES = ["pending", "done", "skipped", "missed"] as const;

/** The longest reason a table cell shows; `sessions show` and `--json` have it whole. */
const REASON_CHARS = 80;

function shortReason(reason: string | null | undefined): string | null {
  if (!reason) return null;
  const line = reason.replace(/\s+/g, " ").trim();
  return line.length > REASON_CHARS ? `${line.slice(0, REASON_CHARS - 1)}…` : line;
}

/**
 * `--since`: a duration back from `now` (`24h`, `7d`, `1h30m`), a UTC date (`2026-11-01`) or
 * an ISO instant with its offset.
 * @throws {CliError} for anything else.
 */
export function parseSince(text: string, now: number): number {
  // A bare number would be read as seconds: ask for the unit instead.
  const duration = /^\d+(\.\d+)?$/.test(text.trim()) ? undefined : parseDuration(text.trim());
  if (duration !== undefined) return now - duration;
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (day) {
    const t = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
    if (new Date(t).toISOString().slice(0, 10) === day[0]) return t;
  } else {
    try {
      return parseInstant(text);
    } catch {
      // reported below
    }
  }
  throw new CliError(
    `--since ${JSON.stringify(text)}: use a duration such as 24h or 7d, a date such as 2026-11-01, or an ISO time such as 2026-11-01T09:00:00Z`,
  );
}

/** `12 sessions · tokens 1,234 in / 567 out (cache 8,900 read) · $0.4200`, saying when the list shows fewer. */
function totalsLine(t: SessionTotals, shown: number): string {
  const n = (x: number) => x.toLocaleString("en-US");
  return [
    `${n(t.sessions)} session${t.sessions === 1 ? "" : "s"}${shown < t.sessions ? ` (showing the newest ${shown}; --limit for more)` : ""}`,
    `tokens ${n(t.input_tokens)} in / ${n(t.output_tokens)} out${t.cache_read_tokens || t.cache_creation_tokens ? ` (cache ${n(t.cache_read_tokens)} read / ${n(t.cache_creation_tokens)} written)` : ""}`,
    `cost $${t.cost_usd.toFixed(4)}`,
  ].join(" · ");
}

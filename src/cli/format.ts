import pc from "picocolors";
import { formatDuration } from "../config/duration.ts";
import type { SessionRow } from "../store/schema.ts";
import type { TranscriptEvent } from "../runner/transcript/events.ts";

/** Shortens text to `n` characters and `maxLines` lines, saying how much was left out. */
const clip = (s: string, n: number, maxLines = Infinity) => {
  const text = s.replace(/\s+$/g, "");
  const lines = text.split("\n");
  const kept = lines.length > maxLines ? lines.slice(0, maxLines).join("\n") : text;
  const cut = kept.length > n ? kept.slice(0, n) : kept;
  return cut.length < text.length ? `${cut}… (${text.length - cut.length} more chars)` : text;
};
const indent = (s: string, pad = "    ") =>
  s
    .split("\n")
    .map((l) => pad + l)
    .join("\n");

function toolSummary(name: string, input: unknown): string {
  if (input && typeof input === "object") {
    const o = input as Record<string, unknown>;
    const main = o.command ?? o.cmd ?? o.file_path ?? o.path ?? o.pattern ?? o.url;
    if (typeof main === "string") return `${name} ${main}`;
  }
  return `${name} ${clip(JSON.stringify(input) ?? "", 160)}`;
}

/** Final states whose reason the transcript's `error` event carries. */
const UNSUCCESSFUL = new Set(["failed", "timed_out", "cancelled"]);

/**
 * One transcript event as readable terminal text (`nightshift run` and `nightshift logs`),
 * or `undefined` for events not worth a line. `verbose` shows tool output in full.
 */
export function formatEvent(ev: TranscriptEvent, opts: { verbose?: boolean } = {}): string | undefined {
  switch (ev.type) {
    case "state":
      // A session that did not succeed: its reason is the `error` event just before, not repeated.
      return pc.dim(`── ${ev.state}${ev.detail && !UNSUCCESSFUL.has(ev.state) ? `: ${ev.detail}` : ""}`);
    case "prompt":
      return opts.verbose ? pc.dim(indent(ev.text, "  │ ")) : undefined;
    case "agent_spawned":
      return pc.dim(`── agent started (pid ${ev.pid}${ev.sandboxed ? ", sandboxed" : ""}) in ${ev.cwd}`);
    case "agent_exited":
      return pc.dim(`── agent exited (${ev.exitCode ?? ev.signal})`);
    case "init":
      return pc.dim(
        `── ${[ev.model && `model ${ev.model}`, ev.agentSessionId && `agent session ${ev.agentSessionId}`].filter(Boolean).join(", ") || "agent ready"}`,
      );
    case "assistant":
      return ev.text;
    case "tool_call":
      return pc.cyan(`→ ${clip(toolSummary(ev.name, ev.input), 200)}`);
    case "tool_result": {
      const text = opts.verbose ? ev.output : clip(ev.output, 400, 6);
      return text ? (ev.isError ? pc.red(indent(text)) : pc.dim(indent(text))) : undefined;
    }
    case "usage":
      return opts.verbose
        ? pc.dim(
            `   tokens: in ${ev.inputTokens} out ${ev.outputTokens} cache r/w ${ev.cacheReadTokens}/${ev.cacheCreationTokens}`,
          )
        : undefined;
    case "result":
      return (ev.isError ? pc.red : pc.green)(
        `── agent ${ev.isError ? "failed" : "finished"}${ev.numTurns !== undefined ? ` after ${ev.numTurns} turns` : ""}${ev.costUsd !== undefined ? `, $${ev.costUsd.toFixed(4)}` : ""}`,
      );
    case "stderr":
      return opts.verbose ? pc.yellow(`! ${ev.text}`) : undefined;
    case "unparsed":
      return pc.dim(ev.line);
    case "delivery":
      return pc.magenta(
        `── ${ev.action.replace("_", " ")} ${[ev.repo, ev.ref, ev.sha?.slice(0, 10), ev.detail].filter(Boolean).join(" ")}`,
      );
    case "error":
      return pc.red(`✗ ${ev.message.replace(/\n/g, "\n  ")}`);
    case "warning":
      return pc.yellow(`! ${ev.message}`);
    case "transcript_limit":
      return pc.yellow(`── ${ev.message}`);
    case "setup":
      return pc.dim(
        `── setup ${ev.phase}${ev.cached ? " (cached)" : ""}${ev.exitCode != null ? ` exit ${ev.exitCode}` : ""}${ev.durationMs != null ? ` ${ev.durationMs} ms` : ""}${ev.detail ? `: ${ev.detail}` : ""}`,
      );
    case "filtered":
      return pc.yellow(
        `── kept out of the prompt (author not allowlisted): ${ev.items.map((i) => `${i.kind} #${i.number} by ${i.author}`).join(", ")}`,
      );
    case "step":
      return (ev.exitCode === 0 ? pc.green : pc.red)(
        `── ${ev.name}: ${ev.command} → exit ${ev.exitCode ?? "killed"} (${ev.durationMs} ms)`,
      );
    default:
      return undefined;
  }
}

/**
 * `text` as one line of a table cell: a line break (with the blanks around it) becomes ` | `,
 * any other control character (NUL, an ESC that does not start a colour code, C1) a space.
 * Colour codes (SGR, as picocolors writes them) are kept.
 */
export function cellText(text: string): string {
  return text
    .replace(/[ \t]*(?:\r\n|[\r\n\u2028\u2029])\s*/g, " | ")
    .replace(/\x1b\[[0-9;]*m|[\u0000-\u001f\u007f-\u009f]/g, (m) => (m.length > 1 ? m : " "));
}

/** Prints rows as aligned columns under a header; every cell is made one line ({@link cellText}). */
export function table(header: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [
    header,
    ...rows.map((r) => r.map((c) => (c === null || c === undefined ? "—" : cellText(String(c))))),
  ];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells
    .map((r, i) => {
      const line = r.map((c, j) => (j === r.length - 1 ? c : c.padEnd(widths[j]!))).join("  ");
      return i === 0 ? pc.bold(line) : line;
    })
    .join("\n");
}

/** A session's duration, or how long it has been running. */
export function sessionDuration(s: SessionRow, now: number): string {
  const start = s.started_at ?? s.created_at;
  const end = s.finished_at ?? now;
  return formatDuration(Number(end) - Number(start));
}

/** Colours a session state. */
export function stateLabel(state: string): string {
  if (state === "succeeded") return pc.green(state);
  if (state === "failed" || state === "timed_out") return pc.red(state);
  if (state === "cancelled") return pc.yellow(state);
  return pc.cyan(state);
}

/** ISO time without milliseconds. */
export function isoTime(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? "—" : new Date(Number(ms)).toISOString().replace(/\.\d{3}Z$/, "Z");
}

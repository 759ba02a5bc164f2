import pc from "picocolors";
import { formatDuration } from "../config/duration.ts";
import type { SessionRow } from "../store/schema.ts";
import { isoTime } from "./format.ts";

/**
 * A stored reason (one line: formatReason turned its line breaks into ` | `) as lines again,
 * the later ones indented by `pad` — so an agent's last output lines read as lines.
 */
export function reasonLines(reason: string, pad = "          "): string {
  return reason.split(" | ").join(`\n${pad}`);
}

/**
 * The "next steps" block printed after a session that did not succeed (`nightshift run`'s
 * live view and `nightshift sessions show`): the full transcript, where the workspace is and
 * until when it is kept (`workspaces.retention`), and the command that runs it again.
 *
 * @param s - the finished session.
 * @param retentionMs - the project's `workspaces.retention`, in ms (0: removed at once).
 * @returns the block, or `undefined` for a session that succeeded or has not finished.
 */
export function nextSteps(s: SessionRow, retentionMs: number): string | undefined {
  if (!["failed", "timed_out", "cancelled"].includes(s.state)) return undefined;
  const lines = [
    pc.bold("  next steps:"),
    `    nightshift logs ${s.id} -v    the whole transcript, with stderr and tool output`,
  ];
  if (s.workspace_path) {
    if (s.workspace_removed_at)
      lines.push(`    workspace ${s.workspace_path} was removed at ${isoTime(s.workspace_removed_at)}`);
    else if (s.finished_at !== null && retentionMs > 0)
      lines.push(
        `    workspace ${s.workspace_path}, kept until ${isoTime(Number(s.finished_at) + retentionMs)} (workspaces.retention ${retentionText(retentionMs)})`,
      );
    else lines.push(`    workspace ${s.workspace_path}`);
  } else {
    lines.push("    no workspace was made");
  }
  lines.push(`    ${rerunCommand(s)}    run it again`);
  return lines.join("\n");
}

/** A retention as it is written in config.yaml when it is whole days (`7d`), else as a duration. */
const retentionText = (ms: number) => (ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : formatDuration(ms));

/** The `nightshift run` command line that runs the session's routine again with its issue and text. */
export function rerunCommand(s: SessionRow): string {
  const args = ["nightshift", "run", shellQuote(s.routine)];
  if (s.issue_number) args.push("--issue", String(s.issue_number));
  if (s.input_text) args.push("--text", shellQuote(s.input_text));
  return args.join(" ");
}

/** `text` quoted for a POSIX shell when it needs it. */
function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

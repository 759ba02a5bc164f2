#!/usr/bin/env node
/**
 * nightshift's PreToolUse hook for Claude Code's `AskUserQuestion` (installed by the runner in
 * the session's private settings file, never the repository's). Plain JavaScript with no
 * imports beyond Node's own, so it runs inside the sandbox (nightshift's bin/ is readable).
 *
 *   node nightshift-ask-hook.mjs <answers dir>   (the PreToolUse JSON on stdin)
 *
 * - No answer stored for this call: prints `permissionDecision: "defer"`. In `-p` mode Claude
 *   Code ends the run at once (`terminal_reason: "tool_deferred"`, the call in the result's
 *   `deferred_tool_use`); the runner stores the question and the session waits in `needs_input`.
 * - `<answers dir>/<tool_use_id>.json` exists (written by the runner before it resumes the
 *   session with `--resume`; Claude Code runs the deferred call again): prints
 *   `permissionDecision: "allow"` with `updatedInput` = the original input plus its `answers`
 *   (question text → answer), which the tool returns to the model.
 * Any other tool passes through untouched (no output).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

const out = (o) =>
  process.stdout.write(`${JSON.stringify({ hookSpecificOutput: { hookEventName: "PreToolUse", ...o } })}\n`);
const defer = () => out({ permissionDecision: "defer" });

let input;
try {
  input = JSON.parse(readFileSync(0, "utf8"));
} catch {
  defer(); // unreadable input: stop rather than let the question through unanswered
  process.exit(0);
}
if (!input || input.tool_name !== "AskUserQuestion") process.exit(0);
const dir = process.argv[2];
const id = typeof input.tool_use_id === "string" ? input.tool_use_id : "";
let answers;
if (dir && /^[A-Za-z0-9_-]{1,200}$/.test(id)) {
  try {
    const stored = JSON.parse(readFileSync(join(dir, `${id}.json`), "utf8"));
    if (stored && typeof stored.answers === "object" && stored.answers !== null) answers = stored.answers;
  } catch {
    // no answer yet
  }
}
if (!answers) defer();
else
  out({
    permissionDecision: "allow",
    permissionDecisionReason: "answered by the person through nightshift",
    updatedInput: { ...(input.tool_input ?? {}), answers },
  });

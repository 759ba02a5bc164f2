/**
 * Needs input, the agent's side: how an agent asks the person a question and stops.
 *
 * - Claude Code: its own `AskUserQuestion` tool, intercepted by nightshift's PreToolUse hook
 *   (bin/nightshift-ask-hook.mjs) from a settings file the runner writes into the session's
 *   private tmp folder. The hook defers the call (the run ends, `terminal_reason:
 *   "tool_deferred"`); on `--resume` it answers it from `<HOME>/.nightshift/answers/<tool use id>.json`.
 * - Codex and `command`: nightshift's `ask_user` MCP server (bin/nightshift-ask-user-mcp.mjs),
 *   which writes the questions to a file in the session's tmp folder that the runner reads
 *   after the agent exits.
 *
 * Both scripts live in bin/, which the sandbox lets an agent read (src/ it does not), and run
 * with the Node that runs nightshift.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { AskedQuestion, QuestionAnswers } from "../../store/session-questions.ts";
import { NIGHTSHIFT_ROOT } from "../agents/env.ts";
import type { ResolvedMcpServer } from "./servers.ts";

/** The PreToolUse hook script (absolute path). */
export const ASK_HOOK_SCRIPT = join(NIGHTSHIFT_ROOT, "bin", "nightshift-ask-hook.mjs");
/** The `ask_user` MCP server script (absolute path). */
export const ASK_USER_MCP_SCRIPT = join(NIGHTSHIFT_ROOT, "bin", "nightshift-ask-user-mcp.mjs");
/** The name the `ask_user` server has in the agent's MCP configuration. */
export const ASK_USER_SERVER_NAME = "nightshift_ask";

/** Where `ask_user` leaves its questions: `<session tmp>/ask-user-question.json`. */
export const askUserQuestionFile = (tmp: string): string => join(tmp, "ask-user-question.json");

/** Where the hook looks for answers: `<session HOME>/.nightshift/answers/`. */
export const askAnswersDir = (home: string): string => join(home, ".nightshift", "answers");

/** The `ask_user` server as an agent CLI gets it (stdio; run with nightshift's own Node). */
export function askUserServer(tmp: string): ResolvedMcpServer {
  return {
    type: "stdio",
    command: process.execPath,
    args: [ASK_USER_MCP_SCRIPT, askUserQuestionFile(tmp)],
    env: {},
  };
}

/**
 * Claude Code's `--settings` content installing the hook for `AskUserQuestion` only, with the
 * session's answers folder as its argument.
 */
export function claudeAskSettings(home: string): string {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const command = [process.execPath, ASK_HOOK_SCRIPT, askAnswersDir(home)].map(q).join(" ");
  return `${JSON.stringify(
    {
      hooks: {
        PreToolUse: [{ matcher: "AskUserQuestion", hooks: [{ type: "command", command, timeout: 30 }] }],
      },
    },
    null,
    2,
  )}\n`;
}

/**
 * Writes the answer the hook returns when Claude Code re-runs the deferred `AskUserQuestion`
 * call `toolUseId` on `--resume` (mode 0600, written whole then renamed).
 * @throws Error when `toolUseId` is not a plain id (letters, digits, `_`, `-`).
 */
export function writeToolAnswer(home: string, toolUseId: string, answers: QuestionAnswers): string {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(toolUseId))
    throw new Error(`writeToolAnswer: tool use id ${JSON.stringify(toolUseId)} is not a plain id`);
  const dir = askAnswersDir(home);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${toolUseId}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify({ answers }), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  return file;
}

const questionSchema = z.object({
  question: z.string().trim().min(1).max(2000),
  header: z.string().max(200).optional(),
  options: z
    .array(
      z.object({ label: z.string().trim().min(1).max(200), description: z.string().max(1000).optional() }),
    )
    .max(10)
    .optional(),
  multiSelect: z.boolean().optional(),
});
const questionsSchema = z.array(questionSchema).min(1).max(4);

/**
 * The questions of an agent's ask (AskUserQuestion's input, or what `ask_user` wrote), checked:
 * 1–4 questions, each with text, at most 10 options with distinct labels, and distinct texts.
 * The agent is hostile: anything else is refused.
 * @returns the questions, or an `error` saying what is wrong.
 */
export function parseAskedQuestions(input: unknown): { questions: AskedQuestion[] } | { error: string } {
  const raw = input && typeof input === "object" ? (input as { questions?: unknown }).questions : undefined;
  const r = questionsSchema.safeParse(raw);
  if (!r.success)
    return { error: `the agent's questions are malformed: ${r.error.issues[0]?.message ?? "invalid"}` };
  const questions: AskedQuestion[] = r.data.map((x) => ({
    question: x.question,
    ...(x.header ? { header: x.header } : {}),
    options: (x.options ?? []).map((o) => ({
      label: o.label,
      ...(o.description ? { description: o.description } : {}),
    })),
    multiSelect: x.multiSelect ?? false,
  }));
  if (new Set(questions.map((x) => x.question)).size !== questions.length)
    return { error: "the agent asked the same question twice in one ask" };
  for (const x of questions)
    if (new Set(x.options.map((o) => o.label)).size !== x.options.length)
      return { error: `the question "${x.question}" has two options with the same label` };
  return { questions };
}

/** Largest question file read (the agent wrote it). */
const MAX_QUESTION_FILE = 64 * 1024;

/**
 * Reads and removes what `ask_user` left in the session's tmp folder after the agent exited.
 * @returns nothing when the agent did not ask, the questions, or an `error` (too large, not
 *   JSON, malformed) — the file is removed in every case.
 */
export function takeAskedQuestions(
  tmp: string,
): { questions: AskedQuestion[] } | { error: string } | undefined {
  const file = askUserQuestionFile(tmp);
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) {
      rmSync(file, { recursive: true, force: true });
      return { error: "the ask_user question file is not a file" };
    }
    if (st.size > MAX_QUESTION_FILE) {
      rmSync(file, { force: true });
      return { error: `the ask_user question file is over ${MAX_QUESTION_FILE} bytes` };
    }
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  rmSync(file, { force: true });
  try {
    return parseAskedQuestions(JSON.parse(text));
  } catch (err) {
    return { error: `the ask_user question file is not JSON: ${(err as Error).message}` };
  }
}

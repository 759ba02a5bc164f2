/**
 * Needs input, the runner's side: a session whose agent asked the person a question ends in
 * `needs_input` with the question stored (no process, no worker slot); an answer continues
 * it as a follow-up (src/runner/follow-up.ts) with the answer.
 */
import { join } from "node:path";
import type { Project } from "../project.ts";
import {
  answerSessionQuestion,
  type AskedQuestion,
  insertSessionQuestion,
  openSessionQuestion,
  type QuestionAnswers,
  type SessionQuestion,
} from "../store/session-questions.ts";
import { findSession, setSessionState } from "../store/sessions.ts";
import type { ResultEvent, SessionEnd } from "./agent-pass.ts";
import { type StartedFollowUp, startFollowUp } from "./follow-up.ts";
import { parseAskedQuestions, takeAskedQuestions, writeToolAnswer } from "./mcp/ask-user.ts";
import type { SessionContext } from "./session/context.ts";

/** Bad input to {@link answerQuestion}: the message says what is wrong and what to do. */
export class AnswerError extends Error {
  override name = "AnswerError";
}

/**
 * After a successful agent pass: did the agent ask the person? Claude Code's deferred
 * `AskUserQuestion` (the result's `deferredTool`), or what nightshift's `ask_user` MCP server
 * left in the session's tmp folder (Codex, `command`). The questions are validated (the agent
 * is hostile), stored, and recorded in the transcript.
 *
 * @returns how the session ends — `needs_input`, or `failed` (agent_error) for a malformed ask
 *   or a deferred call nightshift cannot answer — or nothing when the agent did not ask.
 */
export async function endIfAsked(
  ctx: SessionContext,
  result: ResultEvent | undefined,
  tmp: string,
): Promise<SessionEnd | undefined> {
  let asked: { questions: AskedQuestion[] } | { error: string } | undefined;
  let toolUseId: string | null = null;
  const deferred = result?.deferredTool;
  if (deferred) {
    if (deferred.name !== "AskUserQuestion")
      return {
        state: "failed",
        infra: "ok",
        task: "agent_error",
        reason: `Claude Code stopped on a deferred ${deferred.name} call (a hook deferred it); nightshift only answers AskUserQuestion`,
      };
    asked = parseAskedQuestions(deferred.input);
    toolUseId = deferred.id;
  } else {
    asked = takeAskedQuestions(tmp);
  }
  if (!asked) return undefined;
  if ("error" in asked) return { state: "failed", infra: "ok", task: "agent_error", reason: asked.error };
  const q = await insertSessionQuestion(ctx.db, {
    sessionId: ctx.id,
    toolUseId,
    questions: asked.questions,
    now: ctx.clock.now(),
  });
  await ctx.transcript.record({ type: "question", id: q.id, questions: q.questions });
  return { state: "needs_input", infra: "ok" };
}

/**
 * Turns what the person typed into one answer per question, checked against the stored
 * choices: for a question with options the answer must be one of their labels (any case) or
 * its number (1-based); a multi-select question takes several, comma-separated. A question
 * without options takes any non-empty text.
 *
 * @param answer - a string (when exactly one question was asked), or question text → answer.
 * @throws {AnswerError} saying which question and which choices.
 */
export function checkAnswer(question: SessionQuestion, answer: string | QuestionAnswers): QuestionAnswers {
  const qs = question.questions;
  let given: QuestionAnswers;
  if (typeof answer === "string") {
    if (qs.length !== 1)
      throw new AnswerError(
        `the agent asked ${qs.length} questions; answer each one (question text → answer): ${qs.map((q) => JSON.stringify(q.question)).join(", ")}`,
      );
    given = { [qs[0]!.question]: answer };
  } else given = answer;
  for (const k of Object.keys(given))
    if (!qs.some((q) => q.question === k))
      throw new AnswerError(
        `the agent did not ask ${JSON.stringify(k)}; it asked ${qs.map((q) => JSON.stringify(q.question)).join(", ")}`,
      );
  const out: QuestionAnswers = {};
  for (const q of qs) {
    const raw = given[q.question];
    if (typeof raw !== "string" || !raw.trim())
      throw new AnswerError(`no answer to ${JSON.stringify(q.question)}${choicesText(q)}`);
    if (q.options.length === 0) {
      out[q.question] = raw.trim();
      continue;
    }
    const parts = q.multiSelect
      ? raw
          .split(",")
          .map((p) => p.trim())
          .filter(Boolean)
      : [raw.trim()];
    const labels = parts.map((p) => {
      const n = /^\d+$/.test(p) ? Number(p) : NaN;
      const byNumber = Number.isInteger(n) ? q.options[n - 1] : undefined;
      const byLabel = q.options.find((o) => o.label.toLowerCase() === p.toLowerCase());
      const hit = byLabel ?? byNumber;
      if (!hit)
        throw new AnswerError(
          `${JSON.stringify(p)} is not a choice of ${JSON.stringify(q.question)}${choicesText(q)}`,
        );
      return hit.label;
    });
    out[q.question] = [...new Set(labels)].join(", ");
  }
  return out;
}

function choicesText(q: AskedQuestion): string {
  if (q.options.length === 0) return "";
  return `: choose ${q.multiSelect ? "one or more (comma-separated) of" : "one of"} ${q.options.map((o, i) => `${i + 1}. ${JSON.stringify(o.label)}`).join(", ")}`;
}

/** The follow-up message that carries answers to an agent without a tool to answer (Codex, `command`). */
export function answerMessage(answers: QuestionAnswers): string {
  const lines = Object.entries(answers).map(([q, a]) => `- ${q}\n  Answer: ${a}`);
  return `The person answered your question${lines.length > 1 ? "s" : ""}:\n${lines.join("\n")}\n\nContinue the task with this answer.`;
}

/**
 * Answers the question a `needs_input` session is waiting on and continues the session: the
 * answer is checked against the stored choices and stored (once), then a follow-up starts
 * (`startFollowUp`): for Claude Code it resumes the conversation and the hook returns the
 * answer as the `AskUserQuestion` tool result (written to `<HOME>/.nightshift/answers/` here
 * first); for Codex and `command` the answer is the follow-up's message.
 *
 * @param sessionId - the session's id or a unique prefix of it.
 * @param answer - a string for a single question, else question text → answer.
 * @param opts.by - who answered (`cli`, `api:<token>`, `dashboard:<user>`); default `cli`.
 * @returns what `startFollowUp` returns (the follow-up session or its queued run).
 * @throws {AnswerError} when the session does not exist, is not waiting for an answer, was
 *   answered already, or the answer does not fit the question.
 */
export async function answerQuestion(
  project: Project,
  sessionId: string,
  answer: string | QuestionAnswers,
  opts: { by?: string } = {},
): Promise<StartedFollowUp> {
  const db = project.store.db;
  const session = await findSession(db, sessionId);
  if (!session) throw new AnswerError(`no session ${JSON.stringify(sessionId)}: see \`nightshift sessions\``);
  if (session.state !== "needs_input")
    throw new AnswerError(
      `session ${session.id} is ${session.state}, not waiting for an answer: send a follow-up with \`nightshift reply ${session.id} "<text>"\` instead`,
    );
  const question = await openSessionQuestion(db, session.id);
  if (!question) throw new AnswerError(`session ${session.id} has no open question (answered already?)`);
  const answers = checkAnswer(question, answer);
  if (
    !(await answerSessionQuestion(db, question.id, {
      answer: answers,
      by: opts.by ?? "cli",
      now: project.clock.now(),
    }))
  )
    throw new AnswerError(`the question of session ${session.id} was answered already`);
  const claude = session.agent === "claude-code" && question.toolUseId !== null;
  if (claude) {
    if (!session.workspace_path || session.workspace_removed_at !== null)
      throw new AnswerError(`session ${session.id}'s workspace is gone: it can no longer be resumed`);
    writeToolAnswer(join(session.workspace_path, "home"), question.toolUseId!, answers);
  }
  const started = await startFollowUp(project, {
    parentSessionId: session.id,
    text: answerMessage(answers),
    ...(claude ? { toolAnswer: answers } : {}),
    trigger: "answer",
  });
  // Its turn is over: it no longer waits (the agent view moves it out of "needs input"); the
  // conversation goes on in the follow-up.
  await setSessionState(db, session.id, "succeeded", {
    reason: `asked a question, answered by ${opts.by ?? "cli"}; continued in session ${started.sessionId}`,
  });
  return started;
}

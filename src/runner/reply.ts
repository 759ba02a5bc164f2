import type { Project } from "../project.ts";
import type { SessionRow } from "../store/schema.ts";
import { findSession } from "../store/sessions.ts";
import { conversationHead, FollowUpError, type StartedFollowUp, startFollowUp } from "./follow-up.ts";
import { AnswerError, answerQuestion } from "./questions.ts";

/**
 * The session a reply to `sessionId` reaches when that conversation waits for an answer: its
 * newest session, in state `needs_input`. `undefined` when it does not wait (a reply is then
 * a follow-up with new instructions) or the session does not exist.
 */
export async function awaitingAnswer(project: Project, sessionId: string): Promise<SessionRow | undefined> {
  const s = await findSession(project.store.db, sessionId);
  if (!s) return undefined;
  const head = await conversationHead(project, s);
  return head.state === "needs_input" ? head : undefined;
}

/**
 * A person's reply to a session, from the CLI, the API or the dashboard. When the
 * conversation's newest session asked a question and waits (`needs_input`), the reply is the
 * answer: checked against the question's choices, stored, and resumed with it (questions.ts;
 * for Claude Code the deferred `AskUserQuestion` call gets the answer as its tool result).
 * Otherwise it is a follow-up with new instructions (follow-up.ts): stored while the session
 * runs, queued when its turn is over.
 *
 * @param req.by - who replied, recorded with an answer (`cli`, `api:<token id>`, `dashboard:<user>`).
 * @returns what happened (`answered` tells which of the two it was).
 * @throws {FollowUpError} `not_found`, `not_resumable`, or `bad_request` (empty text, or an
 *   answer that fits none of the question's choices — the message lists them).
 */
export async function sendReply(
  project: Project,
  req: { sessionId: string; text: string; trigger: string; by: string },
): Promise<StartedFollowUp & { answered: boolean }> {
  const waiting = await awaitingAnswer(project, req.sessionId);
  if (!waiting)
    return {
      ...(await startFollowUp(project, {
        parentSessionId: req.sessionId,
        text: req.text,
        trigger: req.trigger,
      })),
      answered: false,
    };
  if (!req.text.trim())
    throw new FollowUpError("bad_request", "the answer is empty: write one of the question's choices");
  try {
    return { ...(await answerQuestion(project, waiting.id, req.text, { by: req.by })), answered: true };
  } catch (err) {
    if (err instanceof AnswerError) throw new FollowUpError("bad_request", err.message, { cause: err });
    throw err;
  }
}

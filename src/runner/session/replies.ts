import type { Kysely } from "kysely";
import { findRun, insertRun, type RunRequestData } from "../../store/runs.ts";
import type { Database } from "../../store/schema.ts";
import {
  addSessionMessage,
  claimSessionMessages,
  moveSessionMessages,
  releaseSessionMessages,
} from "../../store/session-messages.ts";
import { randomId } from "../../util/ids.ts";

/**
 * A follow-up stored in the queue: its run and the id its session will have. `merged`: a
 * follow-up of the same session was already waiting or running, so the text was stored as a
 * message for it instead (`messageId`; `sessionId` and `runId` are that follow-up's): one
 * conversation never runs two follow-ups at once in its workspace.
 */
export interface QueuedFollowUp {
  runId: string;
  sessionId: string;
  merged?: { messageId?: string };
}

/**
 * Queues a follow-up of `parent` as a durable run (`runs.request` kind `follow_up`) for the
 * daemon's worker pool: it survives a restart or a `kill -9` of `nightshift serve`.
 *
 * @param req.sessionId - the id the follow-up session will have (default: a new one).
 * @returns the run and the session id announced.
 */
export async function queueFollowUp(
  db: Kysely<Database>,
  req: {
    parent: { id: string; routine: string };
    text: string;
    toolAnswer?: Record<string, string>;
    trigger?: string;
    sessionId?: string;
    /** The text is these claimed messages (claimed for `sessionId`): moved, not copied, when merged. */
    claimed?: boolean;
    now: number;
  },
): Promise<QueuedFollowUp> {
  const sessionId = req.sessionId ?? randomId();
  const request: RunRequestData = {
    kind: "follow_up",
    parentSessionId: req.parent.id,
    text: req.text,
    ...(req.toolAnswer ? { toolAnswer: req.toolAnswer } : {}),
  };
  const run = (dedupeKey: string) =>
    insertRun(db, {
      routine: req.parent.routine,
      trigger: req.trigger ?? "reply",
      dedupeKey,
      maxRunning: 0,
      // A second attempt only after a killed worker (its lease expired); no retry of a failed session.
      maxAttempts: 2,
      sessionId,
      request,
      now: req.now,
    });
  // One follow-up per session: a second reply joins the first while it waits or runs.
  const r = await run(`follow-up-of:${req.parent.id}`);
  if (r.inserted) return { runId: r.id, sessionId };
  const existing = await findRun(db, r.id);
  if (existing?.session_id && (existing.state === "pending" || existing.state === "running")) {
    if (req.claimed) {
      await moveSessionMessages(db, sessionId, existing.session_id);
      return { runId: existing.id, sessionId: existing.session_id, merged: {} };
    }
    const m = await addSessionMessage(db, { sessionId: existing.session_id, text: req.text, now: req.now });
    return { runId: existing.id, sessionId: existing.session_id, merged: { messageId: m.id } };
  }
  // The earlier follow-up of this session ended without continuing it (refused, cancelled): another.
  const again = await run(`follow-up-of:${req.parent.id}:${sessionId}`);
  return { runId: again.id, sessionId };
}

/**
 * The replies a session received while it ran, as one follow-up: takes every undelivered
 * message (atomically, so a reply arriving at the same moment is delivered once) and queues a
 * follow-up whose text is the messages in order, separated by blank lines.
 *
 * @returns the queued follow-up, or `undefined` when no message was waiting.
 */
export async function queuePendingReplies(
  db: Kysely<Database>,
  session: { id: string; routine: string },
  now: number,
): Promise<QueuedFollowUp | undefined> {
  const sessionId = randomId();
  const messages = await claimSessionMessages(db, session.id, sessionId);
  if (messages.length === 0) return undefined;
  try {
    return await queueFollowUp(db, {
      parent: session,
      text: messages.map((m) => m.text).join("\n\n"),
      sessionId,
      claimed: true,
      now,
    });
  } catch (err) {
    await releaseSessionMessages(db, sessionId);
    throw err;
  }
}

import type { Kysely, Selectable } from "kysely";
import { randomId } from "../util/ids.ts";
import type { Database, SessionMessagesTable } from "./schema.ts";

/** A stored reply to a session (see {@link SessionMessagesTable}). */
export type SessionMessageRow = Selectable<SessionMessagesTable>;

/**
 * Stores a reply to a session that is still running; it waits until the session's turn ends.
 * @returns the stored message.
 */
export async function addSessionMessage(
  db: Kysely<Database>,
  m: { sessionId: string; text: string; now: number },
): Promise<SessionMessageRow> {
  const row: SessionMessageRow = {
    id: randomId(12),
    session_id: m.sessionId,
    text: m.text,
    created_at: m.now,
    delivered_session_id: null,
  };
  await db.insertInto("session_messages").values(row).execute();
  return row;
}

/** The replies to a session not delivered yet, oldest first. */
export async function pendingSessionMessages(
  db: Kysely<Database>,
  sessionId: string,
): Promise<SessionMessageRow[]> {
  return db
    .selectFrom("session_messages")
    .selectAll()
    .where("session_id", "=", sessionId)
    .where("delivered_session_id", "is", null)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

/**
 * Takes every undelivered reply to `sessionId` for the follow-up session `deliveredTo`, in one
 * UPDATE: of two callers at once (the session ending, a reply arriving), each message goes to
 * one only.
 *
 * @returns the messages taken, oldest first (none when another caller took them).
 */
export async function claimSessionMessages(
  db: Kysely<Database>,
  sessionId: string,
  deliveredTo: string,
): Promise<SessionMessageRow[]> {
  const rows = await db
    .updateTable("session_messages")
    .set({ delivered_session_id: deliveredTo })
    .where("session_id", "=", sessionId)
    .where("delivered_session_id", "is", null)
    .returningAll()
    .execute();
  return rows.sort((a, b) => Number(a.created_at) - Number(b.created_at) || a.id.localeCompare(b.id));
}

/** Gives messages taken by {@link claimSessionMessages} back (their follow-up could not be queued). */
export async function releaseSessionMessages(db: Kysely<Database>, deliveredTo: string): Promise<void> {
  await db
    .updateTable("session_messages")
    .set({ delivered_session_id: null })
    .where("delivered_session_id", "=", deliveredTo)
    .execute();
}

/**
 * Moves the messages taken for `deliveredTo` to session `toSessionId`, undelivered again: they
 * wait for that session instead (a follow-up already queued for the same conversation).
 */
export async function moveSessionMessages(
  db: Kysely<Database>,
  deliveredTo: string,
  toSessionId: string,
): Promise<void> {
  await db
    .updateTable("session_messages")
    .set({ session_id: toSessionId, delivered_session_id: null })
    .where("delivered_session_id", "=", deliveredTo)
    .execute();
}

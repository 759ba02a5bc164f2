import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";

/** One stored transcript event. `data` is the parsed event. */
export interface StoredEvent<T = unknown> {
  seq: number;
  at: number;
  kind: string;
  data: T;
}

/** Appends one event; `seq` is the caller's 1-based counter for the session. */
export async function appendEvent(
  db: Kysely<Database>,
  sessionId: string,
  seq: number,
  at: number,
  kind: string,
  data: unknown,
): Promise<void> {
  await db
    .insertInto("transcript_events")
    .values({ session_id: sessionId, seq, at, kind, data: JSON.stringify(data) })
    .execute();
}

/** Reads a session's events with `seq > afterSeq`, in order. */
export async function readEvents<T = unknown>(
  db: Kysely<Database>,
  sessionId: string,
  afterSeq = 0,
): Promise<StoredEvent<T>[]> {
  const rows = await db
    .selectFrom("transcript_events")
    .select(["seq", "at", "kind", "data"])
    .where("session_id", "=", sessionId)
    .where("seq", ">", afterSeq)
    .orderBy("seq")
    .execute();
  return rows.map((r) => ({ seq: r.seq, at: Number(r.at), kind: r.kind, data: JSON.parse(r.data) as T }));
}

/** The last event of `kind` in a session's transcript (e.g. the agent's `result`), if any. */
export async function lastEventOfKind<T = unknown>(
  db: Kysely<Database>,
  sessionId: string,
  kind: string,
): Promise<StoredEvent<T> | undefined> {
  const row = await db
    .selectFrom("transcript_events")
    .select(["seq", "at", "kind", "data"])
    .where("session_id", "=", sessionId)
    .where("kind", "=", kind)
    .orderBy("seq", "desc")
    .limit(1)
    .executeTakeFirst();
  return row
    ? { seq: row.seq, at: Number(row.at), kind: row.kind, data: JSON.parse(row.data) as T }
    : undefined;
}

import type { Kysely, Selectable } from "kysely";
import { randomId } from "../util/ids.ts";
import type { Database, DeliveriesTable } from "./schema.ts";

/** What the runner did to deliver a session's work, one row per step. */
export type DeliveryAction = "commit" | "push" | "push_refused" | "pr_opened" | "pr_updated" | "no_changes";

/** Records one delivery step in the ledger. */
export async function recordDelivery(
  db: Kysely<Database>,
  d: {
    sessionId: string;
    repo: string;
    action: DeliveryAction;
    ref?: string;
    sha?: string;
    detail?: string;
    at: number;
  },
): Promise<void> {
  await db
    .insertInto("deliveries")
    .values({
      id: randomId(16),
      session_id: d.sessionId,
      repo: d.repo,
      action: d.action,
      ref: d.ref ?? null,
      sha: d.sha ?? null,
      detail: d.detail ?? null,
      at: d.at,
    })
    .execute();
}

/** The ledger of one session, oldest first. */
export async function listDeliveries(
  db: Kysely<Database>,
  sessionId: string,
): Promise<Selectable<DeliveriesTable>[]> {
  return db.selectFrom("deliveries").selectAll().where("session_id", "=", sessionId).orderBy("at").execute();
}

import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";

/**
 * Records a webhook delivery once. GitHub and most senders may deliver the same event again
 * (redelivery from the UI, retries): the (source, delivery id) key makes the second a no-op.
 *
 * `runs` is how many runs the delivery starts, when the caller stores them in the same
 * transaction (default 0; {@link setDeliveryRuns} sets it later otherwise).
 *
 * @returns true the first time this delivery is seen.
 */
export async function recordWebhookDelivery(
  db: Kysely<Database>,
  d: { source: string; deliveryId: string; event: string | null; now: number; runs?: number },
): Promise<boolean> {
  const r = await db
    .insertInto("webhook_deliveries")
    .values({
      source: d.source,
      delivery_id: d.deliveryId,
      event: d.event,
      received_at: d.now,
      runs: d.runs ?? 0,
    })
    .onConflict((oc) => oc.columns(["source", "delivery_id"]).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Stores how many runs a delivery started. */
export async function setDeliveryRuns(
  db: Kysely<Database>,
  source: string,
  deliveryId: string,
  runs: number,
): Promise<void> {
  await db
    .updateTable("webhook_deliveries")
    .set({ runs })
    .where("source", "=", source)
    .where("delivery_id", "=", deliveryId)
    .execute();
}

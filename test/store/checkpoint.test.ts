import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTemp, tempDir } from "../support/project.ts";
import { openStore, type Store } from "../../src/store/db.ts";
import { recordWebhookDelivery } from "../../src/store/webhook-deliveries.ts";
import { ManualClock } from "../../src/util/clock.ts";

afterAll(cleanupTemp);

const sizeOf = (f: string) => (existsSync(f) ? statSync(f).size : 0);

/** `n` deliveries, one transaction each (as the webhook route stores them). */
async function deliver(store: Store, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++)
    await recordWebhookDelivery(store.db, { source: "github", deliveryId: `d-${i}`, event: "push", now: i });
}

async function count(store: Store): Promise<number> {
  const r = await store.db
    .selectFrom("webhook_deliveries")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

describe("WAL checkpoints", () => {
  it("keeps the WAL under its cap when the timer never runs, and the data survives a reopen", async () => {
    const file = join(tempDir(), "nightshift.db");
    const capMiB = 0.25;
    // The clock is never advanced: only the size cap checkpoints.
    const store = await openStore(file, { clock: new ManualClock(), walCapMiB: capMiB });
    let largest = 0;
    // 3000 commits write at least one 4 KiB page each: ~12 MiB of WAL without a checkpoint.
    for (let batch = 0; batch < 30; batch++) {
      await deliver(store, batch * 100, 100);
      largest = Math.max(largest, sizeOf(`${file}-wal`));
    }
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThanOrEqual(2 * capMiB * 1024 * 1024);
    await store.close();
    expect(sizeOf(`${file}-wal`)).toBe(0); // the last connection to close checkpoints and removes it
    const again = await openStore(file);
    expect(await count(again)).toBe(3000);
    await again.close();
  });

  it("checkpoints on its timer, on a worker thread, once the WAL has grown", async () => {
    const file = join(tempDir(), "nightshift.db");
    await (await openStore(file)).close(); // migrated, and its WAL folded into the file
    const clock = new ManualClock();
    const store = await openStore(file, { clock, checkpointIntervalMs: 1000, offThreadAfterMiB: 0.5 });
    const base = sizeOf(file);
    await deliver(store, 0, 20);
    // A short burst (a CLI command): below the threshold, ticks leave the WAL to close().
    clock.advance(5000);
    await new Promise((r) => setTimeout(r, 200));
    expect(sizeOf(file)).toBe(base);
    await deliver(store, 20, 580);
    const wal = sizeOf(`${file}-wal`);
    expect(wal).toBeGreaterThan(0.5 * 1024 * 1024);
    // Below the 16 MiB cap nothing checkpoints inside a commit: the rows are only in the WAL.
    expect(sizeOf(file)).toBe(base);
    clock.advance(999);
    await new Promise((r) => setTimeout(r, 200));
    expect(sizeOf(file)).toBe(base);
    clock.advance(1);
    // The checkpoint runs on the thread, while this one goes on. Time goes on while we wait: a
    // tick that finds the previous checkpoint still running skips, and the next one asks again.
    const checkpointed = async (than: number) => {
      await expect
        .poll(
          () => {
            clock.advance(1000);
            return sizeOf(file);
          },
          { timeout: 10_000, interval: 20 },
        )
        .toBeGreaterThan(than);
      await new Promise((r) => setTimeout(r, 300)); // the copy is seen; let it finish
    };
    await checkpointed(base);
    // Once a checkpoint is complete the WAL starts over: more writes reuse it rather than grow it.
    for (let round = 1; round <= 5; round++) {
      const before = sizeOf(file);
      await deliver(store, round * 600, 600);
      await checkpointed(before);
    }
    // Without the restarts it would hold every round: 6 times the first one.
    expect(sizeOf(`${file}-wal`)).toBeLessThan(2 * wal);
    expect(await count(store)).toBe(3600);
    await store.close();
    expect(sizeOf(`${file}-wal`)).toBe(0);
    const again = await openStore(file);
    expect(await count(again)).toBe(3600);
    await again.close();
  });

  it("checkpoints when it closes while another connection keeps the WAL open", async () => {
    const file = join(tempDir(), "nightshift.db");
    const clock = new ManualClock();
    const reader = await openStore(file, { clock });
    const writer = await openStore(file, { clock });
    const base = sizeOf(file);
    await deliver(writer, 0, 200);
    expect(sizeOf(file)).toBe(base);
    await writer.close();
    expect(sizeOf(file)).toBeGreaterThan(base);
    expect(await count(reader)).toBe(200);
    await reader.close();
    expect(sizeOf(`${file}-wal`)).toBe(0);
  });

  it("rejects a cap or an interval that is not a positive number", async () => {
    const file = join(tempDir(), "nightshift.db");
    await expect(openStore(file, { walCapMiB: 0 })).rejects.toThrow(/walCapMiB must be a positive number/);
    await expect(openStore(file, { checkpointIntervalMs: Number.NaN })).rejects.toThrow(
      /checkpointIntervalMs must be a positive number/,
    );
    await expect(openStore(file, { offThreadAfterMiB: -1 })).rejects.toThrow(
      /offThreadAfterMiB must be a number ≥ 0/,
    );
  });
});

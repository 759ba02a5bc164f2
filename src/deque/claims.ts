import type { Routine } from "../config/routine-schema.ts";
import type { Project } from "../project.ts";
import { type ClaimHolder, claimItem, releaseItem, renewItem } from "../store/work-claims.ts";

/** How long a claim holds without a heartbeat: a crashed or hung holder's claim lapses after it. */
export const CLAIM_LEASE_MS = 10 * 60_000;

/** How often a live holder renews its claim (a quarter of the lease, as the daemon's run leases). */
export const CLAIM_HEARTBEAT_MS = CLAIM_LEASE_MS / 4;

/** A claim on an item, kept alive by a heartbeat on the project's clock until released. */
export interface HeldClaim {
  readonly repo: string;
  readonly number: number;
  readonly holder: ClaimHolder;
  /** False once a renewal found the claim gone (it lapsed and was taken over): heartbeats stop. */
  readonly live: boolean;
  /** Resolves when the renewals started so far are written. */
  flush(): Promise<void>;
  /** Stops renewing, as a holder that hung would; the claim lapses a lease after its last renewal. */
  stopHeartbeat(): void;
  /** Stops renewing and deletes the claim, unless it has passed to another holder. */
  release(): Promise<void>;
}

/**
 * Claims an item for `routine` for {@link CLAIM_LEASE_MS} and renews the claim every
 * {@link CLAIM_HEARTBEAT_MS} (timers of the project's clock) until it is released, so a claim
 * lasts exactly as long as the session holding it, however long that is; a holder that dies
 * stops renewing and its claim lapses one lease after the last renewal.
 *
 * @returns the held claim, or `undefined` when someone else holds a live claim on the item.
 */
export async function holdClaim(
  project: Project,
  c: { repo: string; number: number; routine: string; leaseMs?: number; heartbeatMs?: number },
): Promise<HeldClaim | undefined> {
  const { clock } = project;
  const db = project.store.db;
  const leaseMs = c.leaseMs ?? CLAIM_LEASE_MS;
  const heartbeatMs = c.heartbeatMs ?? CLAIM_HEARTBEAT_MS;
  const claimedAt = clock.now();
  const held = await claimItem(db, {
    repo: c.repo,
    number: c.number,
    routine: c.routine,
    now: claimedAt,
    expiresAt: claimedAt + leaseMs,
  });
  if (!held) return undefined;
  const holder: ClaimHolder = { routine: c.routine, claimedAt };
  let live = true;
  let cancelBeat: (() => void) | undefined;
  // Renewals are written in order, one after the other.
  let writes: Promise<void> = Promise.resolve();
  const beat = () => {
    cancelBeat = clock.setTimer(heartbeatMs, () => {
      // The next beat is set now, not after the write: the claim's renewals follow the clock.
      beat();
      const now = clock.now();
      writes = writes.then(async () => {
        if (!live) return;
        const renewed = await renewItem(db, {
          repo: c.repo,
          number: c.number,
          holder,
          now,
          expiresAt: now + leaseMs,
        }).catch(() => true); // a failed write is retried by the next beat; the lease covers it
        if (!renewed) {
          live = false;
          cancelBeat?.();
        }
      });
    });
  };
  beat();
  return {
    repo: c.repo,
    number: c.number,
    holder,
    get live() {
      return live;
    },
    flush: () => writes,
    stopHeartbeat: () => cancelBeat?.(),
    async release() {
      cancelBeat?.();
      await writes;
      live = false;
      await releaseItem(db, c.repo, c.number, holder);
    },
  };
}

/**
 * Runs `work` while holding the store's claim on one item (see {@link holdClaim}), so two
 * deque routines (or two workers) never work on the same issue or PR at once. The claim is
 * renewed while `work` runs and released when it ends, whatever its outcome.
 *
 * @returns `work`'s skip reason, or why the item could not be claimed; `undefined` when the
 * work ran.
 */
export async function withClaim(
  project: Project,
  routine: Routine,
  repo: string,
  number: number,
  work: (claim: HeldClaim) => Promise<string | undefined>,
): Promise<string | undefined> {
  const claim = await holdClaim(project, { repo, number, routine: routine.name });
  if (!claim) return "another routine is working on it right now";
  try {
    return await work(claim);
  } finally {
    await claim.release();
  }
}

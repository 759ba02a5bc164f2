import type { Routine } from "../config/routine-schema.ts";
import type { Project } from "../runner/project.ts";
import { claimItem, releaseItem } from "../store/work-claims.ts";

/** Slack added to a routine's timeout before its claim on an item lapses (a crashed runner's claim). */
export const CLAIM_SLACK_MS = 10 * 60_000;

/**
 * Runs `work` while holding the store's claim on one item, so two deque routines (or two
 * workers) never work on the same issue or PR at once. A claim outlives a crashed runner by
 * at most the routine's timeout plus {@link CLAIM_SLACK_MS}.
 *
 * @returns `work`'s skip reason, or why the item could not be claimed; `undefined` when the
 * work ran.
 */
export async function withClaim(
  project: Project,
  routine: Routine,
  repo: string,
  number: number,
  work: () => Promise<string | undefined>,
): Promise<string | undefined> {
  const now = project.clock.now();
  const db = project.store.db;
  const held = await claimItem(db, {
    repo,
    number,
    routine: routine.name,
    now,
    expiresAt: now + routine.timeout + CLAIM_SLACK_MS,
  });
  if (!held) return "another routine is working on it right now";
  try {
    return await work();
  } finally {
    await releaseItem(db, repo, number);
  }
}

import type { Workflow } from "../config/deque-schema.ts";
import type { Project } from "../project.ts";
import { itemAttempts } from "../store/sessions.ts";
import type { DequeRunOptions, Skip } from "./run-result.ts";
import { type QueueItem, selectItems } from "./select/index.ts";

/**
 * Picks a deque routine's items for this run: the routine's `select:` (strategy, labels,
 * authors), at most `limit`, rotating past items whose last attempt — by any routine, so an
 * item the other deque routine just failed on rests too — failed or changed nothing within
 * `cooldown`. Skipped items are appended to `skipped` with their reasons.
 */
export async function pickItems<T extends QueueItem & { state?: string }>(
  project: Project,
  repo: string,
  workflow: Workflow,
  items: readonly T[],
  p: { limit: number; skipped: Skip[]; opts: DequeRunOptions },
): Promise<{ selected: T[]; overLimit: number }> {
  const attempts = await itemAttempts(project.store.db);
  const picked = selectItems(items, {
    strategy: workflow.select.strategy,
    limit: p.limit,
    labels: workflow.select.labels,
    ...(workflow.select.authors ? { authors: workflow.select.authors } : {}),
    ...(p.opts.random ? { random: p.opts.random } : {}),
    rotation: {
      attempts: attempts.map((a) => ({ ...a, repo: a.repo || repo })),
      now: project.clock.now(),
      cooldownMs: workflow.select.cooldown,
    },
  });
  for (const s of picked.skipped) p.skipped.push({ number: s.item.number, reason: s.reason });
  return { selected: picked.selected, overLimit: picked.overLimit };
}

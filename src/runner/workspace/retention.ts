import { rmSync } from "node:fs";
import type { Kysely } from "kysely";
import type { Database } from "../../store/schema.ts";
import {
  markWorkspaceRemoved,
  sessionsHoldingWorkspace,
  sessionsWithExpiredWorkspaces,
} from "../../store/sessions.ts";

/**
 * Removes the workspaces of sessions that finished more than `retentionMs` ago (the project's
 * `workspaces.retention`) and marks them removed. The session's record and transcript stay.
 *
 * What a follow-up needs (the workspace, the private HOME with the agent CLI's conversation
 * files) is kept at least `resumeWindowMs` (`workspaces.resume_window`) after the session
 * finished: the folder goes after the longer of the two. A follow-up shares its parent's
 * folder, so the folder stays while any session using it is unfinished or finished recently;
 * when it goes, every session using it is marked removed.
 *
 * @param retentionMs - `workspaces.retention`, in ms.
 * @param now - the current time, ms since the epoch.
 * @param resumeWindowMs - `workspaces.resume_window`, in ms (default 0: retention alone decides).
 * @returns the ids of the sessions whose workspace was removed.
 */
export async function removeExpiredWorkspaces(
  db: Kysely<Database>,
  retentionMs: number,
  now: number,
  resumeWindowMs = 0,
): Promise<string[]> {
  const keepMs = Math.max(retentionMs, resumeWindowMs);
  const cutoff = now - keepMs;
  const expired = await sessionsWithExpiredWorkspaces(db, cutoff);
  const removed: string[] = [];
  const done = new Set<string>();
  for (const s of expired) {
    const path = s.workspace_path!;
    if (done.has(path)) {
      removed.push(s.id);
      continue;
    }
    // Shared with a follow-up that still needs it.
    if ((await sessionsHoldingWorkspace(db, path, cutoff)).length > 0) continue;
    rmSync(path, { recursive: true, force: true });
    await markWorkspaceRemoved(db, path, now);
    done.add(path);
    removed.push(s.id);
  }
  return removed;
}

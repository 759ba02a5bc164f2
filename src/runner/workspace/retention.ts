import { rmSync } from "node:fs";
import type { Kysely } from "kysely";
import type { Database } from "../../store/schema.ts";
import { sessionsWithExpiredWorkspaces, updateSession } from "../../store/sessions.ts";

/**
 * Removes the workspaces of sessions that finished more than `retentionMs` ago (the project's
 * `workspaces.retention`) and marks them removed. The session's record and transcript stay.
 *
 * @returns the ids of the sessions whose workspace was removed.
 */
export async function removeExpiredWorkspaces(
  db: Kysely<Database>,
  retentionMs: number,
  now: number,
): Promise<string[]> {
  const expired = await sessionsWithExpiredWorkspaces(db, now - retentionMs);
  for (const s of expired) {
    rmSync(s.workspace_path!, { recursive: true, force: true });
    await updateSession(db, s.id, { workspace_removed_at: now });
  }
  return expired.map((s) => s.id);
}

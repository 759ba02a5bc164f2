import type { Kysely, Selectable, Transaction } from "kysely";
import { randomId } from "../util/ids.ts";
import type {
  Database,
  ForgeChecksTable,
  ForgeCommentsTable,
  ForgeIssuesTable,
  ForgePullRequestsTable,
  ForgeReviewThreadsTable,
} from "./schema.ts";

/**
 * Issues, pull requests, comments, review threads and checks of the local forge. Issues and
 * PRs share a number sequence.
 */

async function nextNumber(tx: Transaction<Database>, repo: string, atLeast = 0): Promise<number> {
  const row = await tx
    .selectFrom("forge_counters")
    .select("last_number")
    .where("repo", "=", repo)
    .executeTakeFirst();
  const next = Math.max((row?.last_number ?? 0) + 1, atLeast);
  if (row)
    await tx.updateTable("forge_counters").set({ last_number: next }).where("repo", "=", repo).execute();
  else await tx.insertInto("forge_counters").values({ repo, last_number: next }).execute();
  return next;
}

/** Inserts an issue with the next free number and returns it. */
export async function insertIssue(
  db: Kysely<Database>,
  i: Omit<Selectable<ForgeIssuesTable>, "number">,
): Promise<Selectable<ForgeIssuesTable>> {
  return db.transaction().execute(async (tx) => {
    const number = await nextNumber(tx, i.repo);
    const row = { ...i, number };
    await tx.insertInto("forge_issues").values(row).execute();
    return row;
  });
}

/**
 * Inserts an issue keeping its number (an import from GitHub). The counter moves past it.
 * @returns `false` when that number is already taken.
 */
export async function insertIssueWithNumber(
  db: Kysely<Database>,
  i: Selectable<ForgeIssuesTable>,
): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const taken =
      (await tx
        .selectFrom("forge_issues")
        .select("number")
        .where("repo", "=", i.repo)
        .where("number", "=", i.number)
        .executeTakeFirst()) ??
      (await tx
        .selectFrom("forge_pull_requests")
        .select("number")
        .where("repo", "=", i.repo)
        .where("number", "=", i.number)
        .executeTakeFirst());
    if (taken) return false;
    const row = await tx
      .selectFrom("forge_counters")
      .select("last_number")
      .where("repo", "=", i.repo)
      .executeTakeFirst();
    if (!row) await tx.insertInto("forge_counters").values({ repo: i.repo, last_number: i.number }).execute();
    else if (row.last_number < i.number)
      await tx
        .updateTable("forge_counters")
        .set({ last_number: i.number })
        .where("repo", "=", i.repo)
        .execute();
    await tx.insertInto("forge_issues").values(i).execute();
    return true;
  });
}

export async function selectIssue(db: Kysely<Database>, repo: string, number: number) {
  return db
    .selectFrom("forge_issues")
    .selectAll()
    .where("repo", "=", repo)
    .where("number", "=", number)
    .executeTakeFirst();
}

/**
 * Sets an issue's state (`open`/`closed`) and `updated_at` (ms).
 * @returns `false` when there is no such issue.
 */
export async function updateIssueState(
  db: Kysely<Database>,
  repo: string,
  number: number,
  state: "open" | "closed",
  at: number,
): Promise<boolean> {
  const r = await db
    .updateTable("forge_issues")
    .set({ state, updated_at: at })
    .where("repo", "=", repo)
    .where("number", "=", number)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function selectIssues(db: Kysely<Database>, repo: string, state: "open" | "closed" | "all") {
  let q = db.selectFrom("forge_issues").selectAll().where("repo", "=", repo).orderBy("number");
  if (state !== "all") q = q.where("state", "=", state);
  return q.execute();
}

/** Inserts a pull request with the next free number and returns it. */
export async function insertPullRequest(
  db: Kysely<Database>,
  pr: Omit<Selectable<ForgePullRequestsTable>, "number">,
): Promise<Selectable<ForgePullRequestsTable>> {
  return db.transaction().execute(async (tx) => {
    const number = await nextNumber(tx, pr.repo);
    const row = { ...pr, number };
    await tx.insertInto("forge_pull_requests").values(row).execute();
    return row;
  });
}

export async function selectPullRequest(db: Kysely<Database>, repo: string, number: number) {
  return db
    .selectFrom("forge_pull_requests")
    .selectAll()
    .where("repo", "=", repo)
    .where("number", "=", number)
    .executeTakeFirst();
}

export async function selectPullRequests(
  db: Kysely<Database>,
  repo: string,
  state: "open" | "closed" | "merged" | "all",
) {
  let q = db.selectFrom("forge_pull_requests").selectAll().where("repo", "=", repo).orderBy("number");
  if (state !== "all") q = q.where("state", "=", state);
  return q.execute();
}

/**
 * Changes fields of a pull request (`draft`, `state`, `labels`, `updated_at`).
 * @returns `false` when there is no such pull request.
 */
export async function updatePullRequest(
  db: Kysely<Database>,
  repo: string,
  number: number,
  patch: Partial<Pick<Selectable<ForgePullRequestsTable>, "draft" | "state" | "labels" | "updated_at">>,
): Promise<boolean> {
  const r = await db
    .updateTable("forge_pull_requests")
    .set(patch)
    .where("repo", "=", repo)
    .where("number", "=", number)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function insertComment(
  db: Kysely<Database>,
  c: Omit<Selectable<ForgeCommentsTable>, "id">,
): Promise<Selectable<ForgeCommentsTable>> {
  const row = { ...c, id: randomId(16) };
  await db.insertInto("forge_comments").values(row).execute();
  return row;
}

export async function selectComments(db: Kysely<Database>, repo: string, number: number) {
  return db
    .selectFrom("forge_comments")
    .selectAll()
    .where("repo", "=", repo)
    .where("number", "=", number)
    .where("thread_id", "is", null)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

/** Review comments of one pull request (comments that belong to a thread), oldest first. */
export async function selectReviewComments(db: Kysely<Database>, repo: string, number: number) {
  return db
    .selectFrom("forge_comments")
    .selectAll()
    .where("repo", "=", repo)
    .where("number", "=", number)
    .where("thread_id", "is not", null)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

/** Inserts a review thread with a new random id and returns it. */
export async function insertReviewThread(
  db: Kysely<Database>,
  t: Omit<Selectable<ForgeReviewThreadsTable>, "id">,
): Promise<Selectable<ForgeReviewThreadsTable>> {
  const row = { ...t, id: randomId(16) };
  await db.insertInto("forge_review_threads").values(row).execute();
  return row;
}

export async function selectReviewThread(db: Kysely<Database>, repo: string, id: string) {
  return db
    .selectFrom("forge_review_threads")
    .selectAll()
    .where("repo", "=", repo)
    .where("id", "=", id)
    .executeTakeFirst();
}

/** Review threads of one pull request, oldest first. */
export async function selectReviewThreads(db: Kysely<Database>, repo: string, number: number) {
  return db
    .selectFrom("forge_review_threads")
    .selectAll()
    .where("repo", "=", repo)
    .where("number", "=", number)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

/** Marks a review thread resolved or not; `at` (ms) is kept while resolved. */
export async function updateReviewThread(
  db: Kysely<Database>,
  repo: string,
  id: string,
  resolved: boolean,
  at: number,
): Promise<boolean> {
  const r = await db
    .updateTable("forge_review_threads")
    .set({ resolved: resolved ? 1 : 0, resolved_at: resolved ? at : null })
    .where("repo", "=", repo)
    .where("id", "=", id)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Writes a check on a commit, replacing the row with the same repository, commit and name. */
export async function upsertCheck(db: Kysely<Database>, c: Selectable<ForgeChecksTable>): Promise<void> {
  await db
    .insertInto("forge_checks")
    .values(c)
    .onConflict((oc) =>
      oc.columns(["repo", "sha", "name"]).doUpdateSet({
        status: c.status,
        conclusion: c.conclusion,
        required: c.required,
        output: c.output,
        url: c.url,
        started_at: c.started_at,
        completed_at: c.completed_at,
        updated_at: c.updated_at,
      }),
    )
    .execute();
}

export async function selectCheck(db: Kysely<Database>, repo: string, sha: string, name: string) {
  return db
    .selectFrom("forge_checks")
    .selectAll()
    .where("repo", "=", repo)
    .where("sha", "=", sha)
    .where("name", "=", name)
    .executeTakeFirst();
}

/** Checks on the given commits of a repository, by commit then name. */
export async function selectChecks(db: Kysely<Database>, repo: string, shas: readonly string[]) {
  if (shas.length === 0) return [];
  return db
    .selectFrom("forge_checks")
    .selectAll()
    .where("repo", "=", repo)
    .where("sha", "in", [...new Set(shas)])
    .orderBy("sha")
    .orderBy("name")
    .execute();
}

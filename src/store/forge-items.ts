import type { Kysely, Selectable, Transaction } from "kysely";
import { randomId } from "../util/ids.ts";
import type { Database, ForgeCommentsTable, ForgeIssuesTable, ForgePullRequestsTable } from "./schema.ts";

/** Issues, pull requests and comments of the local forge. Issues and PRs share a number sequence. */

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
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

import type { Kysely } from "kysely";
import { z } from "zod";
import { insertIssueWithNumber, selectIssue } from "../../store/forge-items.ts";
import type { Database } from "../../store/schema.ts";
import { errorCode } from "../../util/errors.ts";

/**
 * One issue as printed by `gh issue list --json number,title,body,author,labels,createdAt,state`
 * (gh prints `state` as `OPEN`/`CLOSED`, `author` as `{login, ...}`, labels as `{name, ...}`).
 */
const GhIssueSchema = z.object({
  number: z.number().int().positive(),
  title: z.string(),
  body: z.string().nullable().default(""),
  author: z.object({ login: z.string() }).passthrough().nullable().default(null),
  labels: z.array(z.object({ name: z.string() }).passthrough()).default([]),
  createdAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), "must be an ISO 8601 time"),
  state: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(["open", "closed"])),
});

/** The import file is not what `gh issue list --json ...` prints. */
export class IssueImportError extends Error {
  override name = "IssueImportError";
}

/** Outcome of an import: numbers imported and numbers skipped because they already exist. */
export interface ImportResult {
  imported: number[];
  skipped: number[];
}

/**
 * Imports issues from `gh issue list --json ...` output into the local forge, keeping their
 * numbers so `--issue N` means the same issue as on GitHub. Re-importing is harmless: issues
 * whose number already exists are skipped.
 *
 * @throws {IssueImportError} naming the index and field of the first malformed entry, and the gh command to produce valid input.
 */
export async function importGhIssues(
  db: Kysely<Database>,
  repo: string,
  json: string,
  now: number,
): Promise<ImportResult> {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (err) {
    throw new IssueImportError(
      `issue import: the file is not JSON (${errorCode(err)}); produce it with: ${GH_HINT}`,
      { cause: err },
    );
  }
  if (!Array.isArray(data))
    throw new IssueImportError(`issue import: expected a JSON array of issues; produce it with: ${GH_HINT}`);
  const parsed = data.map((item, index) => {
    const r = GhIssueSchema.safeParse(item);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new IssueImportError(
        `issue import: entry [${index}] field "${issue.path.join(".")}": ${issue.message}; produce the file with: ${GH_HINT}`,
      );
    }
    return r.data;
  });
  const result: ImportResult = { imported: [], skipped: [] };
  for (const i of parsed) {
    const ok = await insertIssueWithNumber(db, {
      repo,
      number: i.number,
      title: i.title,
      body: i.body ?? "",
      author: i.author?.login ?? "ghost",
      labels: JSON.stringify(i.labels.map((l) => l.name)),
      state: i.state,
      created_at: Date.parse(i.createdAt),
      updated_at: now,
    });
    if (ok) result.imported.push(i.number);
    else if (await selectIssue(db, repo, i.number)) result.skipped.push(i.number);
    else
      throw new IssueImportError(
        `issue import: number #${i.number} is already a pull request on the local forge of ${repo}`,
      );
  }
  return result;
}

const GH_HINT = "gh issue list --json number,title,body,author,labels,createdAt,state > issues.json";

import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { Forge, LocalForgeAdmin } from "../../forge/types.ts";
import type { CheckResult, Comment, Issue, PullRequest, ReviewThread } from "../../forge/types.ts";
import type { Project } from "../../project.ts";
import { CliError, withProject } from "../context.ts";

/** A comment as exported. */
interface ExportedComment {
  id: string;
  author: string;
  body: string;
  created_at: string;
}

/** What `nightshift export` prints: every issue and pull request of the local forge. */
export interface ForgeExport {
  /** Always `nightshift-forge-export`; `version` changes when fields do. */
  format: "nightshift-forge-export";
  version: 1;
  exported_at: string;
  issues: (Omit<Issue, "createdAt"> & { created_at: string; comments: ExportedComment[] })[];
  pull_requests: {
    repo: string;
    number: number;
    title: string;
    body: string;
    author: string;
    state: PullRequest["state"];
    draft: boolean;
    head: string;
    base: string;
    /** The head branch's commit in the forge's bare repository; `null` once the branch is gone. */
    head_sha: string | null;
    labels: string[];
    session_id: string | null;
    created_at: string;
    updated_at: string;
    /** Checks recorded on the head commit (the local CI's `ci`, and any recorded by hand). */
    checks: (Omit<CheckResult, "url" | "output"> & { url: string | null; output: string | null })[];
    comments: ExportedComment[];
    review_threads: {
      id: string;
      path: string | null;
      line: number | null;
      resolved: boolean;
      comments: ExportedComment[];
    }[];
  }[];
}

const iso = (ms: number) => new Date(ms).toISOString();
const comment = (c: Comment): ExportedComment => ({
  id: c.id,
  author: c.author,
  body: c.body,
  created_at: iso(c.createdAt),
});

/**
 * Reads every issue (with its comments) and pull request (with its state, head, base,
 * checks, comments and review threads) of the local forge, all repositories, oldest first.
 */
export async function exportLocalForge(
  p: Project,
  forge: Forge,
  local: LocalForgeAdmin,
): Promise<ForgeExport> {
  const { db } = p.store;
  const repoRows = await db
    .selectFrom("forge_issues")
    .select("repo")
    .union(db.selectFrom("forge_pull_requests").select("repo"))
    .execute();
  const repos = [...new Set(repoRows.map((r) => r.repo))].sort();
  const out: ForgeExport = {
    format: "nightshift-forge-export",
    version: 1,
    exported_at: iso(p.clock.now()),
    issues: [],
    pull_requests: [],
  };
  for (const repo of repos) {
    for (const i of (await forge.listIssues(repo, { state: "all" })).sort((a, b) => a.number - b.number)) {
      out.issues.push({
        repo: i.repo,
        number: i.number,
        title: i.title,
        body: i.body,
        author: i.author,
        labels: i.labels,
        state: i.state,
        created_at: iso(i.createdAt),
        comments: (await forge.listComments(repo, i.number)).map(comment),
      });
    }
    const prs = (await forge.listPullRequests(repo, { state: "all" })).sort((a, b) => a.number - b.number);
    for (const pr of prs) {
      const checks = pr.headSha ? await local.listChecks(repo, pr.headSha) : [];
      const threads: ReviewThread[] = await forge.listReviewThreads(repo, pr.number);
      out.pull_requests.push({
        repo,
        number: pr.number,
        title: pr.title,
        body: pr.body,
        author: pr.author,
        state: pr.state,
        draft: pr.draft,
        head: pr.head,
        base: pr.base,
        head_sha: pr.headSha ?? null,
        labels: pr.labels ?? [],
        session_id: pr.sessionId,
        created_at: iso(pr.createdAt),
        updated_at: iso(pr.updatedAt),
        checks: checks.map((c) => ({
          name: c.name,
          status: c.status,
          conclusion: c.conclusion,
          required: c.required,
          url: c.url ?? null,
          output: c.output ?? null,
        })),
        comments: (await forge.listComments(repo, pr.number)).map(comment),
        review_threads: threads.map((t) => ({
          id: t.id,
          path: t.path,
          line: t.line,
          resolved: t.resolved,
          comments: t.comments.map(comment),
        })),
      });
    }
  }
  return out;
}

export function registerExport(program: Command): void {
  program
    .command("export")
    .description(
      "print the local forge's issues (with comments) and pull requests (state, head, base, checks, comments) as JSON",
    )
    .option("--out <file>", "write the JSON to this file instead of stdout")
    .action(async (opts: { out?: string }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        const local = p.forge.local;
        if (!local)
          throw new CliError(
            `export reads the local forge; this project's forge is ${p.config.forge.type}, whose issues and PRs are on ${p.config.forge.type === "github" ? "GitHub" : "that forge"} already`,
          );
        const json = `${JSON.stringify(await exportLocalForge(p, p.forge, local), null, 2)}\n`;
        if (!opts.out) return void process.stdout.write(json);
        const file = resolve(opts.out);
        try {
          writeFileSync(file, json, { mode: 0o600 });
        } catch (err) {
          throw new CliError(
            `cannot write ${file}: ${(err as Error).message}; pass --out a writable path`,
            1,
          );
        }
        const data = JSON.parse(json) as ForgeExport;
        console.error(
          `wrote ${data.issues.length} issue${data.issues.length === 1 ? "" : "s"} and ${data.pull_requests.length} pull request${data.pull_requests.length === 1 ? "" : "s"} to ${file}`,
        );
      });
    });
}

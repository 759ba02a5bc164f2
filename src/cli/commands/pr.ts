import { userInfo } from "node:os";
import type { Command } from "commander";
import pc from "picocolors";
import type { LocalForgeAdmin } from "../../forge/types.ts";
import type { CheckResult, PullRequest, PullRequestStatus } from "../../forge/types.ts";
import type { Project } from "../../project.ts";
import { gitMaybe } from "../../util/git.ts";
import { CliError, positiveInt, printJson, repoOption, withProject } from "../context.ts";
import { isoTime, table } from "../format.ts";

/** Conclusions that count as passing (GitHub treats `neutral` and `skipped` as passing). */
const PASSING = new Set(["success", "neutral", "skipped"]);

/** `draft` or `ready` for an open PR, else its state. */
const stateOf = (x: { draft: boolean; state: string }) =>
  x.state === "open" ? (x.draft ? "draft" : "ready") : x.state;

/** Counts of checks by outcome: `2 passed, 1 failed, 1 pending`, or `null` when there are none. */
export function checksSummary(checks: readonly CheckResult[]): string | null {
  if (checks.length === 0) return null;
  const passed = checks.filter((c) => c.status === "completed" && PASSING.has(c.conclusion ?? "")).length;
  const failed = checks.filter((c) => c.status === "completed" && !PASSING.has(c.conclusion ?? "")).length;
  const pending = checks.length - passed - failed;
  return [passed && `${passed} passed`, failed && `${failed} failed`, pending && `${pending} pending`]
    .filter(Boolean)
    .join(", ");
}

/** `yes`, `conflict` or `unknown`, with how far behind the base. */
function mergeSummary(s: PullRequestStatus): string {
  const m = s.mergeable === true ? "yes" : s.mergeable === false ? "conflict" : "unknown";
  return s.behindBy ? `${m}, ${s.behindBy} behind` : m;
}

/** The local forge, for commands that only it supports. */
function localForge(p: Project, what: string): LocalForgeAdmin {
  const local = p.forge.local;
  if (local) return local;
  throw new CliError(`${what} works on the local forge only; this project's forge is ${p.config.forge.type}`);
}

/** The open PR's status, or a CliError saying it is not open. */
async function openStatus(p: Project, repo: string, number: number): Promise<PullRequestStatus> {
  const [s] = await p.forge.listPullRequestStatuses(repo, { numbers: [number] });
  if (s) return s;
  const pr = await p.forge.getPullRequest(repo, number);
  throw new CliError(`pull request #${number} is ${pr.state}; this works on open pull requests only`, 1);
}

/** A status without the checks' logs, for lists. */
function brief(pr: PullRequest, s: PullRequestStatus | undefined) {
  if (!s) return pr;
  return {
    ...pr,
    headSha: s.headSha,
    mergeable: s.mergeable,
    mergeState: s.mergeState,
    behindBy: s.behindBy,
    additions: s.additions,
    deletions: s.deletions,
    changedFiles: s.changedFiles,
    checks: s.checks.map(({ output: _output, ...c }) => c),
  };
}

export function registerPr(program: Command): void {
  const pr = program.command("pr").description("pull requests on the forge");

  pr.command("list")
    .description("list pull requests: draft or ready, mergeable, checks")
    .option("--state <state>", "open | closed | merged | all", "open")
    .option("--repo <name>", "repository on the forge (default: the project's)")
    .option("--json", "print JSON")
    .action(async (opts: { state: string; json?: boolean }, cmd: Command) => {
      if (!["open", "closed", "merged", "all"].includes(opts.state))
        throw new CliError(`--state must be open, closed, merged or all, got "${opts.state}"`);
      await withProject(cmd, async (p) => {
        const repo = repoOption(cmd, p.repoName);
        const list = await p.forge.listPullRequests(repo, { state: opts.state as "open" });
        const statuses = new Map(
          list.some((x) => x.state === "open")
            ? (await p.forge.listPullRequestStatuses(repo)).map((s) => [s.number, s])
            : [],
        );
        if (opts.json) return printJson(list.map((x) => brief(x, statuses.get(x.number))));
        if (list.length === 0)
          return console.log(`no ${opts.state === "all" ? "" : `${opts.state} `}pull requests`);
        console.log(
          table(
            ["#", "TITLE", "HEAD", "BASE", "STATE", "MERGEABLE", "CHECKS", "SESSION", "CREATED"],
            list.map((x) => {
              const s = statuses.get(x.number);
              return [
                x.number,
                x.title,
                x.head,
                x.base,
                stateOf(x),
                s ? mergeSummary(s) : null,
                s ? checksSummary(s.checks) : null,
                x.sessionId,
                isoTime(x.createdAt),
              ];
            }),
          ),
        );
      });
    });

  pr.command("show")
    .description("show a pull request, its status, comments and review threads")
    .argument("<number>", "pull request number", positiveInt("pull request number"))
    .option("--repo <name>", "repository on the forge (default: the project's)")
    .option("--json", "print JSON")
    .action(async (number: number, opts: { json?: boolean }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        const repo = repoOption(cmd, p.repoName);
        const x = await p.forge.getPullRequest(repo, number);
        const [s] =
          x.state === "open" ? await p.forge.listPullRequestStatuses(repo, { numbers: [number] }) : [];
        const comments = await p.forge.listComments(repo, number);
        const reviewThreads = await p.forge.listReviewThreads(repo, number);
        if (opts.json) return printJson({ ...brief(x, s), comments, reviewThreads });
        console.log(
          `${pc.bold(`#${x.number} ${x.title}`)}  [${x.draft && x.state === "open" ? "draft" : x.state}]  ${x.head} → ${x.base}  by ${x.author} on ${isoTime(x.createdAt)}`,
        );
        if (s)
          console.log(
            pc.dim(
              `mergeable: ${mergeSummary(s)}  state: ${s.mergeState}  checks: ${checksSummary(s.checks) ?? "none"}  +${s.additions} −${s.deletions} in ${s.changedFiles} file${s.changedFiles === 1 ? "" : "s"}`,
            ),
          );
        console.log(`\n${x.body}`);
        for (const c of comments)
          console.log(`\n${pc.dim(`— ${c.author} on ${isoTime(c.createdAt)}`)}\n${c.body}`);
        for (const t of reviewThreads) {
          console.log(
            `\n${pc.bold(`review thread ${t.id}`)} at ${t.path ?? "?"}:${t.line ?? "?"}${t.resolved ? pc.dim(" (resolved)") : ""}`,
          );
          for (const c of t.comments)
            console.log(`  ${pc.dim(`— ${c.author} on ${isoTime(c.createdAt)}`)}\n  ${c.body}`);
        }
      });
    });

  pr.command("diff")
    .description("print a pull request's diff (base...head)")
    .argument("<number>", "pull request number", positiveInt("pull request number"))
    .option("--repo <name>", "repository on the forge (default: the project's)")
    .action(async (number: number, _opts: unknown, cmd: Command) => {
      await withProject(cmd, async (p) => {
        process.stdout.write(`${await p.forge.pullRequestDiff(repoOption(cmd, p.repoName), number)}\n`);
      });
    });

  pr.command("checks")
    .description(
      "show the checks on a pull request's head commit; exits 1 when one failed (like `gh pr checks`)",
    )
    .argument("<number>", "pull request number", positiveInt("pull request number"))
    .option("--run", "run the local CI (forge.ci) on the head commit now")
    .option("--repo <name>", "repository on the forge (default: the project's)")
    .option("--json", "print JSON (with each check's output)")
    .action(async (number: number, opts: { run?: boolean; json?: boolean }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        const repo = repoOption(cmd, p.repoName);
        if (opts.run) {
          const forge = localForge(p, "pr checks --run");
          if (!forge.ci)
            throw new CliError(
              "no CI command to run: set forge.ci in .nightshift/config.yaml (for example `ci: npm test`)",
            );
          await openStatus(p, repo, number);
          if (!opts.json) console.error(pc.dim(`running \`${forge.ci}\` on #${number}…`));
          await forge.runChecks(repo, number);
        }
        const s = await openStatus(p, repo, number);
        const failed = s.checks.filter((c) => c.status === "completed" && !PASSING.has(c.conclusion ?? ""));
        if (failed.length) process.exitCode = 1;
        if (opts.json) return printJson({ number, headSha: s.headSha, checks: s.checks });
        if (s.checks.length === 0) return console.log(`no checks on #${number} (${s.headSha.slice(0, 10)})`);
        console.log(
          table(
            ["NAME", "STATUS", "CONCLUSION", "REQUIRED", "URL"],
            s.checks.map((c) => [c.name, c.status, c.conclusion, c.required ? "yes" : "no", c.url]),
          ),
        );
        for (const c of failed) {
          if (!c.output) continue;
          const lines = c.output.replace(/\s+$/, "").split("\n");
          console.log(
            `\n${pc.bold(`${c.name}: ${c.conclusion}`)} (last ${Math.min(20, lines.length)} lines)`,
          );
          console.log(pc.dim(lines.slice(-20).join("\n")));
        }
      });
    });

  // Draft state and closing: one forge call each.
  const actions: [
    string,
    string,
    (p: Project, repo: string, n: number) => Promise<void>,
    (n: number) => string,
  ][] = [
    [
      "ready",
      "mark a draft pull request ready for review",
      (p, r, n) => p.forge.setDraft(r, n, false),
      (n) => `pull request #${n} is ready for review`,
    ],
    [
      "draft",
      "turn a pull request back into a draft",
      (p, r, n) => p.forge.setDraft(r, n, true),
      (n) => `pull request #${n} is a draft`,
    ],
    [
      "close",
      "close a pull request without merging it",
      (p, r, n) => p.forge.closePullRequest(r, n),
      (n) => `closed pull request #${n}`,
    ],
  ];
  for (const [name, description, act, done] of actions) {
    pr.command(name)
      .description(description)
      .argument("<number>", "pull request number", positiveInt("pull request number"))
      .option("--repo <name>", "repository on the forge (default: the project's)")
      .action(async (number: number, _opts: unknown, cmd: Command) => {
        await withProject(cmd, async (p) => {
          await act(p, repoOption(cmd, p.repoName), number);
          console.log(done(number));
        });
      });
  }

  pr.command("review")
    .description("add a line comment to a pull request's review (a new thread, or a reply with --thread)")
    .argument("<number>", "pull request number", positiveInt("pull request number"))
    .argument("<body>", "comment text (Markdown)")
    .option("--path <file>", "file the comment is about")
    .option("--line <n>", "line in that file at the head commit", positiveInt("--line"))
    .option("--thread <id>", "reply in this review thread")
    .option("--resolve", "mark the thread resolved after commenting")
    .option("--author <login>", "author (default: git config user.name, else the OS user)")
    .option("--repo <name>", "repository on the forge (default: the project's)")
    .option("--json", "print the thread as JSON")
    .action(
      async (
        number: number,
        body: string,
        opts: {
          path?: string;
          line?: number;
          thread?: string;
          resolve?: boolean;
          author?: string;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        if (!opts.thread && (!opts.path || opts.line === undefined))
          throw new CliError("a new review thread needs --path and --line (or --thread <id> to reply)");
        await withProject(cmd, async (p) => {
          const forge = localForge(p, "pr review");
          const repo = repoOption(cmd, p.repoName);
          const author =
            opts.author ?? ((await gitMaybe(p.root, ["config", "user.name"])) || userInfo().username);
          const thread = await forge.addReviewComment(repo, number, {
            author,
            body,
            ...(opts.path ? { path: opts.path } : {}),
            ...(opts.line !== undefined ? { line: opts.line } : {}),
            ...(opts.thread ? { threadId: opts.thread } : {}),
          });
          if (opts.resolve) {
            await forge.resolveReviewThread(repo, thread.id);
            thread.resolved = true;
          }
          if (opts.json) return printJson(thread);
          console.log(
            `commented on #${number} at ${thread.path ?? "?"}:${thread.line ?? "?"} as ${author} (thread ${thread.id}${thread.resolved ? ", resolved" : ""})`,
          );
        });
      },
    );

  pr.command("merge")
    .description(
      "merge a ready pull request into its base with a merge commit (local forge; refused when draft, closed, failing or pending checks, or conflicting)",
    )
    .argument("<number>", "pull request number", positiveInt("pull request number"))
    .option("--expected-head-sha <sha>", "refuse if the head is no longer this commit")
    .option("--repo <name>", "repository on the forge (default: the project's)")
    .option("--json", "print JSON")
    .action(async (number: number, opts: { expectedHeadSha?: string; json?: boolean }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        const forge = localForge(p, "pr merge");
        const repo = repoOption(cmd, p.repoName);
        const r = await forge.mergePullRequest(
          repo,
          number,
          opts.expectedHeadSha ? { expectedHeadSha: opts.expectedHeadSha } : {},
        );
        if (opts.json) {
          if (!r.merged) process.exitCode = 1;
          return printJson(r);
        }
        if (!r.merged)
          throw new CliError(`cannot merge #${number} (${r.reason.replace("_", " ")}): ${r.detail}`, 1);
        console.log(`merged #${number} into ${r.base}: merge commit ${r.sha.slice(0, 10)}`);
        console.log(
          pc.dim(
            `sessions start from the merged ${r.base}; bring the merge into your repository with \`git pull ${forge.barePath(repo)} ${r.base}\` before you commit to ${r.base} (a ${r.base} with new commits but not the merge replaces the forge's)`,
          ),
        );
      });
    });

  pr.command("update-branch")
    .description("merge the base branch into a pull request's head (no rebase, no force-push)")
    .argument("<number>", "pull request number", positiveInt("pull request number"))
    .option(
      "--expected-head-sha <sha>",
      "refuse if the head is no longer this commit (default: the current head)",
    )
    .option("--repo <name>", "repository on the forge (default: the project's)")
    .option("--json", "print JSON")
    .action(async (number: number, opts: { expectedHeadSha?: string; json?: boolean }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        const repo = repoOption(cmd, p.repoName);
        const expected = opts.expectedHeadSha ?? (await openStatus(p, repo, number)).headSha;
        const r = await p.forge.updateBranch(repo, number, expected);
        if (opts.json) {
          if (!r.updated && r.reason !== "up_to_date") process.exitCode = 1;
          return printJson(r);
        }
        if (r.updated)
          return console.log(
            `updated #${number}: merged its base, head now ${r.headSha?.slice(0, 10) ?? "being merged"}`,
          );
        if (r.reason === "up_to_date") return console.log(`#${number} is up to date: ${r.detail}`);
        throw new CliError(
          `cannot update #${number} (${r.reason.replace("_", " ")}): ${r.detail}${r.reason === "conflict" ? "; merge the base into the branch by hand and push" : ""}`,
          1,
        );
      });
    });
}

/**
 * The open pull requests bench/guard-requests seeds on a fake GitHub: N ready PRs with real
 * commits, in four kinds of about 10 % each and the rest clean. Every run seeds the same state.
 */
import type { FakeGithub } from "../../test/support/fake-github/index.ts";

export const REPO = "acme/widgets";

/** How many PRs of each kind a scenario of `n` PRs has (10 % each of the first four, rounded down). */
export interface ScenarioMix {
  conflicting: number;
  failing: number;
  behind: number;
  drafts: number;
  clean: number;
}

export function scenarioMix(n: number): ScenarioMix {
  const tenth = Math.floor(n / 10);
  return { conflicting: tenth, failing: tenth, behind: tenth, drafts: tenth, clean: n - 4 * tenth };
}

/**
 * Seeds `REPO` on `fake` with {@link scenarioMix}(n) open PRs (`seedPullRequests`, one real
 * commit per branch):
 * - from main's first commit: the conflicting ones (each changes the line of `config.txt` that
 *   main changes next) and the ones behind (each adds a file);
 * - main moves on (that line);
 * - from the new main: the drafts, the ones with a failed check and the clean ones.
 *
 * Every head gets a passing `build` check run and a passing `ci/lint` commit status; the
 * failing ones and the drafts (demoted earlier for it) also a failed `test` check run.
 * `upToDate` makes main require up-to-date branches, so GitHub reports `BEHIND`. Finally git's
 * analysis of every PR (mergeable, behind/ahead, diff size) is computed once, so no contender
 * pays the fake's first-time merge-tree work.
 */
export async function seedScenario(fake: FakeGithub, n: number, opts: { upToDate: boolean }): Promise<void> {
  const mix = scenarioMix(n);
  await fake.createRepo(REPO, { files: { "README.md": "# widgets\n", "config.txt": "timeout = 10\n" } });
  const old = mix.conflicting + mix.behind;
  const first = await fake.seedPullRequests(REPO, old, {
    branchPrefix: "old/pr-",
    files: (i) =>
      i < mix.conflicting ? { "config.txt": `timeout = ${100 + i}\n` } : { [`behind/${i}.txt`]: `${i}\n` },
    title: (i) => (i < mix.conflicting ? `Conflicting change ${i}` : `Change ${i} behind main`),
  });
  await fake.commit(REPO, "main", { "config.txt": "timeout = 30\n" }, { message: "Raise the timeout" });
  const failedFrom = mix.drafts;
  const cleanFrom = mix.drafts + mix.failing;
  const second = await fake.seedPullRequests(REPO, n - old, {
    branchPrefix: "new/pr-",
    draft: (i) => i < mix.drafts,
    title: (i) =>
      i < failedFrom ? `Draft ${i}` : i < cleanFrom ? `Failing change ${i}` : `Clean change ${i}`,
  });

  const repo = fake.repo(REPO);
  const tips = await fake.git.branches(repo.bare);
  const main = tips.get("main")!;
  const prs = [...first, ...second];
  for (const [k, pr] of prs.entries()) {
    const sha = tips.get(pr.head)!;
    fake.addCheckRun(REPO, sha, { name: "build", conclusion: "SUCCESS" });
    fake.addStatus(REPO, sha, { context: "ci/lint", state: "SUCCESS" });
    const j = k - old;
    if (j >= 0 && j < cleanFrom)
      fake.addCheckRun(REPO, sha, { name: "test", conclusion: "FAILURE", title: "1 test failed" });
  }
  if (opts.upToDate) fake.requireUpToDate(REPO, "main");
  await Promise.all(prs.map((pr) => fake.git.analyse(repo.bare, main, tips.get(pr.head)!)));
}

import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ProjectConfig } from "../../config/project-schema.ts";

/**
 * The deque workflow's scaffold (`nightshift init --workflow deque`): the five routines of
 * the workflow in seed 000 — issue agents taking the oldest and the newest issue, PR agents
 * taking the oldest and the newest draft, an architecture-and-quality agent — plus the
 * guard, and the `deque:` block of the project config.
 */

/** The repository's test command, guessed from its files; `undefined` when there is no telling. */
export function guessTestCommand(dir: string): string | undefined {
  if (existsSync(join(dir, "package.json"))) return "npm test";
  if (existsSync(join(dir, "Cargo.toml"))) return "cargo test";
  if (existsSync(join(dir, "go.mod"))) return "go test ./...";
  if (existsSync(join(dir, "pyproject.toml")) || existsSync(join(dir, "pytest.ini")))
    return "python -m pytest";
  if (existsSync(join(dir, "Makefile"))) return "make test";
  return undefined;
}

const ISSUE_PROMPT = `Implement the issue below in this repository.

1. Research first: read the code the issue touches, its tests, and the earlier attempts listed
   below (if any) — do not repeat an approach that was rejected.
2. Make the smallest complete change that does what the issue asks. Add or update tests.
3. Run the tests. Leave the working tree with the change; nightshift commits, pushes and opens
   a draft pull request that references the issue.
4. If the issue is unclear, already done, or cannot be done safely, change nothing and explain
   why in your final message.

Never edit CI configuration (.github/workflows, .ci): such a push is refused.
End with a summary: what you changed (file by file) and how you tested it.`;

const PR_PROMPT = `Bring this draft pull request to a state a human reviewer can merge.

Work through the failing checks, unresolved review comments and conflicts listed below, in
that order. Reproduce a failing check locally before fixing it. Keep the change focused on the
issue; do not rewrite unrelated code. When everything listed is addressed and the tests pass,
stop; a judge then decides whether the PR is ready for review.

End with a summary: what you changed (file by file) and what is still open, if anything.`;

const ARCH_PROMPT = `Look at this repository as its architect and quality owner.

Find ONE improvement with a clear payoff: a duplicated rule to unify, a module doing two jobs to
split, a missing test around fragile code, an error message that says too little. Make that one
change, with tests, and explain the payoff in your final message. If nothing is worth a PR
today, change nothing and say so.`;

function routine(p: {
  description: string;
  schedule: string;
  workflow?: string;
  prompt: string;
  timeout?: string;
}): string {
  return `---
description: ${JSON.stringify(p.description)}
agent: claude-code
# model: claude-sonnet-4-5   # without it, the CLI's default (\`nightshift sessions show\` says which)
triggers:
  - schedule: "${p.schedule}"
branch_prefix: nightshift/
timeout: ${p.timeout ?? "45m"}
max_turns: 80
${p.workflow ? `${p.workflow.trim()}\n` : ""}---
${p.prompt}
`;
}

/** The files `init --workflow deque` writes under `.nightshift/routines/`, by name. */
export function dequeRoutines(testCommand: string | undefined): Record<string, string> {
  const test = testCommand
    ? `  test_command: ${JSON.stringify(testCommand)}`
    : "  # test_command: npm test     # run after the agent; a failure gets a self-review pass";
  const agent = (type: string, strategy: string, extra = "") =>
    `workflow:\n  type: ${type}\n  select:\n    strategy: ${strategy}   # oldest | newest | random | smallest | most-blocking\n    limit: 1\n    cooldown: 24h\n${test}\n  self_review: on_failure${extra}`;
  return {
    "issue-oldest": routine({
      description: "Issue agent (FIFO): the oldest open issue without a PR becomes a draft PR",
      schedule: "0 1,7,13,19 * * *",
      workflow: agent("issue-agent", "oldest"),
      prompt: ISSUE_PROMPT,
    }),
    "issue-newest": routine({
      description: "Issue agent (LIFO): the newest open issue without a PR becomes a draft PR",
      schedule: "30 1,7,13,19 * * *",
      workflow: agent("issue-agent", "newest"),
      prompt: ISSUE_PROMPT,
    }),
    "pr-oldest": routine({
      description: "PR agent (FIFO): fixes checks and review on the oldest draft, then the judge",
      schedule: "0 3,9,15,21 * * *",
      workflow: agent(
        "pr-agent",
        "oldest",
        "\n  judge: {}            # {model: …} for a separate judge model; false to turn off",
      ),
      prompt: PR_PROMPT,
    }),
    "pr-newest": routine({
      description: "PR agent (LIFO): fixes checks and review on the newest draft, then the judge",
      schedule: "30 3,9,15,21 * * *",
      workflow: agent("pr-agent", "newest", "\n  judge: {}"),
      prompt: PR_PROMPT,
    }),
    "arch-quality": routine({
      description: "Architecture and quality: one focused improvement as a draft PR",
      schedule: "0 5 * * *",
      prompt: ARCH_PROMPT,
      timeout: "60m",
    }),
    guard: `---
description: "Guard (no model): demote unmergeable ready PRs, update branches behind their base"
triggers:
  - schedule: "*/15 * * * *"
workflow:
  type: guard
  guard:
    ignore_checks: []           # check names (globs) never to demote for
    required_checks_only: false # only checks branch protection requires
    update_branches: true
    comment: true
    dry_run: false
---
The guard runs no agent; this text is not used.
`,
  };
}

/**
 * Why the deque routines' test step may fail for want of dependencies: the default environment
 * has no `setup` script (nothing installs them in the session's fresh clone) and the local
 * forge has no `ci` command (no check on the PRs). `undefined` when either is set.
 */
export function dequeSetupProblem(
  config: ProjectConfig,
  testCommand: string | undefined,
): string | undefined {
  if (config.environments.default?.setup) return undefined;
  if (config.forge.type !== "local" || config.forge.ci) return undefined;
  const test = testCommand ? `\`${testCommand}\`` : "the routines' test_command";
  return (
    `no setup script and no forge.ci: each session works in a fresh clone where nothing installs dependencies, ` +
    `so ${test} can fail (e.g. "mocha: not found") and no check runs on the PRs. In .nightshift/config.yaml add ` +
    `\`environments: {default: {setup: "npm ci"}}\` (your install command; it is cached) and \`forge: {type: local, ci: "npm test"}\``
  );
}

/** The `deque:` block appended to `.nightshift/config.yaml`. */
export function dequeConfig(author: string): string {
  return `
# The deque workflow (nightshift init --workflow deque).
deque:
  # Only issues, PRs, comments and reviews by these logins ever reach an agent's prompt.
  allowed_authors: [${JSON.stringify(author)}]
  max_open_drafts: 10   # issue agents open no new PR beyond this many nightshift drafts
  max_ready_prs: 5      # the judge promotes no more than this many PRs awaiting review
# protected_paths: [".github/workflows/**", ".ci/**"]   # a push touching these is refused (.nightshift/** always is)
`;
}

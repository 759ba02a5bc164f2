/**
 * The local forge's CI command (`forge.ci`) runs a pull request's code — code an agent wrote —
 * so it is confined like the agent: a clean environment (no forge or model credential of the
 * runner), reads denied by default, writes only in its checkout. The agent here plants a test
 * script that tries to read a host secret, print the runner's tokens and write a marker on
 * the host; the real local forge runs it as the PR's check.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { openProject } from "../../src/project.ts";
import { sandboxAvailable } from "../../src/runner/sandbox/availability.ts";
import { resetSandbox } from "../../src/runner/sandbox/wrap.ts";
import { runSession } from "../../src/runner/session.ts";
import { cleanupTemp, localForgeOf, makeRepo, tempDir, writeRoutine } from "../support/project.ts";

const sandbox = await sandboxAvailable();

afterAll(async () => {
  await resetSandbox();
  cleanupTemp();
});

describe.skipIf(!sandbox.ok)("the local forge's CI command", () => {
  it("runs the agent's code confined: no runner token, no host secret, no write outside", async () => {
    const base = tempDir("nightshift-ci-sec-");
    const marker = join(base, "ci-marker");
    const secret = join(base, "host-secret.txt");
    writeFileSync(secret, "SECRET-host-file\n");
    const evil = [
      "echo tests-pass",
      'echo "token=${GITHUB_TOKEN:-none} key=${ANTHROPIC_API_KEY:-none}"',
      `cat ${secret} 2>/dev/null || echo secret-unreadable`,
      `touch ${marker} 2>/dev/null; echo wrote-marker-attempt`,
    ].join("\n");
    // The agent's change: the test script becomes the hostile one (kept beside it as data).
    const repo = await makeRepo({
      "README.md": "# demo\n",
      "ci.sh": "echo tests-pass\n",
      "evil.txt": `${evil}\n`,
    });
    mkdirSync(join(repo, ".nightshift"), { recursive: true });
    writeFileSync(join(repo, ".nightshift", "config.yaml"), "forge:\n  type: local\n  ci: sh ./ci.sh\n");

    writeRoutine(repo, "task", `agent: command\ncommand: "cp evil.txt ci.sh"\ntimeout: 2m`);
    const saved = { gh: process.env.GITHUB_TOKEN, key: process.env.ANTHROPIC_API_KEY };
    process.env.GITHUB_TOKEN = "ghp_SECRETrunnerToken0123456789abcdef";
    process.env.ANTHROPIC_API_KEY = "sk-ant-SECRET-runner-key";
    try {
      const project = await openProject(repo);
      const s = await runSession(project, { routine: loadRoutine(repo, "task") });
      expect(s, s.reason ?? "").toMatchObject({ state: "succeeded", task_outcome: "pr_opened" });
      const ran = await localForgeOf(project).runPendingChecks(project.repoName);
      expect(ran).toHaveLength(1);
      const output = ran[0]!.check.output ?? "";
      expect(output).toContain("tests-pass");
      expect(output).toContain("token=none key=none");
      expect(output).toContain("secret-unreadable");
      expect(output).not.toContain("SECRET");
      expect(existsSync(marker)).toBe(false);
      expect(ran[0]!.check.conclusion).toBe("success");
      await project.close();
    } finally {
      if (saved.gh === undefined) delete process.env.GITHUB_TOKEN;
      else process.env.GITHUB_TOKEN = saved.gh;
      if (saved.key === undefined) delete process.env.ANTHROPIC_API_KEY;
      else process.env.ANTHROPIC_API_KEY = saved.key;
    }
  }, 120_000);
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTemp, makeRepo, runCli } from "../support/project.ts";

afterAll(cleanupTemp);

/**
 * `nightshift init --workflow deque` warns when nothing would install the project's
 * dependencies before the routines' test step (no setup script) and no CI runs on the PRs
 * (no `forge.ci`); the routines it writes show where `model:` goes.
 */
describe("nightshift init --workflow deque", () => {
  it("warns when there is no setup script and no forge.ci, naming the test command and the fix", async () => {
    const repo = await makeRepo({ "package.json": '{"scripts":{"test":"mocha"}}\n' });
    const r = await runCli(repo, ["init", "--workflow", "deque", "--author", "alice"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain("warning: no setup script and no forge.ci");
    expect(r.stderr).toContain("`npm test` can fail");
    expect(r.stderr).toContain('environments: {default: {setup: "npm ci"}}');
    const routine = readFileSync(join(repo, ".nightshift", "routines", "issue-oldest.md"), "utf8");
    expect(routine).toMatch(/^# model: \S+ +# without it, the CLI's default/m);
    const example = readFileSync(join(repo, ".nightshift", "routines", "example.md"), "utf8");
    expect(example).toMatch(/^# model: \S+ +# omitted: the agent CLI's default/m);
  });

  it("says nothing when the default environment has a setup script, or the local forge a ci command", async () => {
    for (const config of [
      "environments:\n  default:\n    setup: npm ci\n",
      "forge:\n  type: local\n  ci: npm test\n",
    ]) {
      const repo = await makeRepo({
        "package.json": '{"scripts":{"test":"mocha"}}\n',
        ".nightshift/config.yaml": config,
      });
      const r = await runCli(repo, ["init", "--workflow", "deque", "--author", "alice"]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).not.toContain("warning");
    }
  });
});

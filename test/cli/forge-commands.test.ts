import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { until } from "../support/processes.ts";
import { cleanupTemp, makeRepo, ROOT, runCli, writeRoutine } from "../support/project.ts";

afterAll(cleanupTemp);

describe("local forge and transcript commands", () => {
  it("creates, lists, shows and comments on issues; numbers are per repository", async () => {
    const repo = await makeRepo({ "README.md": "# demo\n" });
    await runCli(repo, ["init"]);
    const created = await runCli(repo, [
      "issue",
      "create",
      "--title",
      "Flaky test",
      "--body",
      "It fails on Mondays.",
      "--label",
      "bug",
      "ci",
      "--author",
      "alice",
    ]);
    expect(created.stdout).toBe("created issue #1: Flaky test");
    await runCli(repo, ["issue", "comment", "1", "--body", "Also on Tuesdays.", "--author", "bob"]);
    const shown = JSON.parse((await runCli(repo, ["issue", "show", "1", "--json"])).stdout);
    expect(shown).toMatchObject({
      number: 1,
      title: "Flaky test",
      author: "alice",
      labels: ["bug", "ci"],
      state: "open",
    });
    expect(shown.comments.map((c: { author: string; body: string }) => [c.author, c.body])).toEqual([
      ["bob", "Also on Tuesdays."],
    ]);
    const text = await runCli(repo, ["issue", "list"]);
    expect(text.stdout).toMatch(/1\s+Flaky test\s+alice\s+bug,ci\s+open/);
    const missing = await runCli(repo, ["issue", "comment", "7", "--body", "x"]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("has no issue #7");
  });

  it("logs --follow prints events as they come and stops when the session ends", async () => {
    const repo = await makeRepo({ "README.md": "# demo\n" });
    writeRoutine(
      repo,
      "wait",
      'agent: command\ncommand: "echo waiting; while [ ! -f go ]; do sleep 0.05; done; echo released; echo done >> README.md"',
    );
    const cli = join(ROOT, "src", "cli", "main.ts");
    const run = execa(process.execPath, [cli, "run", "wait"], { cwd: repo, reject: false, stdin: "ignore" });
    const id = await until("the session to exist", async () => {
      const list = await runCli(repo, ["sessions", "list", "--json"]);
      return list.exitCode === 0 ? (JSON.parse(list.stdout)[0]?.id as string | undefined) : undefined;
    });
    const follow = execa(process.execPath, [cli, "logs", id, "--follow"], {
      cwd: repo,
      reject: false,
      stdin: "ignore",
      env: { NO_COLOR: "1" },
    });
    let seen = "";
    follow.stdout.on("data", (d: Buffer) => (seen += d.toString()));
    await until("the first line through logs --follow", async () =>
      seen.includes("waiting") ? true : undefined,
    );
    expect(seen).not.toContain("released");
    const ws = JSON.parse((await runCli(repo, ["sessions", "show", id, "--json"])).stdout).workspace_path;
    writeFileSync(join(ws, "workspace", "repo", "go"), "");
    const followed = await follow;
    expect(followed.exitCode).toBe(0);
    expect(followed.stdout).toContain("released");
    expect(followed.stdout).toContain("── succeeded");
    expect((await run).exitCode).toBe(0);
  }, 150_000);
});

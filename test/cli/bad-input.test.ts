import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startModelServer } from "../support/model-server.ts";
import { cleanupTemp, makeRepo, runCli, tempDir, writeRoutine } from "../support/project.ts";

/** What a user sees from the real CLI when the input is wrong. */

afterAll(cleanupTemp);

async function project(): Promise<string> {
  const repo = await makeRepo({ "README.md": "# demo\n" });
  expect((await runCli(repo, ["init"])).exitCode).toBe(0);
  return repo;
}

describe("nightshift CLI on bad input", () => {
  it("routines validate names the file, line and field, and exits 2", async () => {
    const repo = await project();
    writeRoutine(repo, "broken", "agent: claude\nmax_turns: -3");
    const r = await runCli(repo, ["routines", "validate"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      '.nightshift/routines/broken.md:2:8: agent: must be one of "claude-code", "codex", "command"',
    );
    expect(r.stderr).toMatch(/broken\.md:3:\d+: max_turns:/);
    expect(r.stdout).toContain("1 valid, 2 problems");
    const run = await runCli(repo, ["run", "broken"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("broken.md:2:8: agent");
  });

  it("run without agent credentials fails before spawning, says what to set, and stores the reason", async () => {
    const repo = await project();
    const r = await runCli(repo, ["run", "example"]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("missing_credentials");
    expect(r.stdout).toContain("set ANTHROPIC_API_KEY");
    expect(r.stdout).not.toContain("agent started");
    const [s] = JSON.parse((await runCli(repo, ["sessions", "list", "--json"])).stdout);
    expect(s).toMatchObject({ state: "failed", infra_outcome: "missing_credentials" });
    expect(s.reason).toContain("CLAUDE_CODE_OAUTH_TOKEN");
  });

  it("quickstart without credentials scaffolds and explains what to set, then exits 2", async () => {
    const repo = await makeRepo({ "README.md": "# demo\n" });
    const r = await runCli(tempDir(), ["quickstart", repo]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toContain(".nightshift/ with an example routine");
    expect(r.stderr).toContain("no credentials");
    expect(r.stderr).toContain("export ANTHROPIC_API_KEY=");
  });

  it("unknown routine, unknown issue and a bad issue number are clear errors with exit 2", async () => {
    const repo = await project();
    const unknown = await runCli(repo, ["run", "nope"]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('no routine "nope" in .nightshift/routines/ (routines: example)');
    const issue = await runCli(repo, ["run", "example", "--issue", "99"], { ANTHROPIC_API_KEY: "x" });
    expect(issue.exitCode).toBe(2);
    expect(issue.stderr).toContain("has no issue #99");
    const bad = await runCli(repo, ["run", "example", "--issue", "abc"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--issue must be a positive whole number, got "abc"');
  });

  it("issue import rejects a file that is not gh's JSON, naming the entry and field", async () => {
    const repo = await project();
    const file = join(tempDir(), "issues.json");
    writeFileSync(
      file,
      JSON.stringify([
        {
          number: 1,
          title: "ok",
          body: "",
          author: { login: "a" },
          labels: [],
          createdAt: "2026-01-01T00:00:00Z",
          state: "OPEN",
        },
        { number: 2, title: "no state", createdAt: "2026-01-01T00:00:00Z" },
      ]),
    );
    const r = await runCli(repo, ["issue", "import", file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('entry [1] field "state"');
    expect(r.stderr).toContain("gh issue list --json number,title,body,author,labels,createdAt,state");
    expect(JSON.parse((await runCli(repo, ["issue", "list", "--json"])).stdout)).toEqual([]);
  });

  it("outside a project, commands say to run init", async () => {
    const r = await runCli(tempDir(), ["sessions", "list"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("run `nightshift init` first");
  });

  it("a real Claude Code run whose model API fails (500) is recorded as model_unreachable with its transcript", async () => {
    const repo = await project();
    writeRoutine(repo, "fragile", "agent: claude-code\ntimeout: 2m");
    const server = await startModelServer({
      anthropic: [{ error: { status: 500, type: "api_error", message: "upstream exploded" } }],
    });
    try {
      const r = await runCli(repo, ["run", "fragile"], {
        ANTHROPIC_BASE_URL: server.url,
        ANTHROPIC_API_KEY: "x",
        CLAUDE_CODE_MAX_RETRIES: "0",
      });
      expect(r.exitCode).toBe(1);
      const [s] = JSON.parse((await runCli(repo, ["sessions", "list", "--json"])).stdout);
      expect(s).toMatchObject({
        state: "failed",
        infra_outcome: "model_unreachable",
        task_outcome: null,
        exit_code: 1,
        pr_number: null,
      });
      expect(s.reason).toContain(`the model API at ${server.url} (ANTHROPIC_BASE_URL)`);
      expect(s.reason).toContain("API Error: 500 upstream exploded");
      const kinds = (await runCli(repo, ["logs", s.id, "--json"])).stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).kind);
      expect(kinds).toEqual(
        expect.arrayContaining(["prompt", "agent_spawned", "init", "result", "agent_exited", "error"]),
      );
    } finally {
      await server.close();
    }
  });
});

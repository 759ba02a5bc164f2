import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startModelServer, type ModelServer, type ScriptStep } from "../support/model-server.ts";
import { cleanupTemp, runCli, tempDir, writeRoutine } from "../support/project.ts";
import { changedFiles, changedLines, realPackageRepo } from "./real-package.ts";

/**
 * The first end-to-end run: the real Claude Code and Codex CLIs, driven by a scripted model
 * server on 127.0.0.1, work on a real npm package through the local forge, started by the
 * real `nightshift` CLI. The issue comes from `gh issue list --json` output.
 */

afterAll(cleanupTemp);

const ISSUE = {
  number: 12,
  title: "Document the unit of the year constant",
  body: "`var y = d * 365.25;` in index.js has no comment: say it is a Julian year in ms.",
  author: { id: "MDQ6VXNlcjE=", is_bot: false, login: "octocat", name: "The Octocat" },
  labels: [{ id: "LA_1", name: "documentation", description: "", color: "0075ca" }],
  createdAt: "2026-10-01T09:00:00Z",
  state: "OPEN",
};

const EXPECTED_LINES = ["-var y = d * 365.25;", "+var y = d * 365.25; // a Julian year, in ms"];
const CHECK = `node -e "console.log(require('./index.js')('1y'))"`;

async function setUp(agent: string, model: string): Promise<string> {
  const repo = await realPackageRepo();
  const init = await runCli(repo, ["init"]);
  expect(init.exitCode, init.stderr).toBe(0);
  writeRoutine(
    repo,
    "fix-issue",
    `description: Fix the issue named on the command line\nagent: ${agent}\nmodel: ${model}\nmax_turns: 10\ntimeout: 3m`,
    "Fix the issue below. Keep the change minimal and run a quick check.",
  );
  const issues = join(tempDir(), "issues.json");
  writeFileSync(issues, JSON.stringify([ISSUE]));
  const imported = await runCli(repo, ["issue", "import", issues]);
  expect(imported.stdout).toContain("imported 1 issue");
  return repo;
}

async function checkDelivery(repo: string, server: ModelServer, expectCost: boolean) {
  const [session] = JSON.parse((await runCli(repo, ["sessions", "list", "--json"])).stdout);
  expect(session).toMatchObject({
    state: "succeeded",
    infra_outcome: "ok",
    task_outcome: "pr_opened",
    issue_number: 12,
  });
  // Issues and PRs share one number sequence, as on GitHub: the imported #12 came first.
  expect(session.pr_number).toBe(13);
  expect(session.input_tokens).toBeGreaterThan(0);
  expect(session.output_tokens).toBeGreaterThan(0);
  expect(session.context_tokens).toBeGreaterThan(0);
  if (expectCost) expect(session.cost_usd).toBeGreaterThan(0);
  else expect(session.cost_usd).toBeNull();

  const prs = JSON.parse((await runCli(repo, ["pr", "list", "--json"])).stdout);
  expect(prs).toHaveLength(1);
  expect(prs[0]).toMatchObject({
    number: 13,
    draft: true,
    state: "open",
    base: "main",
    head: `nightshift/fix-issue-${session.id}`,
    sessionId: session.id,
  });
  expect(prs[0].title).toBe("Document the unit of the year constant");
  expect(prs[0].body).toContain("Refs #12");
  expect(prs[0].body).toContain(CHECK.replaceAll("`", "'"));
  const diff = (await runCli(repo, ["pr", "diff", "13"])).stdout;
  expect(changedFiles(diff)).toEqual(["index.js"]);
  expect(changedLines(diff)).toEqual(EXPECTED_LINES);

  // The issue reached the model; the transcript is stored and printed.
  const first = server.requests.find((r) => r.raw.includes("Fix the issue below"));
  expect(first?.raw).toContain("Issue #12: Document the unit of the year constant");
  expect(first?.raw).toContain("Julian year in ms");
  const logs = await runCli(repo, ["logs", session.id]);
  expect(logs.exitCode).toBe(0);
  expect(logs.stdout).toContain(CHECK);
  expect(logs.stdout).toContain("31557600000");
  expect(logs.stdout).toContain("pr opened");
  const json = (await runCli(repo, ["logs", session.id, "--json"])).stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(json.map((e) => e.seq)).toEqual(json.map((_, i) => i + 1));
  expect(json.some((e) => e.kind === "usage")).toBe(true);
}

describe("nightshift run --issue with real agent CLIs on a real package", () => {
  let server: ModelServer | undefined;
  afterAll(async () => server?.close());

  it("Claude Code reads, edits and runs a command; a draft PR holds exactly that diff", async () => {
    const repo = await setUp("claude-code", "claude-sonnet-4-5");
    const script: ScriptStep[] = [
      { text: "Reading index.js.", tool: "Read", input: { file_path: "{{cwd}}/index.js" } },
      {
        tool: "Edit",
        input: {
          file_path: "{{cwd}}/index.js",
          old_string: "var y = d * 365.25;",
          new_string: "var y = d * 365.25; // a Julian year, in ms",
        },
      },
      { tool: "Bash", input: { command: CHECK, description: "check ms('1y')" } },
      { text: "Documented the year constant as a Julian year in ms; ms('1y') is still 31557600000." },
    ];
    server = await startModelServer({
      anthropic: script,
      usage: { input_tokens: 1200, output_tokens: 80, cache_read_input_tokens: 300 },
    });
    const run = await runCli(repo, ["run", "fix-issue", "--issue", "12"], {
      ANTHROPIC_BASE_URL: server.url,
      ANTHROPIC_API_KEY: "test-key-not-secret",
    });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain("→ Read");
    expect(run.stdout).toContain("→ Edit");
    expect(run.stdout).toContain(`→ Bash ${CHECK}`);
    expect(run.stdout).toMatch(/draft PR #13 on nightshift\/fix-issue-/);
    expect(server.remaining("anthropic")).toBe(0);
    // The model was asked with the routine's model and limited tools.
    const req = server.requests.find((r) => r.api === "anthropic" && r.body?.tools);
    expect(req?.body.model).toBe("claude-sonnet-4-5");
    expect(req?.body.tools.map((t: { name: string }) => t.name)).toEqual(
      expect.arrayContaining(["Bash", "Edit", "Read", "Write"]),
    );
    await checkDelivery(repo, server, true);
    await server.close();
    server = undefined;
  });

  it("Codex reads, patches and runs a command; a draft PR holds exactly that diff", async () => {
    const repo = await setUp("codex", "gpt-test");
    const patch = [
      "apply_patch <<'EOF'",
      "*** Begin Patch",
      "*** Update File: index.js",
      "@@",
      "-var y = d * 365.25;",
      "+var y = d * 365.25; // a Julian year, in ms",
      "*** End Patch",
      "EOF",
      "",
    ].join("\n");
    const script: ScriptStep[] = [
      { text: "Reading index.js.", tool: "exec_command", input: { cmd: "sed -n 1,12p index.js" } },
      { tool: "exec_command", input: { cmd: patch } },
      { tool: "exec_command", input: { cmd: CHECK } },
      { text: "Documented the year constant as a Julian year in ms; ms('1y') is still 31557600000." },
    ];
    server = await startModelServer({
      openai: script,
      usage: { input_tokens: 1500, output_tokens: 90, cache_read_input_tokens: 500 },
    });
    const run = await runCli(repo, ["run", "fix-issue", "--issue", "12"], {
      OPENAI_BASE_URL: `${server.url}/v1`,
      OPENAI_API_KEY: "test-key-not-secret",
    });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain("→ exec_command");
    expect(run.stdout).toContain("→ apply_patch");
    expect(server.remaining("openai")).toBe(0);
    expect(server.requests.find((r) => r.api === "openai")?.body.model).toBe("gpt-test");
    await checkDelivery(repo, server, false);
  });
});

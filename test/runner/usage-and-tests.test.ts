import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAnthropicSideRequest, startModelServer, type ModelServer } from "../support/model-server.ts";
import { cleanupTemp, makeRepo, runCli, writeRoutine } from "../support/project.ts";

/**
 * What a session reports, with the real Claude Code CLI (sandboxed) against the scripted model
 * server, through the real CLI: a failing test step (`mocha: not found`, exit 127) is in the
 * session summary, the transcript header, the PR body and a check on the PR head, while the
 * draft PR is still delivered; usage adds up over the agent pass and the self-review pass;
 * the model the CLI chose (the routine sets none) is named.
 */

afterAll(cleanupTemp);

let repo: string;
let server: ModelServer;
const USAGE = { input_tokens: 1000, output_tokens: 50, cache_read_input_tokens: 200 };
const env = () => ({ ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: "test-key-not-secret" });
const cli = async (...args: string[]) => {
  const r = await runCli(repo, args, env());
  return { ...r, out: r.stdout + r.stderr };
};
const json = async (...args: string[]) => JSON.parse((await runCli(repo, [...args, "--json"], env())).stdout);

describe("a deque session's test step, usage and model", () => {
  beforeAll(async () => {
    repo = await makeRepo({
      "package.json": '{"name":"demo","scripts":{"test":"mocha"}}\n',
      ".nightshift/config.yaml": "deque:\n  allowed_authors: [alice]\n",
    });
    writeRoutine(
      repo,
      "issue-oldest",
      [
        "agent: claude-code",
        "max_turns: 10",
        "timeout: 3m",
        "workflow:",
        "  type: issue-agent",
        "  select:",
        "    strategy: oldest",
        "    limit: 1",
        "  test_command: mocha",
        "  self_review: on_failure",
      ].join("\n"),
      "Implement the issue.",
    );
  });
  afterAll(async () => server?.close());

  it("reports a failing test step everywhere, delivers the draft, and adds up both passes", async () => {
    server = await startModelServer({
      anthropic: [
        // The agent pass: one tool call, then its summary.
        { tool: "Write", input: { file_path: "{{cwd}}/NOTES.md", content: "notes\n" } },
        { text: "Added NOTES.md." },
        // The self-review pass (the test failed): one reply.
        { text: "Reviewed: mocha is not installed here; the change itself is fine." },
      ],
      usage: USAGE,
    });
    expect((await cli("issue", "create", "--title", "Add notes", "--author", "alice")).exitCode).toBe(0);

    const run = await cli("run", "issue-oldest");
    expect(run.exitCode, run.out).toBe(0);
    expect(server.remaining("anthropic"), run.out).toBe(0);

    const [s] = await json("sessions", "list");
    // The work is real: the draft is delivered; the failure is reported, not hidden.
    expect(s).toMatchObject({
      state: "succeeded",
      task_outcome: "pr_opened",
      test_command: "mocha",
      test_exit_code: 127,
      test_result: "failed",
      test_runs: 2,
    });
    expect(run.stdout).toContain("tests: FAILED — mocha exited 127, last of 2 runs");

    // The transcript header.
    const logs = await cli("logs", s.id);
    expect(logs.stdout.split("\n").slice(0, 2).join("\n")).toContain("tests: FAILED — mocha exited 127");

    // The PR body.
    const pr = await json("pr", "show", String(s.pr_number));
    expect(pr.body).toContain("## Tests");
    expect(pr.body).toContain("**Failed**: `mocha` exited 127");
    expect(pr.body).toMatch(/mocha: not found/);

    // A check on the PR head.
    const checks = await runCli(repo, ["pr", "checks", String(s.pr_number), "--json"], env());
    expect(checks.exitCode).toBe(1);
    const { headSha, checks: list } = JSON.parse(checks.stdout);
    expect(headSha).toBe(s.head_sha);
    expect(list).toEqual([
      expect.objectContaining({ name: "nightshift/test", status: "completed", conclusion: "failure" }),
    ]);
    expect(list[0].output).toContain("mocha: not found");

    // Usage adds up over both passes: what the model server answered, what the CLI reported.
    const calls = server.requests.filter(
      (r) => r.api === "anthropic" && !isAnthropicSideRequest(r.path, r.body, r.raw),
    );
    expect(calls).toHaveLength(3);
    const events = (await runCli(repo, ["logs", s.id, "--json"], env())).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { kind: string; data: { numTurns?: number; costUsd?: number } });
    const results = events.filter((e) => e.kind === "result").map((e) => e.data);
    expect(results).toHaveLength(2);
    expect(s.num_turns).toBe(results.reduce((n, r) => n + r.numTurns!, 0));
    expect(s.num_turns).toBeGreaterThanOrEqual(3);
    expect(s.cost_usd).toBeCloseTo(
      results.reduce((n, r) => n + r.costUsd!, 0),
      10,
    );
    expect(results.every((r) => r.costUsd! > 0)).toBe(true);
    expect(s.input_tokens).toBe(calls.length * USAGE.input_tokens);
    expect(s.output_tokens).toBe(calls.length * USAGE.output_tokens);
    expect(s.cache_read_tokens).toBe(calls.length * USAGE.cache_read_input_tokens);
    expect(s.context_tokens).toBe(USAGE.input_tokens + USAGE.cache_read_input_tokens);
    expect(run.stdout).toContain(`cost: $${s.cost_usd.toFixed(4)} · turns: ${s.num_turns}`);

    // No `model:` in the routine: the model the CLI chose, as the model server saw it.
    const chosen = calls[0]!.body.model as string;
    expect(chosen).toBeTruthy();
    expect(s).toMatchObject({ model: chosen, model_source: "agent" });
    expect(run.stdout).toContain(`model: ${chosen} (the CLI's default: the routine sets no model:)`);
    expect(pr.body).toContain(`claude-code (${chosen}, the CLI's default)`);
  }, 180_000);
});

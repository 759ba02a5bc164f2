/**
 * Prompts past Linux's 128 KiB limit on ONE argument or environment string (MAX_ARG_STRLEN)
 * reach the agent whole: real sessions, sandboxed (the default), with the `command` agent and
 * with the real Claude Code and Codex CLIs driven by the scripted model server, which must
 * receive the whole prompt. A prompt over nightshift's own limit fails validation, naming the
 * file and the limit.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_PROMPT_BYTES } from "../../src/config/text-checks.ts";
import { loadRoutine } from "../../src/config/load.ts";
import { openProject, type Project } from "../../src/project.ts";
import { runSession } from "../../src/runner/session.ts";
import { sandboxAvailable } from "../../src/runner/sandbox/availability.ts";
import type { SessionRow } from "../../src/store/schema.ts";
import { readEvents } from "../../src/store/transcript.ts";
import { type ModelServer, startModelServer } from "../support/model-server.ts";
import { cleanupTemp, makeRepo, runCli, writeRoutine } from "../support/project.ts";

afterAll(cleanupTemp);

const KiB = 1024;

/**
 * A Markdown prompt of about `bytes` bytes: numbered lines between two markers, so a copy cut
 * anywhere is told apart from the whole.
 */
function bigPrompt(bytes: number): string {
  const lines = ["PROMPT-START: summarise the numbered notes below."];
  for (let i = 0; lines.join("\n").length < bytes; i++)
    lines.push(`- note ${String(i).padStart(6, "0")}: the quick brown fox jumps over the lazy dog.`);
  lines.push("PROMPT-END: reply with one line.");
  return lines.join("\n");
}

async function projectWith(frontMatter: string, prompt: string): Promise<Project> {
  const repo = await makeRepo({ "README.md": "# demo\n" });
  writeRoutine(repo, "big", frontMatter, prompt);
  return openProject(repo);
}

async function events(project: Project, s: SessionRow): Promise<Record<string, unknown>[]> {
  return (await readEvents<Record<string, unknown>>(project.store.db, s.id)).map((e) => e.data);
}

/** The main-conversation requests that hold `text` (JSON-escaped) somewhere in their body. */
function requestsWith(model: ModelServer, text: string): number {
  const needle = JSON.stringify(text).slice(1, -1);
  return model.requests.filter((r) => r.raw.includes(needle)).length;
}

/** Sessions run sandboxed (the default) wherever the sandbox is available, as it is in CI. */
const sandboxed = (await sandboxAvailable()).ok;

describe("a 300 KiB routine prompt", () => {
  const prompt = bigPrompt(300 * KiB);

  it("reaches the command agent whole, in $NIGHTSHIFT_PROMPT_FILE, sandboxed; no variable holds it", async () => {
    expect(Buffer.byteLength(prompt)).toBeGreaterThan(300 * KiB);
    const project = await projectWith(
      [
        "agent: command",
        `command: ${JSON.stringify(
          'echo "bytes=$(wc -c < "$NIGHTSHIFT_PROMPT_FILE")"; grep -c -e PROMPT-START -e PROMPT-END "$NIGHTSHIFT_PROMPT_FILE"; ' +
            'echo "prompt-var=${NIGHTSHIFT_PROMPT-unset}"; cp "$NIGHTSHIFT_PROMPT_FILE" received.md',
        )}`,
        "timeout: 2m",
      ].join("\n"),
      prompt,
    );
    try {
      const s = await runSession(project, {
        routine: loadRoutine(project.root, "big"),
        hostEnv: { PATH: process.env.PATH },
      });
      expect(s, s.reason ?? "").toMatchObject({
        state: "succeeded",
        infra_outcome: "ok",
        task_outcome: "pr_opened",
      });
      const evs = await events(project, s);
      expect(evs.find((e) => e.type === "agent_spawned")).toMatchObject({ sandboxed });
      const said = evs.filter((e) => e.type === "assistant").map((e) => String(e.text));
      const bytes = Number(said.find((t) => t.startsWith("bytes="))!.slice("bytes=".length));
      expect(bytes).toBeGreaterThan(Buffer.byteLength(prompt));
      expect(said).toContain("2"); // both markers
      expect(said).toContain("prompt-var=unset");
      // The file the agent copied into its workspace is the whole prompt (delivered in the PR).
      const [pr] = await project.forge.listPullRequests(project.repoName, { state: "all" });
      const diff = await project.forge.pullRequestDiff(project.repoName, pr!.number);
      expect(diff).toContain("+PROMPT-END: reply with one line.");
      expect(diff).toContain(`+${prompt.split("\n")[1000]}`);
    } finally {
      await project.close();
    }
  }, 120_000);

  it("reaches the real Claude Code CLI whole on stdin, sandboxed: the model server receives all of it", async () => {
    const model = await startModelServer({ anthropic: [{ text: "Summarised." }] });
    const project = await projectWith("agent: claude-code\nallowed_tools: [Read]\ntimeout: 2m", prompt);
    try {
      const s = await runSession(project, {
        routine: loadRoutine(project.root, "big"),
        hostEnv: {
          PATH: process.env.PATH,
          ANTHROPIC_BASE_URL: model.url,
          ANTHROPIC_API_KEY: "sk-ant-test-dummy",
        },
      });
      expect(s, s.reason ?? "").toMatchObject({
        state: "succeeded",
        infra_outcome: "ok",
        task_outcome: "no_changes",
      });
      expect((await events(project, s)).find((e) => e.type === "agent_spawned")).toMatchObject({ sandboxed });
      expect(requestsWith(model, prompt)).toBeGreaterThan(0);
    } finally {
      await model.close();
      await project.close();
    }
  }, 120_000);

  it("reaches the real Codex CLI whole on stdin (`-`), sandboxed: the model server receives all of it", async () => {
    const model = await startModelServer({ openai: [{ text: "Summarised." }] });
    const project = await projectWith("agent: codex\nmodel: test-model\ntimeout: 2m", prompt);
    try {
      const s = await runSession(project, {
        routine: loadRoutine(project.root, "big"),
        hostEnv: {
          PATH: process.env.PATH,
          OPENAI_BASE_URL: `${model.url}/v1`,
          OPENAI_API_KEY: "sk-test-dummy",
        },
      });
      expect(s, s.reason ?? "").toMatchObject({
        state: "succeeded",
        infra_outcome: "ok",
        task_outcome: "no_changes",
      });
      expect(requestsWith(model, prompt)).toBeGreaterThan(0);
    } finally {
      await model.close();
      await project.close();
    }
  }, 120_000);
});

describe("a routine prompt over the limit", () => {
  it("fails `routines validate` and `run` with the file, the line and the limit", async () => {
    const repo = await makeRepo({ "README.md": "# demo\n" });
    expect((await runCli(repo, ["init"])).exitCode).toBe(0);
    writeRoutine(repo, "fits", "agent: command\ncommand: 'true'", bigPrompt(300 * KiB));
    writeRoutine(repo, "huge", "agent: command\ncommand: 'true'", bigPrompt(MAX_PROMPT_BYTES + KiB));
    const r = await runCli(repo, ["routines", "validate"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(
      /\.nightshift\/routines\/huge\.md:5:1: prompt: is \d+ KiB \(\d+ bytes\); a routine's prompt may be at most 512 KiB/,
    );
    expect(r.stderr).not.toContain("fits.md");
    const one = await runCli(repo, [
      "routines",
      "validate",
      join(repo, ".nightshift", "routines", "huge.md"),
    ]);
    expect(one.exitCode).toBe(2);
    expect(one.stderr).toContain("huge.md:5:1: prompt:");
    const run = await runCli(repo, ["run", "huge"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("huge.md:5:1: prompt:");
  }, 60_000);
});

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { createLogger } from "../../src/daemon/logger.ts";
import { openProject } from "../../src/project.ts";
import { runSession } from "../../src/runner/session.ts";
import { readEvents } from "../../src/store/transcript.ts";
import { Redactor } from "../../src/util/redact.ts";
import { startModelServer } from "../support/model-server.ts";
import { cleanupTemp, makeRepo, runCli, writeRoutine } from "../support/project.ts";

afterAll(cleanupTemp);

const CANARY = "canary-7f3a9c2e-secret";
const GH = "ghp_0123456789abcdefghijABCDEFGHIJ0123";

/** Every byte of the store's files, to check a secret is nowhere in them. */
function storeBytes(stateDir: string): Buffer {
  return Buffer.concat(
    readdirSync(stateDir)
      .filter((f) => f.startsWith("nightshift.db"))
      .map((f) => readFileSync(join(stateDir, f))),
  );
}

describe("secrets and size limits", () => {
  it("redacts configured secret values and token shapes from the transcript, the PR and the reason", async () => {
    const repo = await makeRepo({ "README.md": "x\n" });
    writeRoutine(
      repo,
      "leaky",
      `agent: command\ncommand: ${JSON.stringify(`echo "the key is ${CANARY}"; echo "token ${GH}"; echo change >> README.md; echo '{"type":"result","isError":false,"text":"used ${CANARY}"}'`)}`,
    );
    writeFileSync(join(repo, ".nightshift", "config.yaml"), "redact_env: [DEPLOY_KEY]\n");
    const project = await openProject(repo);
    const s = await runSession(project, {
      routine: loadRoutine(repo, "leaky"),
      hostEnv: { PATH: process.env.PATH, DEPLOY_KEY: CANARY },
    });
    expect(s.task_outcome).toBe("pr_opened");
    const events = JSON.stringify(await readEvents(project.store.db, s.id));
    expect(events).toContain("the key is [REDACTED]");
    expect(events).toContain("token [REDACTED]");
    const pr = await project.forge.getPullRequest(project.repoName, s.pr_number!);
    expect(pr.body).toContain("used [REDACTED]");
    const bytes = storeBytes(project.stateDir);
    expect(bytes.includes(Buffer.from(CANARY))).toBe(false);
    expect(bytes.includes(Buffer.from(GH))).toBe(false);
    const logs = await runCli(repo, ["logs", s.id]);
    expect(logs.stdout).toContain("the key is [REDACTED]");
    expect(logs.stdout).not.toContain(CANARY);
    await project.close();
  });

  it("marks a truncated event and stops storing chatter past the transcript limit, keeping the lifecycle", async () => {
    const repo = await makeRepo({ "README.md": "x\n" });
    writeRoutine(
      repo,
      "chatty",
      `agent: command\ncommand: ${JSON.stringify(`awk 'BEGIN { while (i++ < 10000) printf "a"; print "" }'; for i in $(seq 1 3000); do echo line $i; done`)}`,
    );
    writeFileSync(
      join(repo, ".nightshift", "config.yaml"),
      "limits:\n  event_bytes: 2048\n  transcript_bytes: 65536\n",
    );
    const project = await openProject(repo);
    const s = await runSession(project, { routine: loadRoutine(repo, "chatty") });
    const events = await readEvents<Record<string, unknown>>(project.store.db, s.id);
    const big = events.find((e) => e.kind === "assistant" && String(e.data.text).startsWith("aaaa"));
    expect(big?.data.truncated).toBe(true);
    expect(String(big?.data.text)).toMatch(/\[… nightshift truncated \d+ characters\]$/);
    expect(JSON.stringify(big?.data).length).toBeLessThanOrEqual(2048);
    const limit = events.findIndex((e) => e.kind === "transcript_limit");
    expect(limit).toBeGreaterThan(0);
    expect(
      events
        .slice(limit + 1)
        .every((e) => ["state", "result", "agent_exited", "delivery", "error"].includes(e.kind)),
    ).toBe(true);
    expect(events.at(-1)).toMatchObject({ kind: "state", data: { state: "succeeded" } });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    await project.close();
  });

  it("the daemon's log lines carry no secret values", () => {
    let out = "";
    const sink = new Writable({ write: (chunk, _enc, done) => ((out += chunk.toString()), done()) });
    const logger = createLogger({ redactor: new Redactor([CANARY]), destination: sink });
    logger.warn({ detail: `header was Bearer ${CANARY}`, token: "abc" }, `failed with ${GH}`);
    expect(out).toContain("[REDACTED]");
    expect(out).not.toContain(CANARY);
    expect(out).not.toContain(GH);
    expect(JSON.parse(out).token).toBe("[REDACTED]");
  });

  it("a real Claude Code session that prints its own API key stores and shows it redacted", async () => {
    const key = "sk-ant-api03-canary-0123456789abcdef";
    const repo = await makeRepo({ "README.md": "x\n" });
    writeRoutine(repo, "print-key", "agent: claude-code\ntimeout: 2m");
    const server = await startModelServer({
      anthropic: [
        { tool: "Bash", input: { command: 'echo "my key: $ANTHROPIC_API_KEY"' } },
        { text: `Printed it: ${key}` },
      ],
    });
    try {
      const run = await runCli(repo, ["run", "print-key"], {
        ANTHROPIC_BASE_URL: server.url,
        ANTHROPIC_API_KEY: key,
      });
      expect(run.exitCode, run.stderr).toBe(0);
      // The real CLI did print it: the model saw the key in the tool result it was sent back.
      expect(server.requests.some((r) => r.raw.includes(`my key: ${key}`))).toBe(true);
      expect(run.stdout).not.toContain(key);
      const [s] = JSON.parse((await runCli(repo, ["sessions", "list", "--json"])).stdout);
      const logs = await runCli(repo, ["logs", s.id, "--json"]);
      expect(logs.stdout).toContain("my key: [REDACTED]");
      expect(logs.stdout).not.toContain(key);
      expect(storeBytes(join(repo, ".nightshift", "state")).includes(Buffer.from(key))).toBe(false);
    } finally {
      await server.close();
    }
  });
});

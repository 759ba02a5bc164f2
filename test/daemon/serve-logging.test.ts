import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { execa, type ResultPromise } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { shutdownMessage } from "../../src/daemon/activity-log.ts";
import { createLogger } from "../../src/daemon/logger.ts";
import { Redactor } from "../../src/util/redact.ts";
import { until } from "../support/processes.ts";
import { cleanupTemp, makeRepo, ROOT, runCli, tempDir, writeRoutine } from "../support/project.ts";

/**
 * What the real `nightshift serve` logs: one line per fire, start, finish and failure; a
 * start-up warning for an enabled routine whose agent has no credentials; on SIGTERM, what it
 * waits for and how long. JSON lines when stderr is not a terminal; pino-pretty lines when
 * asked (as on a terminal).
 */

afterAll(cleanupTemp);

const CLI = join(ROOT, "src", "cli", "main.ts");

/** A `nightshift serve` child with exactly `env` (plus PATH and a fresh HOME: no credentials). */
function startServe(repo: string, env: Record<string, string> = {}) {
  let stderr = "";
  const proc: ResultPromise = execa(process.execPath, [CLI, "serve", "--port", "0"], {
    cwd: repo,
    reject: false,
    stdin: "ignore",
    forceKillAfterDelay: false,
    extendEnv: false,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tempDir("nightshift-home-"), ...env },
  });
  proc.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const url = new Promise<string>((resolve, reject) => {
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(out.split("\n")[0]!.trim());
    });
    void proc.then(() => reject(new Error(`serve exited before printing its URL:\n${stderr}`)));
  });
  return { proc, url, stderr: () => stderr };
}

type Line = { level: number; msg: string; [k: string]: unknown };

/**
 * The logger's lines. Other lines are skipped: the runner writes an internal error's stack
 * (redacted) straight to stderr as plain text (src/runner/reason.ts), outside the logger.
 */
const jsonLines = (text: string): Line[] =>
  text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Line);

describe("nightshift serve's log", () => {
  it("one JSON line per fire, start, finish and failure; a credentials warning; the SIGTERM wait", async () => {
    const repo = await makeRepo({ "README.md": "# demo\n" });
    const api = "overlap: allow\ntriggers:\n  - api: true";
    writeRoutine(repo, "good", `agent: command\ncommand: "true"\n${api}`);
    writeRoutine(repo, "bad", `agent: command\ncommand: "echo broken >&2; exit 3"\n${api}`);
    writeRoutine(repo, "long", `agent: command\ncommand: "sleep 60"\n${api}`);
    writeRoutine(repo, "writer", "agent: claude-code");
    writeRoutine(repo, "reviewer", "agent: claude-code");
    writeRoutine(repo, "parked", "agent: codex\nenabled: false");
    writeFileSync(join(repo, ".nightshift", "config.yaml"), "server:\n  shutdown_grace: 2s\n");
    const tokens: Record<string, string> = {};
    for (const r of ["good", "bad", "long"])
      tokens[r] = JSON.parse((await runCli(repo, ["tokens", "create", r, "--json"])).stdout).token;

    const serve = startServe(repo);
    const url = await serve.url;
    const fire = async (routine: string) => {
      const res = await fetch(`${url}/v1/routines/${routine}/fire`, {
        method: "POST",
        headers: { authorization: `Bearer ${tokens[routine]}` },
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { session_id: string }).session_id;
    };
    const line = (what: string, match: (l: Line) => boolean) =>
      until(what, async () => jsonLines(serve.stderr()).find(match));

    // Start-up: one warning for the agent without credentials, naming its enabled routines only.
    const warning = await line("the credentials warning", (l) => l.msg.includes("credentials"));
    expect(warning).toMatchObject({ level: 40, agent: "claude-code", routines: ["reviewer", "writer"] });
    expect(warning.msg).toContain(
      "enabled routines reviewer, writer will fail until claude-code has credentials",
    );
    expect(warning.msg).toContain("ANTHROPIC_API_KEY");
    expect(jsonLines(serve.stderr()).filter((l) => l.msg.includes("credentials"))).toHaveLength(1);

    const good = await fire("good");
    const bad = await fire("bad");
    expect(
      await line("the fire line", (l) => l.msg === `api fired good: queued, session ${good}`),
    ).toMatchObject({
      level: 30,
      routine: "good",
      session: good,
    });
    await line("good's start", (l) => l.msg.startsWith(`started good (api; run `) && l.session === good);
    const succeeded = await line("good's finish", (l) => l.msg.startsWith(`good session ${good} `));
    expect(succeeded).toMatchObject({ level: 30, state: "succeeded" });
    expect(succeeded.msg).toMatch(/ succeeded in \d+ s: /);
    const failed = await line("bad's failure", (l) => l.msg.startsWith(`bad session ${bad} `));
    expect(failed).toMatchObject({ level: 50, state: "failed", session: bad });
    expect(failed.msg).toMatch(
      new RegExp(`^bad session ${bad} \\(run \\w+\\) failed in \\d+ s \\(\\w+\\): .+`),
    );
    // One line each: no second finish line for the same session.
    const lines = jsonLines(serve.stderr());
    expect(lines.filter((l) => l.session === good && / succeeded /.test(l.msg))).toHaveLength(1);
    expect(lines.filter((l) => l.session === bad && / failed /.test(l.msg))).toHaveLength(1);

    // SIGTERM with a session running: the line says for what and how long it waits.
    const long = await fire("long");
    await line("long's start", (l) => l.msg.startsWith("started long") && l.session === long);
    serve.proc.kill("SIGTERM");
    const stop = await line("the SIGTERM line", (l) => l.msg.startsWith("SIGTERM"));
    expect(stop.msg).toBe(
      "SIGTERM: stopping; no new work is claimed. Waiting up to 2 s (server.shutdown_grace) for 1 running " +
        `session to finish (long session ${long}); then they are stopped and their runs requeued for the next start`,
    );
    expect(stop).toMatchObject({ signal: "SIGTERM", grace_ms: 2000, running: 1 });
    const exited = await serve.proc;
    expect([exited.exitCode, exited.signal]).toEqual([0, undefined]);
    const all = serve.stderr();
    for (const t of Object.values(tokens)) expect(all).not.toContain(t.slice(4, 20));
    expect(jsonLines(all).at(-1)!.msg).toBe("nightshift serve stopped");
  }, 120_000);

  it("is readable one line per event with NIGHTSHIFT_LOG_FORMAT=pretty (what a terminal gets)", async () => {
    const repo = await makeRepo({ "README.md": "# demo\n" });
    writeRoutine(repo, "writer", "agent: claude-code");
    const serve = startServe(repo, { NIGHTSHIFT_LOG_FORMAT: "pretty" });
    await serve.url;
    const text = await until("the warning", async () =>
      serve.stderr().includes("credentials") ? serve.stderr() : undefined,
    );
    serve.proc.kill("SIGTERM");
    const exited = await serve.proc;
    expect([exited.exitCode, exited.signal], serve.stderr()).toEqual([0, undefined]);
    const lines = serve.stderr().trimEnd().split("\n");
    expect(text).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] INFO: nightshift serve listening /m);
    expect(serve.stderr()).toMatch(/^\[[^\]]+\] WARN: enabled routine writer will fail until claude-code /m);
    expect(lines.at(-2)).toMatch(/\] INFO: SIGTERM: stopping; no session is running, so nothing to wait for/);
    expect(lines.at(-1)).toMatch(/\] INFO: nightshift serve stopped$/);
    for (const l of lines) expect(l.startsWith("{")).toBe(false);
  }, 60_000);
});

describe("createLogger", () => {
  const sink = () => {
    const out = { text: "" };
    const stream = new Writable({ write: (chunk, _enc, done) => ((out.text += chunk.toString()), done()) });
    return { out, stream };
  };

  it("pretty: time, level, message and fields on one line, secrets redacted", () => {
    const { out, stream } = sink();
    const logger = createLogger({
      pretty: true,
      destination: stream,
      redactor: new Redactor(["hunter2-secret"]),
    });
    logger.warn({ routine: "triage", token: "abc", note: "hunter2-secret" }, "something happened");
    const lines = out.text.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[[^\]]+\] WARN: something happened \{.*"routine":"triage".*\}$/);
    expect(out.text).toContain("[REDACTED]");
    expect(out.text).not.toContain("hunter2");
    expect(out.text).not.toContain('"abc"');
  });

  it("with a destination and no choice: JSON lines", () => {
    const { out, stream } = sink();
    createLogger({ destination: stream }).info({ routine: "triage" }, "hello");
    expect(JSON.parse(out.text)).toMatchObject({ level: 30, msg: "hello", routine: "triage" });
  });

  it("the shutdown line with nothing running", () => {
    expect(shutdownMessage("SIGINT", 60_000, [])).toBe(
      "SIGINT: stopping; no session is running, so nothing to wait for",
    );
    expect(shutdownMessage("SIGTERM", 90_000, [{ routine: "a", session: null }])).toContain(
      "Waiting up to 1 min 30 s (server.shutdown_grace) for 1 running session to finish (a)",
    );
  });
});

/**
 * Bad input is refused where it enters, with a reason naming what is wrong, and a failure's
 * reason is stored as one short line without secrets:
 * - an API fire's `text` with NUL or another control character: 400 naming the field;
 * - a routine file holding NUL (a raw byte, or the YAML escape "\0"): invalid, at file:line;
 * - an agent that fails with a long multi-line error quoting a token or a secret cut short:
 *   the stored reason is one line, bounded, and holds no piece of either;
 * - a variable the agent cannot be given (NUL, over 128 KiB): `environment_error` with a
 *   one-line reason, not `internal_error` with a stack trace (the queue retries internal
 *   errors; this input would fail every time);
 * - `sessions list --all` prints one line per run whatever its reason holds.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { openProject, type Project } from "../../src/project.ts";
import { MAX_REASON_CHARS } from "../../src/runner/reason.ts";
import { runSession } from "../../src/runner/session.ts";
import { createApp } from "../../src/server/app.ts";
import { RateLimiter } from "../../src/server/rate-limit.ts";
import { insertApiToken } from "../../src/store/api-tokens.ts";
import { insertRun, listRuns } from "../../src/store/runs.ts";
import { createApiToken } from "../../src/triggers/api-token.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { cleanupTemp, makeRepo, runCli, writeRoutine } from "../support/project.ts";

afterAll(cleanupTemp);

/** A stack frame as Node prints it. */
const STACK_FRAME = /\n\s+at |\bat .*\(.*:\d+:\d+\)/;

async function projectWith(command: string, extra = ""): Promise<Project> {
  const repo = await makeRepo({ "README.md": "# demo\n" });
  writeRoutine(repo, "task", `agent: command\ncommand: ${JSON.stringify(command)}\ntimeout: 1m\n${extra}`);
  return openProject(repo);
}

describe("an API fire's text", () => {
  async function setUp() {
    const repo = await makeRepo({ "README.md": "x\n" });
    writeRoutine(repo, "triage", 'agent: command\ncommand: "true"\noverlap: allow\ntriggers:\n  - api: true');
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const project = await openProject(repo, { clock });
    const app = createApp({
      project,
      baseUrl: "http://127.0.0.1:1",
      rateLimiter: new RateLimiter({ limit: 1_000, windowMs: 60_000, clock }),
      env: {},
    });
    const t = createApiToken();
    await insertApiToken(project.store.db, {
      routine: "triage",
      prefix: t.prefix,
      hash: t.hash,
      now: clock.now(),
    });
    const fire = (text: string) =>
      app.request("/v1/routines/triage/fire", {
        method: "POST",
        headers: { authorization: `Bearer ${t.token}`, "content-type": "application/json" },
        body: JSON.stringify({ text }),
      });
    return { project, fire };
  }

  it("with NUL or another control character is refused with 400 naming the field; nothing is stored", async () => {
    const { project, fire } = await setUp();
    for (const [text, code] of [
      ["deploy\u0000failed", "U+0000"],
      ["\u001b[31mred\u001b[0m", "U+001B"],
      ["overwrite\rthis line", "U+000D"],
      ["bell\u0007", "U+0007"],
      ["c1\u009bcontrol", "U+009B"],
    ] as const) {
      const res = await fire(text);
      expect(res.status, JSON.stringify(text)).toBe(400);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).toBe("bad_request");
      expect(body.message).toContain('body field "text"');
      expect(body.message).toContain(code);
      expect(body.message).toContain("only tab and newline are allowed");
    }
    expect(await listRuns(project.store.db, { limit: 10 })).toEqual([]);
    await project.close();
  });

  it("with tabs, newlines and CRLF line ends is accepted", async () => {
    const { project, fire } = await setUp();
    const res = await fire("col1\tcol2\nline two\r\nline three");
    expect(res.status).toBe(200);
    const [run] = await listRuns(project.store.db, { limit: 10 });
    expect(run!.context).toBe("col1\tcol2\nline two\r\nline three");
    await project.close();
  });
});

describe("a routine file holding NUL", () => {
  it("fails `routines validate` at its file and line, for a raw byte in the prompt or an escape in the front-matter", async () => {
    const repo = await makeRepo({ "README.md": "# demo\n" });
    expect((await runCli(repo, ["init"])).exitCode).toBe(0);
    writeRoutine(repo, "raw", "agent: command\ncommand: 'true'", "Line one.\nLine\u0000two.");
    writeRoutine(repo, "escaped", "agent: command\ndescription: \"tidy\\0up\"\ncommand: 'true'");
    const r = await runCli(repo, ["routines", "validate"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(".nightshift/routines/raw.md:6:5: contains a NUL byte (U+0000)");
    expect(r.stderr).toContain(".nightshift/routines/escaped.md:3:14: description: contains a NUL character");
    const run = await runCli(repo, ["run", "raw"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("raw.md:6:5: contains a NUL byte");
  }, 60_000);
});

describe("a session's stored reason", () => {
  it("of an agent error quoting a cut token and a cut secret is one bounded line without either", async () => {
    const secret = "hunter2-4c8e1f0b9d7a6e5c3b2a1f0e";
    // The agent's error: many lines, over 2000 characters, with a GitHub token straddling the
    // 2000th character (where the runner cuts an agent's error) and the first 20 characters
    // of a known secret.
    const token = `ghp_${"A1b2C3d4E5".repeat(4)}`.slice(0, 40);
    const filler = Array.from({ length: 40 }, (_, i) => `trace line ${i}: something went wrong here`).join(
      "\n",
    );
    const before = `${filler}\nsecret starts ${secret.slice(0, 20)}… and the token is `;
    const text = `${before.padEnd(2000 - "ghp_A1b2".length - 1, ".")} ${token} and more after it\n${"x".repeat(500)}`;
    const command = `printf '%s\\n' ${JSON.stringify(JSON.stringify({ type: "result", isError: true, subtype: "error", text }))}; exit 1`;
    const project = await projectWith(command);
    const s = await runSession(project, {
      routine: loadRoutine(project.root, "task"),
      hostEnv: { PATH: process.env.PATH, GITHUB_TOKEN: secret },
    });
    expect(s).toMatchObject({ state: "failed", task_outcome: "agent_error" });
    const reason = s.reason!;
    expect(reason).toMatch(/^the command reported an error \(exit 1\): trace line 0/);
    expect(reason).not.toMatch(/[\r\n\u0000-\u001f]/);
    expect(reason.length).toBeLessThanOrEqual(MAX_REASON_CHARS + 20);
    expect(reason).toContain("characters cut]");
    expect(reason).not.toContain("ghp_");
    expect(reason).not.toContain("A1b2");
    expect(reason).not.toContain(secret.slice(0, 12));
    expect(reason).toContain("[REDACTED]");
    // The API shows the same line.
    const app = createApp({
      project,
      baseUrl: "http://127.0.0.1:1",
      rateLimiter: new RateLimiter({ limit: 10, windowMs: 60_000, clock: project.clock }),
      env: {},
    });
    const t = createApiToken();
    await insertApiToken(project.store.db, { routine: "task", prefix: t.prefix, hash: t.hash, now: 0 });
    const shown = (await (
      await app.request(`/v1/sessions/${s.id}`, { headers: { authorization: `Bearer ${t.token}` } })
    ).json()) as { reason: string };
    expect(shown.reason).toBe(reason);
    await project.close();
  }, 60_000);

  for (const [what, value, says] of [
    [
      "a NUL byte",
      "secret-ish-value\u0000tail",
      "The property 'options.env['ODD']' must be a string without null bytes; remove the NUL byte from it",
    ],
    [
      "more than 128 KiB",
      "v".repeat(200 * 1024),
      "spawn E2BIG: one argument or environment variable is over 128 KiB",
    ],
  ] as const) {
    it(`of an agent that cannot be given a variable holding ${what} is environment_error, one line, no stack`, async () => {
      const project = await projectWith("echo should-not-run", "environment: odd");
      writeFileSync(
        join(project.root, ".nightshift", "config.yaml"),
        "environments:\n  odd:\n    network: none\n    env:\n      ODD: { from_env: HOST_ODD }\n",
      );
      await project.close();
      const reopened = await openProject(project.root);
      const s = await runSession(reopened, {
        routine: loadRoutine(reopened.root, "task"),
        hostEnv: { PATH: process.env.PATH, HOST_ODD: value },
      });
      expect(s, s.reason ?? "").toMatchObject({ state: "failed", infra_outcome: "environment_error" });
      expect(s.reason).toMatch(/^could not start the agent /);
      expect(s.reason).toContain(says);
      expect(s.reason).not.toContain(value.slice(0, 10)); // Node's "Received <value>" is dropped
      expect(s.reason).not.toMatch(STACK_FRAME);
      expect(s.reason).not.toMatch(/[\r\n]/);
      expect(s.reason!.length).toBeLessThanOrEqual(MAX_REASON_CHARS + 20);
      await reopened.close();
    }, 60_000);
  }
});

describe("sessions list --all", () => {
  it("prints one line per run whatever its reason holds", async () => {
    const repo = await makeRepo({ "README.md": "# demo\n" });
    expect((await runCli(repo, ["init"])).exitCode).toBe(0);
    const project = await openProject(repo);
    for (const [i, reason] of [
      "first line\nsecond line\n    at Object.<anonymous> (/x.js:1:1)",
      "carriage\rreturn and\u0000NUL and \u001b]0;title\u0007 escape",
      "plain",
    ].entries())
      await insertRun(project.store.db, {
        routine: "example",
        trigger: "manual",
        dedupeKey: `k${i}`,
        state: "skipped",
        reason,
        maxRunning: 0,
        now: Date.UTC(2026, 0, 1, 0, i),
      });
    await project.close();
    const r = await runCli(repo, ["sessions", "list", "--all"]);
    expect(r.exitCode, r.stderr).toBe(0);
    // The header, one line per run, then the per-state counts after a blank line.
    const table = r.stdout.split("\n\n")[0]!.trimEnd().split("\n");
    expect(table).toHaveLength(4);
    expect(table.slice(1).every((l) => l.includes("example"))).toBe(true);
    expect(r.stdout).toMatch(/first line\W+second line\W+at Object\.<anonymous> \(\/x\.js:1:1\)/);
    expect(r.stdout).not.toMatch(/[\r\u0000\u0007\u001b]/);
  }, 60_000);
});

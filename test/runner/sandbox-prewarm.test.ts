/**
 * prewarmSandbox: the sandbox's proxy and `socat` bridges start before any wrap (so a session
 * can start them alongside its clone), the next wrap uses them, and when no wrap follows they
 * stop on their own after SANDBOX_LINGER_MS. Observed through the bridges' Unix sockets, which
 * the library makes in the orchestrator's TMPDIR and removes when it stops them.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxAvailable } from "../../src/runner/sandbox/availability.ts";
import {
  prewarmSandbox,
  resetSandbox,
  SANDBOX_LINGER_MS,
  wrapInvocation,
} from "../../src/runner/sandbox/wrap.ts";
import { until } from "../support/processes.ts";

let dir: string;
/** This file's own TMPDIR, so only its bridges' sockets show there (other files run sandboxes at the same time). */
let ownTmp: string;
const savedTmp = process.env.TMPDIR;

/** Waits (polling) until `cond()` holds. */
function waitFor(what: string, cond: () => boolean, limitMs: number): Promise<true> {
  return until(what, async () => cond() || undefined, limitMs);
}

/** The bridges' sockets now in this file's TMPDIR. */
function bridgeSockets(): Set<string> {
  return new Set(readdirSync(ownTmp).filter((f) => /^claude-(http|socks)-[0-9a-f]+\.sock$/.test(f)));
}

beforeAll(async () => {
  // Never skip silently: without bubblewrap & co this fails, saying what to install.
  const avail = await sandboxAvailable();
  if (!avail.ok) throw new Error(`sandbox tests cannot run: ${avail.reason}`);
  await resetSandbox();
  dir = mkdtempSync(join(tmpdir(), "nightshift-prewarm-"));
  ownTmp = join(dir, "orchestrator-tmp");
  mkdirSync(ownTmp);
  process.env.TMPDIR = ownTmp;
});

afterAll(async () => {
  await resetSandbox();
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  rmSync(dir, { recursive: true, force: true });
});

describe("prewarmSandbox", () => {
  it("starts the bridges before any wrap; the next wrap uses them and runs its command", async () => {
    const before = bridgeSockets();
    prewarmSandbox({ sandbox: "on" });
    await waitFor("the bridges' sockets", () => [...bridgeSockets()].some((s) => !before.has(s)), 10_000);
    const started = [...bridgeSockets()].filter((s) => !before.has(s));

    const workspace = join(dir, "ws");
    mkdirSync(workspace, { recursive: true });
    const w = await wrapInvocation(
      {
        command: "sh",
        args: ["-c", "echo sandboxed > out.txt"],
        env: { PATH: process.env.PATH ?? "" },
        cwd: workspace,
      },
      {
        mode: "sandbox",
        workspace,
        home: join(dir, "home"),
        tmp: join(dir, "tmp"),
        allowedDomains: [],
        denyRead: [],
      },
    );
    try {
      // The wrapped command goes through the bridges the prewarm started, not new ones.
      expect(started.some((s) => w.invocation.args.join(" ").includes(s))).toBe(true);
      const r = spawnSync(w.invocation.command, w.invocation.args, {
        cwd: workspace,
        env: w.invocation.env,
        encoding: "utf8",
      });
      expect(r.status, r.stderr).toBe(0);
      expect(readFileSync(join(workspace, "out.txt"), "utf8")).toBe("sandboxed\n");
    } finally {
      await w.release();
    }
  });

  it("with no wrap after it, the bridges stop on their own after the linger time", async () => {
    await resetSandbox();
    const before = bridgeSockets();
    prewarmSandbox({ sandbox: "on" });
    await waitFor("the bridges' sockets", () => [...bridgeSockets()].some((s) => !before.has(s)), 10_000);
    const started = [...bridgeSockets()].filter((s) => !before.has(s));
    await waitFor(
      "the bridges to stop",
      () => started.every((s) => !existsSync(join(ownTmp, s))),
      SANDBOX_LINGER_MS + 10_000,
    );
  });

  it("with the sandbox off, starts no bridges", async () => {
    await resetSandbox();
    const before = bridgeSockets();
    prewarmSandbox({ sandbox: "none" });
    await new Promise((r) => setTimeout(r, 300));
    expect([...bridgeSockets()].filter((s) => !before.has(s))).toEqual([]);
  });
});

/**
 * The environment's setup script, cached by (environment, script, lockfiles) hash: real
 * sessions (command agent, sandboxed), real git, real store. Whether the script ran in a
 * session is read from what it wrote: it stamps its own session id into node_modules and HOME,
 * so a workspace holding another session's stamp got the cached copy.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { openProject, type Project } from "../../src/project.ts";
import { lockSetup, readEntry } from "../../src/runner/setup/cache.ts";
import { runSession } from "../../src/runner/session.ts";
import { readEvents } from "../../src/store/transcript.ts";
import type { SessionRow } from "../../src/store/schema.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { cleanupTemp, gitOut, makeRepo, tempDir, writeRoutine } from "../support/project.ts";

afterAll(cleanupTemp);

const OUTSIDE = join(tmpdir(), `nightshift-setup-outside-${process.pid}`);

/** Stamps node_modules and HOME with the session id; tries (and fails, sandboxed) to write outside. */
const SETUP = [
  'echo "installing for $NIGHTSHIFT_SESSION_ID"',
  "mkdir -p node_modules/left-pad .venv",
  'echo "$NIGHTSHIFT_SESSION_ID" > node_modules/left-pad/stamp',
  'echo "$NIGHTSHIFT_SESSION_ID" > .venv/stamp',
  'mkdir -p "$HOME/.cache/tool" && echo "$NIGHTSHIFT_SESSION_ID" > "$HOME/.cache/tool/stamp"',
  `touch ${OUTSIDE} || echo "outside write refused"`,
].join("\n");

const AGENT = 'cat node_modules/left-pad/stamp; cat "$HOME/.cache/tool/stamp"; cat .venv/stamp';

async function project(setup: string, agent = AGENT): Promise<Project> {
  const repo = await makeRepo({
    "README.md": "x\n",
    ".gitignore": "node_modules/\n",
    "package-lock.json": '{"lockfileVersion":3,"packages":{"node_modules/left-pad":{"version":"1.0.0"}}}\n',
    "packages/web/yarn.lock": "left-pad@1.0.0\n",
  });
  writeRoutine(repo, "job", `agent: command\ncommand: ${JSON.stringify(agent)}\nenvironment: build`);
  writeFileSync(
    join(repo, ".nightshift", "config.yaml"),
    `environments:\n  build:\n    network: none\n    setup: |\n${setup
      .split("\n")
      .map((l) => `      ${l}`)
      .join("\n")}\n`,
  );
  return openProject(repo);
}

async function setupEvents(p: Project, s: SessionRow) {
  const events = await readEvents<Record<string, unknown>>(p.store.db, s.id);
  return events.filter((e) => e.kind === "setup").map((e) => e.data);
}

function stampIn(s: SessionRow, ...path: string[]): string {
  return readFileSync(join(s.workspace_path!, ...path), "utf8").trim();
}

const run = (p: Project) => runSession(p, { routine: loadRoutine(p.root, "job") });

describe("the setup script", () => {
  it("runs once for two sessions with the same hash, and again when a lockfile changes", async () => {
    const p = await project(SETUP);
    const first = await run(p);
    expect(first, first.reason ?? "").toMatchObject({ state: "succeeded", task_outcome: "no_changes" });
    const [started, finished] = await setupEvents(p, first);
    expect(started).toMatchObject({ phase: "started", cached: false });
    expect(finished).toMatchObject({ phase: "finished", cached: false, exitCode: 0 });
    expect(finished!.output).toContain(`installing for ${first.id}`);
    // Same sandbox as the agent: a write outside the workspace never reaches the host (where
    // reads are denied by default, the folder it names is an empty scratch mount at most).
    expect(existsSync(OUTSIDE)).toBe(false);
    // The agent saw what the script left.
    const firstOut = JSON.stringify(await readEvents(p.store.db, first.id));
    expect(firstOut.match(new RegExp(first.id, "g"))!.length).toBeGreaterThanOrEqual(3);

    const second = await run(p);
    // What the script left is not the session's work: no PR, though .venv/ is not git-ignored.
    expect(second).toMatchObject({ state: "succeeded", task_outcome: "no_changes" });
    expect(await setupEvents(p, second)).toEqual([
      expect.objectContaining({ phase: "restored", cached: true, hash: started!.hash }),
    ]);
    // Restored, not re-run: the files carry the first session's stamp.
    expect(stampIn(second, "workspace", "repo", "node_modules", "left-pad", "stamp")).toBe(first.id);
    expect(stampIn(second, "workspace", "repo", ".venv", "stamp")).toBe(first.id);
    expect(stampIn(second, "home", ".cache", "tool", "stamp")).toBe(first.id);
    const agentSaw = await readEvents<Record<string, unknown>>(p.store.db, second.id);
    expect(agentSaw.filter((e) => e.kind === "assistant").map((e) => e.data.text)).toEqual([
      first.id,
      first.id,
      first.id,
    ]);

    // A lockfile changes (nested yarn.lock, matched by name at any depth): the script runs again.
    writeFileSync(join(p.root, "packages", "web", "yarn.lock"), "left-pad@1.1.0\n");
    await gitOut(p.root, "commit", "-qam", "bump left-pad");
    const third = await run(p);
    const thirdSetup = await setupEvents(p, third);
    expect(thirdSetup.map((e) => e.phase)).toEqual(["started", "finished"]);
    expect(thirdSetup[0]!.hash).not.toBe(started!.hash);
    expect(stampIn(third, "workspace", "repo", "node_modules", "left-pad", "stamp")).toBe(third.id);

    // A change to a file that is not a lockfile keeps the hash.
    writeFileSync(join(p.root, "README.md"), "y\n");
    await gitOut(p.root, "commit", "-qam", "docs");
    const fourth = await run(p);
    expect((await setupEvents(p, fourth)).map((e) => [e.phase, e.hash])).toEqual([
      ["restored", thirdSetup[0]!.hash],
    ]);
    await p.close();
  }, 120_000);

  it("fails the session with environment_error and the output tail when it fails, and caches nothing", async () => {
    const p = await project('echo "resolving deps"\necho "npm ERR! 404 left-pad" >&2\nexit 3\necho never');
    const s = await run(p);
    expect(s).toMatchObject({ state: "failed", infra_outcome: "environment_error" });
    expect(s.reason).toContain('the setup script of environment "build" exited with 3');
    expect(s.reason).toContain("resolving deps | npm ERR! 404 left-pad"); // one line: src/runner/reason.ts
    expect(s.reason).not.toContain("never");
    const events = await readEvents<Record<string, unknown>>(p.store.db, s.id);
    expect(events.map((e) => e.kind)).not.toContain("agent_spawned");
    const finished = events.find((e) => e.kind === "setup" && e.data.phase === "finished")!;
    expect(finished.data).toMatchObject({ exitCode: 3, detail: "not cached" });
    expect(readEntry(join(p.stateDir, "setup-cache"), String(finished.data.hash))).toBeUndefined();
    // Not cached: the next session runs it again (and fails again).
    const again = await run(p);
    expect((await setupEvents(p, again)).map((e) => e.phase)).toEqual(["started", "finished"]);
    await p.close();
  }, 60_000);

  it("runs once when sessions with the same hash start together", async () => {
    const p = await project(SETUP);
    const sessions = await Promise.all([run(p), run(p), run(p)]);
    expect(sessions.map((s) => s.state)).toEqual(["succeeded", "succeeded", "succeeded"]);
    const phases = await Promise.all(
      sessions.map(async (s) => (await setupEvents(p, s)).map((e) => e.phase)),
    );
    expect(phases.filter((ph) => ph[0] === "started")).toHaveLength(1);
    expect(phases.filter((ph) => ph[0] === "restored")).toHaveLength(2);
    const ran = sessions[phases.findIndex((ph) => ph[0] === "started")]!;
    for (const s of sessions)
      expect(stampIn(s, "workspace", "repo", "node_modules", "left-pad", "stamp")).toBe(ran.id);
    await p.close();
  }, 120_000);

  it("discards changes to tracked files, with a warning, so cached and uncached sessions match", async () => {
    const p = await project(
      "echo changed >> README.md\nmkdir -p node_modules && echo x > node_modules/y",
      "cat node_modules/y",
    );
    const s = await run(p);
    expect(s.state).toBe("succeeded");
    expect(s.task_outcome).toBe("no_changes");
    const events = await readEvents<Record<string, unknown>>(p.store.db, s.id);
    const warning = events.find(
      (e) => e.kind === "warning" && String(e.data.message).includes("setup script"),
    );
    expect(warning?.data.message).toContain("changed files git tracks (repo/README.md)");
    expect(readFileSync(join(s.workspace_path!, "workspace", "repo", "README.md"), "utf8")).toBe("x\n");
    await p.close();
  }, 60_000);
});

describe("the setup lock (between processes)", () => {
  it("waits while a live process holds it, then uses that process's entry", async () => {
    const root = tempDir();
    const clock = new ManualClock();
    writeFileSync(join(root, "h1.lock"), JSON.stringify({ pid: process.pid, host: hostname(), at: 0 }));
    let settled: unknown;
    const waiting = lockSetup({ root, hash: "h1", clock, timeoutMs: 60_000 }).then((r) => (settled = r));
    await new Promise((r) => setImmediate(r));
    clock.advance(1_000);
    await new Promise((r) => setImmediate(r));
    expect(settled).toBeUndefined();
    // The holder finishes: its entry appears.
    mkdirSync(join(root, "h1"));
    writeFileSync(join(root, "h1", "meta.json"), JSON.stringify({ hash: "h1" }));
    clock.advance(250);
    expect(await waiting).toBe("cached");
  });

  it("takes over a lock whose process is gone, and gives up after the timeout on a live one", async () => {
    const root = tempDir();
    const dead = spawn("true");
    await new Promise((r) => dead.once("exit", r));
    writeFileSync(join(root, "h2.lock"), JSON.stringify({ pid: dead.pid, host: hostname(), at: 0 }));
    const release = await lockSetup({ root, hash: "h2", clock: new ManualClock(), timeoutMs: 1_000 });
    expect(typeof release).toBe("function");
    expect(JSON.parse(readFileSync(join(root, "h2.lock"), "utf8")).pid).toBe(process.pid);
    (release as () => void)();
    expect(readdirSync(root)).toEqual([]);

    const clock = new ManualClock();
    writeFileSync(join(root, "h3.lock"), JSON.stringify({ pid: process.pid, host: hostname(), at: 0 }));
    const waiting = lockSetup({ root, hash: "h3", clock, timeoutMs: 1_000 });
    const outcome = waiting.then(
      () => "locked",
      (err: Error) => err.message,
    );
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setImmediate(r));
      clock.advance(250);
    }
    expect(await outcome).toMatch(/waited 1 s for the setup another process runs \(pid \d+ on/);
  });
});

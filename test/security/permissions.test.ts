import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/db.ts";
import { cleanupTemp, makeRepo, ROOT, tempDir, writeRoutine } from "../support/project.ts";

/**
 * On a machine shared with other users, nothing nightshift keeps is theirs to read: the state
 * folder and every folder nightshift keeps in it are 0700, the store and its -wal/-shm files
 * 0600 — whatever the umask, for a new project and for one made by an older nightshift.
 */

afterAll(cleanupTemp);

/** The real CLI under `umask 000`, so every mode it leaves is one it set itself. */
async function cliWithOpenUmask(cwd: string, args: string[]) {
  const r = await execa(
    "sh",
    ["-c", 'umask 000; exec "$0" "$@"', process.execPath, join(ROOT, "src", "cli", "main.ts"), ...args],
    {
      cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", NO_COLOR: "1" },
      extendEnv: false,
      reject: false,
      stdin: "ignore",
      timeout: 120_000,
    },
  );
  return { exitCode: r.exitCode ?? -1, out: `${String(r.stdout)}\n${String(r.stderr)}` };
}

const mode = (path: string) => statSync(path).mode & 0o777;
const STATE_FOLDERS = ["", "sessions", "mirrors", "forge", "setup-cache"];

/** A repository other users could walk into (its parent 0755), so modes are all that keeps them out. */
async function sharedRepo(): Promise<string> {
  const parent = tempDir();
  chmodSync(parent, 0o755);
  const repo = await makeRepo({ "README.md": "# demo\n" }, join(parent, "repo"));
  chmodSync(repo, 0o755);
  writeRoutine(repo, "task", 'agent: command\ncommand: "echo more >> README.md"\ntimeout: 5m');
  return repo;
}

/** Whether the unprivileged user `nobody` can list `path` (only checkable as root). */
async function nobodyCanRead(path: string): Promise<boolean> {
  const r = await execa("runuser", ["-u", "nobody", "--", "ls", path], { reject: false, stdin: "ignore" });
  return r.exitCode === 0;
}

describe("state folder and store permissions", () => {
  it("are private after opening a new project and after a run, whatever the umask", async () => {
    const repo = await sharedRepo();
    const state = join(repo, ".nightshift", "state");
    const listed = await cliWithOpenUmask(repo, ["routines", "list"]);
    expect(listed.exitCode, listed.out).toBe(0);
    for (const f of STATE_FOLDERS) expect(mode(join(state, f)).toString(8), f || "state").toBe("700");
    expect(mode(join(state, "nightshift.db")).toString(8)).toBe("600");

    const run = await cliWithOpenUmask(repo, ["run", "task"]);
    expect(run.exitCode, run.out).toBe(0);
    expect(run.out).toContain("pr_opened");
    for (const f of STATE_FOLDERS) expect(mode(join(state, f)).toString(8), f || "state").toBe("700");
    // SQLite removes -wal and -shm when the last connection closes; see the next test for them.
    for (const f of ["nightshift.db", "nightshift.db-wal", "nightshift.db-shm"]) {
      if (existsSync(join(state, f))) expect(mode(join(state, f)).toString(8), f).toBe("600");
    }
    if (process.getuid?.() === 0) {
      // The project itself stays readable; nightshift's state does not.
      expect(await nobodyCanRead(repo)).toBe(true);
      for (const f of ["", "sessions", "forge", "mirrors"])
        expect(await nobodyCanRead(join(state, f))).toBe(false);
    }
  });

  it("tighten a state folder and store an older nightshift left open", async () => {
    const repo = await sharedRepo();
    const state = join(repo, ".nightshift", "state");
    const store = await openStore(join(state, "nightshift.db"));
    await store.close();
    for (const f of STATE_FOLDERS) {
      mkdirSync(join(state, f), { recursive: true });
      chmodSync(join(state, f), 0o777);
    }
    chmodSync(join(state, "nightshift.db"), 0o644);

    const listed = await cliWithOpenUmask(repo, ["sessions", "list"]);
    expect(listed.exitCode, listed.out).toBe(0);
    for (const f of STATE_FOLDERS) expect(mode(join(state, f)).toString(8), f || "state").toBe("700");
    expect(mode(join(state, "nightshift.db")).toString(8)).toBe("600");
  });

  it("keep the open store's -wal and -shm files 0600, even from an older 0644 store under umask 000", async () => {
    const dir = tempDir();
    const file = join(dir, "nightshift.db");
    await (await openStore(file)).close();
    chmodSync(file, 0o644);
    const umask = process.umask(0);
    try {
      const store = await openStore(file);
      try {
        for (const f of [file, `${file}-wal`, `${file}-shm`]) expect(mode(f).toString(8), f).toBe("600");
      } finally {
        await store.close();
      }
      // A new store, created under the same umask.
      const fresh = join(dir, "new", "nightshift.db");
      const store2 = await openStore(fresh);
      try {
        for (const f of [fresh, `${fresh}-wal`, `${fresh}-shm`]) expect(mode(f).toString(8), f).toBe("600");
      } finally {
        await store2.close();
      }
    } finally {
      process.umask(umask);
    }
  });

  it("apply to a state_dir outside the repository", async () => {
    const repo = await sharedRepo();
    const state = join(tempDir(), "ns-state");
    mkdirSync(state, { mode: 0o755 });
    chmodSync(state, 0o755);
    writeFileSync(join(repo, ".nightshift", "config.yaml"), `state_dir: ${state}\n`);
    const listed = await cliWithOpenUmask(repo, ["routines", "list"]);
    expect(listed.exitCode, listed.out).toBe(0);
    for (const f of STATE_FOLDERS) expect(mode(join(state, f)).toString(8), f || "state").toBe("700");
    expect(mode(join(state, "nightshift.db")).toString(8)).toBe("600");
  });
});

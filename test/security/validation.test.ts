import { chmodSync, chownSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NetworkConfigSchema } from "@anthropic-ai/sandbox-runtime";
import { afterAll, describe, expect, it } from "vitest";
import { isNetworkEntry } from "../../src/config/environment-schema.ts";
import { loadRoutine } from "../../src/config/load.ts";
import { resolveEnvironment } from "../../src/runner/environment.ts";
import { openProject } from "../../src/project.ts";
import {
  cleanupTemp,
  gitOut,
  makeRepo,
  runCli,
  tempDir,
  writeFiles,
  writeRoutine,
} from "../support/project.ts";

/**
 * What `nightshift routines validate` (and loading the project) refuses before anything runs,
 * each with the file, the line and column, the field and how to fix it: routine names that
 * are not branch names, network entries the sandbox cannot allowlist, repeated or missing
 * repositories, times of day out of range, schedules that never fire, state folders nightshift
 * must not own; and the warnings for a secrets_file kept unsafely.
 */

afterAll(cleanupTemp);

const COMMAND = 'agent: command\ncommand: "true"';

/** A fresh project with `files` committed and the given routines (name → front-matter). */
async function project(files: Record<string, string> = {}, routines: Record<string, string> = {}) {
  const repo = await makeRepo({ "README.md": "# demo\n", ...files });
  for (const [name, fm] of Object.entries(routines)) writeRoutine(repo, name, fm);
  return repo;
}

/** Runs `routines validate` in `repo`; stderr and stdout together. */
async function validate(repo: string, ...files: string[]) {
  const r = await runCli(repo, ["routines", "validate", ...files]);
  return { ...r, out: `${r.stderr}\n${r.stdout}` };
}

describe("routines validate", () => {
  it("refuses a routine whose file name is not a valid branch name, and says how to rename it", async () => {
    const repo = await project();
    writeFiles(repo, { ".nightshift/routines/Bad Name.md": `---\n${COMMAND}\n---\nDo it.\n` });
    const r = await validate(repo);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      `.nightshift/routines/Bad Name.md:1:1: name: the routine name "Bad Name" comes from the file name and must be lowercase letters, digits, '-' or '_', starting with a letter or digit, at most 63 characters`,
    );
    expect(r.stderr).toContain("rename the file to bad-name.md");
    // Running it fails the same way, before any session, not with an invalid branch at push time.
    const run = await runCli(repo, ["run", "Bad Name"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("rename the file to bad-name.md");
    expect(await runCli(repo, ["sessions", "list", "--json"]).then((s) => JSON.parse(s.stdout))).toEqual([]);
  });

  it("refuses network entries that are not host names, host:port or *.domain wildcards", async () => {
    const repo = await project(
      {
        ".nightshift/config.yaml": [
          "environments:",
          "  web:",
          '    network: ["api.example.com", "vm", "*.com", "localhost:8080", "a.example.com:99999"]',
          "",
        ].join("\n"),
      },
      { task: `${COMMAND}\nenvironment: web` },
    );
    const r = await validate(repo);
    expect(r.exitCode).toBe(2);
    const lines = r.stderr.split("\n").filter((l) => l.includes("network"));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^\.nightshift\/config\.yaml:3:34: environments\.web\.network\.1: must be a host name with at least one dot \(api\.example\.com\), "localhost", a "\*\.example\.com" wildcard .* got "vm": a single-label name cannot be allowlisted, write its full domain name$/,
    );
    expect(lines[1]).toMatch(
      /^\.nightshift\/config\.yaml:3:40: environments\.web\.network\.2: .* got "\*\.com"$/,
    );
    expect(lines[2]).toMatch(/network\.4: .* got "a\.example\.com:99999"$/);
    // Loading the project refuses it too (no session can end as internal_error on it).
    const run = await runCli(repo, ["run", "task"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('got "vm"');
  });

  it("accepts only network entries the sandbox's proxy accepts", () => {
    const srtAccepts = (entry: string) =>
      NetworkConfigSchema.safeParse({ allowedDomains: [entry], deniedDomains: [] }).success;
    const entries = [
      "vm",
      "api.example.com",
      "*.example.com",
      "*.com",
      "*",
      "localhost",
      "localhost:8080",
      "127.0.0.1",
      "10.0.0.1:5432",
      "[::1]:443",
      "a.b:0",
      "a.b:65536",
      "a.b.",
      ".a.b",
      "https://a.b",
      "a.b/path",
      "a..b",
      "ex ample.com",
    ];
    for (const entry of entries) {
      if (isNetworkEntry(entry)) expect(srtAccepts(entry), entry).toBe(true);
    }
    expect(entries.filter(isNetworkEntry)).toEqual([
      "api.example.com",
      "*.example.com",
      "localhost",
      "localhost:8080",
      "127.0.0.1",
      "10.0.0.1:5432",
      "[::1]:443",
    ]);
  });

  it("refuses a repository listed twice, and a repository path that does not exist", async () => {
    const repo = await project(
      {},
      {
        twice: `${COMMAND}\nrepos: [".", "./"]`,
        missing: `${COMMAND}\nrepos:\n  - "."\n  - ../no-such-repo`,
        plain: `${COMMAND}\nrepos: [".", "/"]`,
      },
    );
    const r = await validate(repo);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      `.nightshift/routines/twice.md:4:14: repos.1: repeats repos.0 ("."): each repository may be listed once; remove this entry`,
    );
    expect(r.stderr).toContain(
      `.nightshift/routines/missing.md:6:5: repos.1: ${join(repo, "..", "no-such-repo")} does not exist; a repository path is relative to the project root (${repo}) or absolute: fix the path or remove the entry`,
    );
    expect(r.stderr).toContain(".nightshift/routines/plain.md:4:14: repos.1: / is not a git repository");
    expect(r.stdout).toContain("0 valid, 3 problems");
    // At run time the missing folder is named as missing, not as a repository with no commit.
    const run = await runCli(repo, ["run", "missing", "--json"]);
    expect(run.exitCode).toBe(1);
    const session = JSON.parse(run.stdout);
    expect(session.reason).toContain(`${join(repo, "..", "no-such-repo")} does not exist`);
    expect(session.reason).not.toContain("no commit");
  });

  it("says what a time of day is for at: 25:99", async () => {
    const repo = await project(
      {},
      {
        nightly: `${COMMAND}\ntriggers:\n  - schedule: daily\n    at: "25:99"`,
      },
    );
    const r = await validate(repo);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe(
      `.nightshift/routines/nightly.md:6:9: triggers.0.at: must be a time of day "HH:MM" from 00:00 to 23:59 (24-hour clock, such as "03:00" or "18:30")`,
    );
  });

  it("refuses a cron expression that never fires, also when the file is named", async () => {
    const repo = await project({}, { feb: `${COMMAND}\ntriggers:\n  - schedule: "0 0 31 2 *"` });
    const expected = `.nightshift/routines/feb.md:5:15: triggers.0.schedule: "0 0 31 2 *" never fires: no date in the next 5 years matches it`;
    for (const r of [await validate(repo), await validate(repo, ".nightshift/routines/feb.md")]) {
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(expected);
      expect(r.stderr).toContain("check the day-of-month and month fields");
    }
  });

  it("locates schedule problems found against the project (minimum interval) at their line", async () => {
    const repo = await project(
      { ".nightshift/config.yaml": "scheduler:\n  min_interval: 1h\n" },
      { often: `${COMMAND}\ntriggers:\n  - api: true\n  - schedule: "*/5 * * * *"` },
    );
    const r = await validate(repo);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(
      /^\.nightshift\/routines\/often\.md:6:15: triggers\.1\.schedule: "\*\/5 \* \* \* \*" fires every 5m, below the minimum interval of 1h/m,
    );
  });

  it.each([
    ["/etc", "is a system folder"],
    ["/", "is a system folder"],
    ["/var", "is a system folder"],
    ["/usr/lib/nightshift", "is a system folder"],
    [".", "holds the project itself"],
  ])("refuses state_dir: %s, and leaves the folder alone", async (dir, why) => {
    const before = dir.startsWith("/") && existsSync(dir) ? statSync(dir).mode : undefined;
    const repo = await project({ ".nightshift/config.yaml": `state_dir: ${dir}\n` }, { task: COMMAND });
    const r = await validate(repo);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`.nightshift/config.yaml:1:12: state_dir: ${dir}`);
    expect(r.stderr).toContain(why);
    expect(r.stderr).toContain('choose a folder of your own, such as ".nightshift/state" (the default)');
    // Opening the project refuses it the same way, before touching anything.
    const list = await runCli(repo, ["routines", "list"]);
    expect(list.exitCode).toBe(2);
    expect(list.stderr).toContain(why);
    if (before !== undefined) expect(statSync(dir).mode).toBe(before);
  });

  it.runIf(process.getuid?.() === 0)("refuses a state_dir owned by another user", async () => {
    const other = join(tempDir(), "someone-elses");
    mkdirSync(other, { mode: 0o755 });
    chownSync(other, 65534, 65534);
    const repo = await project({ ".nightshift/config.yaml": `state_dir: ${other}\n` }, { task: COMMAND });
    const r = await validate(repo);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      `.nightshift/config.yaml:1:12: state_dir: ${other} is owned by uid 65534, not by you (uid 0); nightshift makes its state folder private (0700), so it must be your own: chown it, or choose a folder of your own`,
    );
    expect(statSync(other).mode & 0o777).toBe(0o755);
  });

  it.runIf(process.getuid?.() !== 0)("refuses a state_dir that is not writable", async () => {
    const locked = join(tempDir(), "locked");
    mkdirSync(locked, { mode: 0o500 });
    const repo = await project({ ".nightshift/config.yaml": `state_dir: ${locked}\n` }, { task: COMMAND });
    const r = await validate(repo);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`state_dir: ${locked} is not writable by you: chmod u+rwx it`);
  });

  it("warns about a secrets_file readable by others, inside the repository, or committed", async () => {
    const outside = join(tempDir(), "secrets.env");
    writeFileSync(outside, "TOKEN=abc\n", { mode: 0o600 });
    const repo = await project(
      { ".nightshift/config.yaml": `# settings\nsecrets_file: ${outside}\n` },
      { task: COMMAND },
    );
    // Kept well: no warning.
    let r = await validate(repo);
    expect(r.exitCode, r.out).toBe(0);
    expect(r.out).not.toContain("warning");

    chmodSync(outside, 0o644);
    r = await validate(repo);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain(
      `warning: .nightshift/config.yaml:2:15: secrets_file ${outside} can be read by its group and every user (mode 0644); run: chmod 600 ${outside}`,
    );
    expect(r.stdout).toContain("1 valid, no problems, 1 warning");

    writeFiles(repo, {
      ".nightshift/config.yaml": "secrets_file: secrets.env\n",
      "secrets.env": "TOKEN=abc\n",
    });
    chmodSync(join(repo, "secrets.env"), 0o600);
    r = await validate(repo);
    expect(r.stderr).toContain(
      "warning: .nightshift/config.yaml:1:15: secrets_file secrets.env is inside the repository, one `git add` away from being committed",
    );
    await gitOut(repo, "add", "secrets.env");
    await gitOut(repo, "commit", "-qm", "oops");
    r = await validate(repo);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain(
      "warning: .nightshift/config.yaml:1:15: secrets_file secrets.env is committed to the repository: its secrets are in git history",
    );
    expect(r.stderr).toContain("rotate them, `git rm --cached secrets.env`");

    // The same warnings come with the resolved environment, for the session's transcript.
    const p = await openProject(repo);
    try {
      const env = resolveEnvironment(p, loadRoutine(repo, "task"), {});
      expect(env.warnings).toEqual([expect.stringContaining("secrets_file secrets.env is committed")]);
    } finally {
      await p.close();
    }
  });
});

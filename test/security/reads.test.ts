/**
 * Reads are denied by default: a sandboxed agent reads its workspace, its HOME and TMPDIR, the
 * system folders and the toolchain, and nothing else — not the user's dotfiles and
 * credentials, not nightshift's state of this or any other project, not another session.
 * Each test plants marked secrets on the host, runs a real sandboxed session that tries to
 * read them (a `command` agent, and the real Claude Code CLI whose tool results the scripted
 * model server records), and asserts no secret reached the transcript or the model.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { openProject, type Project } from "../../src/project.ts";
import { sandboxAvailable } from "../../src/runner/sandbox/availability.ts";
import { resetSandbox } from "../../src/runner/sandbox/wrap.ts";
import { runSession } from "../../src/runner/session.ts";
import { readEvents } from "../../src/store/transcript.ts";
import { startModelServer } from "../support/model-server.ts";
import { cleanupTemp, makeRepo, tempDir, writeRoutine } from "../support/project.ts";

const sandbox = await sandboxAvailable();
const realHome = process.env.HOME;
let fakeHome: string;
/** Every secret file planted, by a label. */
const secrets: Record<string, string> = {};

function plant(label: string, path: string, text = `SECRET-${label}\n`): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  secrets[label] = path;
}

beforeAll(() => {
  // The runner's HOME for this test file (vitest runs each file in its own process).
  fakeHome = tempDir("nightshift-home-");
  process.env.HOME = fakeHome;
  plant("app-key", join(fakeHome, ".config", "nightshift", "app.pem"));
  plant("gcloud", join(fakeHome, ".config", "gcloud", "credentials.db"));
  plant("cargo", join(fakeHome, ".cargo", "credentials.toml"));
  plant("gitconfig", join(fakeHome, ".gitconfig"), "[user]\n\tname = SECRET-gitconfig\n");
  plant("ssh", join(fakeHome, ".ssh", "id_ed25519"));
  plant("aws", join(fakeHome, ".aws", "credentials"));
  plant("tmpfile", join(tempDir("nightshift-othertmp-"), "note.txt"));
});

afterAll(async () => {
  process.env.HOME = realHome;
  await resetSandbox();
  cleanupTemp();
});

/** A project whose routine `task` runs `frontMatter`, with a secrets file and a config that name secrets. */
async function project(frontMatter: string): Promise<Project> {
  const repo = await makeRepo({ "README.md": "# demo\n", "visible.txt": "WORKSPACE-OK\n" });
  mkdirSync(join(repo, ".nightshift"), { recursive: true });
  writeFileSync(join(repo, ".nightshift", "config.yaml"), "# SECRET-project-config\nredact_env: []\n");
  writeRoutine(repo, "task", `${frontMatter}\ntimeout: 2m`);
  return openProject(repo);
}

/** The paths a hostile agent tries: planted secrets, nightshift's state, another project and session. */
async function targets(p: Project, other: Project, otherSession: string): Promise<string[]> {
  plant("other-db", join(other.stateDir, "planted.txt"));
  plant("mirrors", join(p.stateDir, "mirrors", "planted-note"));
  return [
    ...Object.values(secrets),
    join(p.root, ".nightshift", "config.yaml"),
    join(p.stateDir, "nightshift.db"),
    join(p.stateDir, "mirrors", `${p.repoName}.git`, "config"),
    join(p.stateDir, "mirrors", `${p.repoName}.git`, "packed-refs"),
    join(other.stateDir, "nightshift.db"),
    join(other.stateDir, "sessions", otherSession, "workspace", "README.md"),
    join(p.stateDir, "sessions", otherSession, "home", "left-by-other"),
  ];
}

describe.skipIf(!sandbox.ok)("reads from a sandboxed session", () => {
  it("a command agent reads its workspace, system files and node, and none of the host's secrets", async () => {
    const other = await project(
      'agent: command\ncommand: "echo SECRET-other-session > $HOME/left-by-other; echo SECRET-other-ws >> README.md"',
    );
    const first = await runSession(other, { routine: loadRoutine(other.root, "task") });
    expect(first.state, first.reason ?? "").toBe("succeeded");
    const p = await project('agent: command\ncommand: "sh ./probe.sh"');
    const paths = await targets(p, other, first.id);
    const probe = [
      "cat visible.txt",
      "cat /etc/hostname >/dev/null && echo SYSTEM-OK",
      "node -e 'console.log(\"NODE-OK\")'",
      ...paths.map((f) => `cat '${f}' 2>/dev/null && echo 'READ ${f}'`),
      `ls -a '${fakeHome}' '${p.stateDir}' '${other.stateDir}' 2>&1`,
      "true",
    ].join("\n");
    writeFileSync(join(p.root, "probe.sh"), probe);
    const { execa } = await import("execa");
    await execa("git", ["add", "probe.sh"], { cwd: p.root });
    await execa("git", ["-c", "user.name=t", "-c", "user.email=t@e.invalid", "commit", "-qm", "probe"], {
      cwd: p.root,
    });
    const s = await runSession(p, { routine: loadRoutine(p.root, "task") });
    const transcript = JSON.stringify(await readEvents(p.store.db, s.id));
    expect(s.state, `${s.reason}\n${transcript}`).toBe("succeeded");
    expect(transcript).toContain("WORKSPACE-OK");
    expect(transcript).toContain("SYSTEM-OK");
    expect(transcript).toContain("NODE-OK");
    expect(transcript).not.toMatch(/SECRET-/);
    expect(transcript).not.toContain("READ /");
    await p.close();
    await other.close();
  }, 120_000);

  it("the real Claude Code CLI never gets a host secret back from its tools", async () => {
    const other = await project('agent: command\ncommand: "echo SECRET-other-ws >> README.md"');
    const first = await runSession(other, { routine: loadRoutine(other.root, "task") });
    const p = await project("agent: claude-code\nallowed_tools: [Bash, Read]");
    const paths = await targets(p, other, first.id);
    const model = await startModelServer({
      anthropic: [
        { tool: "Bash", input: { command: paths.map((f) => `cat '${f}'`).join("; ") + "; cat visible.txt" } },
        { tool: "Read", input: { file_path: secrets["app-key"]! } },
        { text: "Looked around." },
      ],
    });
    try {
      const s = await runSession(p, {
        routine: loadRoutine(p.root, "task"),
        hostEnv: {
          PATH: process.env.PATH,
          ANTHROPIC_BASE_URL: model.url,
          ANTHROPIC_API_KEY: "sk-ant-test-dummy",
        },
      });
      expect(s.state, s.reason ?? "").toBe("succeeded");
      const sent = JSON.stringify(model.requests.map((r) => r.body));
      expect(sent).toContain("WORKSPACE-OK");
      expect(sent).not.toMatch(/SECRET-/);
    } finally {
      await model.close();
      await p.close();
      await other.close();
    }
  }, 120_000);
});

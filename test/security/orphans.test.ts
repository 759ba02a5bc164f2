/**
 * The sandbox's helper processes — the host-side `socat` bridges to its proxy, bubblewrap, the
 * agent — end with the session and with the process that started them: `nightshift run` on
 * every exit path (normal end, SIGINT, SIGTERM, SIGKILL), `nightshift serve` killed with
 * SIGKILL, and an in-process `runSession` that must let Node exit.
 *
 * Other test files run sandboxes at the same time, so this one counts only its own processes:
 * the bridges whose command line names this run's proxy port (the agent prints
 * `$CLAUDE_CODE_HOST_HTTP_PROXY_PORT`, which the library sets inside), recorded by pid while
 * the agent runs, and anything whose command line names this test's temporary repository.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { alive, processesMatching, until, type ProcessInfo } from "../support/processes.ts";
import { cleanupTemp, makeRepo, ROOT, runCli, tempDir, writeRoutine } from "../support/project.ts";

afterAll(cleanupTemp);

const CLI = join(ROOT, "src", "cli", "main.ts");

/**
 * The agent: says where the sandbox's proxy is and where its TMPDIR is, then waits (at most a
 * minute) until the test puts `go` there.
 */
const AGENT =
  'echo "port=$CLAUDE_CODE_HOST_HTTP_PROXY_PORT tmp=$TMPDIR"; ' +
  'i=0; while [ ! -e "$TMPDIR/go" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; echo finished';

async function sandboxedRepo(extra = ""): Promise<string> {
  const repo = await makeRepo({ "README.md": "x\n" });
  writeRoutine(repo, "task", `agent: command\ncommand: ${JSON.stringify(AGENT)}\ntimeout: 5m\n${extra}`);
  writeFileSync(join(repo, ".nightshift", "config.yaml"), "environments:\n  default:\n    network: none\n");
  return repo;
}

/** What the agent printed: its proxy port and TMPDIR. */
function parseAgentLine(text: string): { port: string; tmp: string } | undefined {
  const m = /port=(\d+) tmp=(\S+)/.exec(text);
  return m ? { port: m[1]!, tmp: m[2]! } : undefined;
}

/** The host-side bridges to the proxy on `port` (`socat UNIX-LISTEN:… TCP:localhost:<port>,…`). */
function bridgesTo(port: string): ProcessInfo[] {
  return processesMatching((c) => /\bsocat UNIX-LISTEN:/.test(c) && c.includes(`TCP:localhost:${port},`));
}

/** Every process of this test still alive: the recorded bridges, and whatever names `repo`. */
function leftovers(repo: string, bridges: ProcessInfo[]): ProcessInfo[] {
  const socketIds = bridges.map((b) => /claude-http-([0-9a-f]+)\.sock/.exec(b.cmdline)?.[1] ?? "?");
  return [
    ...bridges.filter((b) => alive(b.pid)),
    ...processesMatching((c) => c.includes(repo) || socketIds.some((id) => c.includes(id))),
  ];
}

async function noneLeft(repo: string, bridges: ProcessInfo[]): Promise<void> {
  await until(
    "the session's processes to end",
    async () => (leftovers(repo, bridges).length === 0 ? true : undefined),
    10_000,
  ).catch(() => {
    throw new Error(
      `still running: ${JSON.stringify(leftovers(repo, bridges).map((p) => p.cmdline.slice(0, 160)))}`,
    );
  });
}

/** Starts `nightshift run task` and waits until its agent runs, with its bridges recorded. */
async function startRun(repo: string): Promise<{
  proc: ResultPromise;
  tmp: string;
  bridges: ProcessInfo[];
}> {
  const proc = execa(process.execPath, [CLI, "run", "task"], {
    cwd: repo,
    reject: false,
    stdin: "ignore",
    env: { NO_COLOR: "1" },
  });
  let out = "";
  const agent = await new Promise<{ port: string; tmp: string }>((resolve, reject) => {
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const found = parseAgentLine(out);
      if (found) resolve(found);
    });
    void proc.then((r) =>
      reject(new Error(`nightshift run ended before the agent spoke: ${out}${r.stderr}`)),
    );
  });
  const bridges = bridgesTo(agent.port);
  expect(bridges.length).toBeGreaterThan(0);
  return { proc, tmp: agent.tmp, bridges };
}

describe("nightshift run with the default sandbox", () => {
  it("leaves no bridge, bubblewrap or agent process behind when the session ends", async () => {
    const repo = await sandboxedRepo();
    const { proc, tmp, bridges } = await startRun(repo);
    writeFileSync(join(tmp, "go"), "");
    const r = await proc;
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout)).toContain("finished");
    await noneLeft(repo, bridges);
  });

  for (const signal of ["SIGINT", "SIGTERM", "SIGKILL"] as const) {
    it(`leaves nothing behind when it gets ${signal} while the agent runs`, async () => {
      const repo = await sandboxedRepo();
      const { proc, bridges } = await startRun(repo);
      proc.kill(signal);
      const r = await proc;
      if (signal === "SIGKILL") expect(r.signal).toBe("SIGKILL");
      else expect(r.exitCode, String(r.stderr)).toBe(1); // cancelled
      await noneLeft(repo, bridges);
    });
  }
});

describe("nightshift serve killed with SIGKILL", () => {
  it("takes its sandboxes, their bridges and agents with it", async () => {
    const repo = await sandboxedRepo("triggers:\n  - api: true");
    const { token } = JSON.parse((await runCli(repo, ["tokens", "create", "task", "--json"])).stdout);
    const serve = execa(process.execPath, [CLI, "serve", "--port", "0"], {
      cwd: repo,
      reject: false,
      stdin: "ignore",
      env: { NIGHTSHIFT_LOG_LEVEL: "warn" },
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      serve.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) resolve(out.split("\n")[0]!.trim());
      });
      void serve.then(() => reject(new Error("serve ended")));
    });
    const res = await fetch(`${url}/v1/routines/task/fire`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
    const agent = await until("the agent's first line", async () => {
      const list = await runCli(repo, ["sessions", "list", "--json"]);
      const [s] = list.exitCode === 0 ? JSON.parse(list.stdout) : [];
      if (!s?.agent_pid) return undefined;
      return parseAgentLine((await runCli(repo, ["logs", s.id])).stdout);
    });
    const bridges = bridgesTo(agent.port);
    expect(bridges.length).toBeGreaterThan(0);
    serve.kill("SIGKILL");
    await serve;
    await noneLeft(repo, bridges);
  }, 120_000);
});

describe("an in-process session", () => {
  it("lets Node exit on its own once it is done", async () => {
    const repo = await sandboxedRepo();
    const script = join(tempDir(), "one-session.ts");
    const src = (p: string) => JSON.stringify(join(ROOT, "src", p));
    writeFileSync(
      script,
      [
        `import { loadRoutine } from ${src("config/load.ts")};`,
        `import { openProject } from ${src("project.ts")};`,
        `import { runSession } from ${src("runner/session.ts")};`,
        `const project = await openProject(${JSON.stringify(repo)});`,
        `const s = await runSession(project, { routine: loadRoutine(${JSON.stringify(repo)}, "task") });`,
        "await project.close();",
        "console.log(`done ${s.state}`);",
        // No process.exit: whatever the session left open would keep Node running.
      ].join("\n"),
    );
    const proc = execa(process.execPath, [script], {
      cwd: repo,
      reject: false,
      stdin: "ignore",
      timeout: 90_000,
    });
    let doneAt = 0;
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (!doneAt && out.includes("done ")) doneAt = Date.now();
    });
    // The session's transcript is in the store: let the agent go once its bridges are recorded.
    const agent = await until("the agent's first line", async () => {
      const list = await runCli(repo, ["sessions", "list", "--json"]);
      const [s] = list.exitCode === 0 ? JSON.parse(list.stdout) : [];
      return s?.agent_pid ? parseAgentLine((await runCli(repo, ["logs", s.id])).stdout) : undefined;
    });
    const bridges = bridgesTo(agent.port);
    expect(bridges.length).toBeGreaterThan(0);
    writeFileSync(join(agent.tmp, "go"), "");
    const r = await proc;
    expect(r.timedOut).toBe(false);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(out).toContain("done succeeded");
    // It exits a short linger after the session (back-to-back sessions reuse the sandbox's helpers).
    expect(Date.now() - doneAt).toBeLessThan(15_000);
    await noneLeft(repo, bridges);
  }, 120_000);
});

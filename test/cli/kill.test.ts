import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTemp, makeRepo, ROOT, runCli, writeRoutine } from "../support/project.ts";

afterAll(cleanupTemp);

/** True while `pid` runs; a zombie (exited, not yet reaped) counts as gone. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("a nightshift run killed with SIGKILL", () => {
  it("keeps the transcript up to the kill; the next command marks the session failed and stops the orphaned agent", async () => {
    const repo = await makeRepo({ "README.md": "# demo\n" });
    writeRoutine(repo, "slow", 'agent: command\ncommand: "echo step one; sleep 300"');
    const runner = execa(process.execPath, [join(ROOT, "src", "cli", "main.ts"), "run", "slow"], {
      cwd: repo,
      reject: false,
      stdin: "ignore",
    });
    const session = await until("the agent's first line", async () => {
      const list = await runCli(repo, ["sessions", "list", "--json"]);
      const [s] = list.exitCode === 0 ? JSON.parse(list.stdout) : [];
      if (!s?.agent_pid) return undefined;
      const logs = await runCli(repo, ["logs", s.id]);
      return logs.stdout.includes("step one") ? s : undefined;
    });
    expect(session.state).toBe("running");
    runner.kill("SIGKILL");
    await runner;
    expect(alive(session.agent_pid)).toBe(true); // the agent outlived its runner…

    const [after] = JSON.parse((await runCli(repo, ["sessions", "list", "--json"])).stdout);
    expect(after).toMatchObject({ id: session.id, state: "failed", infra_outcome: "internal_error" });
    expect(after.reason).toContain("stopped before the session finished");
    await until("the orphaned agent to stop", async () => (alive(session.agent_pid) ? undefined : true));
    const logs = await runCli(repo, ["logs", session.id]);
    expect(logs.stdout).toContain("step one");
    expect(logs.stdout).toContain("agent started");
  });
});

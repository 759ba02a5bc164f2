import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { alive, until } from "../support/processes.ts";
import { cleanupTemp, makeRepo, ROOT, runCli, writeRoutine } from "../support/project.ts";

afterAll(cleanupTemp);

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
    // Unsandboxed, the agent outlives its runner and the next command stops it; sandboxed, it
    // goes with the runner's process tree. Either way it must be gone:

    const [after] = JSON.parse((await runCli(repo, ["sessions", "list", "--json"])).stdout);
    expect(after).toMatchObject({ id: session.id, state: "failed", infra_outcome: "internal_error" });
    expect(after.reason).toContain("stopped before the session finished");
    await until("the orphaned agent to stop", async () => (alive(session.agent_pid) ? undefined : true));
    const logs = await runCli(repo, ["logs", session.id]);
    expect(logs.stdout).toContain("step one");
    expect(logs.stdout).toContain("agent started");
  }, 150_000);
});

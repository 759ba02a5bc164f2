import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRoutine } from "../../src/config/load.ts";
import { openProject } from "../../src/project.ts";
import { readEvents } from "../../src/store/transcript.ts";
import { runRoutineOnce } from "../../src/deque/run-routine.ts";
import { cleanupTemp, makeRepo, writeRoutine } from "../support/project.ts";

afterAll(cleanupTemp);

/**
 * The issue agent's deterministic steps after the agent: the repository's test command runs
 * in the sandbox; when it fails, a self-review pass gets the failure and fixes it; the test
 * runs again, and both results are in the transcript.
 */
describe("the test command and the self-review pass", () => {
  it("a failing test command triggers one self-review pass that sees the failure", async () => {
    const repo = await makeRepo({
      "check.sh":
        'test "$(cat value.txt)" = 3 || { echo "value.txt is $(cat value.txt), want 3"; exit 1; }\n',
      "value.txt": "1\n",
      ".nightshift/config.yaml": "deque:\n  allowed_authors: [alice]\n",
    });
    // The "agent": the first pass writes a wrong value; the review pass (its prompt starts with
    // the reviewer's instructions and quotes the failure) writes the right one.
    const agent = [
      'if grep -q "want 3" "$NIGHTSHIFT_PROMPT_FILE"; then echo 3 > value.txt; else echo 2 > value.txt; fi',
    ].join("; ");
    writeRoutine(
      repo,
      "issue-oldest",
      `agent: command\ncommand: ${JSON.stringify(agent)}\nworkflow:\n  type: issue-agent\n  test_command: sh check.sh\n  self_review: on_failure`,
    );
    const project = await openProject(repo);
    await project.forge.createIssue(project.repoName, {
      title: "Set 3",
      body: "value.txt must be 3",
      author: "alice",
    });
    const result = await runRoutineOnce(project, loadRoutine(repo, "issue-oldest"), {
      hostEnv: { PATH: process.env.PATH },
    });
    const [session] = result.sessions;
    expect(session?.task_outcome).toBe("pr_opened");
    const events = await readEvents<{
      type: string;
      name?: string;
      exitCode?: number;
      output?: string;
      text?: string;
    }>(project.store.db, session!.id);
    const steps = events
      .filter((e) => e.kind === "step")
      .map((e) => [e.data.exitCode, e.data.output?.trim()]);
    expect(steps).toEqual([
      [1, "value.txt is 2, want 3"],
      [0, ""],
    ]);
    const prompts = events.filter((e) => e.kind === "prompt").map((e) => e.data.text ?? "");
    expect(prompts).toHaveLength(2);
    expect(prompts[1]).toContain("reviewing a change");
    expect(prompts[1]).toContain("value.txt is 2, want 3");
    const diff = await project.forge.pullRequestDiff(project.repoName, session!.pr_number!);
    expect(diff).toContain("+3");
    expect(readFileSync(join(repo, "value.txt"), "utf8")).toBe("1\n");
    await project.close();
  });
});

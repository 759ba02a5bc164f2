import { existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openProject } from "../../src/project.ts";
import { until } from "../support/processes.ts";
import {
  cleanupTemp,
  gitOut,
  makeRepo,
  runCli,
  startServe,
  tempDir,
  writeRoutine,
} from "../support/project.ts";

/**
 * Follow-ups and dispatch through the real `nightshift serve`: the API's replies and
 * dispatches are durable runs in its queue; a reply to a running session is stored and
 * delivered when the session ends; a queued follow-up survives `kill -9` of the daemon and
 * runs after a restart, on the same branch and PR.
 */

afterAll(cleanupTemp);

type Session = {
  id: string;
  state: string;
  task_outcome: string | null;
  parent_session_id: string | null;
  pr_number: number | null;
  branch: string | null;
  trigger: string;
  title: string | null;
  reason: string | null;
};

async function sessions(repo: string): Promise<Session[]> {
  const r = await runCli(repo, ["sessions", "list", "--json", "--limit", "100"]);
  return r.exitCode === 0 ? (JSON.parse(r.stdout) as Session[]) : [];
}

async function prCommits(repo: string, branch: string): Promise<number> {
  const project = await openProject(repo);
  try {
    const bare = project.forge.local!.barePath(project.repoName);
    return Number(await gitOut(bare, "rev-list", "--count", `main..${branch}`));
  } finally {
    await project.close();
  }
}

/** A project whose `command` routine waits for `gate` (when given) and writes one file per turn. */
async function setup(gate?: string): Promise<{ repo: string; token: string }> {
  const repo = await makeRepo({ "README.md": "# demo\n" });
  const wait = gate ? `while [ ! -e ${gate} ]; do sleep 0.1; done; ` : "";
  writeRoutine(
    repo,
    "job",
    [
      "agent: command",
      `command: '${wait}n=$(ls turn-* 2>/dev/null | wc -l); cat "$NIGHTSHIFT_PROMPT_FILE" > turn-$n.txt; if [ -n "$NIGHTSHIFT_PARENT_SESSION_ID" ]; then sleep 2; fi'`,
      "overlap: allow",
      "triggers:",
      "  - api: true",
    ].join("\n"),
    "First turn.",
  );
  writeFileSync(
    join(repo, ".nightshift", "config.yaml"),
    "server:\n  concurrency: 2\n  lease: 3s\n  retry_backoff: 1s\n  shutdown_grace: 5s\n" +
      (gate ? `environments:\n  default:\n    read: [${dirname(gate)}]\n` : ""),
  );
  const { token } = JSON.parse((await runCli(repo, ["tokens", "create", "job", "--json"])).stdout);
  return { repo, token };
}

const post = async (url: string, token: string, path: string, body: unknown) => {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
};

describe("follow-ups through the daemon", () => {
  it("stores a reply to a running session and delivers it as a follow-up when the session ends", async () => {
    const gate = join(tempDir(), "go");
    const { repo, token } = await setup(gate);
    const serve = startServe(repo);
    try {
      const url = await serve.url;
      const fired = await post(url, token, "/v1/routines/job/fire", {});
      const id = fired.body.session_id!;
      await until("the session to run", async () =>
        (await sessions(repo)).find((s) => s.id === id && s.state === "running"),
      );
      const reply = await post(url, token, `/v1/sessions/${id}/messages`, {
        text: "Second turn, sent while running.",
      });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      expect(reply.body).toMatchObject({ type: "follow_up", outcome: "stored", session_id: id });
      writeFileSync(gate, "");
      const follow = await until("the follow-up to finish", async () =>
        (await sessions(repo)).find((s) => s.parent_session_id === id && s.state === "succeeded"),
      );
      const parent = (await sessions(repo)).find((s) => s.id === id)!;
      expect(parent.task_outcome).toBe("pr_opened");
      expect(follow).toMatchObject({
        task_outcome: "pr_updated",
        pr_number: parent.pr_number,
        branch: parent.branch,
      });
      expect(await prCommits(repo, parent.branch!)).toBe(2);
      // Another routine's token, an unknown id, an empty text: refused.
      expect((await post(url, token, `/v1/sessions/nosuchsession/messages`, { text: "x" })).status).toBe(404);
      expect((await post(url, token, `/v1/sessions/${id}/messages`, { text: "" })).status).toBe(400);
    } finally {
      serve.proc.kill("SIGTERM");
      await serve.proc;
    }
  }, 120_000);

  it("keeps a queued follow-up across kill -9 of serve and runs it after a restart", async () => {
    const { repo, token } = await setup();
    const first = startServe(repo);
    const url = await first.url;
    const fired = await post(url, token, "/v1/routines/job/fire", {});
    const id = fired.body.session_id!;
    const parent = await until("the first session", async () =>
      (await sessions(repo)).find((s) => s.id === id && s.state === "succeeded"),
    );
    const reply = await post(url, token, `/v1/sessions/${id}/messages`, { text: "Second turn." });
    expect(reply.body, JSON.stringify(reply.body)).toMatchObject({
      outcome: "queued",
      parent_session_id: id,
    });
    // The follow-up sleeps 2 s: kill the daemon while it runs (or before it started).
    await until("the follow-up to start", async () =>
      (await sessions(repo)).find((s) => s.parent_session_id === id),
    );
    first.proc.kill("SIGKILL");
    await first.proc;
    expect((await sessions(repo)).filter((s) => s.state === "succeeded" && s.parent_session_id)).toHaveLength(
      0,
    );

    const second = startServe(repo);
    try {
      await second.url;
      const done = await until("a follow-up to succeed after the restart", async () =>
        (await sessions(repo)).find((s) => s.parent_session_id !== null && s.state === "succeeded"),
      ).catch(async (err: Error) => {
        const all = await runCli(repo, ["sessions", "list", "--all", "--json"]);
        const ss = JSON.stringify(await sessions(repo), null, 1);
        throw new Error(`${err.message}\nruns: ${all.stdout}\nsessions: ${ss}`);
      });
      // In the same conversation (the killed attempt's session, recorded failed, may sit between).
      const chain = await sessions(repo);
      let p = done.parent_session_id;
      while (p && p !== id) p = chain.find((s) => s.id === p)!.parent_session_id;
      expect(p).toBe(id);
      expect(done).toMatchObject({
        task_outcome: "pr_updated",
        pr_number: parent.pr_number,
        branch: parent.branch,
      });
      expect(await prCommits(repo, parent.branch!)).toBe(2);
      const prs = JSON.parse(
        (await runCli(repo, ["pr", "list", "--state", "all", "--json"])).stdout,
      ) as unknown[];
      expect(prs).toHaveLength(1);
    } finally {
      second.proc.kill("SIGTERM");
      await second.proc;
    }
  }, 120_000);

  it("dispatches an ad-hoc session through the API and the CLI's queue", async () => {
    const { repo, token } = await setup();
    const serve = startServe(repo);
    try {
      const url = await serve.url;
      const r = await post(url, token, "/v1/dispatch", { prompt: "Fix the README\n\nmore detail" });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body).toMatchObject({ type: "dispatch", outcome: "queued", title: "Fix the README" });
      expect((await post(url, token, "/v1/dispatch", { prompt: "x", routine: "other" })).status).toBe(403);
      const s = await until("the dispatched session", async () =>
        (await sessions(repo)).find((x) => x.id === r.body.session_id && x.state === "succeeded"),
      );
      expect(s).toMatchObject({ trigger: "dispatch", title: "Fix the README", task_outcome: "pr_opened" });
      // The CLI queues to the running daemon.
      const cli = await runCli(repo, ["dispatch", "--routine", "job", "Second dispatch", "--json"]);
      expect(cli.exitCode, cli.stderr).toBe(0);
      const q = JSON.parse(cli.stdout) as { outcome: string; session_id: string };
      expect(q.outcome).toBe("queued");
      await until("the CLI's dispatch", async () =>
        (await sessions(repo)).find((x) => x.id === q.session_id && x.state === "succeeded"),
      );
      expect(existsSync(join(repo, ".nightshift"))).toBe(true);
    } finally {
      serve.proc.kill("SIGTERM");
      await serve.proc;
    }
  }, 120_000);
});

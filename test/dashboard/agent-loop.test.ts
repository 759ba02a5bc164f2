/**
 * The whole human loop through the dashboard, in a real Chromium against the real
 * `nightshift serve` on a temporary project, with the real Claude Code CLI driven by the
 * scripted model server: a session dispatched from the field asks a question
 * (AskUserQuestion) and shows under "Needs input" within 1 s of the store change; the choice
 * clicked in the page reaches the model as the tool result of that call; the session ends
 * with a draft PR; a follow-up typed in the page adds a commit to the same PR in the same
 * conversation; a slow session dispatched from the field is cancelled from its page.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openProject } from "../../src/project.ts";
import { isAnthropicSideRequest, type RecordedRequest, startModelServer } from "../support/model-server.ts";
import { alive, processesMatching, until } from "../support/processes.ts";
import { cleanupTemp, gitOut, makeRepo, startServe, writeRoutine } from "../support/project.ts";
import { launchChromium, screenshot } from "./harness.ts";

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  cleanupTemp();
});

const QUESTION = "Which colour should the button be?";
const QUESTIONS = {
  questions: [
    {
      question: QUESTION,
      header: "Colour",
      options: [
        { label: "red", description: "warm, for warnings" },
        { label: "blue", description: "cool, the brand colour" },
      ],
      multiSelect: false,
    },
  ],
};

interface SessionRec {
  id: string;
  state: string;
  parent_session_id: string | null;
  pr_number: number | null;
  repo: string | null;
  branch: string | null;
  task_outcome: string | null;
  reason: string | null;
}

/** Text of every tool_result block of a request, by tool_use id. */
function toolResults(r: RecordedRequest): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of (r.body?.messages ?? []) as { role: string; content: unknown }[]) {
    if (!Array.isArray(m.content)) continue;
    for (const b of m.content as { type: string; tool_use_id?: string; content?: unknown }[]) {
      if (b.type !== "tool_result" || !b.tool_use_id) continue;
      const text =
        typeof b.content === "string"
          ? b.content
          : Array.isArray(b.content)
            ? (b.content as { text?: string }[]).map((x) => x.text ?? "").join("")
            : "";
      out.set(b.tool_use_id, text);
    }
  }
  return out;
}

/** Waits until the page's htmx SSE connection is open (evaluated as a function: the page's CSP forbids eval). */
async function sseOpen(page: Page): Promise<void> {
  await expect
    .poll(
      () =>
        page
          .evaluate(
            () =>
              (
                globalThis as unknown as {
                  document: { body: Record<string, { sseEventSource?: { readyState: number } }> };
                }
              ).document.body["htmx-internal-data"]?.sseEventSource?.readyState,
          )
          .catch(() => undefined),
      { timeout: 10_000 },
    )
    .toBe(1);
}

describe("the agent loop in the dashboard", () => {
  it("needs input → answer → draft PR → follow-up on the same PR; dispatch and cancel from the page", async () => {
    const sleepMarker = `59.${String(process.pid).slice(-3)}7`;
    const model = await startModelServer({
      anthropic: [
        { tool: "AskUserQuestion", input: QUESTIONS },
        { tool: "Bash", input: { command: "echo blue > colour.txt", description: "write the colour" } },
        { text: "The button is blue now." },
        { tool: "Bash", input: { command: "echo bold >> colour.txt", description: "make it bold" } },
        { text: "The button is bold too." },
        {
          // Claude Code refuses a plain long `sleep`: a loop of short ones runs as long.
          tool: "Bash",
          input: {
            command: `for i in $(seq 600); do sleep 0.1; done; echo ${sleepMarker}`,
            description: "a slow step",
          },
        },
        { text: "Slept." },
      ],
    });
    const repo = await makeRepo({ "README.md": "# demo\n", ".gitignore": ".nightshift/state/\n" });
    writeRoutine(
      repo,
      "job",
      [
        "agent: claude-code",
        "timeout: 3m",
        "allowed_tools: [Bash]",
        "overlap: allow",
        "triggers:",
        "  - api: true",
      ].join("\n"),
    );
    // A short lease: a cancelled run's worker notices at its next heartbeat (a quarter of it).
    writeFileSync(join(repo, ".nightshift", "config.yaml"), "server:\n  lease: 4s\n");
    const serve = startServe(repo, { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: "sk-ant-test-dummy" });
    const pages: Page[] = [];
    let db: Database.Database | undefined;
    let poller: NodeJS.Timeout | undefined;
    try {
      const url = await serve.url;
      db = new Database(join(repo, ".nightshift", "state", "nightshift.db"), { readonly: true });
      const store = db;
      const session = (id: string) =>
        store.prepare("select * from sessions where id = ?").get(id) as SessionRec | undefined;
      const childOf = (id: string) =>
        store.prepare("select * from sessions where parent_session_id = ?").get(id) as SessionRec | undefined;
      const main = () =>
        model.requests.filter((r) => r.api === "anthropic" && !isAnthropicSideRequest(r.path, r.body, r.raw));

      // When did the store first hold a session in needs_input? (polled every 5 ms)
      let needsInputAt: number | undefined;
      poller = setInterval(() => {
        if (needsInputAt !== undefined) return;
        if (store.prepare("select 1 from sessions where state = 'needs_input'").get())
          needsInputAt = Date.now();
      }, 5);

      const newPage = async () => {
        const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
        pages.push(p);
        return p;
      };
      const agents = await newPage();
      await agents.goto(`${url}/`);
      await sseOpen(agents);

      // 1. Dispatch from the field: the session starts and asks its question.
      const work = await newPage();
      await work.goto(`${url}/`);
      await work.fill("#dispatch input[name=prompt]", "Paint the button (marker FIRST-PROMPT)");
      await work.selectOption("#dispatch select[name=routine]", "job");
      await work.click("#dispatch button[type=submit]");
      await work.waitForURL(/\/sessions\//);
      const askingId = new URL(work.url()).pathname.split("/").pop()!;

      // 2. It shows under "Needs input" within 1 s of the store change, with its question.
      const row = agents.locator(`#group-needs_input #agent-${askingId}`);
      await row.waitFor({ timeout: 90_000 });
      const shownAt = Date.now();
      expect(needsInputAt, "the store never held needs_input").toBeDefined();
      const lagMs = shownAt - needsInputAt!;
      expect(lagMs).toBeLessThan(1_000);
      expect(await row.locator(".question-line").textContent()).toContain(`Colour: ${QUESTION}`);
      await screenshot(agents, "agents-needs-input");

      // The session page (opened while it ran) shows the question and its choices live.
      const blue = work.locator('#answer button[data-choice="blue"]');
      await blue.waitFor({ timeout: 5_000 }).catch(async (err: Error) => {
        throw new Error(
          `${err.message}\n${work.url()}\n${(await work.textContent("main").catch(() => ""))?.slice(0, 3000)}`,
        );
      });
      const answerBox = (await work.locator("#answer").textContent())!;
      expect(answerBox).toContain(QUESTION);
      expect(answerBox).toContain("cool, the brand colour");
      expect(answerBox).toContain("warm, for warnings");
      await screenshot(work, "needs-input");
      const toolUseId = (
        store.prepare("select tool_use_id from session_questions where session_id = ?").get(askingId) as {
          tool_use_id: string;
        }
      ).tool_use_id;
      expect(toolUseId).toMatch(/^toolu_/);
      expect(main()).toHaveLength(1);

      // 3. Clicking the choice answers: the model gets it as that call's tool result.
      await blue.click();
      await work.waitForURL((u) => !u.pathname.endsWith(askingId));
      const answered = await until("the answered session to deliver a PR", async () => {
        const c = childOf(askingId);
        return c && c.state === "succeeded" ? c : undefined;
      });
      expect(answered, answered.reason ?? "").toMatchObject({ task_outcome: "pr_opened" });
      expect(new URL(work.url()).pathname).toBe(`/sessions/${answered.id}`);
      const resumed = main()[1]!;
      expect(toolResults(resumed).get(toolUseId)).toContain(`"${QUESTION}"="blue"`);
      expect(JSON.stringify(resumed.body.messages)).toContain("FIRST-PROMPT");
      expect(session(askingId)?.state).toBe("succeeded");
      const pr = store
        .prepare("select number, draft, state, head from forge_pull_requests where number = ?")
        .get(answered.pr_number) as { draft: number; state: string; head: string };
      expect(pr).toMatchObject({ draft: 1, state: "open", head: answered.branch });
      expect(await agents.locator(`#group-needs_input #agent-${askingId}`).count()).toBe(0);

      // 4. A follow-up typed in the page: same conversation, one more commit on the same PR.
      await work.reload();
      await work.locator("#turns-chart canvas").waitFor({ timeout: 5_000 });
      await work.fill("#reply input[name=text]", "Make it bold as well (marker SECOND-TURN)");
      await work.click("#reply button[type=submit]");
      await work.waitForURL((u) => !u.pathname.endsWith(answered.id));
      const followed = await until("the follow-up to finish", async () => {
        const c = childOf(answered.id);
        return c && c.state === "succeeded" ? c : undefined;
      });
      expect(followed, followed.reason ?? "").toMatchObject({
        task_outcome: "pr_updated",
        pr_number: answered.pr_number,
        branch: answered.branch,
      });
      const second = main().find((r) => JSON.stringify(r.body.messages).includes("SECOND-TURN"))!;
      expect(second).toBeDefined();
      // Resumed: the earlier turns (the first prompt, the answered question) are in its conversation.
      expect(JSON.stringify(second.body.messages)).toContain("FIRST-PROMPT");
      expect(toolResults(second).get(toolUseId)).toContain(`"${QUESTION}"="blue"`);
      // Nothing runs now: opening the project beside the daemon is safe.
      const project = await openProject(repo);
      const bare = project.forge.local!.barePath(project.repoName);
      await project.close();
      expect(await gitOut(bare, "rev-list", "--count", `main..${answered.branch}`)).toBe("2");
      expect(await gitOut(bare, "show", `${answered.branch}:colour.txt`)).toBe("blue\nbold");
      await work.goto(`${url}/sessions/${followed.id}`);
      await work.locator("#turns-chart canvas").waitFor({ timeout: 5_000 });
      await screenshot(work, "session-turns");

      // 5. Dispatch a slow session from the field and cancel it from its page.
      await work.goto(`${url}/`);
      await work.fill("#dispatch input[name=prompt]", "A slow task (marker THIRD)");
      await work.selectOption("#dispatch select[name=routine]", "job");
      await work.click("#dispatch button[type=submit]");
      await work.waitForURL(/\/sessions\//);
      const slowId = new URL(work.url()).pathname.split("/").pop()!;
      await until("the slow step to start", async () =>
        store
          .prepare(
            "select 1 from transcript_events where session_id = ? and kind = 'tool_call' and data like ?",
          )
          .get(slowId, `%${sleepMarker}%`)
          ? true
          : undefined,
      ).catch((err: Error) => {
        const events = store
          .prepare("select kind, data from transcript_events where session_id = ? order by seq")
          .all(slowId);
        throw new Error(
          `${err.message}\nsession: ${JSON.stringify(session(slowId))}\nsteps left: ${model.remaining("anthropic")}\n${JSON.stringify(events).slice(0, 4000)}`,
        );
      });
      // The agent CLI (and whatever runs the slow step, however its command line reads).
      const agentPid = (
        JSON.parse(
          (
            store
              .prepare("select data from transcript_events where session_id = ? and kind = 'agent_spawned'")
              .get(slowId) as { data: string }
          ).data,
        ) as { pid: number }
      ).pid;
      const sleeping = [
        { pid: agentPid, cmdline: "the agent" },
        ...processesMatching((c) => c.includes(sleepMarker)),
      ];
      expect(alive(agentPid)).toBe(true);
      expect(session(slowId)?.state).toBe("running");
      const slow = await newPage();
      await slow.goto(`${url}/sessions/${slowId}`);
      await sseOpen(slow);
      const t0 = Date.now();
      await slow.click("#cancel button");
      await until(
        "the session to be cancelled",
        async () => (session(slowId)?.state === "cancelled" ? true : undefined),
        30_000,
      ).catch((err: Error) => {
        const run = store.prepare("select state, reason from runs where session_id = ?").get(slowId);
        throw new Error(
          `${err.message}: session ${JSON.stringify(session(slowId))}, run ${JSON.stringify(run)}`,
        );
      });
      const cancelMs = Date.now() - t0;
      await until(
        "the slow step to end",
        async () => (sleeping.every((p) => !alive(p.pid)) ? true : undefined),
        15_000,
      );
      await expect
        .poll(() => work.locator("#facts").textContent(), { timeout: 5_000 })
        .toContain("cancelled");
      expect(main().some((r) => JSON.stringify(r.body.messages).includes("THIRD"))).toBe(true);
      console.log(`needs_input shown ${lagMs} ms after the store change; cancel took ${cancelMs} ms`);
    } finally {
      if (poller) clearInterval(poller);
      for (const p of pages) await p.close().catch(() => {});
      db?.close();
      serve.proc.kill("SIGTERM");
      await serve.proc;
      await model.close();
    }
  }, 300_000);
});

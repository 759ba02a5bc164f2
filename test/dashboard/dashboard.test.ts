import { get } from "node:http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDashboardUser } from "../../src/store/dashboard-users.ts";
import { insertSessionQuestion } from "../../src/store/session-questions.ts";
import { setSessionState, updateSession } from "../../src/store/sessions.ts";
import { appendEvent } from "../../src/store/transcript.ts";
import { cleanupTemp } from "../support/project.ts";
import {
  addPullRequest,
  addSession,
  launchChromium,
  screenshot,
  type Served,
  serveProject,
} from "./harness.ts";

/**
 * The agent view in a real Chromium against the real app on 127.0.0.1: the grouped list and
 * its live updates, the pages, escaping, the event stream's resume, login and CSRF.
 */

let browser: Browser;
const served: Served[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  for (const s of served) await s.close();
  cleanupTemp();
});

async function start(opts: Parameters<typeof serveProject>[0] = {}): Promise<Served> {
  const s = await serveProject(opts);
  served.push(s);
  return s;
}

/** A page that fails the test on any dialog (an XSS payload that ran would open one). */
async function newPage(): Promise<{ page: Page; dialogs: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const dialogs: string[] = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return { page, dialogs };
}

const XSS = `<img src=x onerror="alert('xss')"><script>alert('xss')</script>`;

describe("the agents page", () => {
  it("shows a session in its group and moves it live when its state changes (within 1 s)", async () => {
    const s = await start();
    const db = s.project.store.db;
    const done = await addSession(s.project, "nightly", { inputText: "tidy the docs" });
    await setSessionState(db, done, "succeeded", {
      started_at: s.clock.now() - 90_000,
      finished_at: s.clock.now(),
      infra_outcome: "ok",
      task_outcome: "no_changes",
      input_tokens: 12_000,
      output_tokens: 3_400,
      context_tokens: 50_000,
      cost_usd: 0.0421,
    } as never);
    const failed = await addSession(s.project, "nightly");
    await setSessionState(db, failed, "failed", {
      finished_at: s.clock.now(),
      reason: "the agent exited with code 1",
    } as never);
    const id = await addSession(s.project, "triage", { title: "Fix the flaky login test" });
    const { page } = await newPage();
    await page.goto(s.url + "/");
    const row = page.locator(`#agent-${id}`);
    await expect.poll(() => row.getAttribute("data-group")).toBe("working");
    expect(await page.locator(`#group-working #agent-${id}`).count()).toBe(1);
    expect(await page.locator(`#group-completed #agent-${done}`).count()).toBe(1);
    expect(await page.locator(`#group-failed #agent-${failed}`).textContent()).toContain(
      "exited with code 1",
    );
    expect(await page.locator(`#group-completed #agent-${done}`).textContent()).toMatch(
      /\$0\.0421[\s\S]*25%/,
    );
    // Let the event stream connect before changing the store.
    await page.waitForFunction('document.body["htmx-internal-data"]?.sseEventSource?.readyState === 1');
    await screenshot(page, "agents");

    const t0 = Date.now();
    await setSessionState(db, id, "needs_input" as never);
    await page.locator(`#group-needs_input #agent-${id}`).waitFor({ timeout: 1_000 });
    const needsInputMs = Date.now() - t0;
    // Needs input is the first group on the page.
    const groups = await page
      .locator("section[data-group]")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-group")));
    expect(groups[0]).toBe("needs_input");

    const t1 = Date.now();
    await updateSession(db, id, { state: "cancelled", finished_at: s.clock.now() });
    await page.locator(`#group-cancelled #agent-${id}`).waitFor({ timeout: 1_000 });
    expect(Math.max(needsInputMs, Date.now() - t1)).toBeLessThan(1_000);
    await page.close();
  });
});

describe("the event stream", () => {
  /** Reads an SSE response until `until` holds for the messages so far (or the time is up). */
  async function readSse(
    url: string,
    headers: Record<string, string>,
    until: (msgs: Sse[]) => boolean,
  ): Promise<Sse[]> {
    const ac = new AbortController();
    const res = await fetch(url, { headers, signal: ac.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    const msgs: Sse[] = [];
    const deadline = Date.now() + 5_000;
    while (!until(msgs) && Date.now() < deadline) {
      const r = await Promise.race([
        reader.read(),
        new Promise<undefined>((res2) => setTimeout(() => res2(undefined), 200)),
      ]);
      if (!r || r.done) continue;
      buf += decoder.decode(r.value, { stream: true });
      let end;
      while ((end = buf.indexOf("\n\n")) !== -1) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const m: Sse = { event: "message", data: "", id: "" };
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) m.event = line.slice(7);
          else if (line.startsWith("data: ")) m.data += line.slice(6);
          else if (line.startsWith("id: ")) m.id = line.slice(4);
        }
        if (m.id || m.data) msgs.push(m);
      }
    }
    ac.abort();
    return msgs;
  }
  interface Sse {
    event: string;
    data: string;
    id: string;
  }

  it("resumes from Last-Event-ID without missing or repeating an event", async () => {
    const s = await start();
    const db = s.project.store.db;
    const id = await addSession(s.project, "triage");
    let seq = 0;
    const write = async (n: number) => {
      for (let i = 0; i < n; i++)
        await appendEvent(db, id, ++seq, s.clock.now(), "assistant", {
          type: "assistant",
          text: `line ${seq}`,
        });
    };
    await write(3);
    const transcriptSeqs = (msgs: Sse[]) =>
      msgs.filter((m) => m.event === "transcript").map((m) => (JSON.parse(m.data) as { seq: number }).seq);
    const first = await readSse(`${s.url}/v1/events?after=0-0`, {}, (m) => transcriptSeqs(m).length >= 3);
    expect(transcriptSeqs(first)).toEqual([1, 2, 3]);
    expect(first.some((m) => m.event === "session" && m.data.includes('"queued"'))).toBe(true);
    const last = first.at(-1)!.id;
    // Disconnected: more events and a state change happen meanwhile.
    await write(4);
    await setSessionState(db, id, "running");
    const second = await readSse(
      `${s.url}/v1/events`,
      { "last-event-id": last },
      (m) => transcriptSeqs(m).length >= 4,
    );
    expect(transcriptSeqs(second)).toEqual([4, 5, 6, 7]);
    expect(second.filter((m) => m.event === "session").map((m) => JSON.parse(m.data).state)).toEqual([
      "running",
    ]);
    // A bad cursor is refused clearly.
    const bad = await fetch(`${s.url}/v1/events`, { headers: { "last-event-id": "nonsense" } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/Last-Event-ID/);
  });
});

describe("escaping and the other pages", () => {
  it("renders an XSS payload in a transcript and a PR title as text, and screenshots every page", async () => {
    const s = await start({ env: { GITHUB_TOKEN: "ghp_supersecretvalue1234567890" } });
    const db = s.project.store.db;
    const id = await addSession(s.project, "triage", { title: `title ${XSS}` });
    const events: [string, unknown][] = [
      ["state", { type: "state", state: "running" }],
      ["assistant", { type: "assistant", text: `I will fix it. ${XSS}` }],
      ["tool_call", { type: "tool_call", id: "t1", name: "Bash", input: { command: `echo ${XSS}` } }],
      [
        "tool_result",
        { type: "tool_result", id: "t1", output: `ok ghp_supersecretvalue1234567890 ${XSS}`, isError: false },
      ],
      ["error", { type: "error", message: `boom ${XSS}` }],
      [
        "delivery",
        { type: "delivery", action: "pr_opened", repo: s.project.repoName, ref: "nightshift/fix" },
      ],
      ["result", { type: "result", isError: false, text: `Done ${XSS}` }],
    ];
    let seq = 0;
    for (const [kind, data] of events) await appendEvent(db, id, ++seq, s.clock.now(), kind, data);
    const pr = await addPullRequest(s.project, `PR ${XSS}`, id, "nightshift/fix");
    await setSessionState(db, id, "succeeded", {
      finished_at: s.clock.now(),
      started_at: s.clock.now() - 60_000,
      repo: s.project.repoName,
      pr_number: pr,
      task_outcome: "pr_opened",
      infra_outcome: "ok",
    } as never);
    await updateSession(db, id, { input_tokens: 1000, output_tokens: 200, cost_usd: 0.5 });

    const { page, dialogs } = await newPage();
    await page.goto(`${s.url}/sessions/${id}`);
    const transcript = await page.locator("#transcript").textContent();
    expect(transcript).toContain("<script>alert('xss')</script>");
    expect(transcript).not.toContain("ghp_supersecretvalue1234567890");
    expect(await page.locator("#transcript img, #transcript script").count()).toBe(0);
    expect(await page.locator("pre.diff").textContent()).toContain('<script>alert("diff")</script>');
    await screenshot(page, "session");

    await page.goto(`${s.url}/pulls`);
    expect(await page.locator(".pr-title").first().textContent()).toBe(`PR ${XSS}`);
    await screenshot(page, "pulls");
    await page.goto(`${s.url}/pulls/${encodeURIComponent(s.project.repoName)}/${pr}`);
    expect(await page.locator("h1 .pr-title").textContent()).toBe(`PR ${XSS}`);
    await screenshot(page, "pull");

    await page.goto(`${s.url}/`);
    expect(await page.locator(`#group-ready_for_review #agent-${id}`).textContent()).toContain(
      `title ${XSS}`,
    );
    await page.goto(`${s.url}/routines`);
    const triage = await page.locator("tr#triage").textContent();
    expect(triage).toMatch(/At 09:00, Monday through Friday/);
    expect(triage).toContain("Europe/Berlin");
    await screenshot(page, "routines");
    await page.goto(`${s.url}/runs`);
    await screenshot(page, "runs");
    await page.goto(`${s.url}/usage`);
    await page.locator(".chart canvas").first().waitFor({ timeout: 5_000 });
    await screenshot(page, "usage");
    expect(dialogs).toEqual([]);
    await page.close();
  });
});

describe("login and CSRF on a non-loopback server", () => {
  it("needs a login for pages, actions and the stream; refuses API tokens and requests without the CSRF token", async () => {
    const s = await start({ host: "0.0.0.0" });
    const password = await addDashboardUser(s.project.store.db, "ada", s.clock.now());
    const id = await addSession(s.project, "triage");

    // Not logged in: pages redirect to the login page, the rest is 401; a bearer token is no login.
    const pageRes = await fetch(`${s.url}/`, { headers: { accept: "text/html" }, redirect: "manual" });
    expect(pageRes.status).toBe(303);
    expect(pageRes.headers.get("location")).toMatch(/^\/login/);
    for (const path of ["/v1/events", `/sessions/${id}`, "/fragments/agents", "/assets/htmx.min.js"])
      expect(
        (await fetch(`${s.url}${path}`, { headers: { authorization: "Bearer nst_anything" } })).status,
      ).toBe(401);
    expect((await fetch(`${s.url}/routines/triage/run`, { method: "POST" })).status).toBe(401);

    const { page } = await newPage();
    await page.goto(`${s.url}/runs`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await screenshot(page, "login");
    await page.fill("input[name=name]", "ada");
    await page.fill("input[name=password]", "wrong password");
    await page.click("button[type=submit]");
    expect(await page.textContent("body")).toContain("wrong user name or password");
    await page.goto(`${s.url}/login?next=/runs`);
    await page.fill("input[name=name]", "ada");
    await page.fill("input[name=password]", password);
    await page.click("button[type=submit]");
    await page.waitForURL(`${s.url}/runs`);
    const cookie = (await page.context().cookies()).find((c) => c.name === "nightshift_login")!;
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict" });

    // Logged in, but a post without the CSRF token is refused; with it (the page's form) it works.
    const headers = {
      cookie: `nightshift_login=${cookie.value}`,
      "content-type": "application/x-www-form-urlencoded",
    };
    const noCsrf = await fetch(`${s.url}/routines/triage/run`, {
      method: "POST",
      headers,
      body: "",
      redirect: "manual",
    });
    expect(noCsrf.status).toBe(403);
    expect(await noCsrf.text()).toMatch(/CSRF/);
    const wrong = await fetch(`${s.url}/routines/triage/run`, {
      method: "POST",
      headers,
      body: "_csrf=abc",
      redirect: "manual",
    });
    expect(wrong.status).toBe(403);
    const runs = await s.project.store.db.selectFrom("runs").selectAll().execute();
    expect(runs).toEqual([]);
    await page.goto(`${s.url}/routines`);
    await page.locator("tr#triage form.run button").click();
    await page.waitForURL(/\/sessions\//);
    const after = await s.project.store.db.selectFrom("runs").select(["routine", "trigger"]).execute();
    expect(after).toEqual([{ routine: "triage", trigger: "manual" }]);
    await page.close();
  });
});

describe("actions on a loopback server", () => {
  it("dispatches from the field at the bottom; refuses a post without the page's CSRF token or from another Host", async () => {
    const s = await start();
    const forged = await fetch(`${s.url}/dispatch`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "prompt=delete+everything",
      redirect: "manual",
    });
    expect(forged.status).toBe(403);
    // A DNS-rebinding page reaches 127.0.0.1 under its own host name (fetch cannot set Host).
    const rebound = await new Promise<number>((resolve, reject) =>
      get(`${s.url}/`, { headers: { host: "evil.example" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on("error", reject),
    );
    expect(rebound).toBe(403);
    expect(await s.project.store.db.selectFrom("runs").selectAll().execute()).toEqual([]);

    const { page } = await newPage();
    await page.goto(`${s.url}/`);
    await page.fill("#dispatch input[name=prompt]", "Add a --verbose flag\nand document it");
    await page.selectOption("#dispatch select[name=routine]", "triage");
    await page.click("#dispatch button[type=submit]");
    await page.waitForURL(/\/sessions\//);
    const runs = await s.project.store.db
      .selectFrom("runs")
      .select(["routine", "context", "session_id"])
      .execute();
    expect(runs).toHaveLength(1);
    expect(page.url()).toContain(runs[0]!.session_id!);
    expect(await page.textContent("main")).toContain("queued");
    await page.close();
  });
});

describe("the session page", () => {
  it("appends transcript events live and updates its state", async () => {
    const s = await start();
    const db = s.project.store.db;
    const id = await addSession(s.project, "triage");
    await setSessionState(db, id, "running", { started_at: s.clock.now() });
    await appendEvent(db, id, 1, s.clock.now(), "assistant", { type: "assistant", text: "first" });
    const { page } = await newPage();
    await page.goto(`${s.url}/sessions/${id}`);
    await page.waitForFunction('document.body["htmx-internal-data"]?.sseEventSource?.readyState === 1');
    const t0 = Date.now();
    await appendEvent(db, id, 2, s.clock.now(), "tool_call", {
      type: "tool_call",
      id: "t",
      name: "Edit",
      input: { file: "<b>a.ts</b>" },
    });
    await page.locator("#transcript #ev-2").waitFor({ timeout: 1_000 });
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(await page.locator("#transcript #ev-2").textContent()).toContain("<b>a.ts</b>");
    await setSessionState(db, id, "succeeded", { finished_at: s.clock.now() });
    await expect.poll(() => page.locator("#facts").textContent(), { timeout: 2_000 }).toContain("finished 2");
    await page.close();
  });
});

describe("needs input, pause and PR actions", () => {
  it("shows a question live on the session page and in one line on the agents page; several questions get one field each", async () => {
    const s = await start();
    const db = s.project.store.db;
    const id = await addSession(s.project, "triage");
    await setSessionState(db, id, "running", { started_at: s.clock.now() });
    const { page, dialogs } = await newPage();
    await page.goto(`${s.url}/sessions/${id}`);
    await page.waitForFunction('document.body["htmx-internal-data"]?.sseEventSource?.readyState === 1');
    await insertSessionQuestion(db, {
      sessionId: id,
      toolUseId: "toolu_x",
      now: s.clock.now(),
      questions: [
        {
          question: `Which colour? ${XSS}`,
          header: "Colour",
          options: [
            { label: "red", description: "warm" },
            { label: "blue", description: `cool ${XSS}` },
          ],
          multiSelect: false,
        },
        {
          question: "Which sizes?",
          header: "Size",
          options: [{ label: "S" }, { label: "M" }],
          multiSelect: true,
        },
        { question: "Anything else?", options: [], multiSelect: false },
      ],
    });
    await setSessionState(db, id, "needs_input" as never, { finished_at: s.clock.now() } as never);
    await page.locator("#answer .question").first().waitFor({ timeout: 2_000 });
    expect(await page.locator("#answer .question").count()).toBe(3);
    expect(await page.locator("#answer").textContent()).toContain(`cool ${XSS}`);
    expect(await page.locator("#answer img, #answer script").count()).toBe(0);
    await page.goto(`${s.url}/`);
    expect(await page.locator(`#group-needs_input #agent-${id} .question-line`).textContent()).toContain(
      `Colour: Which colour? ${XSS}`,
    );
    expect(dialogs).toEqual([]);
    await page.close();
  });
});

describe("routine and pull request actions", () => {
  it("pauses with a reason and resumes a routine; marks a PR ready and draft, refuses a merge with its reason, closes it", async () => {
    const s = await start();
    const db = s.project.store.db;
    const { page } = await newPage();
    await page.goto(`${s.url}/routines`);
    await page.fill("tr#nightly form.pause input[name=reason]", "release freeze");
    await page.click("tr#nightly form.pause button");
    await page.waitForURL(/\/routines/);
    expect(await page.locator("tr#nightly").textContent()).toContain("release freeze");
    expect(
      await db
        .selectFrom("routine_switches" as never)
        .selectAll()
        .execute(),
    ).toMatchObject([{ routine: "nightly", paused: 1, reason: "release freeze" }]);
    await page.click("tr#nightly form.resume button");
    await expect.poll(() => page.locator("tr#nightly form.pause").count()).toBe(1);

    const pr = await addPullRequest(s.project, "A change", null, "nightshift/change");
    const local = s.project.forge.local!;
    const head = (await s.project.forge.getPullRequest(s.project.repoName, pr)).headSha!;
    await local.recordCheck(s.project.repoName, head, {
      name: "ci",
      status: "completed",
      conclusion: "failure",
    } as never);
    const prUrl = `${s.url}/pulls/${encodeURIComponent(s.project.repoName)}/${pr}`;
    await page.goto(prUrl);
    await page.click("form.pr-ready button");
    await page.waitForURL(prUrl);
    expect((await s.project.forge.getPullRequest(s.project.repoName, pr)).draft).toBe(false);
    await page.click("form.pr-merge button");
    expect(await page.textContent("main")).toMatch(/merge refused \(checks failed\)/);
    expect((await s.project.forge.getPullRequest(s.project.repoName, pr)).state).toBe("open");
    await page.goto(prUrl);
    await page.click("form.pr-draft button");
    await page.waitForURL(prUrl);
    expect((await s.project.forge.getPullRequest(s.project.repoName, pr)).draft).toBe(true);
    await page.click("form.pr-close button");
    await page.waitForURL(prUrl);
    expect((await s.project.forge.getPullRequest(s.project.repoName, pr)).state).toBe("closed");
    expect(await page.locator("#pr-actions").count()).toBe(0);
    await page.close();
  });
});

describe("the usage page", () => {
  it("charts cost per day per routine (at most 8 series, the rest as other) and per model", async () => {
    const s = await start();
    const db = s.project.store.db;
    const day = 86_400_000;
    // Ten routines, r0 the most expensive; each ran today and two days ago, on one of two models.
    for (let i = 0; i < 10; i++)
      for (const [ago, cost] of [
        [0, 10 - i],
        [2, 1],
      ] as const) {
        const id = await addSession(s.project, `r${i}`, { createdAt: s.clock.now() - ago * day });
        await updateSession(db, id, { cost_usd: cost, input_tokens: 100, output_tokens: 10 });
        await db
          .updateTable("sessions")
          .set({ model: i % 2 === 0 ? "model-even" : "model-odd" })
          .where("id", "=", id)
          .execute();
      }
    const { page, dialogs } = await newPage();
    await page.goto(`${s.url}/usage`);
    const charts = page.locator(".chart");
    await expect.poll(() => page.locator(".chart canvas").count()).toBe(4);
    expect(await charts.count()).toBe(4);
    const legend = (id: string) =>
      page.locator(`[data-chart="${id}"] .u-legend .u-series:not(:first-child) .u-label`).allTextContents();
    expect(await legend("cost-routine-data")).toEqual(["r0", "r1", "r2", "r3", "r4", "r5", "r6", "other"]);
    expect(await legend("cost-model-data")).toEqual(["model-even", "model-odd"]);
    expect(await legend("cost-data")).toEqual(["cost USD"]);
    // "other" sums r7, r8 and r9 per day: 3 + 2 + 1 today, 1 each two days ago.
    const spec = JSON.parse((await page.locator("#cost-routine-data").textContent())!) as {
      series: string[];
      data: number[][];
    };
    const other = spec.data[spec.series.indexOf("other") + 1]!;
    expect(other.at(-1)).toBe(6);
    expect(other.at(-3)).toBe(3);
    expect(other.reduce((a, b) => a + b, 0)).toBe(9);
    const even = JSON.parse((await page.locator("#cost-model-data").textContent())!).data[1] as number[];
    expect(even.at(-1)).toBe(10 + 8 + 6 + 4 + 2);
    await screenshot(page, "usage-split");
    expect(dialogs).toEqual([]);
    await page.close();
  });
});

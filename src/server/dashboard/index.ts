import { type Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { html } from "hono/html";
import { loadRoutines } from "../../config/load.ts";
import type { Trigger } from "../../config/routine-schema.ts";
import { fireRoutine } from "../../queue/fire.ts";
import { compileSchedule, nextFireTimes } from "../../scheduler/schedule.ts";
import { endLogin, logIn } from "../../store/dashboard-users.ts";
import { pausedRoutines, setRoutinePaused } from "../../store/routine-switches.ts";
import {
  openSessionQuestion,
  type QuestionAnswers,
  sessionQuestions,
} from "../../store/session-questions.ts";
import { cancelRun, listRunsWithSessions, runOfSession } from "../../store/runs.ts";
import { findSession } from "../../store/sessions.ts";
import {
  agentRow,
  agentsView,
  lastOutcomes,
  latestEventCursor,
  linkedSessions,
  usageBy,
} from "../../store/session-views.ts";
import { readEvents } from "../../store/transcript.ts";
import { randomId } from "../../util/ids.ts";
import { redactorFromEnv } from "../../util/redact.ts";
import type { AppDeps } from "../deps.ts";
import { EventHub, eventRoutes, formatEventCursor, streamStoreEvents } from "../routes/events.ts";
import { agentsList, agentsPage } from "./agents.ts";
import { asset } from "./assets.ts";
import {
  type DashboardVars,
  dashboardGuard,
  formField,
  LOGIN_COOKIE,
  LOGIN_TTL_MS,
  loginCookieOptions,
} from "./auth.ts";
import { type Html, page, type PageCtx } from "./layout.ts";
import {
  pullPage,
  pullsPage,
  routinesPage,
  runsPage,
  type RoutineView,
  triggerWords,
  usagePage,
} from "./other-pages.ts";
import { eventHtml, type ShownEvent, sessionPage } from "./session-page.ts";

/** Options of {@link dashboardRoutes}. */
export interface DashboardOptions {
  /** How often the event stream looks at the store, ms (default 100). */
  pollMs?: number;
}

/** Every path the dashboard answers (the guard runs on these only, never on the API's). */
const GUARDED = [
  "/",
  "/login",
  "/logout",
  "/assets/*",
  "/fragments/*",
  "/dispatch",
  "/sessions/*",
  "/routines",
  "/routines/*",
  "/runs",
  "/usage",
  "/pulls",
  "/pulls/*",
  "/v1/events",
];

type Ctx = Context<{ Variables: DashboardVars }>;

/**
 * The dashboard ("agent view", docs/dashboard.md) and `GET /v1/events`, served by
 * `nightshift serve` at `/`: Agents, Session, Routines, Runs, Usage, Pull requests. Pages are
 * rendered on the server (`hono/html`, everything escaped and redacted) and kept live with htmx
 * over the event stream. See {@link dashboardGuard} for who may see them.
 */
export function dashboardRoutes(deps: AppDeps, opts: DashboardOptions = {}): Hono {
  const { project } = deps;
  const db = project.store.db;
  const redactor = redactorFromEnv(deps.env, project.config.redact_env);
  const hub = new EventHub(db, opts.pollMs ?? 100);
  const app = new Hono<{ Variables: DashboardVars }>();
  const guard = dashboardGuard({ db, host: project.config.server.host, now: () => project.clock.now() });
  for (const path of GUARDED) app.use(path, guard);

  const ctxOf = (c: Ctx): PageCtx => ({
    redactor,
    csrf: c.get("csrf"),
    user: c.get("user"),
    now: project.clock.now(),
  });
  const htmlOf = async (c: Ctx, body: Html, status = 200) => {
    c.header(
      "Content-Security-Policy",
      "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
    );
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Cache-Control", "no-store");
    return c.html(await body, status as 200);
  };
  const notice = (c: Ctx, title: string, message: string, status = 200, refreshSeconds?: number) =>
    htmlOf(
      c,
      page(
        ctxOf(c),
        {
          title,
          nav: "",
          ...(refreshSeconds
            ? { head: html`<meta http-equiv="refresh" content="${refreshSeconds}" />` }
            : {}),
        },
        html`<h1>${title}</h1>
          <div class="notice">${message}</div>
          <p><a href="/">back to the agents</a></p>`,
      ),
      status,
    );
  const routineNames = () => loadRoutines(project.root).routines.map((r) => r.name);

  app.get("/assets/:name", (c) => {
    const a = asset(c.req.param("name"));
    if (!a) return c.text("no such asset", 404);
    return c.body(new Uint8Array(a.body), 200, {
      "content-type": a.type,
      "cache-control": "public, max-age=3600",
    });
  });

  // --- login (only used when the server is not on loopback)
  app.get("/login", (c) =>
    htmlOf(
      c,
      html`<!doctype html>
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <title>Log in · nightshift</title>
            <link rel="stylesheet" href="/assets/dashboard.css" />
          </head>
          <body>
            <form class="login" method="post" action="/login">
              <b>nightshift</b>
              <input name="name" placeholder="user" autocomplete="username" required />
              <input
                name="password"
                type="password"
                placeholder="password"
                autocomplete="current-password"
                required
              />
              <input type="hidden" name="next" value="${c.req.query("next") ?? "/"}" />
              <button type="submit">Log in</button>
              <span class="muted"
                >Credentials come from <code>nightshift dashboard add-user &lt;name&gt;</code>.</span
              >
            </form>
          </body>
        </html>`,
    ),
  );
  app.post("/login", async (c) => {
    // A cross-site form cannot log a browser in (login CSRF): the request must come from this origin.
    const site = c.req.header("sec-fetch-site");
    if (site && site !== "same-origin" && site !== "none") return c.text("refused: cross-site login", 403);
    const body = await c.req.parseBody();
    const name = typeof body.name === "string" ? body.name : "";
    const password = typeof body.password === "string" ? body.password : "";
    const login = await logIn(db, name, password, project.clock.now(), LOGIN_TTL_MS);
    if (!login) return c.text("wrong user name or password", 401);
    setCookie(c, LOGIN_COOKIE, login.cookie, loginCookieOptions(LOGIN_TTL_MS / 1000));
    const next = typeof body.next === "string" && /^\/(?!\/)[\w\-./]*$/.test(body.next) ? body.next : "/";
    return c.redirect(next, 303);
  });
  app.post("/logout", async (c) => {
    const cookie = getCookie(c, LOGIN_COOKIE);
    if (cookie) await endLogin(db, cookie);
    deleteCookie(c, LOGIN_COOKIE, { path: "/", secure: true });
    return c.redirect("/login", 303);
  });

  // --- agents
  app.get("/", async (c) => {
    const view = await agentsView(db, { now: project.clock.now() });
    return htmlOf(c, agentsPage(ctxOf(c), view, routineNames()));
  });
  app.get("/fragments/agents", async (c) => {
    const view = await agentsView(db, { now: project.clock.now() });
    return htmlOf(c, agentsList(ctxOf(c), view));
  });
  // Dispatch and reply call the same functions as `POST /v1/dispatch` and
  // `POST /v1/sessions/:id/messages` (loaded on first use, as those routes do).
  app.post("/dispatch", async (c) => {
    const body = await c.req.parseBody();
    const field = (k: string) =>
      typeof body[k] === "string" && (body[k] as string).trim() !== ""
        ? (body[k] as string).trim()
        : undefined;
    const prompt = field("prompt");
    if (!prompt) return notice(c, "Dispatch", "the prompt is empty: describe the task for the agent", 400);
    const [{ queueDispatch, DispatchError }, { RoutineNotFoundError, ConfigErrors }] = await Promise.all([
      import("../../runner/dispatch.ts"),
      import("../../config/errors.ts"),
    ]);
    try {
      const routine = field("routine");
      const agent = field("agent");
      const model = field("model");
      const q = await queueDispatch(project, {
        prompt,
        ...(routine ? { routine } : {}),
        ...(agent ? { agent } : {}),
        ...(model ? { model } : {}),
      });
      hub.notify();
      return c.redirect(`/sessions/${q.sessionId}`, 303);
    } catch (err) {
      if (err instanceof DispatchError || err instanceof RoutineNotFoundError || err instanceof ConfigErrors)
        return notice(c, "Dispatch", (err as Error).message, 400);
      throw err;
    }
  });

  // --- one session
  app.get("/sessions/:id", async (c) => {
    // Read before the session: the page's stream starts here, so no change made while the page
    // renders is missed (transcript events it already shows are skipped by `seen`).
    const cursor = formatEventCursor(await latestEventCursor(db));
    const s = await findSession(db, c.req.param("id"));
    if (!s) {
      const queued = await db
        .selectFrom("runs")
        .select(["routine", "state"])
        .where("session_id", "=", c.req.param("id"))
        .executeTakeFirst();
      if (queued)
        return notice(
          c,
          "Session",
          `session ${c.req.param("id")} of ${queued.routine} is queued (run ${queued.state}): it appears here once a worker starts it`,
          200,
          // Reloads until the session exists (then the page follows it live).
          queued.state === "pending" || queued.state === "running" ? 1 : undefined,
        );
      return notice(c, "Session", `no session "${c.req.param("id")}"`, 404);
    }
    const now = project.clock.now();
    const [row, stored, links, questions] = await Promise.all([
      agentRow(db, s.id, now),
      readEvents<Record<string, unknown>>(db, s.id),
      linkedSessions(db, s),
      sessionQuestions(db, s.id),
    ]);
    let diff: string | null = null;
    let diffNote: string | null = "no pull request: the diff shows once the session delivers one";
    if (s.pr_number !== null && s.repo) {
      try {
        diff = await project.forge.pullRequestDiff(s.repo, s.pr_number);
      } catch (err) {
        diffNote = `the diff could not be read: ${(err as Error).message}`;
      }
    }
    const run = await db
      .selectFrom("runs")
      .select(["id", "state"])
      .where("session_id", "=", s.id)
      .executeTakeFirst();
    const events: ShownEvent[] = stored.map((e) => ({
      seq: e.seq,
      at: e.at,
      kind: e.kind,
      data: e.data ?? {},
    }));
    return htmlOf(
      c,
      sessionPage(ctxOf(c), s, row!, events, {
        diff,
        diffNote,
        parent: links.parent,
        followUps: links.followUps,
        cancellable: s.finished_at === null && (run?.state === "pending" || run?.state === "running"),
        questions,
        liveFrom: cursor,
      }),
    );
  });
  app.get("/sessions/:id/stream", async (c) => {
    const s = await findSession(db, c.req.param("id"));
    if (!s) return c.text("no such session", 404);
    const ctx = ctxOf(c);
    // The first change is always a `state` message (the page may have rendered an older state).
    let lastState: string | undefined;
    const seen = Number(c.req.query("seen") ?? "0");
    return streamStoreEvents(
      c,
      db,
      hub,
      {
        // `state` when the state changed since the last message of this connection (the page's
        // controls refresh on it only, so a button is not replaced under the pointer on every
        // usage update), else `session`.
        session: (ch) => {
          const changed = ch.state !== lastState;
          lastState = ch.state;
          return { event: changed ? "state" : "session", data: ch.state };
        },
        transcript: async (ev) => {
          if (Number.isFinite(seen) && ev.seq <= seen) return undefined;
          let data: Record<string, unknown>;
          try {
            data = JSON.parse(ev.data) as Record<string, unknown>;
          } catch {
            data = { line: ev.data };
          }
          const fragment = await eventHtml(ctx, { seq: ev.seq, at: ev.at, kind: ev.kind, data });
          return { event: "transcript", data: String(fragment) };
        },
      },
      { sessionId: s.id },
    );
  });
  app.post("/sessions/:id/cancel", async (c) => {
    const s = await findSession(db, c.req.param("id"));
    if (!s) return notice(c, "Cancel", `no session "${c.req.param("id")}"`, 404);
    const run = await runOfSession(db, s.id);
    const who = c.get("user") ?? "the dashboard (loopback)";
    const was = run
      ? await cancelRun(db, run.id, { now: project.clock.now(), reason: `cancelled by ${who}` })
      : undefined;
    if (!was) return notice(c, "Cancel", `session ${s.id} is not queued or running: nothing to cancel`, 409);
    // This process's worker pool stops it now; another process's at its next heartbeat.
    deps.pool?.cancelRun(run!.id);
    hub.notify();
    return c.redirect(`/sessions/${s.id}`, 303);
  });
  app.post("/sessions/:id/reply", async (c) => {
    const id = c.req.param("id");
    const body = await c.req.parseBody();
    const text = typeof body.text === "string" ? body.text : undefined;
    const [{ sendReply, awaitingAnswer }, { FollowUpError }, { answerQuestion, AnswerError }] =
      await Promise.all([
        import("../../runner/reply.ts"),
        import("../../runner/follow-up.ts"),
        import("../../runner/questions.ts"),
      ]);
    const by = `dashboard:${c.get("user") ?? "loopback"}`;
    // The answer form of several questions (or a multi-select) sends one field per question:
    // `q<i>` (a choice or free text) and `q<i>.<j>` (a ticked checkbox).
    const perQuestion = Object.keys(body).filter((k) => /^q\d+(\.\d+)?$/.test(k));
    if (perQuestion.length > 0) {
      const waiting = await awaitingAnswer(project, id);
      const open = waiting ? await openSessionQuestion(db, waiting.id) : undefined;
      if (!waiting || !open)
        return notice(c, "Answer", `session ${id} is not waiting for an answer (answered already?)`, 409);
      const answers: QuestionAnswers = {};
      open.questions.forEach((q, i) => {
        const parts = [body[`q${i}`], ...q.options.map((_, j) => body[`q${i}.${j}`])].filter(
          (v): v is string => typeof v === "string" && v.trim() !== "",
        );
        answers[q.question] = q.options.length ? parts.join(", ") : (parts[0] ?? "");
      });
      try {
        const r = await answerQuestion(project, waiting.id, answers, { by });
        hub.notify();
        return c.redirect(`/sessions/${r.sessionId}`, 303);
      } catch (err) {
        if (!(err instanceof AnswerError)) throw err;
        return notice(c, "Answer", err.message, 400);
      }
    }
    if (!text?.trim())
      return notice(c, "Reply", "the reply is empty: write what the agent should do next", 400);
    try {
      const r = await sendReply(project, { sessionId: id, text, trigger: "dashboard", by });
      hub.notify();
      return c.redirect(`/sessions/${r.sessionId}`, 303);
    } catch (err) {
      if (!(err instanceof FollowUpError)) throw err;
      return notice(
        c,
        "Reply",
        err.message,
        err.code === "not_found" ? 404 : err.code === "not_resumable" ? 409 : 400,
      );
    }
  });

  // --- routines, runs, usage
  app.get("/routines", async (c) => {
    const now = project.clock.now();
    const loaded = loadRoutines(project.root);
    const [last, paused] = await Promise.all([
      lastOutcomes(
        db,
        loaded.routines.map((r) => r.name),
      ),
      pausedRoutines(db),
    ]);
    const describe = (t: Trigger) => {
      try {
        return compileSchedule(t as Parameters<typeof compileSchedule>[0]).description;
      } catch (err) {
        return `invalid schedule: ${(err as Error).message}`;
      }
    };
    const views: RoutineView[] = loaded.routines.map((r) => ({
      routine: r,
      triggers: r.triggers.map((t) => triggerWords(t, describe)),
      next: nextFireTimes(r.triggers, now, 3),
      last: last.get(r.name) ?? [],
      paused: paused.has(r.name) ? (paused.get(r.name)!.reason ?? "") : null,
    }));
    const problems =
      (loaded as { errors?: { file?: string; message: string }[] }).errors?.map(
        (e) => `${e.file ?? ""} ${e.message}`,
      ) ?? [];
    return htmlOf(c, routinesPage(ctxOf(c), views, problems));
  });
  app.post("/routines/:name/run", async (c) => {
    const name = c.req.param("name");
    const routine = loadRoutines(project.root).routines.find((r) => r.name === name);
    if (!routine) return notice(c, "Run now", `no routine "${name}"`, 404);
    const result = await fireRoutine(
      db,
      { routine, trigger: "manual", dedupeKey: `dashboard:${randomId(16)}`, now: project.clock.now() },
      deps.pool ? { cancelRunning: (r) => deps.pool!.cancelRoutine(r) } : {},
    );
    hub.notify();
    if (result.sessionId) return c.redirect(`/sessions/${result.sessionId}`, 303);
    return notice(c, "Run now", `${name}: ${result.outcome}${result.reason ? ` (${result.reason})` : ""}`);
  });
  for (const action of ["pause", "resume"] as const)
    app.post(`/routines/:name/${action}`, async (c) => {
      const name = c.req.param("name");
      const title = action === "pause" ? "Pause" : "Resume";
      if (!routineNames().includes(name)) return notice(c, title, `no routine "${name}"`, 404);
      const reason = await formField(c, "reason");
      try {
        await setRoutinePaused(db, {
          routine: name,
          paused: action === "pause",
          ...(action === "pause" && reason?.trim() ? { reason } : {}),
          by: `dashboard:${c.get("user") ?? "loopback"}`,
          now: project.clock.now(),
        });
      } catch (err) {
        return notice(c, title, `${name}: ${(err as Error).message}`, 400);
      }
      return c.redirect(`/routines#${encodeURIComponent(name)}`, 303);
    });
  app.get("/runs", async (c) =>
    htmlOf(c, runsPage(ctxOf(c), await listRunsWithSessions(db, { limit: 200 }))),
  );
  app.get("/usage", async (c) => {
    const days = 30;
    const since = project.clock.now() - days * 86_400_000;
    const [d, r, m] = await Promise.all([
      usageBy(db, "day", since),
      usageBy(db, "routine", since),
      usageBy(db, "model", since),
    ]);
    // Every day of the range, zero where nothing ran, so the charts span it.
    const byDay = new Map(d.map((x) => [x.key, x]));
    const filled = Array.from({ length: days + 1 }, (_, i) => {
      const key = new Date(since + i * 86_400_000).toISOString().slice(0, 10);
      return (
        byDay.get(key) ?? { key, sessions: 0, inputTokens: 0, outputTokens: 0, cacheTokens: 0, costUsd: 0 }
      );
    });
    return htmlOf(c, usagePage(ctxOf(c), filled, r, m, days));
  });

  // --- pull requests (the project's forge)
  app.get("/pulls", async (c) => {
    const repos = [...new Set([project.repoName, ...(await reposWithPrs(deps))])];
    const prs = (
      await Promise.all(repos.map((r) => project.forge.listPullRequests(r, { state: "all" }).catch(() => [])))
    ).flat();
    prs.sort((a, b) => b.updatedAt - a.updatedAt);
    return htmlOf(
      c,
      pullsPage(
        ctxOf(c),
        prs,
        project.forge.kind === "local"
          ? null
          : "pull requests live on GitHub; this lists what nightshift can read",
      ),
    );
  });
  app.get("/pulls/:repo/:number{[0-9]+}", async (c) => {
    const repo = c.req.param("repo");
    const number = Number(c.req.param("number"));
    let pr;
    try {
      pr = await project.forge.getPullRequest(repo, number);
    } catch (err) {
      return notice(c, "Pull request", `no pull request ${repo}#${number}: ${(err as Error).message}`, 404);
    }
    const [comments, diff, checks] = await Promise.all([
      project.forge.listComments(repo, number).catch(() => []),
      project.forge
        .pullRequestDiff(repo, number)
        .catch((err: Error) => `(the diff could not be read: ${err.message})`),
      pr.headSha && project.forge.local
        ? project.forge.local.listChecks(repo, pr.headSha).catch(() => [])
        : Promise.resolve([]),
    ]);
    return htmlOf(
      c,
      pullPage(ctxOf(c), pr, checks, comments, diff, { canMerge: project.forge.local !== undefined }),
    );
  });
  // ready / draft / close through the Forge interface (local or GitHub); merge on the local
  // forge only, which refuses with its reason (draft, checks failing or pending, a conflict…).
  app.post("/pulls/:repo/:number{[0-9]+}/:action{ready|draft|close|merge}", async (c) => {
    const repo = c.req.param("repo");
    const number = Number(c.req.param("number"));
    const action = c.req.param("action") as "ready" | "draft" | "close" | "merge";
    const title = `Pull request ${repo}#${number}`;
    const back = `/pulls/${encodeURIComponent(repo)}/${number}`;
    try {
      const pr = await project.forge.getPullRequest(repo, number);
      if (pr.state !== "open")
        return notice(c, title, `#${number} is ${pr.state}: only an open pull request can be changed`, 409);
      if (action === "ready" || action === "draft")
        await project.forge.setDraft(repo, number, action === "draft");
      else if (action === "close") await project.forge.closePullRequest(repo, number);
      else {
        const local = project.forge.local;
        if (!local)
          return notice(c, title, "merge on GitHub: nightshift merges only on its local forge", 409);
        const r = await local.mergePullRequest(
          repo,
          number,
          pr.headSha ? { expectedHeadSha: pr.headSha } : {},
        );
        if (!r.merged)
          return notice(c, title, `merge refused (${r.reason.replace(/_/g, " ")}): ${r.detail}`, 409);
      }
    } catch (err) {
      return notice(c, title, `${action} failed: ${(err as Error).message}`, 400);
    }
    hub.notify();
    return c.redirect(back, 303);
  });

  app.route("/", eventRoutes(db, hub, redactor));
  return app as unknown as Hono;
}

/** Repositories with local-forge PRs in the store. */
async function reposWithPrs(deps: AppDeps): Promise<string[]> {
  const rows = await deps.project.store.db
    .selectFrom("forge_pull_requests")
    .select("repo")
    .distinct()
    .execute();
  return rows.map((r) => r.repo);
}

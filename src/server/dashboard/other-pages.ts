import { html } from "hono/html";
import type { Routine, Trigger } from "../../config/routine-schema.ts";
import type { Comment, PullRequest } from "../../forge/types.ts";
import type { RunWithSession } from "../../store/runs.ts";
import type { SessionRow } from "../../store/schema.ts";
import type { UsageRow } from "../../store/session-views.ts";
import {
  badge,
  chartData,
  csrfField,
  type Html,
  iso,
  page,
  type PageCtx,
  red,
  tokens,
  usd,
} from "./layout.ts";
import { diffHtml } from "./session-page.ts";

/** A trigger in words. `describe` reads a schedule (the scheduler's English description). */
export function triggerWords(t: Trigger, describe: (t: Trigger) => string): string {
  if ("schedule" in t) return describe(t);
  if ("at" in t) return `once at ${t.at}`;
  if ("in" in t) return `once, ${t.in} after the routine was first seen`;
  if ("api" in t) return "on an API call (POST /v1/routines/<name>/fire)";
  if ("webhook" in t) return `on a webhook from "${t.webhook.source}"`;
  if ("github" in t) {
    const g = t.github as { events?: string[] };
    return `on GitHub ${(g.events ?? []).join(", ")}`;
  }
  return JSON.stringify(t);
}

/** One routine as the Routines page shows it. */
export interface RoutineView {
  routine: Routine;
  triggers: string[];
  next: { at: number; timezone: string }[];
  last: SessionRow[];
  paused: string | null;
}

/** The Routines page: triggers in words, the next 3 fires, the last outcomes; run now, pause (with a reason), resume. */
export function routinesPage(ctx: PageCtx, routines: RoutineView[], problems: string[]): Html {
  return page(
    ctx,
    { title: "Routines", nav: "/routines" },
    html`<h1>Routines</h1>
      ${problems.map((p) => html`<div class="notice">${p}</div>`)}
      ${routines.length === 0 ? html`<div class="empty">no routines in .nightshift/routines/</div>` : ""}
      <table>
        <thead>
          <tr>
            <th>Routine</th>
            <th>Triggers</th>
            <th>Next fires</th>
            <th>Last outcomes</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${routines.map(
            (r) =>
              html`<tr id="${r.routine.name}">
                <td>
                  <b>${r.routine.name}</b>
                  <div class="muted">${r.routine.agent}${r.routine.model ? ` · ${r.routine.model}` : ""}</div>
                  ${r.paused !== null ? html`${badge("paused")} <span class="muted">${red(ctx, r.paused)}</span>` : ""}
                </td>
                <td>
                  ${r.triggers.length ? r.triggers.map((t) => html`<div>${t}</div>`) : html`<span class="muted">manual only</span>`}
                </td>
                <td>
                  ${r.next.length ? r.next.map((n) => html`<div>${iso(n.at)}${n.timezone !== "UTC" ? html` <span class="muted">${n.timezone}</span>` : ""}</div>`) : "–"}
                </td>
                <td>
                  ${r.last.length ? r.last.map((s) => html`<a href="/sessions/${s.id}" title="${iso(s.created_at)}">${badge(s.task_outcome ?? s.state)}</a> `) : "–"}
                </td>
                <td class="actions">
                  <form method="post" action="/routines/${r.routine.name}/run" class="run">
                    ${csrfField(ctx)}<button type="submit">Run now</button>
                  </form>
                  ${
                    r.paused === null
                      ? html`<form method="post" action="/routines/${r.routine.name}/pause" class="pause">
                          ${csrfField(ctx)}
                          <input
                            type="text"
                            name="reason"
                            placeholder="reason (optional)"
                            maxlength="500"
                            aria-label="pause reason"
                          />
                          <button type="submit">Pause</button>
                        </form>`
                      : html`<form method="post" action="/routines/${r.routine.name}/resume" class="resume">
                          ${csrfField(ctx)}<button type="submit">Resume</button>
                        </form>`
                  }
                </td>
              </tr>`,
          )}
        </tbody>
      </table>`,
  );
}

/** The Runs page: every fire, including skipped, missed and late ones, with the reason. */
export function runsPage(ctx: PageCtx, runs: RunWithSession[]): Html {
  return page(
    ctx,
    { title: "Runs", nav: "/runs", live: "/v1/events" },
    html`<h1>Runs</h1>
      <table>
        <thead>
          <tr>
            <th>Run</th>
            <th>Routine</th>
            <th>Trigger</th>
            <th>Slot / fired</th>
            <th>State</th>
            <th>Late by</th>
            <th>Attempt</th>
            <th>Session</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          ${runs.map((r) => {
            const late =
              r.scheduled_for !== null && r.started_at !== null
                ? Number(r.started_at) - Number(r.scheduled_for)
                : null;
            return html`<tr>
              <td><code>${r.id}</code></td>
              <td>${r.routine}</td>
              <td>${r.trigger}</td>
              <td>${iso(r.scheduled_for ?? r.created_at)}</td>
              <td>${badge(r.shown_state)}</td>
              <td class="num">
                ${late !== null && late > 60_000 ? badge(`late ${Math.round(late / 60_000)}m`) : "–"}
              </td>
              <td class="num">${r.attempt}/${r.max_attempts}</td>
              <td>${r.session_id ? html`<a href="/sessions/${r.session_id}">${r.session_id}</a>` : "–"}</td>
              <td>
                ${red(ctx, r.shown_state !== r.state ? (r.session_reason ?? r.reason) : (r.reason ?? r.session_reason))}
              </td>
            </tr>`;
          })}
        </tbody>
      </table>
      ${runs.length === 0 ? html`<div class="empty">no runs yet</div>` : ""}`,
  );
}

/** Most series in a chart of cost per routine or model; the rest are summed as "other". */
export const USAGE_CHART_SERIES = 8;

/**
 * The Usage page: cost and tokens per day (charts), cost per day split by routine and by model
 * (charts of at most {@link USAGE_CHART_SERIES} series), and tables per routine and per model.
 * `days` is every day of the range in order; `byRoutine` and `byModel` come by cost, highest first.
 */
export function usagePage(
  ctx: PageCtx,
  days: UsageRow[],
  byRoutine: UsageRow[],
  byModel: UsageRow[],
  sinceDays: number,
): Html {
  const x = days.map((d) => Date.parse(`${d.key}T00:00:00Z`) / 1000);
  // One series per routine or model (rows come by cost, highest first): at most
  // USAGE_CHART_SERIES, the cheapest summed as "other" when there are more.
  const costSplit = (id: string, rows: UsageRow[]) => {
    const shown = rows.length > USAGE_CHART_SERIES ? rows.slice(0, USAGE_CHART_SERIES - 1) : rows;
    const rest = rows.slice(shown.length);
    const perDay = (rs: UsageRow[]) =>
      days.map((d) => rs.reduce((sum, r) => sum + (r.costPerDay?.[d.key] ?? 0), 0));
    const series = shown.map((r) => ({ label: r.key, data: perDay([r]) }));
    if (rest.length > 0) series.push({ label: "other", data: perDay(rest) });
    return chartData(
      id,
      series.map((s) => s.label),
      [x, ...series.map((s) => s.data)],
    );
  };
  const table = (title: string, rows: UsageRow[]) =>
    html`<h2>${title}</h2>
      <table>
        <thead>
          <tr>
            <th>${title.replace("Per ", "")}</th>
            <th>Sessions</th>
            <th>Input</th>
            <th>Output</th>
            <th>Cache</th>
            <th>Cost</th>
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (r) =>
              html`<tr>
                <td>${r.key}</td>
                <td class="num">${r.sessions}</td>
                <td class="num">${tokens(r.inputTokens)}</td>
                <td class="num">${tokens(r.outputTokens)}</td>
                <td class="num">${tokens(r.cacheTokens)}</td>
                <td class="num">${usd(r.costUsd)}</td>
              </tr>`,
          )}
        </tbody>
      </table>`;
  return page(
    ctx,
    {
      title: "Usage",
      nav: "/usage",
      head: html`<link rel="stylesheet" href="/assets/uPlot.min.css" />
        <script src="/assets/uPlot.iife.min.js"></script>`,
    },
    html`<h1>Usage <span class="muted">last ${sinceDays} days</span></h1>
      <h2>Cost per day (USD)</h2>
      <div class="chart" data-chart="cost-data"></div>
      ${chartData("cost-data", ["cost USD"], [x, days.map((d) => d.costUsd)])}
      <h2>Tokens per day</h2>
      <div class="chart" data-chart="tokens-data"></div>
      ${chartData(
        "tokens-data",
        ["input", "output", "cache"],
        [x, days.map((d) => d.inputTokens), days.map((d) => d.outputTokens), days.map((d) => d.cacheTokens)],
      )}
      <h2>Cost per day and routine (USD)</h2>
      <div class="chart" data-chart="cost-routine-data"></div>
      ${costSplit("cost-routine-data", byRoutine)}
      <h2>Cost per day and model (USD)</h2>
      <div class="chart" data-chart="cost-model-data"></div>
      ${costSplit("cost-model-data", byModel)} ${table("Per routine", byRoutine)}
      ${table("Per model", byModel)}
      <script src="/assets/dashboard.js" defer></script>`,
  );
}

/** The Pull requests page (local forge): every PR, newest first. */
export function pullsPage(ctx: PageCtx, prs: PullRequest[], note: string | null): Html {
  return page(
    ctx,
    { title: "Pull requests", nav: "/pulls" },
    html`<h1>Pull requests</h1>
      ${note ? html`<div class="notice">${note}</div>` : ""}
      <table>
        <thead>
          <tr>
            <th>#</th>
            <th>Title</th>
            <th>State</th>
            <th>Branch</th>
            <th>Session</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          ${prs.map(
            (p) =>
              html`<tr>
                <td><a href="/pulls/${encodeURIComponent(p.repo)}/${p.number}">#${p.number}</a></td>
                <td class="pr-title">${red(ctx, p.title)}</td>
                <td>${badge(p.state === "open" ? (p.draft ? "draft" : "ready") : p.state)}</td>
                <td><code>${p.head}</code> → <code>${p.base}</code></td>
                <td>${p.sessionId ? html`<a href="/sessions/${p.sessionId}">${p.sessionId}</a>` : "–"}</td>
                <td>${iso(p.updatedAt)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
      ${prs.length === 0 ? html`<div class="empty">no pull requests</div>` : ""}`,
  );
}

/** A check as the PR page shows it. */
export interface ShownCheck {
  name: string;
  status: string;
  conclusion: string | null;
}

/** A button that posts one pull-request action (with the CSRF token). */
function prAction(ctx: PageCtx, pr: PullRequest, action: string, label: string, cls = ""): Html {
  return html`<form
    method="post"
    action="/pulls/${encodeURIComponent(pr.repo)}/${pr.number}/${action}"
    class="pr-${action}"
  >
    ${csrfField(ctx)}<button type="submit" class="${cls}">${label}</button>
  </form>`;
}

/**
 * One pull request: state, checks, comments and its diff; for an open one the buttons ready or
 * draft, close, and merge (`opts.canMerge`: the local forge, which may refuse and says why).
 */
export function pullPage(
  ctx: PageCtx,
  pr: PullRequest,
  checks: ShownCheck[],
  comments: Comment[],
  diff: string,
  opts: { canMerge?: boolean } = {},
): Html {
  return page(
    ctx,
    { title: `#${pr.number} ${pr.title}`, nav: "/pulls" },
    html`<h1>
        <span class="pr-title">${red(ctx, pr.title)}</span>
        <span class="muted">#${pr.number}</span>
        ${badge(pr.state === "open" ? (pr.draft ? "draft" : "ready") : pr.state)}
      </h1>
      <dl class="facts">
        <dt>Repository</dt>
        <dd>${pr.repo}</dd>
        <dt>Branch</dt>
        <dd><code>${pr.head}</code> → <code>${pr.base}</code></dd>
        <dt>Session</dt>
        <dd>${pr.sessionId ? html`<a href="/sessions/${pr.sessionId}">${pr.sessionId}</a>` : "–"}</dd>
        <dt>Checks</dt>
        <dd>
          ${checks.length ? checks.map((c) => html`${c.name} ${badge(c.conclusion ?? c.status)} `) : "none"}
        </dd>
      </dl>
      ${
        pr.state === "open"
          ? html`<div class="pr-actions" id="pr-actions">
              ${pr.draft ? prAction(ctx, pr, "ready", "Ready for review") : prAction(ctx, pr, "draft", "Back to draft")}
              ${opts.canMerge ? prAction(ctx, pr, "merge", "Merge") : ""}
              ${prAction(ctx, pr, "close", "Close", "danger")}
            </div>`
          : ""
      }
      <h2>Description</h2>
      <pre class="diff">${red(ctx, pr.body)}</pre>
      <h2>Comments <span class="count">${comments.length}</span></h2>
      ${comments.map(
        (c) =>
          html`<div class="event">
            <div class="kind">${c.author} · ${iso(c.createdAt)}</div>
            <pre>${red(ctx, c.body)}</pre>
          </div>`,
      )}
      <h2>Diff</h2>
      ${diffHtml(ctx, diff)}`,
  );
}

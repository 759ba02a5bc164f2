import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { Redactor } from "../../util/redact.ts";

/**
 * The page shell and small formatting helpers of the dashboard. Pages are `hono/html` tagged
 * templates: every interpolated value is escaped (nothing an agent wrote is ever passed
 * through `raw()`), and text that came from a session goes through the redactor first.
 */

/** What a template returns. */
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** What every page render needs. */
export interface PageCtx {
  /** Redacts text from sessions (secret values of the host environment, token shapes). */
  redactor: Redactor;
  csrf: string;
  user: string | null;
  now: number;
}

const NAV = [
  ["/", "Agents"],
  ["/routines", "Routines"],
  ["/runs", "Runs"],
  ["/usage", "Usage"],
  ["/pulls", "Pull requests"],
] as const;

/**
 * A full page. `live` connects the page to the event stream (`sse-connect`), so elements with
 * `hx-trigger="sse:session"` refresh on a session change.
 */
export function page(
  ctx: PageCtx,
  opts: { title: string; nav: string; live?: string; head?: Html },
  body: Html,
): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${opts.title} · nightshift</title>
        <link rel="stylesheet" href="/assets/dashboard.css" />
        <script src="/assets/htmx.min.js"></script>
        <script src="/assets/sse.min.js"></script>
        ${opts.head ?? ""}
      </head>
      <body
        hx-headers="${JSON.stringify({ "X-CSRF-Token": ctx.csrf })}"
        ${opts.live ? html`hx-ext="sse" sse-connect="${opts.live}"` : ""}
      >
        <header>
          <span class="brand">nightshift</span>
          <nav>
            ${NAV.map(([href, label]) => html`<a href="${href}" class="${opts.nav === href ? "on" : ""}">${label}</a>`)}
          </nav>
          <span class="who">
            ${
              ctx.user
                ? html`${ctx.user}
                    <form method="post" action="/logout" style="display:inline">
                      ${csrfField(ctx)}<button type="submit">log out</button>
                    </form>`
                : ""
            }
          </span>
        </header>
        <main>${body}</main>
      </body>
    </html>`;
}

/** The hidden CSRF field of a form. */
export function csrfField(ctx: PageCtx): Html {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf}" />`;
}

/** `text` redacted for display (escaping happens when it is interpolated). */
export function red(ctx: PageCtx, text: string | null | undefined): string {
  return text ? ctx.redactor.redact(text) : "";
}

/** A duration in ms as `42s`, `3m 05s`, `2h 10m`, `3d 4h`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** How long ago `at` was: `5m ago`. */
export function ago(now: number, at: number): string {
  return `${duration(Math.max(0, now - at))} ago`;
}

/** ISO 8601 UTC without milliseconds. */
export function iso(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? "–" : new Date(Number(ms)).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A token count as `1.2k`, `3.4M`. */
export function tokens(n: number | null | undefined): string {
  if (n === null || n === undefined) return "–";
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(2)}M`;
}

/** USD as `$0.0123` (4 decimals under a dollar). */
export function usd(n: number | null | undefined): string {
  if (n === null || n === undefined) return "–";
  return `$${n < 1 ? n.toFixed(4) : n.toFixed(2)}`;
}

/** A coloured badge for a state or outcome. */
export function badge(text: string | null | undefined): Html {
  if (!text) return html``;
  const colour = /fail|error|timed_out|timeout|refused|closed|missed|red|failing/.test(text)
    ? "red"
    : /succeeded|ok|pr_opened|pr_updated|merged|passing|done|ready/.test(text)
      ? "green"
      : /needs_input|skipped|late|pending|draft|cancelled/.test(text)
        ? "amber"
        : /running|preparing|finishing|queued|working/.test(text)
          ? "blue"
          : "";
  return html`<span class="badge ${colour}">${text.replace(/_/g, " ")}</span>`;
}

/**
 * A chart's data as JSON in a non-executed script block, drawn by dashboard.js with uPlot:
 * `data[0]` is the x axis (seconds since the epoch, or plain numbers when `opts.x` names the
 * axis), then one array per name in `series`.
 */
export function chartData(id: string, series: string[], data: number[][], opts: { x?: string } = {}): Html {
  // JSON.stringify output inside <script> must not close the element: escape "<".
  const json = JSON.stringify({ series, data, ...(opts.x ? { x: opts.x } : {}) }).replace(/</g, "\\u003c");
  return html`<script type="application/json" id="${id}">
    ${htmlJson(json)}
  </script>`;
}

/** JSON text for a `<script type="application/json">` block (already free of `<`). */
function htmlJson(json: string): Html {
  // The template escapes "&", quotes and ">" inside the block, which a JSON reader would then
  // see literally; the JSON holds only numbers and escaped strings, so it is passed as is.
  return html([json] as unknown as TemplateStringsArray);
}

import { html } from "hono/html";
import type { AgentRow, AgentsView } from "../../store/session-views.ts";
import {
  ago,
  badge,
  csrfField,
  duration,
  type Html,
  page,
  type PageCtx,
  red,
  tokens,
  usd,
} from "./layout.ts";

/** The PR cell: number, state and checks. */
function prCell(r: AgentRow): Html {
  if (!r.pr) return html`<span class="muted">–</span>`;
  const link =
    r.pr.state === "unknown"
      ? html`#${r.pr.number}`
      : html`<a href="/pulls/${encodeURIComponent(r.pr.repo)}/${r.pr.number}">#${r.pr.number}</a>`;
  return html`${link} ${r.pr.state === "unknown" ? "" : badge(r.pr.state)}
  ${r.pr.checks === "none" ? "" : badge(`checks ${r.pr.checks}`)}`;
}

/** One row of the agents table. */
function row(ctx: PageCtx, r: AgentRow): Html {
  return html`<tr id="agent-${r.id}" data-session="${r.id}" data-group="${r.group}">
    <td>
      <a href="/sessions/${r.id}">${red(ctx, r.title ?? r.routine)}</a>
      ${r.title ? html`<div class="muted">${r.routine}</div>` : ""}
    </td>
    <td>${badge(r.state)}</td>
    <td>${r.trigger}</td>
    <td class="num" title="${new Date(r.createdAt).toISOString()}">${ago(ctx.now, r.createdAt)}</td>
    <td class="num">${duration(r.durationMs)}</td>
    <td class="num">${tokens(r.tokens)}</td>
    <td class="num">${usd(r.costUsd)}</td>
    <td class="num" title="${r.contextTokens ?? ""} tokens${r.model ? ` of ${r.model}` : ""}">
      ${r.contextPercent === null ? "–" : `${r.contextPercent}%`}
    </td>
    <td>${prCell(r)}</td>
    ${
      r.question
        ? html`<td class="summary question-line" title="${red(ctx, r.question)}">
            <a href="/sessions/${r.id}#answer">asks: ${red(ctx, r.question)}</a>
          </td>`
        : html`<td class="summary" title="${red(ctx, r.summary)}">${red(ctx, r.summary)}</td>`
    }
  </tr>`;
}

/** The grouped list (the fragment the page refreshes on a session change). */
export function agentsList(ctx: PageCtx, view: AgentsView): Html {
  return html`${view.groups.map(
    (g) =>
      html`<section id="group-${g.group}" data-group="${g.group}">
        <h2>${g.label} <span class="count">${g.count}</span></h2>
        ${
          g.rows.length === 0
            ? html`<div class="empty">none</div>`
            : html`<table>
                  <thead>
                    <tr>
                      <th>Routine / title</th>
                      <th>State</th>
                      <th>Trigger</th>
                      <th>Age</th>
                      <th>Duration</th>
                      <th>Tokens</th>
                      <th>Cost</th>
                      <th>Context</th>
                      <th>PR</th>
                      <th>Summary</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${g.rows.map((r) => row(ctx, r))}
                  </tbody>
                </table>
                ${
                  g.count > g.rows.length
                    ? html`<div class="muted">
                        ${g.count - g.rows.length} older not shown: <code>nightshift sessions list</code>
                      </div>`
                    : ""
                }`
        }
      </section>`,
  )}`;
}

/** The Agents page: the grouped list, refreshed live, and the dispatch field at the bottom. */
export function agentsPage(ctx: PageCtx, view: AgentsView, routines: readonly string[]): Html {
  return page(
    ctx,
    { title: "Agents", nav: "/", live: "/v1/events" },
    html`<h1>Agents <span class="muted">(${view.total} sessions)</span></h1>
      <div id="agents" hx-get="/fragments/agents" hx-trigger="sse:session" hx-swap="innerHTML">
        ${agentsList(ctx, view)}
      </div>
      <form class="box" method="post" action="/dispatch" id="dispatch">
        ${csrfField(ctx)}
        <input
          type="text"
          name="prompt"
          placeholder="Dispatch an agent: describe the task…"
          required
          maxlength="20000"
        />
        <select name="routine" aria-label="routine">
          <option value="">project defaults</option>
          ${routines.map((r) => html`<option value="${r}">${r}</option>`)}
        </select>
        <select name="agent" aria-label="agent">
          <option value="">default agent</option>
          <option value="claude-code">claude-code</option>
          <option value="codex">codex</option>
        </select>
        <input type="text" name="model" placeholder="model (optional)" style="flex:0 0 12rem" />
        <button type="submit">Dispatch</button>
      </form>`,
  );
}

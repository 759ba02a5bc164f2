import { html } from "hono/html";
import type { SessionRow } from "../../store/schema.ts";
import type { AskedQuestion, SessionQuestion } from "../../store/session-questions.ts";
import type { AgentRow } from "../../store/session-views.ts";
import {
  badge,
  chartData,
  csrfField,
  duration,
  type Html,
  iso,
  page,
  type PageCtx,
  red,
  tokens,
  usd,
} from "./layout.ts";

/** A stored transcript event as the session page renders it. */
export interface ShownEvent {
  seq: number;
  at: number;
  kind: string;
  /** The parsed event. */
  data: Record<string, unknown>;
}

const str = (v: unknown): string =>
  typeof v === "string" ? v : v === undefined ? "" : JSON.stringify(v, null, 2);

/** One transcript event: assistant text, tool calls with inputs, folded outputs, errors, setup and delivery steps. */
export function eventHtml(ctx: PageCtx, ev: ShownEvent): Html {
  const d = ev.data;
  const r = (v: unknown) => red(ctx, str(v));
  const head = (label: string, extra: Html | string = "") =>
    html`<div class="kind">#${ev.seq} · ${iso(ev.at)} · ${label} ${extra}</div>`;
  switch (ev.kind) {
    case "assistant":
      return html`<div class="event assistant" id="ev-${ev.seq}">
        ${head("assistant")}
        <pre>${r(d.text)}</pre>
      </div>`;
    case "tool_call":
      return html`<div class="event tool" id="ev-${ev.seq}">
        ${head("tool call", html`<b>${r(d.name)}</b>`)}
        <pre>${r(d.input)}</pre>
      </div>`;
    case "tool_result":
      return html`<div class="event ${d.isError ? "error" : ""}" id="ev-${ev.seq}">
        ${head(d.isError ? "tool error" : "tool output")}
        <details>
          <summary>${str(d.output).length} characters</summary>
          <pre>${r(d.output)}</pre>
        </details>
      </div>`;
    case "error":
    case "warning":
      return html`<div class="event error" id="ev-${ev.seq}">
        ${head(ev.kind)}
        <pre>${r(d.message)}</pre>
      </div>`;
    case "state":
      return html`<div class="event" id="ev-${ev.seq}">
        ${head("state", badge(str(d.state)))} ${r(d.detail)}
      </div>`;
    case "setup":
      return html`<div class="event" id="ev-${ev.seq}">
        ${head(
          "setup",
          html`${r(d.phase)} ${d.exitCode !== undefined ? html`exit ${r(d.exitCode)}` : ""}
          ${d.durationMs !== undefined ? duration(Number(d.durationMs)) : ""}`,
        )}
        ${
          d.output
            ? html`<details>
                <summary>output</summary>
                <pre>${r(d.output)}</pre>
              </details>`
            : ""
        }
      </div>`;
    case "delivery":
      return html`<div class="event" id="ev-${ev.seq}">
        ${head("delivery", badge(str(d.action)))} ${r(d.repo)} ${r(d.ref)}
        ${d.sha ? str(d.sha).slice(0, 12) : ""} ${d.detail ? html`<pre>${r(d.detail)}</pre>` : ""}
      </div>`;
    case "result":
      return html`<div class="event ${d.isError ? "error" : "assistant"}" id="ev-${ev.seq}">
        ${head("result", d.isError ? badge("error") : "")}
        <pre>${r(d.text)}</pre>
      </div>`;
    case "usage":
      return html`<div class="event" id="ev-${ev.seq}">
        ${head("usage")} in ${tokens(Number(d.inputTokens))} · out ${tokens(Number(d.outputTokens))} · cache
        ${tokens(Number(d.cacheReadTokens) + Number(d.cacheCreationTokens))}
      </div>`;
    case "prompt":
    case "stderr":
    case "agent_spawned":
    default:
      return html`<div class="event" id="ev-${ev.seq}">
        ${head(ev.kind.replace(/_/g, " "))}
        <details>
          <summary>details</summary>
          <pre>${r(ev.kind === "prompt" || ev.kind === "stderr" ? d.text : d)}</pre>
        </details>
      </div>`;
  }
}

/** A unified diff, each line coloured by its kind (added, removed, hunk header). */
export function diffHtml(ctx: PageCtx, diff: string): Html {
  if (!diff.trim()) return html`<div class="empty">no changes</div>`;
  const lines = red(ctx, diff).split("\n");
  return html`<pre class="diff">
${lines.map((l) => {
      const cls =
        l.startsWith("+") && !l.startsWith("+++")
          ? "add"
          : l.startsWith("-") && !l.startsWith("---")
            ? "del"
            : l.startsWith("@@")
              ? "hunk"
              : "";
      return html`<span class="${cls}">${l}</span> `;
    })}</pre>`;
}

/** One turn's usage as the session page charts it: tokens of the turn and its context size. */
export interface TurnUsage {
  /** 1-based, in transcript order over every agent pass of the session. */
  turn: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  /** input + cache read + cache creation: what the model had in its context that turn. */
  contextTokens: number;
}

/**
 * The per-turn usage of a transcript: one entry per `usage` event (src/runner/transcript/),
 * in order. Counts that are missing, negative or not finite (the agent's output is input to
 * validate) count as 0.
 */
export function turnUsage(events: readonly ShownEvent[]): TurnUsage[] {
  const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : 0);
  return events
    .filter((e) => e.kind === "usage")
    .map((e, i) => {
      const d = e.data;
      const inputTokens = n(d.inputTokens);
      const cacheReadTokens = n(d.cacheReadTokens);
      const cacheCreationTokens = n(d.cacheCreationTokens);
      return {
        turn: i + 1,
        inputTokens,
        outputTokens: n(d.outputTokens),
        cacheReadTokens,
        cacheCreationTokens,
        contextTokens: inputTokens + cacheReadTokens + cacheCreationTokens,
      };
    });
}

/** The per-turn chart (uPlot, drawn by dashboard.js), or a note when no turn reported usage. */
function turnsChart(turns: TurnUsage[]): Html {
  if (turns.length === 0) return html`<div class="empty">no turn has reported usage yet</div>`;
  return html`<div class="chart" data-chart="turns-data" id="turns-chart"></div>
    ${chartData(
      "turns-data",
      ["input", "output", "cache read", "context"],
      [
        turns.map((t) => t.turn),
        turns.map((t) => t.inputTokens),
        turns.map((t) => t.outputTokens),
        turns.map((t) => t.cacheReadTokens),
        turns.map((t) => t.contextTokens),
      ],
      { x: "turn" },
    )}`;
}

/** One question: header, text, and its choices (label and description). */
function questionHtml(ctx: PageCtx, q: AskedQuestion, i: number, form: "buttons" | "fields" | "none"): Html {
  const choices = q.options.map(
    (o, j) =>
      html`<li class="choice">
        ${
          form === "buttons"
            ? html`<button type="submit" name="text" value="${o.label}" data-choice="${o.label}">
                ${red(ctx, o.label)}
              </button>`
            : form === "fields"
              ? html`<label
                  ><input
                    type="${q.multiSelect ? "checkbox" : "radio"}"
                    name="${q.multiSelect ? `q${i}.${j}` : `q${i}`}"
                    value="${o.label}"
                    ${q.multiSelect ? "" : "required"}
                  />
                  <b>${red(ctx, o.label)}</b></label
                >`
              : html`<b>${red(ctx, o.label)}</b>`
        }
        ${o.description ? html`<span class="muted">${red(ctx, o.description)}</span>` : ""}
      </li>`,
  );
  return html`<div class="question" data-question="${i}">
    ${q.header ? html`<span class="badge amber">${red(ctx, q.header)}</span>` : ""}
    <b class="question-text">${red(ctx, q.question)}</b>
    ${q.multiSelect ? html`<span class="muted">(pick one or more)</span>` : ""}
    ${
      q.options.length
        ? html`<ul class="choices">
            ${choices}
          </ul>`
        : ""
    }
    ${
      form !== "none" && q.options.length === 0
        ? html`<textarea
            name="${form === "buttons" ? "text" : `q${i}`}"
            rows="2"
            required
            maxlength="20000"
            placeholder="Your answer…"
          ></textarea>`
        : ""
    }
  </div>`;
}

/**
 * The questions of a session: the open one with its answer box (posting to the reply action),
 * answered ones with their answers. One question with choices: a button per choice; one
 * free-text question: a text box; several questions or a multi-select: one field per question
 * (`q<i>`, checkboxes `q<i>.<j>`) and one Answer button.
 */
export function questionsHtml(ctx: PageCtx, sessionId: string, questions: SessionQuestion[]): Html {
  if (questions.length === 0) return html``;
  return html`${questions.map((sq) => {
    if (sq.answer !== null)
      return html`<div class="ask answered">
        <div class="kind">
          asked ${iso(sq.askedAt)} · answered ${iso(sq.answeredAt)} by ${sq.answeredBy ?? "–"}
        </div>
        ${sq.questions.map(
          (q, i) =>
            html`${questionHtml(ctx, q, i, "none")}
              <div>answer: <b>${red(ctx, sq.answer?.[q.question] ?? "–")}</b></div>`,
        )}
      </div>`;
    const single = sq.questions.length === 1 && !sq.questions[0]!.multiSelect;
    const withChoices = single && sq.questions[0]!.options.length > 0;
    return html`<form class="ask open" method="post" action="/sessions/${sessionId}/reply" id="answer">
      ${csrfField(ctx)}
      <div class="kind">the agent asks (${iso(sq.askedAt)}): answer to continue</div>
      ${sq.questions.map((q, i) => questionHtml(ctx, q, i, single ? "buttons" : "fields"))}
      ${withChoices ? "" : html`<button type="submit">Answer</button>`}
    </form>`;
  })}`;
}

/** The Session page. */
export function sessionPage(
  ctx: PageCtx,
  s: SessionRow,
  row: AgentRow,
  events: ShownEvent[],
  extra: {
    diff: string | null;
    diffNote: string | null;
    parent: string | null;
    followUps: string[];
    cancellable: boolean;
    /** Every question the session's agent asked, oldest first. */
    questions?: SessionQuestion[];
    /** The event-stream cursor read before the page's data (the live stream starts there). */
    liveFrom?: string;
  },
): Html {
  const terminal = s.finished_at !== null;
  const asking = s.state === "needs_input" && (extra.questions ?? []).some((q) => q.answer === null);
  return page(
    ctx,
    {
      title: `Session ${s.id}`,
      nav: "/",
      live: terminal
        ? undefined
        : `/sessions/${s.id}/stream?${new URLSearchParams({
            ...(extra.liveFrom ? { after: extra.liveFrom } : {}),
            seen: String(events.reduce((m, e) => Math.max(m, e.seq), 0)),
          }).toString()}`,
      head: html`<link rel="stylesheet" href="/assets/uPlot.min.css" />
        <script src="/assets/uPlot.iife.min.js"></script>
        <script src="/assets/dashboard.js" defer></script>`,
    },
    html`<h1>${red(ctx, row.title ?? s.routine)} <span class="muted">${s.id}</span> ${badge(s.state)}</h1>
      <dl
        class="facts"
        id="facts"
        hx-get="/sessions/${s.id}"
        hx-trigger="sse:session, sse:state"
        hx-select="#facts"
        hx-swap="outerHTML"
      >
        <dt>Routine</dt>
        <dd>
          <a href="/routines#${s.routine}">${s.routine}</a> · ${s.agent}${s.model ? ` · ${s.model}` : ""}
        </dd>
        <dt>Trigger</dt>
        <dd>${s.trigger}</dd>
        <dt>Outcome</dt>
        <dd>infra ${badge(s.infra_outcome ?? "–")} · task ${badge(s.task_outcome ?? "–")}</dd>
        ${
          s.reason
            ? html`<dt>Reason</dt>
                <dd>${red(ctx, s.reason)}</dd>`
            : ""
        }
        <dt>Times</dt>
        <dd>
          created ${iso(s.created_at)} · started ${iso(s.started_at)} · finished ${iso(s.finished_at)} ·
          ${duration(row.durationMs)}
        </dd>
        <dt>Usage</dt>
        <dd>
          ${tokens(row.tokens)} tokens · ${usd(row.costUsd)} · peak context
          ${tokens(row.contextTokens)}${row.contextPercent !== null ? ` (${row.contextPercent}%)` : ""} ·
          ${s.num_turns ?? "–"} turns
        </dd>
        <dt>Branch</dt>
        <dd>
          ${s.repo ?? ""}
          ${s.branch ?? "–"}${s.pr_number ? html` · PR <a href="/pulls/${encodeURIComponent(s.repo ?? "")}/${s.pr_number}">#${s.pr_number}</a> ${row.pr ? badge(row.pr.state) : ""}` : ""}
        </dd>
        ${
          s.test_result
            ? html`<dt>Test</dt>
                <dd>${badge(s.test_result)} <code>${red(ctx, s.test_command)}</code></dd>`
            : ""
        }
        <dt>Linked</dt>
        <dd>
          ${extra.parent ? html`parent <a href="/sessions/${extra.parent}">${extra.parent}</a>` : "no parent"}
          ${extra.followUps.length ? html` · follow-ups ${extra.followUps.map((f) => html`<a href="/sessions/${f}">${f}</a> `)}` : ""}
        </dd>
      </dl>
      <div
        id="controls"
        hx-get="/sessions/${s.id}"
        hx-trigger="sse:state"
        hx-select="#controls"
        hx-swap="outerHTML"
      >
        ${questionsHtml(ctx, s.id, extra.questions ?? [])}
        ${
          extra.cancellable
            ? html`<form method="post" action="/sessions/${s.id}/cancel" style="margin:.6rem 0" id="cancel">
                ${csrfField(ctx)}<button class="danger" type="submit">Cancel</button>
              </form>`
            : ""
        }
      </div>
      <h2>Tokens and context per turn</h2>
      ${turnsChart(turnUsage(events))}
      <h2>Transcript <span class="count">${events.length} events</span></h2>
      <div id="transcript" sse-swap="transcript" hx-swap="beforeend">
        ${events.map((e) => eventHtml(ctx, e))}
      </div>
      <h2>Diff</h2>
      ${extra.diff !== null ? diffHtml(ctx, extra.diff) : html`<div class="empty">${extra.diffNote ?? "no diff"}</div>`}
      <form class="box" method="post" action="/sessions/${s.id}/reply" id="reply">
        ${csrfField(ctx)}
        <input
          type="text"
          name="text"
          placeholder="${asking ? "Answer the question above…" : "Reply or follow up: new instructions for this agent…"}"
          required
          maxlength="20000"
        />
        <button type="submit">Send</button>
      </form>`,
  );
}

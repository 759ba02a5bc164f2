import type { AgentEvent } from "./events.ts";

/** Token totals in tokens. */
export interface TokenTotals {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
}

/** One agent pass's usage: what its stream showed and what its final result reported. */
interface PassUsage {
  turns: number;
  sum: TokenTotals;
  reported: TokenTotals | undefined;
  costUsd: number | undefined;
  numTurns: number | undefined;
}

const zero = (): TokenTotals => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
});

/**
 * Adds up usage as a session's events arrive, over every agent pass of the session (the main
 * pass, a self-review pass): call {@link beginPass} before each. Within a pass, totals reported
 * by the agent's final result win over the per-turn sum (they include turns the stream may not
 * show, such as retries); across passes, tokens, cost (USD) and turns are summed. The context
 * figure is the largest single turn of any pass: input + cache read + cache creation (tokens).
 */
export class UsageMeter {
  peakContextTokens = 0;
  /** The model the agent CLI reported (its init event), the last one seen. */
  model: string | undefined;
  #passes: PassUsage[] = [];

  /** Starts a new agent pass: later events count towards it. */
  beginPass(): void {
    this.#passes.push({
      turns: 0,
      sum: zero(),
      reported: undefined,
      costUsd: undefined,
      numTurns: undefined,
    });
  }

  /** How many agent passes were counted. */
  get passes(): number {
    return this.#passes.length;
  }

  add(ev: AgentEvent): void {
    if (this.#passes.length === 0) this.beginPass();
    const pass = this.#passes.at(-1)!;
    if (ev.type === "usage") {
      pass.turns++;
      pass.sum.inputTokens += ev.inputTokens;
      pass.sum.outputTokens += ev.outputTokens;
      pass.sum.cacheReadTokens += ev.cacheReadTokens;
      pass.sum.cacheCreationTokens += ev.cacheCreationTokens;
      this.peakContextTokens = Math.max(
        this.peakContextTokens,
        ev.inputTokens + ev.cacheReadTokens + ev.cacheCreationTokens,
      );
    } else if (ev.type === "result") {
      if (ev.totals) pass.reported = ev.totals;
      if (ev.costUsd !== undefined) pass.costUsd = ev.costUsd;
      if (ev.numTurns !== undefined) pass.numTurns = ev.numTurns;
    } else if (ev.type === "init" && ev.model) {
      this.model = ev.model;
    }
  }

  /** Model turns seen in the streams of all passes. */
  get turns(): number {
    return this.#passes.reduce((s, p) => s + p.turns, 0);
  }

  /**
   * Turns over all passes: each pass's reported count (its streamed count when it reported
   * none); `undefined` when no pass reported one.
   */
  get numTurns(): number | undefined {
    if (!this.#passes.some((p) => p.numTurns !== undefined)) return undefined;
    return this.#passes.reduce((s, p) => s + (p.numTurns ?? p.turns), 0);
  }

  /** Cost in USD over all passes; `undefined` when no pass reported one (Codex reports none). */
  get costUsd(): number | undefined {
    if (!this.#passes.some((p) => p.costUsd !== undefined)) return undefined;
    return this.#passes.reduce((s, p) => s + (p.costUsd ?? 0), 0);
  }

  /** Tokens over all passes. */
  get totals(): TokenTotals {
    const t = zero();
    for (const p of this.#passes) {
      const x = p.reported ?? p.sum;
      t.inputTokens += x.inputTokens;
      t.outputTokens += x.outputTokens;
      t.cacheReadTokens += x.cacheReadTokens;
      t.cacheCreationTokens += x.cacheCreationTokens;
    }
    return t;
  }
}

import type { AgentEvent } from "./events.ts";

/** Token totals in tokens. */
export interface TokenTotals {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
}

/**
 * Adds up usage as a session's events arrive. Totals reported by the agent's final result
 * win over the per-turn sum (they include turns the stream may not show, such as retries);
 * the context figure is the largest single turn: input + cache read + cache creation.
 */
export class UsageMeter {
  turns = 0;
  peakContextTokens = 0;
  costUsd: number | undefined;
  numTurns: number | undefined;
  #sum: TokenTotals = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
  #reported: TokenTotals | undefined;

  add(ev: AgentEvent): void {
    if (ev.type === "usage") {
      this.turns++;
      this.#sum.inputTokens += ev.inputTokens;
      this.#sum.outputTokens += ev.outputTokens;
      this.#sum.cacheReadTokens += ev.cacheReadTokens;
      this.#sum.cacheCreationTokens += ev.cacheCreationTokens;
      this.peakContextTokens = Math.max(
        this.peakContextTokens,
        ev.inputTokens + ev.cacheReadTokens + ev.cacheCreationTokens,
      );
    } else if (ev.type === "result") {
      if (ev.totals) this.#reported = ev.totals;
      if (ev.costUsd !== undefined) this.costUsd = ev.costUsd;
      if (ev.numTurns !== undefined) this.numTurns = ev.numTurns;
    }
  }

  get totals(): TokenTotals {
    return { ...(this.#reported ?? this.#sum) };
  }
}

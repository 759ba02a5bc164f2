import { describe, expect, it } from "vitest";
import type { AgentEvent } from "./events.ts";
import { UsageMeter } from "./usage.ts";

const turn = (input: number, output: number, cacheRead = 0): AgentEvent => ({
  type: "usage",
  inputTokens: input,
  outputTokens: output,
  cacheReadTokens: cacheRead,
  cacheCreationTokens: 0,
});

describe("UsageMeter", () => {
  it("adds up tokens, cost and turns over every pass; the peak context is the largest turn", () => {
    const m = new UsageMeter();
    m.beginPass();
    m.add({ type: "init", model: "m-1" });
    m.add(turn(100, 10));
    m.add(turn(300, 20, 50));
    // The CLI's own totals win within a pass (they include turns the stream did not show).
    m.add({
      type: "result",
      isError: false,
      numTurns: 3,
      costUsd: 0.5,
      totals: { inputTokens: 450, outputTokens: 40, cacheReadTokens: 50, cacheCreationTokens: 0 },
    });
    m.beginPass();
    m.add(turn(200, 5));
    m.add({ type: "result", isError: false, numTurns: 1, costUsd: 0.25 });
    expect(m.passes).toBe(2);
    expect(m.totals).toEqual({
      inputTokens: 650,
      outputTokens: 45,
      cacheReadTokens: 50,
      cacheCreationTokens: 0,
    });
    expect(m.numTurns).toBe(4);
    expect(m.turns).toBe(3);
    expect(m.costUsd).toBeCloseTo(0.75, 10);
    expect(m.peakContextTokens).toBe(350);
    expect(m.model).toBe("m-1");
  });

  it("reports no cost or turn count when no pass reported one (Codex reports no cost)", () => {
    const m = new UsageMeter();
    m.add(turn(10, 1));
    expect(m.costUsd).toBeUndefined();
    expect(m.numTurns).toBeUndefined();
    expect(m.turns).toBe(1);
    expect(m.totals.inputTokens).toBe(10);
  });
});

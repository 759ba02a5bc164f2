import { describe, expect, it } from "vitest";
import { randomId } from "./ids.ts";

describe("randomId", () => {
  it("keeps the format: `length` characters of lowercase Crockford base32", () => {
    expect(randomId()).toMatch(/^[0-9a-hjkmnp-tv-z]{10}$/);
    for (const n of [0, 1, 7, 26, 4095, 4096, 4097, 10_000]) {
      const id = randomId(n);
      expect(id).toHaveLength(n);
      expect(id).toMatch(/^[0-9a-hjkmnp-tv-z]*$/);
    }
  });

  it("does not repeat across many pool refills and spreads over the whole alphabet", () => {
    const ids = new Set<string>();
    const counts = new Map<string, number>();
    // 20 000 ids of 10 characters use ~49 pools of 4 KiB, with lengths that straddle the refills.
    for (let i = 0; i < 20_000; i++) {
      const id = randomId(i % 3 === 0 ? 13 : 10);
      ids.add(id);
      for (const c of id) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(ids.size).toBe(20_000);
    expect(counts.size).toBe(32);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    // Each character should appear ~1/32 of the time (≈ 6 770 of 216 670); 15 % is ~12 sigma.
    for (const n of counts.values()) expect(Math.abs(n - total / 32)).toBeLessThan((total / 32) * 0.15);
  });

  it("rejects a length that is not a whole number ≥ 0", () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity])
      expect(() => randomId(bad)).toThrow(/length must be a whole number/);
  });
});

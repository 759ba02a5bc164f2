import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { API_TOKEN_PREFIX, createApiToken, hashApiToken, parseBearer, safeEqualHex } from "./api-token.ts";

describe("createApiToken", () => {
  it("makes nst_ plus at least 43 base64url characters, a 64-hex hash and a 12-character prefix", () => {
    const { token, hash, prefix } = createApiToken();
    expect(token).toMatch(/^nst_[A-Za-z0-9_-]{43,}$/);
    expect(token.startsWith(API_TOKEN_PREFIX)).toBe(true);
    expect(Buffer.from(token.slice(4), "base64url")).toHaveLength(32);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(createHash("sha256").update(token).digest("hex"));
    expect(prefix).toBe(token.slice(0, 12));
    expect(hash).not.toContain(token.slice(4));
  });

  it("never repeats a token in 1,000 draws", () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => createApiToken().token));
    expect(tokens.size).toBe(1000);
  });

  it("hashes a presented token to the stored hash, and a changed token to another", () => {
    const { token, hash } = createApiToken();
    expect(safeEqualHex(hashApiToken(token), hash)).toBe(true);
    const other = token.slice(0, -1) + (token.endsWith("A") ? "B" : "A");
    expect(safeEqualHex(hashApiToken(other), hash)).toBe(false);
  });
});

describe("parseBearer", () => {
  const t = "nst_abc-DEF_123";
  it.each([
    [`Bearer ${t}`, t],
    [`bearer ${t}`, t],
    [`BEARER ${t}`, t],
    [`Bearer   ${t}`, t],
    [`  Bearer ${t}  `, t],
    ["Bearer abc.def~ghi+jkl/mno==", "abc.def~ghi+jkl/mno=="],
  ])("reads %j", (header, expected) => {
    expect(parseBearer(header)).toBe(expected);
  });

  it.each([
    [undefined],
    [""],
    ["Bearer"],
    ["Bearer "],
    [t],
    [`Basic ${t}`],
    [`Token ${t}`],
    [`Bearer${t}`],
    [`Bearer\t${t}`],
    [`Bearer ${t} extra`],
    [`Bearer ${t},Bearer other`],
    ["Bearer a=b"],
    ["Bearer ==="],
    ["Bearer tök"],
    [`Bearer ${"a".repeat(9000)}`],
  ])("refuses %j", (header) => {
    expect(parseBearer(header as string | undefined)).toBeUndefined();
  });
});

describe("safeEqualHex", () => {
  const h = hashApiToken("x");
  it("is true for equal digests, ignoring hex case", () => {
    expect(safeEqualHex(h, h)).toBe(true);
    expect(safeEqualHex(h, h.toUpperCase())).toBe(true);
  });
  it("is false for a different digest, other lengths, non-hex, odd length and empty strings", () => {
    expect(safeEqualHex(h, hashApiToken("y"))).toBe(false);
    expect(safeEqualHex(h, h.slice(0, 62))).toBe(false);
    expect(safeEqualHex(h, `${h}00`)).toBe(false);
    expect(safeEqualHex(h, `${h.slice(0, 63)}g`)).toBe(false);
    expect(safeEqualHex("abc", "abc")).toBe(false);
    expect(safeEqualHex("", "")).toBe(false);
    expect(safeEqualHex(undefined as unknown as string, h)).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { REDACTED, Redactor } from "../util/redact.ts";
import { formatReason, internalErrorReason, MAX_REASON_CHARS } from "./reason.ts";

const SECRET = "s3cr3t-value-0123456789abcdef";
const TOKEN = "ghp_0123456789abcdefghijABCDEFGHIJ012345";

describe("formatReason", () => {
  it("makes one line: line breaks become ' | ', other control characters a space", () => {
    expect(formatReason("first\n  second\r\nthird\u0000fourth\u001b[31m\tfifth\u2028sixth")).toBe(
      "first | second | third fourth [31m fifth | sixth",
    );
    expect(formatReason("  padded\n\n")).toBe("padded");
  });

  it("keeps a short reason as it is", () => {
    expect(formatReason("the agent finished without changing anything")).toBe(
      "the agent finished without changing anything",
    );
  });

  it("cuts a long reason to its start and end, saying how much was cut", () => {
    const text = `START ${"a".repeat(5_000)} END`;
    const out = formatReason(text);
    expect(out.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
    expect(out).toMatch(/^START a+ … \[\d+ characters cut\] … a+ END$/);
    const cut = Number(/\[(\d+) characters cut\]/.exec(out)![1]);
    expect(out.length - ` … [${cut} characters cut] … `.length + cut).toBe(text.length);
  });

  it("never splits a surrogate pair where it cuts", () => {
    const out = formatReason("😀".repeat(2_000));
    expect(out).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
  });

  it("redacts the whole text before cutting, so a secret at a cut point is not half-kept", () => {
    const r = new Redactor([SECRET]);
    // The secret and the token sit where the head ends.
    for (let shift = 0; shift < 40; shift += 3) {
      const text = `${"x".repeat(640 + shift)} ${SECRET} ${TOKEN} ${"y".repeat(3_000)}`;
      const out = formatReason(text, r);
      expect(out).not.toContain(SECRET.slice(0, 8));
      expect(out).not.toContain("ghp_");
    }
  });

  it("redacts a token or a known secret that the input already held cut short", () => {
    const r = new Redactor([SECRET]);
    const out = formatReason(
      `spawn failed: claude -p "fix it with ${TOKEN.slice(0, 10)}" and ${SECRET.slice(0, 15)}… (truncated)\n...${SECRET.slice(-14)}`,
      r,
    );
    expect(out).toBe(
      `spawn failed: claude -p "fix it with ${REDACTED}" and ${REDACTED}… (truncated) | ...${REDACTED}`,
    );
  });
});

describe("internalErrorReason", () => {
  it("gives the message as the reason and the stack, redacted, to the log only", () => {
    const logged: string[] = [];
    const err = new TypeError(`The argument 'args[1]' must be a string without null bytes: ${SECRET}`);
    const reason = internalErrorReason(err, "s-1", new Redactor([SECRET]), (l) => logged.push(l));
    expect(reason).toBe(`internal error: ${err.message}`);
    expect(reason).not.toContain("    at ");
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain("nightshift: session s-1 failed with an internal error: TypeError:");
    expect(logged[0]).toContain("    at ");
    expect(logged[0]).not.toContain(SECRET);
    // Stored through formatReason, the secret goes too.
    expect(formatReason(reason, new Redactor([SECRET]))).not.toContain(SECRET);
  });

  it("copes with a thrown non-Error", () => {
    expect(internalErrorReason("plain string", "s-2", new Redactor(), () => {})).toBe(
      "internal error: plain string",
    );
  });
});

import { sign } from "@octokit/webhooks-methods";
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { githubExample } from "../../../test/support/github-examples.ts";
import { verifyGithubSignature } from "./verify-signature.ts";

const SECRET = "It's a Secret to Everybody";
const OLD_SECRET = "last quarter's secret";

/** A delivery as GitHub sends it: the example payload serialised, signed with the real sign(). */
async function delivery(event: string, action?: string) {
  // GitHub's bodies are pretty-printed JSON; any exact byte string works the same.
  const text = JSON.stringify(githubExample(event, action), null, 2);
  return { text, body: Buffer.from(text, "utf8"), signature: await sign(SECRET, text) };
}

describe("verifyGithubSignature with real payloads signed by @octokit/webhooks-methods", () => {
  it.each([
    ["pull_request", "opened"],
    ["issues", "opened"],
    ["issue_comment", "created"],
    ["release", "published"],
    ["check_run", "completed"],
    ["check_suite", "completed"],
    ["push", undefined],
  ])("accepts a correctly signed %s delivery, as a Buffer and as a string", async (event, action) => {
    const d = await delivery(event, action);
    expect(await verifyGithubSignature([SECRET], d.body, d.signature)).toBe(true);
    expect(await verifyGithubSignature([SECRET], d.text, d.signature)).toBe(true);
    expect(await verifyGithubSignature([SECRET], new Uint8Array(d.body), d.signature)).toBe(true);
  });

  it("rejects a delivery without a signature header", async () => {
    const d = await delivery("pull_request", "opened");
    expect(await verifyGithubSignature([SECRET], d.body, undefined)).toBe(false);
    expect(await verifyGithubSignature([SECRET], d.body, "")).toBe(false);
  });

  it.each([
    ["no algorithm", (s: string) => s.slice("sha256=".length)],
    ["upper-case algorithm", (s: string) => s.replace("sha256=", "SHA256=")],
    ["upper-case hex", (s: string) => s.toUpperCase().replace("SHA256=", "sha256=")],
    ["a digest one character short", (s: string) => s.slice(0, -1)],
    ["a digest one character long", (s: string) => `${s}0`],
    ["spaces around", (s: string) => ` ${s} `],
    ["two signatures", (s: string) => `${s},${s}`],
    ["non-hex digits", (s: string) => `${s.slice(0, -1)}z`],
    ["sha512", (s: string) => s.replace("sha256=", "sha512=")],
  ])("rejects a malformed header: %s", async (_name, mangle) => {
    const d = await delivery("pull_request", "opened");
    expect(await verifyGithubSignature([SECRET], d.body, mangle(d.signature))).toBe(false);
  });

  it("rejects the legacy X-Hub-Signature (sha1=) value even when it is correct", async () => {
    const d = await delivery("issues", "opened");
    const sha1 = `sha1=${createHmac("sha1", SECRET).update(d.body).digest("hex")}`;
    expect(await verifyGithubSignature([SECRET], d.body, sha1)).toBe(false);
  });

  it("rejects a delivery signed with another secret", async () => {
    const d = await delivery("pull_request", "opened");
    expect(await verifyGithubSignature(["not the secret"], d.body, d.signature)).toBe(false);
  });

  it("rejects the body with any single byte flipped", async () => {
    const d = await delivery("pull_request", "synchronize");
    for (const at of [0, 1, Math.floor(d.body.length / 2), d.body.length - 1]) {
      const changed = Buffer.from(d.body);
      changed[at] = changed[at]! ^ 0x01;
      expect(await verifyGithubSignature([SECRET], changed, d.signature)).toBe(false);
    }
  });

  it("rejects a body that was parsed and re-serialised before checking", async () => {
    const d = await delivery("pull_request", "opened");
    const reserialised = JSON.stringify(JSON.parse(d.text));
    expect(reserialised).not.toBe(d.text);
    expect(await verifyGithubSignature([SECRET], reserialised, d.signature)).toBe(false);
  });

  it("rejects an empty body and a body that is not valid UTF-8", async () => {
    expect(await verifyGithubSignature([SECRET], Buffer.alloc(0), await sign(SECRET, " "))).toBe(false);
    const invalid = Buffer.from([0x7b, 0xff, 0x7d]);
    // The signature the library would compute for the lossy decoding "{\uFFFD}".
    const lossy = await sign(SECRET, invalid.toString("utf8"));
    expect(await verifyGithubSignature([SECRET], invalid, lossy)).toBe(false);
  });

  it("during rotation accepts deliveries signed with either secret", async () => {
    const d = await delivery("check_run", "completed");
    const byOld = await sign(OLD_SECRET, d.text);
    expect(await verifyGithubSignature([SECRET, OLD_SECRET], d.body, d.signature)).toBe(true);
    expect(await verifyGithubSignature([SECRET, OLD_SECRET], d.body, byOld)).toBe(true);
  });

  it("after rotation rejects deliveries signed with the retired secret", async () => {
    const d = await delivery("check_run", "completed");
    const byOld = await sign(OLD_SECRET, d.text);
    expect(await verifyGithubSignature([SECRET], d.body, byOld)).toBe(false);
  });

  it("throws when no secret is configured, naming what to do", async () => {
    const d = await delivery("push");
    await expect(verifyGithubSignature([], d.body, d.signature)).rejects.toThrow(
      /at least one non-empty webhook secret/,
    );
    await expect(verifyGithubSignature([""], d.body, d.signature)).rejects.toThrow(TypeError);
  });
});

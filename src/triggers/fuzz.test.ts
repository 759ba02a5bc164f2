// Fuzz tests for the two signature checks: thousands of generated bodies and headers, from a
// seeded PRNG so a failure names the seed and iteration that reproduce it.
import { sign } from "@octokit/webhooks-methods";
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { WebhookSourceSchema, type WebhookSource } from "./generic/config-schema.ts";
import { verifyGenericRequest } from "./generic/verify-request.ts";
import { githubExamples } from "../../test/support/github-examples.ts";
import { verifyGithubSignature } from "./github/verify-signature.ts";
import { prng } from "../../test/support/prng.ts";

const SEED = Number(process.env.NIGHTSHIFT_FUZZ_SEED ?? 0x5eed_2026);
const ITERATIONS = 4000;

const SECRETS = ["It's a Secret to Everybody", "rotated-older-secret"];
const examples = ["pull_request", "issues", "issue_comment", "push", "check_run", "release"].flatMap((e) =>
  githubExamples(e)
    .slice(0, 2)
    .map((p) => JSON.stringify(p)),
);

/** A generated body: random bytes, truncated or mutated real JSON, odd encodings. */
function genBody(r: ReturnType<typeof prng>): string | Buffer {
  const json = r.pick(examples);
  switch (r.int(9)) {
    case 0:
      return r.bytes(r.int(2000));
    case 1:
      return Buffer.from(json.slice(0, r.int(json.length)));
    case 2: {
      const b = Buffer.from(json);
      for (let k = 0; k <= r.int(3); k++) b[r.int(b.length)] = r.int(256);
      return b;
    }
    case 3:
      return r.units(r.int(300));
    case 4:
      return Buffer.from(json, "utf16le");
    case 5:
      return Buffer.from(json, "latin1");
    case 6:
      return Buffer.concat([Buffer.from(json), Buffer.from([0xc3, 0x28, 0xff, 0xfe])]);
    case 7:
      return "";
    default:
      return r.next() < 0.5 ? json : Buffer.from(json);
  }
}

const bytesOf = (body: string | Buffer) => (typeof body === "string" ? Buffer.from(body, "utf8") : body);
const isUtf8 = (b: Buffer) => {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
};

describe(`fuzz (seed ${SEED}; set NIGHTSHIFT_FUZZ_SEED to replay another)`, () => {
  it(`verifyGithubSignature: ${ITERATIONS} deliveries, never throws, accepts exactly the right signatures`, async () => {
    const r = prng(SEED);
    let accepted = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const body = genBody(r);
      const raw = bytesOf(body);
      const right = (secret: string) => `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`;
      const good = right(r.pick(SECRETS));
      const headers: (string | undefined)[] = [
        undefined,
        "",
        r.ascii(r.int(200)),
        "x".repeat(100_000 + r.int(1000)),
        `sha256=${r.hex(64)}`,
        `sha1=${createHmac("sha1", SECRETS[0]!).update(raw).digest("hex")}`,
        good.toUpperCase(),
        `${good.slice(0, -1)}${good.endsWith("0") ? "1" : "0"}`,
        ` ${good}`,
        `sha256=${createHmac("sha256", SECRETS[0]!).update(raw).digest("base64")}`,
        right("wrong secret"),
        right(SECRETS[0]!) + right(SECRETS[1]!).slice(7),
        Buffer.from(good).toString("latin1") + "\u00ff",
        r.bytes(80).toString("latin1"),
        good,
        good,
      ];
      const header = r.pick(headers);
      let ok: boolean;
      try {
        ok = await verifyGithubSignature(SECRETS, body, header);
      } catch (e) {
        throw new Error(`seed ${SEED}, iteration ${i}: threw ${(e as Error).message}`, { cause: e });
      }
      const expected =
        raw.length > 0 &&
        (typeof body === "string" || isUtf8(raw)) &&
        SECRETS.some((s) => header === right(s));
      if (ok !== expected) {
        throw new Error(
          `seed ${SEED}, iteration ${i}: got ${ok}, expected ${expected} (header ${JSON.stringify(header?.slice(0, 80))})`,
        );
      }
      if (ok) accepted++;
    }
    // The generator offers the right signature often enough that both outcomes are exercised.
    expect(accepted).toBeGreaterThan(ITERATIONS / 20);
    expect(accepted).toBeLessThan(ITERATIONS / 2);
  });

  it("verifyGithubSignature: a real signed delivery with any one byte changed is refused", async () => {
    const r = prng(SEED + 1);
    const text = examples[0]!;
    const signature = await sign(SECRETS[0]!, text);
    for (let i = 0; i < 500; i++) {
      const b = Buffer.from(text);
      const at = r.int(b.length);
      b[at] = (b[at]! + 1 + r.int(255)) % 256;
      expect(
        await verifyGithubSignature(SECRETS, b, signature),
        `seed ${SEED + 1}, iteration ${i}, byte ${at}`,
      ).toBe(false);
    }
  });

  const sources: [string, WebhookSource][] = [
    [
      "hex",
      WebhookSourceSchema.parse({
        auth: { hmac: { secret_env: "S", header: "sentry-hook-signature" } },
        max_bytes: 4096,
      }),
    ],
    [
      "prefixed hex",
      WebhookSourceSchema.parse({
        auth: { hmac: { secret_env: "S", header: "x-sig", prefix: "sha256=" } },
        max_bytes: 4096,
      }),
    ],
    [
      "base64",
      WebhookSourceSchema.parse({
        auth: { hmac: { secret_env: "S", header: "x-sig", prefix: "v1=", encoding: "base64" } },
        max_bytes: 4096,
      }),
    ],
    ["bearer", WebhookSourceSchema.parse({ auth: { bearer: { token_env: "T" } }, max_bytes: 4096 })],
  ];
  const env = { S: SECRETS[0], T: "tok_fuzz.ABC-123~x" };

  it(`verifyGenericRequest: ${ITERATIONS} requests, never throws, accepts exactly the right credentials`, () => {
    const r = prng(SEED + 2);
    let accepted = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const [kind, source] = r.pick(sources);
      let body = genBody(r);
      if (r.int(20) === 0) body = Buffer.alloc(4097 + r.int(10_000), 0x61);
      const raw = bytesOf(body);
      const digest = createHmac("sha256", env.S!).update(raw).digest();
      const hexSig = digest.toString("hex");
      const b64Sig = digest.toString("base64");
      const auth = "hmac" in source.auth ? source.auth.hmac : undefined;
      const prefix = auth?.prefix ?? "";
      const candidates = [
        r.ascii(r.int(120)),
        "y".repeat(50_000 + r.int(5000)),
        r.bytes(64).toString("latin1"),
        `${prefix}${hexSig}`,
        `${prefix}${hexSig.toUpperCase()}`,
        `${prefix}${b64Sig}`,
        `${prefix}${b64Sig.replace(/=$/, "")}`,
        `${prefix}${digest.toString("base64url")}`,
        hexSig,
        `${prefix}${r.hex(64)}`,
        `${prefix}${hexSig.slice(0, -2)}`,
        `${prefix}${createHmac("sha256", "wrong")
          .update(raw)
          .digest(auth?.encoding === "base64" ? "base64" : "hex")}`,
        `Bearer ${env.T}`,
        `bearer ${env.T}`,
        `Bearer ${env.T}x`,
        `Bearer ${env.T.slice(0, -1)}`,
        `Basic ${env.T}`,
        `Bearer ${r.ascii(30)}`,
      ];
      const canonical =
        kind === "bearer" ? `Bearer ${env.T}` : `${prefix}${auth!.encoding === "base64" ? b64Sig : hexSig}`;
      const value = r.int(10) < 3 ? canonical : r.pick(candidates);
      const headers: Record<string, string | undefined> = { "content-type": "application/json" };
      const name =
        kind === "bearer"
          ? r.pick(["authorization", "Authorization", "x-token"])
          : r.pick([auth!.header, auth!.header.toUpperCase(), "x-other"]);
      if (r.int(10) > 0) headers[name] = value;
      if (r.int(4) === 0) headers[`x-junk-${r.int(100)}`] = r.units(r.int(500));

      let res: ReturnType<typeof verifyGenericRequest>;
      try {
        res = verifyGenericRequest(source, body, headers, env);
      } catch (e) {
        throw new Error(`seed ${SEED + 2}, iteration ${i}: threw ${(e as Error).message}`, { cause: e });
      }

      const presented = headers[name];
      const sentOnRightHeader =
        presented !== undefined &&
        (kind === "bearer" ? name.toLowerCase() === "authorization" : name.toLowerCase() === auth!.header);
      let right = false;
      if (sentOnRightHeader) {
        if (kind === "bearer") right = presented === `Bearer ${env.T}` || presented === `bearer ${env.T}`;
        else if (presented.startsWith(prefix)) {
          const rest = presented.slice(prefix.length);
          right =
            auth!.encoding === "hex"
              ? rest.toLowerCase() === hexSig
              : rest === b64Sig || rest === b64Sig.replace(/=$/, "");
        }
      }
      const tooBig = raw.length > source.max_bytes;
      const expected = !tooBig && right;
      if (
        res.ok !== expected ||
        (tooBig && !res.ok && res.status !== 413) ||
        (!tooBig && !res.ok && res.status !== 401)
      ) {
        throw new Error(
          `seed ${SEED + 2}, iteration ${i} (${kind}): got ${JSON.stringify(res)}, expected ok=${expected}`,
        );
      }
      if (res.ok) accepted++;
    }
    expect(accepted).toBeGreaterThan(ITERATIONS / 20);
  });
});

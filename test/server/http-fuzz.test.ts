import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sign } from "@octokit/webhooks-methods";
import { afterAll, describe, expect, it } from "vitest";
import { openProject } from "../../src/project.ts";
import { createApp } from "../../src/server/app.ts";
import { RateLimiter } from "../../src/server/rate-limit.ts";
import { listRuns } from "../../src/store/runs.ts";
import { githubExample } from "../support/github-examples.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { prng } from "../support/prng.ts";
import { cleanupTemp, makeRepo, writeRoutine } from "../support/project.ts";

/**
 * Thousands of generated requests against the real HTTP app: no 5xx, and no run from a
 * request that is not correctly signed.
 */

afterAll(cleanupTemp);

const SEED = Number(process.env.NIGHTSHIFT_FUZZ_SEED ?? 0x5eed_2027);
const SECRET = "fuzz secret";

describe(`HTTP fuzz (seed ${SEED})`, () => {
  it("answers every generated webhook and fire request without a 5xx and starts no unsigned run", async () => {
    const repo = await makeRepo({ "README.md": "x\n" });
    writeRoutine(
      repo,
      "any",
      'agent: command\ncommand: "true"\noverlap: allow\ntriggers:\n  - github: {events: [pull_request, issues, push]}\n  - webhook: {source: hook}\n  - api: true',
    );
    writeFileSync(
      join(repo, ".nightshift", "config.yaml"),
      "webhooks:\n  github:\n    secrets_env: [GH_SECRET]\n  hook:\n    auth:\n      hmac: { secret_env: HOOK_SECRET, header: x-signature, prefix: 'sha256=' }\n",
    );
    const clock = new ManualClock();
    const project = await openProject(repo, { clock });
    const app = createApp({
      project,
      baseUrl: "http://127.0.0.1:1",
      rateLimiter: new RateLimiter({ limit: 1_000_000, windowMs: 60_000, clock }),
      env: { GH_SECRET: SECRET, HOOK_SECRET: SECRET },
    });
    const r = prng(SEED);
    const real = JSON.stringify(githubExample("pull_request", "opened"));
    const body = (): string | Buffer => {
      switch (r.int(6)) {
        case 0:
          return r.bytes(r.int(300));
        case 1:
          return real.slice(0, r.int(real.length));
        case 2: {
          const b = Buffer.from(real);
          const k = r.int(b.length);
          b[k] = b[k]! ^ (1 << r.int(8));
          return b;
        }
        case 3:
          return r.units(r.int(200));
        case 4:
          return JSON.stringify({ text: r.ascii(r.int(100)), extra: r.int(3) ? undefined : 1 });
        default:
          return real;
      }
    };
    const header = (): string => {
      switch (r.int(6)) {
        case 0:
          return `sha256=${r.hex(64)}`;
        case 1:
          return `sha1=${r.hex(40)}`;
        case 2:
          return r.ascii(r.int(5000));
        case 3:
          return "";
        case 4:
          return `sha256=${r.hex(r.int(70))}`;
        default:
          return `Bearer nst_${r.ascii(r.int(60)).replace(/\s/g, "")}`;
      }
    };
    const statuses = new Map<number, number>();
    let signedOk = 0;
    for (let i = 0; i < 3000; i++) {
      const b = body();
      const target = r.pick([
        "/v1/webhooks/github",
        "/v1/webhooks/hook",
        "/v1/routines/any/fire",
        "/v1/webhooks/nope",
      ]);
      const headers: Record<string, string> = {};
      for (const name of [
        "x-hub-signature-256",
        "x-signature",
        "authorization",
        "x-github-event",
        "x-github-delivery",
        "content-type",
      ]) {
        if (r.int(2)) headers[name] = header();
      }
      const res = await app.request(target, { method: "POST", headers, body: b });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status, `iteration ${i} ${target}`).toBeLessThan(500);
      // Now and then the same body correctly signed: it may start a run, and must not fail either.
      if (target === "/v1/webhooks/github" && r.int(10) === 0) {
        const ok = await app.request(target, {
          method: "POST",
          headers: {
            "x-hub-signature-256": await sign(SECRET, Buffer.from(b).toString("utf8")),
            "x-github-event": "pull_request",
            "x-github-delivery": `d-${i}`,
          },
          body: b,
        });
        expect(ok.status, `signed iteration ${i}`).toBeLessThan(500);
        if (ok.status === 202) signedOk += ((await ok.json()) as { runs: unknown[] }).runs.length;
      }
    }
    const runs = await listRuns(project.store.db, { limit: 10_000 });
    // Only correctly signed, well-formed deliveries started runs.
    expect(runs.length).toBe(signedOk);
    expect(runs.every((x) => x.trigger === "github")).toBe(true);
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
    await project.close();
  }, 120_000);
});

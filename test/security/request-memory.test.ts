/**
 * Many large webhook bodies at once do not grow the server's memory with what was sent: the
 * real HTTP app on a real listening server (./api-server.ts) in this process, so its resident
 * set is `process.memoryUsage.rss()`, sampled while 20 POSTs of one shared 24 MB buffer are
 * in flight. Its own file (its own process): memory freed by earlier tests would hide growth.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UNVERIFIED_BODY_BUDGET } from "../../src/server/routes/webhooks.ts";
import { listRuns } from "../../src/store/runs.ts";
import { cleanupTemp } from "../support/project.ts";
import { type ApiServer, githubHeaders, MiB, post, SIG_SHAPED, startApiServer } from "./api-server.ts";

let api: ApiServer;
beforeAll(async () => {
  api = await startApiServer();
});
afterAll(async () => {
  await api.close();
  cleanupTemp();
});

/** Sends `n` POSTs of one shared 24 MB body at once; their statuses and the peak RSS growth. */
async function flood(n: number, headers: () => Record<string, string>) {
  const body = Buffer.alloc(24 * 1000 * 1000, "a");
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  try {
    const answers = await Promise.all(
      Array.from({ length: n }, () => post(api.port, "/v1/webhooks/github", headers(), { body })),
    );
    peak = Math.max(peak, process.memoryUsage.rss());
    return { statuses: answers.map((a) => a.status), growth: peak - before, sent: n * body.length };
  } finally {
    clearInterval(sampler);
  }
}

describe("many large webhook bodies at once", () => {
  it("20 unsigned 24 MB POSTs get 401 and the server's memory does not grow with what was sent", async () => {
    const r = await flood(20, () => githubHeaders());
    expect(new Set(r.statuses)).toEqual(new Set([401]));
    // 480 MB sent; buffering the bodies before checking the signature grew RSS by ~550 MiB.
    expect(r.growth, `RSS grew by ${Math.round(r.growth / MiB)} MiB`).toBeLessThan(r.sent / 8);
  }, 60_000);

  it("20 POSTs with a signature that does not match: at most two bodies are held at once, the rest get 503", async () => {
    expect(UNVERIFIED_BODY_BUDGET).toBeLessThan(3 * 24 * 1000 * 1000);
    const r = await flood(20, () => githubHeaders(SIG_SHAPED));
    expect(r.statuses.every((s) => s === 401 || s === 503)).toBe(true);
    expect(r.statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(r.growth, `RSS grew by ${Math.round(r.growth / MiB)} MiB`).toBeLessThan(r.sent / 2);
    expect(await listRuns(api.project.store.db, { limit: 10 })).toEqual([]);
  }, 60_000);
});

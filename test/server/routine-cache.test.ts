/**
 * The webhook receivers keep the parsed routines between deliveries (src/server/routine-cache.ts):
 * a routine file written, added or removed must still be seen by the very next delivery. Real
 * files, a real project and store, signed deliveries through the Hono app.
 */
import { renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sign } from "@octokit/webhooks-methods";
import { afterAll, describe, expect, it } from "vitest";
import { openProject } from "../../src/project.ts";
import { createApp } from "../../src/server/app.ts";
import { RateLimiter } from "../../src/server/rate-limit.ts";
import { RoutineCache } from "../../src/server/routine-cache.ts";
import { githubExample } from "../support/github-examples.ts";
import { cleanupTemp, makeRepo, writeRoutine } from "../support/project.ts";

afterAll(cleanupTemp);

const SECRET = "routine-cache-secret";
const onEvents = (events: string) =>
  `agent: command\ncommand: "true"\noverlap: allow\ntriggers:\n  - github:\n      events: [${events}]`;

describe("RoutineCache", () => {
  it("hands out the same list while nothing changed, and sees every change at once", async () => {
    const repo = await makeRepo({ "README.md": "x\n" });
    writeRoutine(repo, "review", onEvents("pull_request"));
    const cache = new RoutineCache(repo);
    const first = cache.current();
    expect(first.map((r) => r.name)).toEqual(["review"]);
    expect(cache.current()).toBe(first);

    // Rewritten in place, same size: the new content is seen.
    const size = statSync(join(repo, ".nightshift", "routines", "review.md")).size;
    const file = writeRoutine(repo, "review", `${onEvents("issues")}\n#abcd`);
    expect(statSync(file).size).toBe(size);
    expect(cache.current()[0]!.triggers).toEqual([
      expect.objectContaining({ github: expect.objectContaining({ events: ["issues"] }) }),
    ]);
    writeFileSync(file, `---\n${onEvents("push")}\n---\nDo the task.\n`);
    expect(cache.current()[0]!.triggers).toEqual([
      expect.objectContaining({ github: expect.objectContaining({ events: ["push"] }) }),
    ]);

    // Added, renamed, made invalid, removed.
    writeRoutine(repo, "deploy", onEvents("release"));
    expect(cache.current().map((r) => r.name)).toEqual(["deploy", "review"]);
    const dir = join(repo, ".nightshift", "routines");
    renameSync(join(dir, "deploy.md"), join(dir, "ship.md"));
    expect(cache.current().map((r) => r.name)).toEqual(["review", "ship"]);
    writeFileSync(join(dir, "ship.md"), "not a routine\n");
    expect(cache.current().map((r) => r.name)).toEqual(["review"]);
    rmSync(join(dir, "ship.md"));
    rmSync(file);
    expect(cache.current()).toEqual([]);
  });
});

describe("POST /v1/webhooks/github with a routine file changing between deliveries", () => {
  it("fires what the routine files say at the time of each delivery", async () => {
    const repo = await makeRepo({ "README.md": "x\n" });
    writeRoutine(repo, "review", onEvents("pull_request"));
    writeFileSync(join(repo, ".nightshift", "config.yaml"), "webhooks:\n  github:\n    secrets_env: [GH]\n");
    const project = await openProject(repo);
    try {
      const app = createApp({
        project,
        baseUrl: "http://127.0.0.1:7070",
        rateLimiter: new RateLimiter({ limit: 60, windowMs: 60_000, clock: project.clock }),
        env: { GH: SECRET },
      });
      const raw = JSON.stringify(githubExample("pull_request", "opened"));
      const deliver = async (id: string) => {
        const res = await app.request("/v1/webhooks/github", {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-github-event": "pull_request",
            "x-github-delivery": id,
            "x-hub-signature-256": await sign(SECRET, raw),
          },
          body: raw,
        });
        expect(res.status).toBe(202);
        return ((await res.json()) as { runs: { routine: string }[] }).runs.map((r) => r.routine);
      };
      expect(await deliver("d-1")).toEqual(["review"]);
      writeRoutine(repo, "review", onEvents("issues"));
      expect(await deliver("d-2")).toEqual([]);
      writeRoutine(repo, "triage", onEvents("pull_request"));
      expect(await deliver("d-3")).toEqual(["triage"]);
      writeRoutine(repo, "triage", `enabled: false\n${onEvents("pull_request")}`);
      expect(await deliver("d-4")).toEqual([]);
    } finally {
      await project.close();
    }
  });
});

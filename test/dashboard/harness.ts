/**
 * The dashboard on 127.0.0.1 over a temporary project, and a real Chromium to look at it.
 */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ServerType, serve } from "@hono/node-server";
import type { Page } from "playwright-core";
export { launchChromium } from "../support/browser.ts";
import { openProject, type Project } from "../../src/project.ts";
import { createApp } from "../../src/server/app.ts";
import { RateLimiter } from "../../src/server/rate-limit.ts";
import { insertSession } from "../../src/store/sessions.ts";
import { ManualClock } from "../../src/util/clock.ts";
import { gitOut, localForgeOf, makeRepo, pushBranch, ROOT, writeRoutine } from "../support/project.ts";

/** Where screenshots go (git-ignored). */
export const OUTPUT_DIR = join(ROOT, "test-results", "dashboard");

/** A served dashboard. */
export interface Served {
  project: Project;
  clock: ManualClock;
  url: string;
  close(): Promise<void>;
}

/**
 * A temporary project (two routines) served by the real app on 127.0.0.1:<free port>.
 * `host` is what `.nightshift/config.yaml` says `server.host` is (the dashboard asks for a
 * login when it is not loopback; the socket is bound to 127.0.0.1 either way).
 */
export async function serveProject(opts: { host?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Served> {
  const repo = await makeRepo({ "README.md": "x\n", ".gitignore": ".nightshift/state/\n" });
  writeRoutine(
    repo,
    "triage",
    'agent: command\ncommand: "true"\ntriggers:\n  - schedule: "0 9 * * 1-5"\n    timezone: Europe/Berlin\n  - api: true',
  );
  writeRoutine(repo, "nightly", 'agent: command\ncommand: "true"\ntriggers:\n  - schedule: daily');
  if (opts.host) {
    mkdirSync(join(repo, ".nightshift"), { recursive: true });
    writeFileSync(join(repo, ".nightshift", "config.yaml"), `server:\n  host: "${opts.host}"\n`);
  }
  // Committed, so branches cut for pull requests keep them.
  await gitOut(repo, "add", "--all");
  await gitOut(repo, "commit", "--quiet", "-m", "routines");
  const clock = new ManualClock(Date.now());
  const project = await openProject(repo, { clock });
  const app = createApp({
    project,
    baseUrl: "http://127.0.0.1",
    rateLimiter: new RateLimiter({ limit: 1000, windowMs: 60_000, clock }),
    env: opts.env ?? {},
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    project,
    clock,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
      await project.close();
    },
  };
}

let counter = 0;

/** Inserts a queued session of `routine` and returns its id. */
export async function addSession(
  p: Project,
  routine: string,
  extra: { title?: string; inputText?: string; createdAt?: number } = {},
): Promise<string> {
  const id = `s${Date.now().toString(36)}${(counter++).toString(36)}`;
  await insertSession(p.store.db, {
    id,
    routine,
    agent: "command",
    model: "claude-sonnet-4-5",
    trigger: "manual",
    issueNumber: null,
    inputText: extra.inputText ?? null,
    createdAt: extra.createdAt ?? p.clock.now(),
    ...(extra.title ? { title: extra.title } : {}),
  });
  return id;
}

/** Makes the screenshot folder. */
export function outputDir(): string {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  return OUTPUT_DIR;
}

/**
 * A draft pull request on the project's local forge from a new branch with one file, linked to
 * `sessionId`; returns its number.
 */
export async function addPullRequest(
  p: Project,
  title: string,
  sessionId: string | null,
  branch: string,
): Promise<number> {
  const forge = localForgeOf(p);
  await forge.repo(p.repoName);
  const bare = forge.barePath(p.repoName);
  await pushBranch(p.root, bare, branch, "main", {
    [`${branch}.txt`]: `work of ${branch}\n<script>alert("diff")</script>\n`,
  });
  const pr = await forge.createPullRequest(p.repoName, {
    title,
    body: "body of the PR",
    head: branch,
    base: "main",
    draft: true,
    sessionId,
  });
  return pr.number;
}

/**
 * A full-page screenshot into test-results/dashboard/<name>.png. NIGHTSHIFT_UPDATE_SCREENSHOTS=1
 * also refreshes the committed one in docs/img/dashboard-<name>.png (the README's and
 * docs/dashboard.md's); a plain test run leaves the tree as it was.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const file = join(outputDir(), `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (process.env.NIGHTSHIFT_UPDATE_SCREENSHOTS !== "1") return;
  mkdirSync(join(ROOT, "docs", "img"), { recursive: true });
  copyFileSync(file, join(ROOT, "docs", "img", `dashboard-${name}.png`));
}

/**
 * A real open-source repository nobody on this team wrote: the published source of `ms`
 * (vercel/ms) fetched from the npm registry at test time with `npm pack`, turned into a git
 * repository with one commit.
 */
import { mkdirSync, readdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { gitOut, tempDir } from "../support/project.ts";

export const PACKAGE = "ms@2.1.3";

/** Fetches and unpacks {@link PACKAGE} into a new git repository; returns its path. */
export async function realPackageRepo(): Promise<string> {
  const dir = tempDir("nightshift-pkg-");
  await execa("npm", ["pack", PACKAGE, "--silent", "--pack-destination", dir], { cwd: dir });
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"))!;
  await execa("tar", ["-xzf", tarball], { cwd: dir });
  const repo = join(dir, "ms");
  renameSync(join(dir, "package"), repo);
  mkdirSync(join(repo, ".nightshift"), { recursive: true });
  await gitOut(repo, "init", "--quiet", "--initial-branch=main");
  await gitOut(repo, "add", "--all");
  await gitOut(repo, "commit", "--quiet", "-m", `${PACKAGE} as published on npm`);
  return repo;
}

/** The lines a unified diff adds and removes (without the ---/+++ headers). */
export function changedLines(diff: string): string[] {
  return diff.split("\n").filter((l) => /^[+-]/.test(l) && !/^(\+\+\+|---) /.test(l));
}

/** The files a unified diff touches. */
export function changedFiles(diff: string): string[] {
  return [...diff.matchAll(/^diff --git a\/(\S+) b\//gm)].map((m) => m[1]!);
}

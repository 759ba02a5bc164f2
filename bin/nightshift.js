#!/usr/bin/env node
// Entry point. Runs the bundled CLI (dist/main.js, built by scripts/build.mjs; ./nightshift
// builds it when it is missing or older than src/) when it is there and no source file is
// newer than it; otherwise the TypeScript sources, which Node >= 22.12 runs directly (type
// stripping). The compile cache (in the OS temp folder) makes repeated starts faster.
// NIGHTSHIFT_SOURCES=1 always runs the sources.
import module from "node:module";
import { readdirSync, statSync } from "node:fs";
import { fileURLToPath, URL } from "node:url";

module.enableCompileCache?.();

const root = new URL("..", import.meta.url);

/** Whether any file under `dir` (test files aside) was modified after `since` (ms). */
function newerThan(dir, since) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return true;
  }
  for (const name of names) {
    if (name.endsWith(".test.ts")) continue;
    const path = `${dir}/${name}`;
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory() ? newerThan(path, since) : st.mtimeMs > since) return true;
  }
  return false;
}

/**
 * The bundle's entry when it exists and is at least as new as every source file (and
 * package-lock.json). NIGHTSHIFT_BUNDLE_FRESH=1 (set by ./nightshift, whose scripts/env.sh has
 * just checked and rebuilt if needed) skips the check; it is not passed on to child processes.
 */
function freshBundle() {
  const checked = process.env.NIGHTSHIFT_BUNDLE_FRESH === "1";
  delete process.env.NIGHTSHIFT_BUNDLE_FRESH;
  if (process.env.NIGHTSHIFT_SOURCES === "1") return undefined;
  const entry = new URL("dist/main.js", root);
  if (checked) return statSync(entry, { throwIfNoEntry: false }) ? entry : undefined;
  const stamp = statSync(new URL("dist/.stamp", root), { throwIfNoEntry: false });
  if (!stamp) return undefined;
  if (!statSync(entry, { throwIfNoEntry: false })) return undefined;
  const since = stamp.mtimeMs;
  const lock = statSync(new URL("package-lock.json", root), { throwIfNoEntry: false });
  if (lock && lock.mtimeMs > since) return undefined;
  return newerThan(fileURLToPath(new URL("src", root)), since) ? undefined : entry;
}

await import(freshBundle()?.href ?? "../src/cli/main.ts");

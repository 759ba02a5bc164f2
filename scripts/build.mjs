// Bundles the CLI (src/cli/main.ts) with esbuild into dist/: one small entry file plus chunks
// that commands load on demand (dynamic imports), so `nightshift --version` or `sessions list`
// only parse and run the modules they need. Plain JS so it runs on any Node without type
// stripping. scripts/env.sh runs it when dist/ is missing or older than src/; bin/nightshift.js
// falls back to the TypeScript sources when dist/ is missing or stale.
//
// Usage: node scripts/build.mjs [--outdir DIR] [--quiet]
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { build } from "esbuild";

/** The nightshift checkout this script belongs to. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Where the bundle goes by default (git-ignored). */
export const DEFAULT_OUTDIR = join(ROOT, "dist");

/** The bundle's entry file, relative to its out dir. */
export const ENTRY = "main.js";

/** The file whose mtime says when the bundle was built (sources newer than it make it stale). */
export const STAMP = ".stamp";

/**
 * Packages left as plain `import`s resolved from node_modules at run time, because bundling
 * them breaks them or gains nothing:
 *  - better-sqlite3: a native addon (`bindings` looks for build/Release/*.node next to itself);
 *  - @anthropic-ai/sandbox-runtime: finds its own vendor files (seccomp filters, helper
 *    scripts) relative to its modules, and is imported lazily anyway;
 *  - pino, pino-pretty: pino resolves its worker-thread transports (thread-stream) by file
 *    path; only the daemon loads them.
 */
export const EXTERNAL = ["better-sqlite3", "@anthropic-ai/sandbox-runtime", "pino", "pino-pretty"];

/** Chunks of earlier builds are kept this long, for processes still running from them. */
const KEEP_OLD_CHUNKS_MS = 24 * 60 * 60 * 1000;

/**
 * Bundles src/cli/main.ts into `outdir`: `main.js`, `chunks/*.js` (content-hashed, so a
 * rebuild never changes a chunk a running process may still import) and `.stamp`, written
 * last. Chunks no longer referenced are deleted once they are a day old.
 * @param {{ outdir?: string, quiet?: boolean }} [opts]
 * @returns {Promise<{ outdir: string, entry: string, files: number, bytes: number, ms: number }>}
 * @throws {Error} when esbuild reports an error (the message lists them).
 */
export async function buildBundle(opts = {}) {
  const outdir = resolve(opts.outdir ?? DEFAULT_OUTDIR);
  const started = performance.now();
  // The stamp gets the time the build started: a source saved while esbuild was reading makes
  // the bundle stale rather than silently missing from it.
  const startedAt = new Date();
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { main: join(ROOT, "src", "cli", "main.ts") },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node22",
    entryNames: "[name]",
    chunkNames: "chunks/[name]-[hash]",
    external: EXTERNAL,
    // CommonJS packages inside an ESM bundle call require() for Node built-ins. Generated
    // code: not for the linter (`eslint .` would otherwise check dist/).
    banner: {
      js:
        "/* eslint-disable */\n" +
        'import { createRequire as __nsCreateRequire } from "node:module"; const require = __nsCreateRequire(import.meta.url);',
    },
    legalComments: "none",
    sourcemap: false,
    minifySyntax: true,
    minifyWhitespace: true,
    keepNames: true,
    write: false,
    logLevel: "silent",
    metafile: false,
  });
  mkdirSync(join(outdir, "chunks"), { recursive: true });
  // Chunks first, the entry last: a process starting meanwhile sees either the old entry
  // (whose chunks are still there) or the new one with all of its chunks.
  const files = [...result.outputFiles].sort(
    (a, b) => Number(a.path === join(outdir, ENTRY)) - Number(b.path === join(outdir, ENTRY)),
  );
  let bytes = 0;
  const written = new Set();
  for (const f of files) {
    const tmp = `${f.path}.${process.pid}.tmp`;
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(tmp, f.contents);
    renameSync(tmp, f.path);
    written.add(f.path);
    bytes += f.contents.byteLength;
  }
  pruneChunks(join(outdir, "chunks"), written);
  writeFileSync(join(outdir, STAMP), `${startedAt.toISOString()}\n`);
  utimesSync(join(outdir, STAMP), startedAt, startedAt);
  const ms = Math.round(performance.now() - started);
  if (!opts.quiet)
    console.error(
      `nightshift: built ${relative(process.cwd(), join(outdir, ENTRY)) || ENTRY} (${files.length} files, ${Math.round(bytes / 1024)} KB) in ${ms} ms`,
    );
  return { outdir, entry: join(outdir, ENTRY), files: files.length, bytes, ms };
}

function pruneChunks(dir, keep) {
  const now = Date.now();
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (keep.has(p)) continue;
    const st = statSync(p, { throwIfNoEntry: false });
    if (st && now - st.mtimeMs > KEEP_OLD_CHUNKS_MS) rmSync(p, { force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const at = args.indexOf("--outdir");
  try {
    await buildBundle({
      ...(at >= 0 ? { outdir: args[at + 1] } : {}),
      quiet: args.includes("--quiet"),
    });
  } catch (err) {
    console.error(`nightshift: bundling the CLI failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The dashboard's static files, read once from the pinned npm packages (htmx, its SSE
 * extension, uPlot) and from this folder: no CDN, so the dashboard works offline.
 */

/** URL path (under `/assets/`) → package-relative file and content type. */
const FILES: Record<string, { pkg?: string; file: string; type: string }> = {
  "htmx.min.js": { pkg: "htmx.org", file: "dist/htmx.min.js", type: "text/javascript" },
  "sse.min.js": { pkg: "htmx-ext-sse", file: "dist/sse.min.js", type: "text/javascript" },
  "uPlot.iife.min.js": { pkg: "uplot", file: "dist/uPlot.iife.min.js", type: "text/javascript" },
  "uPlot.min.css": { pkg: "uplot", file: "dist/uPlot.min.css", type: "text/css" },
  "dashboard.css": { file: "dashboard.css", type: "text/css" },
  "dashboard.js": { file: "dashboard.js", type: "text/javascript" },
};

const here = dirname(fileURLToPath(import.meta.url));

/** The folder of an installed package: the first `node_modules/<pkg>` above this file. */
function packageDir(pkg: string): string {
  for (let dir = here; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", pkg);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir)
      throw new Error(
        `dashboard: package "${pkg}" is not installed (no node_modules/${pkg} above ${here}); run npm ci`,
      );
  }
}

const cache = new Map<string, { body: Buffer; type: string }>();

/** A static file by its name under `/assets/`, or `undefined` for an unknown name. */
export function asset(name: string): { body: Buffer; type: string } | undefined {
  const spec = FILES[name];
  if (!spec) return undefined;
  let hit = cache.get(name);
  if (!hit) {
    const path = spec.pkg ? join(packageDir(spec.pkg), spec.file) : join(here, spec.file);
    hit = { body: readFileSync(path), type: spec.type };
    cache.set(name, hit);
  }
  return hit;
}

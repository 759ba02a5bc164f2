import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Writes an npm project into `dir` that `npm ci --offline` can install with no registry:
 * `count` packages `fx-pkgN` as local tarballs in `vendor/` (50 files of about 2.7 KB each,
 * deterministic text), `package.json` depending on them as `file:` specs, and the
 * `package-lock.json` npm itself would write (v3, with each tarball's sha512 integrity).
 */
export function writeNpmFixture(dir: string, count: number): void {
  const vendor = join(dir, "vendor");
  const src = join(dir, ".fixture-src");
  mkdirSync(vendor, { recursive: true });
  const deps: Record<string, string> = {};
  const lockPackages: Record<string, unknown> = {};
  for (let i = 1; i <= count; i++) {
    const name = `fx-pkg${i}`;
    const pkg = join(src, name, "package");
    mkdirSync(join(pkg, "lib"), { recursive: true });
    writeFileSync(join(pkg, "package.json"), JSON.stringify({ name, version: "1.0.0", main: "lib/f0.js" }));
    for (let f = 0; f < 50; f++) {
      let text = "";
      let h = `${name}/${f}`;
      while (text.length < 2700) {
        h = createHash("sha256").update(h).digest("hex");
        text += `export const v${text.length} = "${h}";\n`;
      }
      writeFileSync(join(pkg, "lib", `f${f}.js`), text);
    }
    const tgz = `${name}-1.0.0.tgz`;
    // Fixed times and owners so the tarballs (and their integrity) are the same on every run.
    execFileSync("tar", [
      "-C",
      join(src, name),
      "--sort=name",
      "--mtime=2026-01-01 00:00Z",
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      "-czf",
      join(vendor, tgz),
      "package",
    ]);
    const integrity = `sha512-${createHash("sha512")
      .update(readFileSync(join(vendor, tgz)))
      .digest("base64")}`;
    deps[name] = `file:vendor/${tgz}`;
    lockPackages[`node_modules/${name}`] = { version: "1.0.0", resolved: `file:vendor/${tgz}`, integrity };
  }
  rmSync(src, { recursive: true, force: true });
  const manifest = { name: "fx", version: "1.0.0", private: true, dependencies: deps };
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const lock = {
    name: "fx",
    version: "1.0.0",
    lockfileVersion: 3,
    requires: true,
    packages: { "": { name: "fx", version: "1.0.0", dependencies: deps }, ...lockPackages },
  };
  writeFileSync(join(dir, "package-lock.json"), `${JSON.stringify(lock, null, 2)}\n`);
}

import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanupTemp, makeRepo, ROOT, runCli, tempDir, type CliResult } from "../support/project.ts";

/**
 * The bundled CLI (scripts/build.mjs) behaves like the TypeScript sources, and
 * bin/nightshift.js runs it only while it is at least as new as every source file.
 */

let outdir: string;

beforeAll(async () => {
  // Inside the checkout, so the bundle's external packages resolve from its node_modules.
  mkdirSync(join(ROOT, "dist"), { recursive: true });
  outdir = mkdtempSync(join(ROOT, "dist", "test-"));
  const r = await execa(
    process.execPath,
    [join(ROOT, "scripts", "build.mjs"), "--outdir", outdir, "--quiet"],
    {
      reject: false,
    },
  );
  expect(r.stderr).toBe("");
  expect(r.exitCode).toBe(0);
}, 120_000);

afterAll(() => {
  cleanupTemp();
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

/** Runs the bundle's entry like runCli runs the sources: exactly PATH, HOME and NO_COLOR. */
async function runBundle(cwd: string, args: string[]): Promise<CliResult> {
  const r = await execa(process.execPath, [join(outdir, "main.js"), ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", NO_COLOR: "1" },
    extendEnv: false,
    reject: false,
    stdin: "ignore",
    timeout: 120_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

describe("bundled CLI", () => {
  it("answers --version, --help and a command's help as the sources do", async () => {
    const cwd = tempDir();
    for (const args of [["--version"], ["--help"], ["sessions", "--help"], ["no-such-command"]]) {
      const [bundle, sources] = await Promise.all([runBundle(cwd, args), runCli(cwd, args)]);
      expect(bundle, args.join(" ")).toEqual(sources);
    }
    expect((await runBundle(cwd, ["--version"])).stdout).toBe("0.1.0");
  });

  it("init, routines list and sessions list in a repository give the sources' output", async () => {
    const viaBundle = await makeRepo({ "README.md": "# demo\n" });
    const viaSources = await makeRepo({ "README.md": "# demo\n" });
    // The two repositories differ by their path only.
    const same = (r: CliResult, repo: string): CliResult => ({
      exitCode: r.exitCode,
      stdout: r.stdout.replaceAll(repo, "<repo>"),
      stderr: r.stderr.replaceAll(repo, "<repo>"),
    });
    const init = await runBundle(viaBundle, ["init"]);
    expect(init.exitCode).toBe(0);
    expect(init.stdout).toContain(".nightshift/config.yaml");
    expect(same(init, viaBundle)).toEqual(same(await runCli(viaSources, ["init"]), viaSources));
    for (const args of [
      ["routines", "list"],
      ["routines", "list", "--json"],
      ["sessions", "list"],
    ]) {
      const bundle = await runBundle(viaBundle, args);
      const sources = await runCli(viaSources, args);
      expect(bundle.exitCode, args.join(" ")).toBe(0);
      expect(same(bundle, viaBundle), args.join(" ")).toEqual(same(sources, viaSources));
    }
  });

  it("reports a command's error (a CliError) with the sources' message and exit code", async () => {
    const cwd = tempDir();
    const args = ["sessions", "list"];
    const [bundle, sources] = await Promise.all([runBundle(cwd, args), runCli(cwd, args)]);
    expect(bundle.exitCode).toBe(2);
    expect(bundle.stderr.replaceAll(cwd, "<dir>")).toBe(sources.stderr.replaceAll(cwd, "<dir>"));
  });
});

describe("bin/nightshift.js", () => {
  /** A copy of bin/nightshift.js over a stand-in checkout whose bundle and sources say who ran. */
  function fakeCheckout(): string {
    const root = tempDir("nightshift-bundle-rule-");
    mkdirSync(join(root, "bin"));
    mkdirSync(join(root, "src", "cli"), { recursive: true });
    mkdirSync(join(root, "dist"));
    copyFileSync(join(ROOT, "bin", "nightshift.js"), join(root, "bin", "nightshift.js"));
    writeFileSync(join(root, "package.json"), '{ "type": "module" }\n');
    writeFileSync(join(root, "package-lock.json"), "{}\n");
    writeFileSync(join(root, "src", "cli", "main.ts"), 'console.log("sources");\n');
    writeFileSync(join(root, "dist", "main.js"), 'console.log("bundle");\n');
    const past = new Date(Date.now() - 60_000);
    for (const f of ["package-lock.json", "src/cli/main.ts"]) utimesSync(join(root, f), past, past);
    writeFileSync(join(root, "dist", ".stamp"), "built\n");
    return root;
  }

  async function ran(root: string, env: Record<string, string> = {}): Promise<string> {
    const r = await execa(process.execPath, [join(root, "bin", "nightshift.js")], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
      extendEnv: false,
    });
    return String(r.stdout);
  }

  const future = () => new Date(Date.now() + 60_000);

  it("runs the bundle while it is newer than every source, the sources once one is newer", async () => {
    const root = fakeCheckout();
    expect(await ran(root)).toBe("bundle");
    // A test file does not go into the bundle: editing one keeps it fresh.
    writeFileSync(join(root, "src", "cli", "main.test.ts"), "");
    utimesSync(join(root, "src", "cli", "main.test.ts"), future(), future());
    expect(await ran(root)).toBe("bundle");
    utimesSync(join(root, "src", "cli", "main.ts"), future(), future());
    expect(await ran(root)).toBe("sources");
    // ./nightshift's env.sh has checked (and rebuilt): bin trusts it.
    expect(await ran(root, { NIGHTSHIFT_BUNDLE_FRESH: "1" })).toBe("bundle");
  });

  it("runs the sources when the stamp is missing, package-lock.json is newer, or NIGHTSHIFT_SOURCES=1", async () => {
    const noStamp = fakeCheckout();
    rmSync(join(noStamp, "dist", ".stamp"));
    expect(await ran(noStamp)).toBe("sources");

    const newLock = fakeCheckout();
    utimesSync(join(newLock, "package-lock.json"), future(), future());
    expect(await ran(newLock)).toBe("sources");

    const forced = fakeCheckout();
    expect(await ran(forced, { NIGHTSHIFT_SOURCES: "1" })).toBe("sources");
    expect(await ran(forced, { NIGHTSHIFT_SOURCES: "1", NIGHTSHIFT_BUNDLE_FRESH: "1" })).toBe("sources");
  });
});

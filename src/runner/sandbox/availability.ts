import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** What to tell the user when the sandbox cannot run. */
export const SANDBOX_INSTALL_HINT =
  "install bubblewrap, socat and ripgrep (Debian/Ubuntu: apt-get install -y bubblewrap socat ripgrep), " +
  "or set `sandbox: none` in the routine (unsafe: the agent then runs with your user's full access)";

/** Result of {@link sandboxAvailable}. */
export type SandboxAvailability = { ok: true } | { ok: false; reason: string };

/** Finds an executable on `PATH` (like `which`), or `undefined`. */
export function findExecutable(name: string, path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const full = join(dir, name);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // not here
    }
  }
  return undefined;
}

function run(cmd: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: 10_000, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } },
      (err, stdout, stderr) => resolve({ ok: !err, output: `${stdout}${stderr}`.trim() }),
    );
  });
}

let cached: Promise<SandboxAvailability> | undefined;

/**
 * Whether agents can be sandboxed on this machine: Linux, `bwrap`, `socat` and `rg` on
 * `PATH`, the `@anthropic-ai/sandbox-runtime` package installed and happy with its
 * dependencies, and bubblewrap actually able to make namespaces here (it cannot in some
 * containers). The answer is computed once per process.
 * @returns `{ ok: false, reason }` with a reason that ends in {@link SANDBOX_INSTALL_HINT}
 *   where installing something would help.
 */
export function sandboxAvailable(): Promise<SandboxAvailability> {
  cached ??= check();
  return cached;
}

async function check(): Promise<SandboxAvailability> {
  if (process.platform !== "linux") {
    return {
      ok: false,
      reason: `the agent sandbox needs Linux (this is ${process.platform}); set \`sandbox: none\` in the routine to run unsandboxed (unsafe)`,
    };
  }
  const missing = [
    ["bwrap", "bubblewrap"],
    ["socat", "socat"],
    ["rg", "ripgrep"],
  ].filter(([bin]) => !findExecutable(bin!));
  if (missing.length > 0) {
    const list = missing.map(([bin, pkg]) => (bin === pkg ? bin : `${bin} (${pkg})`)).join(", ");
    return {
      ok: false,
      reason: `the agent sandbox needs ${list}, not found on PATH: ${SANDBOX_INSTALL_HINT}`,
    };
  }
  // Make sure bubblewrap can really create the namespaces the sandbox uses: started first, it
  // runs while the library loads and checks its dependencies (its answer is read after theirs).
  const probing = run(findExecutable("bwrap")!, [
    "--unshare-user",
    "--unshare-net",
    "--unshare-pid",
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    "--",
    "/bin/true",
  ]);
  let manager: typeof import("@anthropic-ai/sandbox-runtime").SandboxManager;
  try {
    ({ SandboxManager: manager } = await import("@anthropic-ai/sandbox-runtime"));
  } catch (err) {
    await probing;
    return {
      ok: false,
      reason: `the npm package @anthropic-ai/sandbox-runtime cannot be loaded (${(err as Error).message}); reinstall nightshift's packages`,
    };
  }
  const deps = await manager.checkDependenciesAsync();
  const probe = await probing;
  if (deps.errors.length > 0) {
    return {
      ok: false,
      reason: `the agent sandbox cannot run: ${deps.errors.join("; ")}: ${SANDBOX_INSTALL_HINT}`,
    };
  }
  if (!probe.ok) {
    return {
      ok: false,
      reason:
        `bubblewrap is installed but cannot create namespaces here (${probe.output || "no output"}); ` +
        "allow unprivileged user namespaces (e.g. sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu " +
        "kernel.apparmor_restrict_unprivileged_userns=0; in Docker run with --security-opt seccomp=unconfined), " +
        "or set `sandbox: none` in the routine (unsafe)",
    };
  }
  return { ok: true };
}

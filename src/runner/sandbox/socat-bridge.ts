/**
 * The `socat` that sandbox-runtime runs as the sandbox's network bridges. The library starts
 * two host-side bridges (`socat UNIX-LISTEN:/tmp/claude-*.sock,fork TCP:localhost:<proxy>`) as
 * plain children of this process and stops them in `reset()`; a runner killed with SIGKILL
 * never gets there, and the bridges would run on with parent 1. So the library gets, as its
 * `socatPath`, `bin/socat-pdeathsig`: a script that runs the system's socat under util-linux
 * `setpriv --pdeathsig KILL`, so the kernel kills each bridge when the process that started it
 * dies, however it dies.
 *
 * The library uses the same `socatPath` for the relays it starts inside each sandbox, so the
 * script, `/bin/sh`, `setpriv` and `socat` must stay readable there ({@link socatBridgeReadPaths}).
 * The script looks programs up in the system folders only ({@link SYSTEM_PATH}): inside, the
 * relays start before the seccomp filter, so nothing may come from a folder the agent could
 * have written to.
 */
import { execFile, execFileSync } from "node:child_process";
import { join } from "node:path";
import { NIGHTSHIFT_ROOT } from "../agents/env.ts";
import { findExecutable } from "./availability.ts";

/** The script (shipped with nightshift, next to its CLI entry point). */
export const SOCAT_PDEATHSIG_SCRIPT = join(NIGHTSHIFT_ROOT, "bin", "socat-pdeathsig");

/** The `PATH` the script sets: system folders only. Keep in step with bin/socat-pdeathsig. */
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

let chosen: { socat: string; script?: { setpriv: string; socat: string } } | undefined;

/** Whether this setpriv knows `--pdeathsig` (util-linux ≥ 2.33) and the script runs. */
function scriptWorks(): boolean {
  try {
    execFileSync(SOCAT_PDEATHSIG_SCRIPT, ["-V"], {
      stdio: "ignore",
      timeout: 10_000,
      env: { PATH: SYSTEM_PATH },
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * The path to give sandbox-runtime as `socatPath`: {@link SOCAT_PDEATHSIG_SCRIPT} when the
 * system folders hold `setpriv` (with `--pdeathsig`) and `socat`, else `socat` itself — then
 * the bridges end only with the library's `reset()` or this process's normal exit. Checked
 * once per process.
 * @param socat absolute path of the socat found on `PATH` (the fallback).
 */
export function socatDyingWithParent(socat: string): string {
  if (chosen?.socat === socat) return chosen.script ? SOCAT_PDEATHSIG_SCRIPT : socat;
  const setprivPath = findExecutable("setpriv", SYSTEM_PATH);
  const socatPath = findExecutable("socat", SYSTEM_PATH);
  const ok = process.platform === "linux" && !!setprivPath && !!socatPath && scriptWorks();
  chosen = { socat, ...(ok ? { script: { setpriv: setprivPath!, socat: socatPath! } } : {}) };
  return ok ? SOCAT_PDEATHSIG_SCRIPT : socat;
}

/** The running or finished {@link socatDyingWithParentAsync} check, by the socat it falls back to. */
let checking: { socat: string; path: Promise<string> } | undefined;

/**
 * {@link socatDyingWithParent} without blocking the event loop: the script's check runs as a
 * child process while this process does other work (loading the sandbox library). The same
 * choice, made once per process; afterwards {@link socatBridgeReadPaths} reflects it.
 * @param socat absolute path of the socat found on `PATH` (the fallback).
 */
export function socatDyingWithParentAsync(socat: string): Promise<string> {
  if (chosen?.socat === socat) return Promise.resolve(chosen.script ? SOCAT_PDEATHSIG_SCRIPT : socat);
  if (checking?.socat === socat) return checking.path;
  const setprivPath = findExecutable("setpriv", SYSTEM_PATH);
  const socatPath = findExecutable("socat", SYSTEM_PATH);
  const path = (async () => {
    const ok =
      process.platform === "linux" &&
      !!setprivPath &&
      !!socatPath &&
      (await new Promise<boolean>((resolve) =>
        execFile(SOCAT_PDEATHSIG_SCRIPT, ["-V"], { timeout: 10_000, env: { PATH: SYSTEM_PATH } }, (err) =>
          resolve(!err),
        ),
      ));
    chosen = { socat, ...(ok ? { script: { setpriv: setprivPath!, socat: socatPath! } } : {}) };
    return ok ? SOCAT_PDEATHSIG_SCRIPT : socat;
  })();
  checking = { socat, path };
  return path;
}

/**
 * What a sandbox must be able to read for its network relays to start when the script is in
 * use: the script, `/bin/sh`, `setpriv` and `socat` (and the shared libraries they load, under
 * `/lib` and `/usr/lib`). Empty before {@link socatDyingWithParent} chose the script.
 */
export function socatBridgeReadPaths(): string[] {
  const s = chosen?.script;
  return s ? [SOCAT_PDEATHSIG_SCRIPT, "/bin/sh", s.setpriv, s.socat] : [];
}

import { readdirSync, readFileSync } from "node:fs";

/**
 * True while `pid` runs. A zombie (exited, waiting to be reaped) counts as gone: this
 * machine's init does not reap orphans, so killed processes linger as zombies.
 */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/**
 * Polls `probe` every 100 ms until it returns a value (at most `limitMs`, default 90 s: a
 * loaded CI machine is slow): waiting for a condition, not for time.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  limitMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A live process (zombies excluded) on this machine, read from /proc. */
export interface ProcessInfo {
  pid: number;
  /** The command line, arguments joined by single spaces. */
  cmdline: string;
}

/**
 * Every live process whose command line satisfies `match`. Tests run side by side, so match on
 * something only the caller's processes carry (a temporary folder, a socket id, a marker
 * number), never on a program name alone.
 */
export function processesMatching(match: (cmdline: string) => boolean): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").join(" ").trim();
    } catch {
      continue;
    }
    if (cmdline && match(cmdline) && alive(Number(d))) out.push({ pid: Number(d), cmdline });
  }
  return out;
}

import { readFileSync } from "node:fs";

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

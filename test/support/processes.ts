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

/** Polls `probe` every 100 ms (at most 20 s) until it returns a value: waiting for a condition, not for time. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { processAlive } from "../util/process.ts";

/** The file in the state folder that says a `nightshift serve` is running for the project. */
export const DAEMON_FILE = "daemon.json";

/** What a running daemon writes to {@link DAEMON_FILE}. Times are ms since the Unix epoch. */
export interface DaemonPresence {
  pid: number;
  host: string;
  port: number;
  url: string;
  started_at: number;
}

/** The daemon presence as a command sees it: the file's content, and whether it is believed live. */
export interface DaemonStatus {
  presence: DaemonPresence;
  /**
   * False when the file is stale: written on this host by a process that is gone (a daemon
   * killed with SIGKILL, a crash). A daemon on another host is taken as live (it cannot be checked).
   */
  alive: boolean;
}

/**
 * Records that a daemon runs for the project (its pid, host, port, URL and start time) in
 * `<stateDir>/daemon.json`, written atomically.
 *
 * @returns a function that removes the file, only while it is still this process's (a second
 *   daemon may have replaced it).
 */
export function writeDaemonPresence(
  stateDir: string,
  info: { port: number; url: string; now: number },
): () => void {
  const file = join(stateDir, DAEMON_FILE);
  const presence: DaemonPresence = {
    pid: process.pid,
    host: hostname(),
    port: info.port,
    url: info.url,
    started_at: info.now,
  };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(presence, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return () => {
    const current = readDaemonStatus(stateDir)?.presence;
    if (current && current.pid === presence.pid && current.host === presence.host)
      rmSync(file, { force: true });
  };
}

/**
 * Reads `<stateDir>/daemon.json`.
 *
 * @returns `undefined` when no daemon has written it (none runs, or the last one stopped
 *   cleanly) or it cannot be read; else its content and whether that daemon is alive.
 */
export function readDaemonStatus(stateDir: string): DaemonStatus | undefined {
  let presence: DaemonPresence;
  try {
    presence = JSON.parse(readFileSync(join(stateDir, DAEMON_FILE), "utf8")) as DaemonPresence;
  } catch {
    return undefined;
  }
  if (typeof presence?.pid !== "number" || typeof presence.host !== "string") return undefined;
  const alive = presence.host !== hostname() || processAlive(presence.pid);
  return { presence, alive };
}

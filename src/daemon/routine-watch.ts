import { type FSWatcher, readdirSync, readFileSync, statSync, watch } from "node:fs";
import { join, relative } from "node:path";
import { ConfigError, ConfigErrors } from "../config/errors.ts";
import { type LoadedRoutines, parseRoutine, PROJECT_DIR } from "../config/load.ts";
import type { Routine } from "../config/routine-schema.ts";
import type { Clock } from "../util/clock.ts";

/** Options of {@link RoutineWatcher}. */
export interface RoutineWatcherOptions {
  /** Time source for the periodic full check. */
  clock: Clock;
  /**
   * How often (ms) {@link RoutineWatcher.refresh} stats every file even without a watch event,
   * as a safety net for events the OS dropped; default 60_000.
   */
  fullCheckMs?: number;
}

/** What a {@link RoutineWatcher} has done, for tests and benchmarks. */
export interface RoutineWatchStats {
  /** Routine files read and parsed (a file whose mtime and size are unchanged is never re-read). */
  parses: number;
  /** Routine files stat'ed. */
  stats: number;
  /** Full checks: the folder listed and every file stat'ed. */
  fullChecks: number;
  /** File-system events received from `fs.watch`. */
  events: number;
  /** Watch errors and events without a file name (overflow); each leads to a full check. */
  watchErrors: number;
}

interface Entry {
  mtimeMs: number;
  size: number;
  parsed: Routine | ConfigError[];
}

/**
 * The routines of a project (`.nightshift/routines/*.md`), kept up to date by watching the
 * folder instead of reading it again on every scheduler tick.
 *
 * `fs.watch` on the folder notes which files changed; {@link refresh} (called at the start of a
 * tick) stats only those and re-reads a file only when its (mtime, size) changed. Every
 * `fullCheckMs` of clock time, after a watch error, after an event without a file name, and
 * while the folder cannot be watched (it does not exist yet), `refresh` lists the folder and
 * stats every file instead — still re-reading only the changed ones. So a new, edited or deleted
 * routine file takes effect on the first tick after its event, and at the latest one full
 * check later if the event was lost.
 *
 * Invalid files are reported as {@link LoadedRoutines} `errors`, exactly as `loadRoutines`
 * does; a file that cannot be read is reported as an error of that file too.
 */
export class RoutineWatcher {
  /** The watched folder. */
  readonly dir: string;
  readonly #clock: Clock;
  readonly #fullCheckMs: number;
  readonly #files = new Map<string, Entry>();
  /** File names with an event since the last refresh. */
  #dirty = new Set<string>();
  #needFull = true;
  #lastFull = -Infinity;
  #watcher: FSWatcher | undefined;
  /** Inode of the folder being watched: a folder removed and made again needs a new watch. */
  #watchedIno: number | undefined;
  #closed = false;
  #snapshot: LoadedRoutines | undefined;
  readonly #stats: RoutineWatchStats = { parses: 0, stats: 0, fullChecks: 0, events: 0, watchErrors: 0 };

  /** Watches the routines folder of the project at `root`; call {@link refresh} to load. */
  constructor(root: string, opts: RoutineWatcherOptions) {
    this.dir = join(root, PROJECT_DIR, "routines");
    this.#clock = opts.clock;
    this.#fullCheckMs = opts.fullCheckMs ?? 60_000;
  }

  /** Counters of the work done so far (a copy). */
  get stats(): RoutineWatchStats {
    return { ...this.#stats };
  }

  /**
   * Brings the routines up to date: stats the files that had a watch event (or every file, on a
   * full check) and re-reads those whose (mtime, size) changed.
   *
   * @param opts.periodic - `false` leaves the periodic full check (the safety net, due every
   *   `fullCheckMs`) for a later call; a full check that is needed (the first refresh, after a
   *   watch error or overflow) still happens. The daemon passes `false` before firing and
   *   makes the periodic check after, so that it never delays a fire. Default `true`.
   * @returns whether any routine or error changed since the last refresh.
   */
  refresh(opts: { periodic?: boolean } = {}): boolean {
    if (this.#closed) throw new Error("RoutineWatcher.refresh: the watcher is closed");
    this.#ensureWatching();
    const now = this.#clock.now();
    let changed = false;
    const periodicDue = opts.periodic !== false && now - this.#lastFull >= this.#fullCheckMs;
    if (this.#needFull || periodicDue) {
      // Events that arrive while listing are kept for the next refresh.
      this.#needFull = false;
      this.#dirty.clear();
      this.#lastFull = now;
      changed = this.#fullCheck();
    } else if (this.#dirty.size > 0) {
      const names = [...this.#dirty];
      this.#dirty.clear();
      for (const name of names) if (this.#checkFile(name)) changed = true;
    }
    if (changed) this.#snapshot = undefined;
    return changed;
  }

  /**
   * The routines as of the last {@link refresh}, sorted by file name, and the errors of the
   * invalid files. The same object is returned until something changes, so a caller can tell
   * "nothing changed" by identity; it must not be modified.
   */
  current(): LoadedRoutines {
    if (!this.#snapshot) {
      const routines: Routine[] = [];
      const errors: ConfigError[] = [];
      for (const name of [...this.#files.keys()].sort()) {
        const parsed = this.#files.get(name)!.parsed;
        if (Array.isArray(parsed)) errors.push(...parsed);
        else routines.push(parsed);
      }
      this.#snapshot = { routines, errors };
    }
    return this.#snapshot;
  }

  /** Stops watching. */
  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #ensureWatching(): void {
    if (this.#watcher) return;
    try {
      this.#watchedIno = statSync(this.dir).ino;
      const w = watch(this.dir, { persistent: false });
      w.on("change", (_event, filename) => {
        this.#stats.events++;
        if (filename === null || filename === undefined) {
          this.#stats.watchErrors++;
          this.#needFull = true;
        } else {
          const name = String(filename);
          if (name.endsWith(".md")) this.#dirty.add(name);
        }
      });
      w.on("error", () => {
        // The folder went away or the watch broke: list it on the next refresh and watch again.
        this.#stats.watchErrors++;
        this.#needFull = true;
        if (this.#watcher === w) this.#watcher = undefined;
        w.close();
      });
      this.#watcher = w;
    } catch {
      // No folder (yet): every refresh lists it until it can be watched.
      this.#needFull = true;
    }
  }

  /** Lists the folder and checks every file. @returns whether anything changed. */
  #fullCheck(): boolean {
    this.#stats.fullChecks++;
    let names: string[];
    try {
      if (this.#watcher && statSync(this.dir).ino !== this.#watchedIno) {
        // The folder was replaced: the watch is on the old one. Watch the new one from now on.
        this.#watcher.close();
        this.#watcher = undefined;
        this.#ensureWatching();
      }
      names = readdirSync(this.dir).filter((f) => f.endsWith(".md"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      // No folder: forget a watch on a removed one; each refresh looks again until it is back.
      this.#watcher?.close();
      this.#watcher = undefined;
      this.#needFull = true;
      names = [];
    }
    let changed = false;
    const present = new Set(names);
    for (const name of [...this.#files.keys()]) {
      if (!present.has(name)) {
        this.#files.delete(name);
        changed = true;
      }
    }
    for (const name of names) if (this.#checkFile(name)) changed = true;
    return changed;
  }

  /** Stats one file, re-reading it when its (mtime, size) changed. @returns whether it changed. */
  #checkFile(name: string): boolean {
    const file = join(this.dir, name);
    this.#stats.stats++;
    let st;
    try {
      st = statSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      return this.#files.delete(name);
    }
    if (!st.isFile()) return this.#files.delete(name);
    const cached = this.#files.get(name);
    if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return false;
    this.#stats.parses++;
    let parsed: Routine | ConfigError[];
    try {
      parsed = parseRoutine(file, readFileSync(file, "utf8"));
    } catch (err) {
      if (err instanceof ConfigErrors) parsed = err.errors;
      else {
        const shown = relative(process.cwd(), file) || file;
        parsed = [new ConfigError(shown, 1, 1, "", `cannot be read: ${(err as Error).message}`)];
      }
    }
    this.#files.set(name, { mtimeMs: st.mtimeMs, size: st.size, parsed });
    return true;
  }
}

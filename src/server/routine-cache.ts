import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadRoutines, PROJECT_DIR } from "../config/load.ts";
import type { Routine } from "../config/routine-schema.ts";

/**
 * The project's valid routines for the webhook receivers, which look at them on every
 * delivery. Each call still looks at the disk — the names in `.nightshift/routines/` and each
 * file's size, times and inode — so a routine file written, added, renamed or removed is seen
 * by the very next delivery; only when all of that is unchanged is the previous list handed
 * out again, without {@link loadRoutines}'s parsing checks and per-call copies.
 *
 * The list and its routines are shared between calls: read them, never change them.
 */
export class RoutineCache {
  readonly #root: string;
  readonly #dir: string;
  #signature: string | undefined;
  #routines: readonly Routine[] = [];

  /** @param root - the project root (the folder holding `.nightshift/`). */
  constructor(root: string) {
    this.#root = root;
    this.#dir = join(root, PROJECT_DIR, "routines");
  }

  /** The valid routines as the files are now (invalid files are left out, as by {@link loadRoutines}). */
  current(): readonly Routine[] {
    const signature = this.#signatureNow();
    if (signature !== this.#signature) {
      // Loaded after the signature was taken: a file changed in between is loaded in its new
      // form, and the next call (seeing a new signature) loads again.
      this.#routines = Object.freeze(loadRoutines(this.#root).routines);
      this.#signature = signature;
    }
    return this.#routines;
  }

  /** What identifies the routine files' current state: every name with its size, times and inode. */
  #signatureNow(): string {
    let names: string[];
    try {
      names = readdirSync(this.#dir);
    } catch {
      return "none";
    }
    let signature = "";
    for (const name of names) {
      if (!name.endsWith(".md")) continue;
      const st = statSync(join(this.#dir, name), { throwIfNoEntry: false });
      signature += st ? `${name}\0${st.size}\0${st.mtimeMs}\0${st.ctimeMs}\0${st.ino}\n` : `${name}\0gone\n`;
    }
    return signature;
  }
}

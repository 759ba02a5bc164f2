import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, realpathSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { ProjectConfig } from "./project-schema.ts";

/**
 * Checks of `.nightshift/config.yaml` that look at the disk rather than at the text: whether
 * `state_dir` is a folder nightshift can own, and whether `secrets_file` is kept safely.
 */

/** Folders that are never a state folder themselves (subfolders are fine: `/var/lib/nightshift`). */
const SYSTEM_FOLDERS = new Set([
  "/",
  "/usr",
  "/usr/local",
  "/var",
  "/tmp",
  "/var/tmp",
  "/home",
  "/root",
  "/opt",
  "/srv",
  "/mnt",
  "/media",
  "/run",
  "/Users",
  "/Volumes",
  "/private",
  "/private/tmp",
  "/private/var",
]);

/** System trees nightshift never writes in, at any depth (`/usr/src/…` and `/usr/local/src/…` stay usable). */
const SYSTEM_TREES = [
  "/etc",
  "/bin",
  "/sbin",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/boot",
  "/dev",
  "/proc",
  "/sys",
  ...["bin", "sbin", "lib", "lib32", "lib64", "libx32", "libexec", "share", "include"].map(
    (d) => `/usr/${d}`,
  ),
  ...["bin", "sbin", "lib", "libexec", "share", "include", "etc"].map((d) => `/usr/local/${d}`),
  "/System",
  "/Library",
];

/** The absolute state folder of a project: `state_dir`, relative to the project root unless absolute. */
export function stateDirPath(root: string, stateDir: string): string {
  return isAbsolute(stateDir) ? resolve(stateDir) : resolve(root, stateDir);
}

/** `path` with symlinks resolved as far as it exists (the missing tail appended as written). */
function realPathAsFar(path: string): string {
  let existing = path;
  const rest: string[] = [];
  while (!existsSync(existing)) {
    const parent = dirname(existing);
    if (parent === existing) break;
    rest.unshift(existing.slice(parent.length).replace(/^[/\\]/, ""));
    existing = parent;
  }
  try {
    return join(realpathSync(existing), ...rest);
  } catch {
    return path;
  }
}

const within = (path: string, tree: string) => path === tree || path.startsWith(tree + sep);

/**
 * Why `state_dir` cannot be nightshift's state folder, if it cannot: nightshift makes the folder
 * `0700` and keeps its store, the local forge and every session's workspace there, so it must
 * not be a system folder (`/etc`, `/bin`, `/sbin`, `/lib*`, `/boot`, `/dev`, `/proc`, `/sys`
 * and `/usr`'s program folders at any depth; `/`, `/usr`, `/var`, `/tmp`, `/home`, … as a
 * whole), the user's home, or a folder holding the project, and it must be the current user's
 * own, writable folder (or be creatable: its nearest existing parent writable).
 *
 * @returns one sentence saying what is wrong and how to fix it, or `undefined` when it is fine.
 */
export function stateDirProblem(root: string, stateDir: string): string | undefined {
  const path = stateDirPath(root, stateDir);
  const shown = path === stateDir ? path : `${stateDir} (${path})`;
  const fix = `choose a folder of your own, such as ".nightshift/state" (the default) or ${join(homedir(), ".local", "state", "nightshift", basename(resolve(root)))}`;
  for (const p of new Set([path, realPathAsFar(path)])) {
    if (SYSTEM_FOLDERS.has(p) || SYSTEM_TREES.some((t) => within(p, t))) {
      return `${shown} is a system folder; nightshift would make it private (0700) and fill it with its store and workspaces: ${fix}`;
    }
    if (p === resolve(homedir())) {
      return `${shown} is your home folder; nightshift would make it private (0700) and fill it with its store and workspaces: ${fix}`;
    }
    if (within(resolve(root), p) || within(realPathAsFar(resolve(root)), p)) {
      return `${shown} holds the project itself; the state folder must be a folder of its own, inside or outside the repository: ${fix}`;
    }
  }
  if (existsSync(path)) {
    const st = statSync(path);
    if (!st.isDirectory()) return `${shown} exists and is not a folder: ${fix}`;
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) {
      return `${shown} is owned by uid ${st.uid}, not by you (uid ${uid}); nightshift makes its state folder private (0700), so it must be your own: chown it, or ${fix}`;
    }
    try {
      accessSync(path, constants.W_OK | constants.X_OK);
    } catch {
      return `${shown} is not writable by you: chmod u+rwx it, or ${fix}`;
    }
    return undefined;
  }
  let parent = dirname(path);
  while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
  try {
    accessSync(parent, constants.W_OK | constants.X_OK);
  } catch {
    return `${shown} cannot be created: ${parent} is not writable by you; ${fix}`;
  }
  return undefined;
}

/** The absolute path of the project's `secrets_file` (`~/` is the home folder; relative to the project root). */
export function secretsFilePath(root: string, file: string): string {
  return file.startsWith("~/") ? join(homedir(), file.slice(2)) : isAbsolute(file) ? file : join(root, file);
}

/**
 * Warnings about where and how the project's `secrets_file` is kept: readable by the group or
 * by others (its mode), inside the repository (where a `git add -A` commits it), or committed
 * (then its secrets are in git history). None of them stops a session; each says how to fix it.
 *
 * @returns one sentence per problem; empty when there is no `secrets_file` or it is kept well.
 */
export function secretsFileWarnings(root: string, config: Pick<ProjectConfig, "secrets_file">): string[] {
  if (!config.secrets_file) return [];
  const path = secretsFilePath(root, config.secrets_file);
  const warnings: string[] = [];
  if (existsSync(path)) {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) {
      const by = (bits: number) =>
        [mode & (bits << 3) ? "its group" : "", mode & bits ? "every user" : ""]
          .filter(Boolean)
          .join(" and ");
      const what = [
        mode & 0o044 ? `read by ${by(0o004)}` : "",
        mode & 0o022 ? `changed by ${by(0o002)}` : "",
      ].filter(Boolean);
      warnings.push(
        `secrets_file ${path} can be ${what.join(" and ") || `used by ${by(0o007)}`} (mode 0${mode.toString(8)}); run: chmod 600 ${path}`,
      );
    }
  }
  const absRoot = resolve(root);
  const real = realPathAsFar(path);
  const inside = [path, real].find((p) => within(p, absRoot) || within(p, realPathAsFar(absRoot)));
  if (inside) {
    const rel = relative(within(inside, absRoot) ? absRoot : realPathAsFar(absRoot), inside);
    const tracked =
      spawnSync("git", ["--literal-pathspecs", "-C", absRoot, "ls-files", "--error-unmatch", "--", rel], {
        stdio: "ignore",
      }).status === 0;
    warnings.push(
      tracked
        ? `secrets_file ${rel} is committed to the repository: its secrets are in git history and in every clone, where agents can read them; rotate them, \`git rm --cached ${rel}\`, and keep the file outside the repository (such as ~/.config/nightshift/secrets.env)`
        : `secrets_file ${rel} is inside the repository, one \`git add\` away from being committed; keep it outside (such as ~/.config/nightshift/secrets.env) and point secrets_file there`,
    );
  }
  return warnings;
}

/**
 * The fake GitHub's repositories: real bare git repositories on disk. Mergeability, behind/
 * ahead counts, diff sizes and update-branch merges are all computed by git itself.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { git, GitError } from "../../../src/util/git.ts";

const IDENT = {
  GIT_AUTHOR_NAME: "Fake GitHub",
  GIT_AUTHOR_EMAIL: "noreply@github.invalid",
  GIT_COMMITTER_NAME: "GitHub",
  GIT_COMMITTER_EMAIL: "noreply@github.invalid",
};

/** What git says about a head branch against its base. */
export interface BranchAnalysis {
  baseSha: string;
  headSha: string;
  /** `git merge-tree --write-tree` exit status 0. */
  mergeable: boolean;
  /** Commits on base the head lacks (`rev-list --count head..base`). */
  behindBy: number;
  /** Commits on head the base lacks. */
  aheadBy: number;
  additions: number;
  deletions: number;
  changedFiles: number;
}

/** Runs at most `n` tasks at once (git processes, here). */
class Limiter {
  #active = 0;
  #queue: (() => void)[] = [];
  readonly #n: number;
  constructor(n: number) {
    this.#n = n;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#n) await new Promise<void>((r) => this.#queue.push(r));
    this.#active++;
    try {
      return await fn();
    } finally {
      this.#active--;
      this.#queue.shift()?.();
    }
  }
}

export class GitStore {
  readonly #limit = new Limiter(8);
  readonly #analyses = new Map<string, Promise<BranchAnalysis>>();

  /** `git` in `bare`, at most 8 at once. */
  git(bare: string, args: readonly string[], env?: Record<string, string>): Promise<string> {
    return this.#limit.run(() => git(bare, args, env ? { env } : {}));
  }

  async init(bare: string, defaultBranch: string, files: Record<string, string>): Promise<string> {
    mkdirSync(bare, { recursive: true });
    await git(bare, ["init", "--quiet", "--bare", `--initial-branch=${defaultBranch}`]);
    return this.commit(bare, defaultBranch, files, "Initial commit", { create: true });
  }

  /** Tips of every branch, one `for-each-ref`. */
  async branches(bare: string): Promise<Map<string, string>> {
    const out = await this.git(bare, [
      "for-each-ref",
      "--format=%(refname:short) %(objectname)",
      "refs/heads/",
    ]);
    const m = new Map<string, string>();
    for (const line of out.split("\n")) {
      const i = line.lastIndexOf(" ");
      if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
    }
    return m;
  }

  async branchSha(bare: string, branch: string): Promise<string | undefined> {
    try {
      return await this.git(bare, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`]);
    } catch (err) {
      if (err instanceof GitError) return undefined;
      throw err;
    }
  }

  /** Whether `oid` names a commit in the repository. */
  async hasCommit(bare: string, oid: string): Promise<boolean> {
    if (!/^[0-9a-f]{40}$/.test(oid)) return false;
    try {
      return (await this.git(bare, ["cat-file", "-t", oid])) === "commit";
    } catch (err) {
      if (err instanceof GitError) return false;
      throw err;
    }
  }

  /**
   * Commits `files` (path → content, `null` deletes) on `branch`, on top of its tip or of
   * `opts.from` (a branch or sha) when the branch is new. Uses a temporary index, so no
   * worktree is needed. Returns the new commit.
   */
  async commit(
    bare: string,
    branch: string,
    files: Record<string, string | null>,
    message: string,
    opts: { from?: string; create?: boolean } = {},
  ): Promise<string> {
    const tip = await this.branchSha(bare, branch);
    let parent = tip;
    if (!parent && !opts.create) {
      if (!opts.from) throw new Error(`fake GitHub: branch ${branch} does not exist; pass from`);
      parent = (await this.branchSha(bare, opts.from)) ?? opts.from;
    }
    const dir = mkdtempSync(join(tmpdir(), "fake-gh-index-"));
    const env = { ...IDENT, GIT_INDEX_FILE: join(dir, "index") };
    try {
      if (parent) await this.git(bare, ["read-tree", parent], env);
      for (const [path, content] of Object.entries(files)) {
        if (content === null) {
          await this.git(bare, ["update-index", "--force-remove", path], env);
        } else {
          const blob = await this.#hashObject(bare, content);
          await this.git(bare, ["update-index", "--add", "--cacheinfo", `100644,${blob},${path}`], env);
        }
      }
      const tree = await this.git(bare, ["write-tree"], env);
      const sha = await this.git(
        bare,
        ["commit-tree", tree, ...(parent ? ["-p", parent] : []), "-m", message],
        env,
      );
      await this.git(bare, ["update-ref", `refs/heads/${branch}`, sha, ...(tip ? [tip] : [])]);
      return sha;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  #hashObject(bare: string, content: string): Promise<string> {
    return this.#limit.run(() => runWithInput(bare, ["hash-object", "-w", "--stdin"], content));
  }

  /**
   * Mergeability (merge-tree), behind/ahead (rev-list) and diff size (numstat of base...head),
   * memoised per (base, head) commit pair. Pairs asked for in the same tick are analysed by
   * one shell running the git commands in a loop (spawning git from Node costs more than git).
   */
  analyse(bare: string, baseSha: string, headSha: string): Promise<BranchAnalysis> {
    const key = `${bare}:${baseSha}:${headSha}`;
    let p = this.#analyses.get(key);
    if (!p) {
      p = new Promise<BranchAnalysis>((resolve, reject) => {
        this.#pending.push({ bare, baseSha, headSha, resolve, reject });
      });
      this.#analyses.set(key, p);
      p.catch(() => this.#analyses.delete(key));
      if (this.#pending.length === 1) setImmediate(() => this.#flush());
    }
    return p;
  }

  #pending: {
    bare: string;
    baseSha: string;
    headSha: string;
    resolve: (a: BranchAnalysis) => void;
    reject: (e: unknown) => void;
  }[] = [];

  #flush(): void {
    const all = this.#pending.splice(0);
    const byRepo = new Map<string, typeof all>();
    for (const p of all) {
      let l = byRepo.get(p.bare);
      if (!l) byRepo.set(p.bare, (l = []));
      l.push(p);
    }
    for (const [bare, pairs] of byRepo) {
      // A few shells side by side: the machine's cores share the git work.
      const size = Math.max(10, Math.ceil(pairs.length / 4));
      for (let i = 0; i < pairs.length; i += size) {
        const batch = pairs.slice(i, i + size);
        this.#limit
          .run(() => this.#analyseBatch(bare, batch))
          .then(
            (results) => batch.forEach((p, k) => p.resolve(results[k]!)),
            (err: unknown) => batch.forEach((p) => p.reject(err)),
          );
      }
    }
  }

  async #analyseBatch(
    bare: string,
    pairs: { baseSha: string; headSha: string }[],
  ): Promise<BranchAnalysis[]> {
    for (const p of pairs) {
      if (!/^[0-9a-f]{40}$/.test(p.baseSha) || !/^[0-9a-f]{40}$/.test(p.headSha)) {
        throw new Error(`fake GitHub: not a commit sha: ${p.baseSha} / ${p.headSha}`);
      }
    }
    const script = pairs
      .map(
        ({ baseSha: b, headSha: h }) =>
          `git merge-tree --write-tree --no-messages ${h} ${b} >/dev/null 2>&1; echo "$?"\n` +
          `git rev-list --left-right --count ${b}...${h} || echo ERR\n` +
          `{ git diff --numstat ${b}...${h} || echo ERR; } | awk '/^ERR$/ {e=1} {n++; if ($1 != "-") {a += $1; d += $2}} END {if (e) print "ERR"; else print a+0, d+0, n+0}'\n`,
      )
      .join("");
    const out = (await runWithInput(bare, ["-s"], script, "sh")).split("\n");
    return pairs.map((p, k) => {
      const [code, counts, stat] = out.slice(k * 3, k * 3 + 3);
      if ((code !== "0" && code !== "1") || counts === "ERR" || stat === "ERR") {
        throw new Error(
          `fake GitHub: analysing ${p.baseSha}...${p.headSha} in ${bare} failed (merge-tree exit ${code})`,
        );
      }
      const [behind, ahead] = (counts ?? "").split(/\s+/).map(Number);
      const [additions, deletions, changedFiles] = (stat ?? "").split(" ").map(Number);
      return {
        baseSha: p.baseSha,
        headSha: p.headSha,
        mergeable: code === "0",
        behindBy: behind ?? 0,
        aheadBy: ahead ?? 0,
        additions: additions ?? 0,
        deletions: deletions ?? 0,
        changedFiles: changedFiles ?? 0,
      };
    });
  }

  /** The merged tree of `ours` and `theirs`, or null when they conflict (`merge-tree` exit 1). */
  async mergeTree(bare: string, ours: string, theirs: string): Promise<string | null> {
    try {
      const out = await this.git(bare, ["merge-tree", "--write-tree", "--no-messages", ours, theirs]);
      return out.split("\n")[0]!;
    } catch (err) {
      if (err instanceof GitError && err.exitCode === 1) return null;
      throw err;
    }
  }

  /** `git diff base...head`, the form GitHub's diff media type has. */
  diff(bare: string, baseSha: string, headSha: string): Promise<string> {
    return this.git(bare, ["diff", "--no-color", "--full-index", `${baseSha}...${headSha}`]).then((d) =>
      d ? `${d}\n` : "",
    );
  }

  /**
   * Merges `baseBranch` into `headBranch` as GitHub's update-branch does: a merge commit
   * "Merge branch 'base' into head" whose first parent is the head; the ref moves only if it
   * still points at `headSha` (compare-and-swap).
   */
  async mergeInto(
    bare: string,
    headBranch: string,
    headSha: string,
    baseBranch: string,
    baseSha: string,
  ): Promise<{ sha: string } | { conflict: true } | { moved: true }> {
    const tree = await this.mergeTree(bare, headSha, baseSha);
    if (tree === null) return { conflict: true };
    const sha = await this.git(
      bare,
      [
        "commit-tree",
        tree,
        "-p",
        headSha,
        "-p",
        baseSha,
        "-m",
        `Merge branch '${baseBranch}' into ${headBranch}`,
      ],
      IDENT,
    );
    try {
      await this.git(bare, ["update-ref", `refs/heads/${headBranch}`, sha, headSha]);
    } catch (err) {
      if (err instanceof GitError) return { moved: true };
      throw err;
    }
    return { sha };
  }

  /**
   * Creates many branches at once with `git fast-import`: branch `names[i]` gets one commit on
   * top of `fromSha` that writes `files[i]`. Returns each branch's tip. 500 branches take well
   * under a second.
   */
  async fastBranches(
    bare: string,
    fromSha: string,
    branches: { name: string; files: Record<string, string>; message: string }[],
    time: number,
  ): Promise<Map<string, string>> {
    const chunks: string[] = [];
    const data = (s: string) => `data ${Buffer.byteLength(s)}\n${s}\n`;
    const when = `${Math.floor(time / 1000)} +0000`;
    for (const b of branches) {
      chunks.push(`commit refs/heads/${b.name}\n`);
      chunks.push(`author ${IDENT.GIT_AUTHOR_NAME} <${IDENT.GIT_AUTHOR_EMAIL}> ${when}\n`);
      chunks.push(`committer ${IDENT.GIT_AUTHOR_NAME} <${IDENT.GIT_AUTHOR_EMAIL}> ${when}\n`);
      chunks.push(data(b.message));
      chunks.push(`from ${fromSha}\n`);
      for (const [path, content] of Object.entries(b.files)) {
        chunks.push(`M 100644 inline ${path}\n`);
        chunks.push(data(content));
      }
      chunks.push("\n");
    }
    await runWithInput(bare, ["fast-import", "--quiet", "--force"], chunks.join(""));
    const tips = await this.branches(bare);
    const out = new Map<string, string>();
    for (const b of branches) out.set(b.name, tips.get(b.name)!);
    return out;
  }
}

/** `git <args>` in `cwd` with `input` on stdin; resolves stdout without the final newline. */
function runWithInput(cwd: string, args: readonly string[], input: string, command = "git"): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(out.replace(/\n$/, ""));
      else reject(new GitError(args, cwd, err, code ?? undefined));
    });
    child.stdin.end(input);
  });
}

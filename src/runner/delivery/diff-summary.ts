import { runnerGit, type RunnerRepo } from "../workspace/runner-git.ts";

/** Size of a change: per file and in total (lines). Binary files count 0 lines. */
export interface DiffSummary {
  files: { path: string; insertions: number; deletions: number }[];
  filesChanged: number;
  insertions: number;
  deletions: number;
}

/**
 * Summarises `git diff --numstat base head` in the runner's git dir of a workspace (no
 * external diff, no textconv: see runner-git.ts).
 */
export async function diffSummary(repo: RunnerRepo, base: string, head: string): Promise<DiffSummary> {
  const out = await runnerGit(repo, [
    "diff",
    "--numstat",
    "--no-renames",
    "--no-ext-diff",
    "--no-textconv",
    "-z",
    base,
    head,
  ]);
  // -z: "<ins>\t<del>\t<path>\0" per file, paths verbatim (no quoting).
  const files = out
    .split("\0")
    .filter(Boolean)
    .map((line) => {
      const [ins, del, ...rest] = line.split("\t");
      return { path: rest.join("\t"), insertions: Number(ins) || 0, deletions: Number(del) || 0 };
    });
  return {
    files,
    filesChanged: files.length,
    insertions: files.reduce((s, f) => s + f.insertions, 0),
    deletions: files.reduce((s, f) => s + f.deletions, 0),
  };
}

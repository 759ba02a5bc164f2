import { workspaceGit } from "./workspace-git.ts";

/** Size of a change: per file and in total (lines). Binary files count 0 lines. */
export interface DiffSummary {
  files: { path: string; insertions: number; deletions: number }[];
  filesChanged: number;
  insertions: number;
  deletions: number;
}

/** Summarises `git diff --numstat base head` in a workspace. */
export async function diffSummary(path: string, base: string, head: string): Promise<DiffSummary> {
  const out = await workspaceGit(path, ["diff", "--numstat", "--no-renames", base, head]);
  const files = out
    .split("\n")
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

import type { Routine } from "../../config/routine-schema.ts";
import type { Workflow } from "../../config/deque-schema.ts";
import { type Issue, NIGHTSHIFT_AUTHOR, type PullRequest } from "../../forge/types.ts";
import type { Project } from "../../project.ts";
import { runSession } from "../../runner/session.ts";
import type { SessionRow } from "../../store/schema.ts";
import { updateSession } from "../../store/sessions.ts";
import { lastEventOfKind } from "../../store/transcript.ts";
import type { DequeRunOptions } from "../run-result.ts";
import { readLedger } from "../ledger.ts";
import { judgePrompt, parseVerdict, type Verdict } from "./rubric.ts";
import { claimedFiles, judgeRules, protectedFilesOf } from "./rules.ts";

/** Starts nightshift's judge comments, so the next judge can tell whether it already said the same. */
export const JUDGE_MARKER = "<!-- nightshift:judge";

/** The first line of a judge comment: the marker and the head it judged. */
function judgeMarker(headSha: string): string {
  return `${JUDGE_MARKER} head=${headSha} -->`;
}

/** The head SHA the latest judge comment among `comments` judged, if any. */
export function lastJudgedHead(comments: readonly { body: string }[]): string | undefined {
  const last = comments.filter((c) => c.body.startsWith(JUDGE_MARKER)).at(-1);
  return last ? /head=([0-9a-f]+)/.exec(last.body.split("\n")[0]!)?.[1] : undefined;
}

/** What the judge decided about one PR and what it did. */
export interface JudgeOutcome {
  verdict: Verdict;
  /** `rules`: kept by the deterministic checks, no model asked; `model`: the judge session's verdict. */
  by: "rules" | "model";
  /** The judge's own session, when a model was asked. */
  session?: SessionRow;
}

/**
 * Judges a draft PR after a PR agent's session:
 * 1. rule checks (src/deque/judge/rules.ts) on fresh status: failing or pending checks,
 *    conflicts, protected paths (`protected_paths` and `.nightshift/**`, whoever opened the
 *    PR), claimed-but-absent files, back-pressure → `keep`, no model;
 * 2. otherwise a separate agent session (the routine's agent, `workflow.judge.model` or the
 *    routine's model, no tools, no delivery) with the fixed rubric; its last message must be a
 *    JSON verdict (anything else is `keep`);
 * 3. `promote` marks the PR ready for review — unless, read again just before, its head moved
 *    or its diff touches a protected path (then `keep`, with that reason); `close` closes it with the reasons and comments
 *    on the issue with a link to the failed attempt, leaving the issue open; `keep` leaves a
 *    note for the next PR agent unless the last judge note said the same.
 *
 * @throws {ForgeError} when the forge refuses an action.
 */
export async function runJudge(
  project: Project,
  routine: Routine,
  workflow: Workflow,
  p: {
    pr: PullRequest;
    issue?: Issue;
    /** The PR agent's session just before, if one ran: its final message's claims are checked. */
    agentSession?: SessionRow;
    opts?: DequeRunOptions;
  },
): Promise<JudgeOutcome> {
  const forge = project.forge;
  const repo = p.pr.repo;
  await forge.runPendingChecks?.(repo);
  const [status] = await forge.listPullRequestStatuses(repo, { numbers: [p.pr.number] });
  if (!status) {
    const verdict: Verdict = { verdict: "keep", reasons: ["the pull request is no longer open"] };
    return { verdict, by: "rules" };
  }
  const diff = await forge.pullRequestDiff(repo, p.pr.number);
  const diffFiles = filesOfDiff(diff);
  const ledger = await readLedger(forge, repo, routine.branch_prefix, { closed: false });
  const summary = p.agentSession ? await lastAgentMessage(project, p.agentSession.id) : "";
  const reasons = judgeRules({
    status,
    diffFiles,
    claimed: claimedFiles(summary),
    protectedPaths: project.config.protected_paths,
    readyCount: ledger.ready.length,
    maxReady: project.config.deque.max_ready_prs,
  });
  if (reasons.length) {
    const verdict: Verdict = { verdict: "keep", reasons };
    await apply(project, p.pr, p.issue, verdict, undefined, status.headSha);
    return { verdict, by: "rules" };
  }
  const judgeRoutine: Routine = {
    ...routine,
    ...(workflow.judge !== false && workflow.judge.model ? { model: workflow.judge.model } : {}),
    allowed_tools: [],
    max_turns: 1,
  };
  const o = p.opts ?? {};
  const session = await runSession(project, {
    routine: judgeRoutine,
    trigger: "judge",
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.hostEnv ? { hostEnv: o.hostEnv } : {}),
    ...(o.onEvent ? { onEvent: o.onEvent } : {}),
    onCreated: (id) => o.onCreated?.(id),
    work: {
      prompt: judgePrompt({ pr: p.pr, ...(p.issue ? { issue: p.issue } : {}), diff, checks: status.checks }),
      deliver: false,
      setup: false,
      pullRequest: { number: p.pr.number, head: p.pr.head, headSha: status.headSha },
    },
  });
  let verdict: Verdict =
    session.state === "succeeded"
      ? parseVerdict(await lastAgentMessage(project, session.id))
      : {
          verdict: "keep",
          reasons: [`the judge session ${session.state}: ${session.reason ?? "no verdict"}`],
        };
  if (verdict.verdict === "promote") {
    // The model took time: promote only the head that was judged, and never one that now
    // touches a protected path (a push may have landed meanwhile).
    const blockers = await promotionBlockers(project, repo, p.pr.number, status.headSha);
    if (blockers.length) {
      verdict = { verdict: "keep", reasons: blockers };
    }
  }
  await apply(project, p.pr, p.issue, verdict, session.id, status.headSha);
  await updateSession(project.store.db, session.id, {
    task_outcome: `judged_${verdict.verdict}`,
    pr_number: p.pr.number,
  });
  return { verdict, by: "model", session: { ...session, task_outcome: `judged_${verdict.verdict}` } };
}

/**
 * Why a PR the model wants promoted must stay a draft after all, read fresh from the forge:
 * its head moved since it was judged, or its diff now touches a protected path.
 */
async function promotionBlockers(
  project: Project,
  repo: string,
  number: number,
  judgedHead: string,
): Promise<string[]> {
  const [now] = await project.forge.listPullRequestStatuses(repo, { numbers: [number] });
  if (!now) return ["the pull request is no longer open"];
  if (now.headSha !== judgedHead)
    return [
      `its head moved from ${judgedHead.slice(0, 12)} to ${now.headSha.slice(0, 12)} while the judge ran; the next run judges the new head`,
    ];
  const touched = protectedFilesOf(
    filesOfDiff(await project.forge.pullRequestDiff(repo, number)),
    project.config.protected_paths,
  );
  return touched.length ? [`it changes protected paths: ${touched.join(", ")}`] : [];
}

async function apply(
  project: Project,
  pr: PullRequest,
  issue: Issue | undefined,
  verdict: Verdict,
  judgeSession: string | undefined,
  headSha: string,
): Promise<void> {
  const marker = judgeMarker(headSha);
  const forge = project.forge;
  const repo = pr.repo;
  const list = verdict.reasons.map((r) => `- ${r}`).join("\n");
  const by = judgeSession ? ` (judge session \`${judgeSession}\`)` : " (rule checks)";
  if (verdict.verdict === "promote") {
    await forge.setDraft(repo, pr.number, false);
    await forge.addComment(repo, pr.number, {
      author: NIGHTSHIFT_AUTHOR,
      body: `${marker}\n**Ready for review**${by}:\n${list}`,
    });
  } else if (verdict.verdict === "close") {
    await forge.addComment(repo, pr.number, {
      author: NIGHTSHIFT_AUTHOR,
      body: `${marker}\n**Closed as misaligned**${by}:\n${list}${issue ? `\n\nThe issue #${issue.number} stays open for another attempt.` : ""}`,
    });
    await forge.closePullRequest(repo, pr.number);
    if (issue) {
      await forge.addComment(repo, issue.number, {
        author: NIGHTSHIFT_AUTHOR,
        body: `${marker}\nAn attempt at this issue, PR #${pr.number} (${pr.head}), was closed by the judge:\n${list}\n\nThe issue stays open; the next attempt will see this one.`,
      });
    }
  } else {
    const body = `${marker}\n**Kept as draft**${by}:\n${list}`;
    const last = (await forge.listComments(repo, pr.number))
      .filter((c) => c.body.startsWith(JUDGE_MARKER))
      .at(-1);
    if (!last || stripSession(last.body) !== stripSession(body)) {
      await forge.addComment(repo, pr.number, { author: NIGHTSHIFT_AUTHOR, body });
    }
  }
}

/** The judge's note without the session id, to compare two notes (same head, same reasons). */
function stripSession(body: string): string {
  return body.replace(/ \(judge session `[^`]+`\)| \(rule checks\)/, "");
}

/**
 * The paths a unified diff (`git diff`, GitHub's `.diff`) touches: both sides of renames and
 * copies, binary files and mode changes included. Paths git quotes (`"a/caf\303\251.md"`, a tab
 * or a quote in the name) are unquoted, and a header whose two sides are the same path is split
 * exactly even when the path contains " b/", so no file escapes the protected-path rule by its
 * name.
 */
export function filesOfDiff(diff: string): string[] {
  const files = new Set<string>();
  const add = (raw: string | undefined, side: "a/" | "b/") => {
    if (raw === undefined) return;
    const path = raw.startsWith('"') ? unquoteGitPath(raw) : raw;
    if (path === undefined || path === "/dev/null") return;
    files.add(path.startsWith(side) ? path.slice(2) : path);
  };
  let inHeader = false;
  for (const line of diff.split("\n")) {
    if (line.startsWith("diff --git ")) {
      inHeader = true;
      const rest = line.slice("diff --git ".length);
      if (rest.startsWith('"') || rest.endsWith('"')) {
        const [a, b] = splitQuotedPair(rest);
        add(a, "a/");
        add(b, "b/");
      } else {
        const half = (rest.length - 1) / 2;
        if (Number.isInteger(half) && rest.slice(2, half) === rest.slice(half + 3) && rest[half] === " ") {
          add(rest.slice(0, half), "a/");
        } else {
          const m = /^a\/(.+?) b\/(.+)$/.exec(rest);
          if (m) {
            files.add(m[1]!);
            files.add(m[2]!);
          }
        }
      }
      continue;
    }
    if (!inHeader) continue;
    if (line.startsWith("@@")) {
      inHeader = false;
      continue;
    }
    const m = /^(rename from|rename to|copy from|copy to|---|\+\+\+) (.+)$/.exec(line);
    if (!m) continue;
    if (m[1] === "---") add(m[2]!.replace(/\t.*$/, ""), "a/");
    else if (m[1] === "+++") add(m[2]!.replace(/\t.*$/, ""), "b/");
    else add(m[2]!, m[1]!.endsWith("from") ? "a/" : "b/");
  }
  files.delete("");
  return [...files];
}

/** Splits `"a/x" "b/y"`, `a/x "b/y"` or `"a/x" b/y` (a `diff --git` header with quoting) into its two paths. */
function splitQuotedPair(rest: string): [string | undefined, string | undefined] {
  const first = rest.startsWith('"') ? /^"(?:[^"\\]|\\.)*"/.exec(rest)?.[0] : rest.split(" ")[0];
  if (first === undefined) return [undefined, undefined];
  return [first, rest.slice(first.length + 1)];
}

const C_ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, "\\": 92 };

/** A path as git quotes it (`"…"` with C escapes and octal bytes), unquoted; `undefined` when malformed. */
function unquoteGitPath(quoted: string): string | undefined {
  if (!quoted.startsWith('"') || !quoted.endsWith('"') || quoted.length < 2) return undefined;
  const body = quoted.slice(1, -1);
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== "\\") {
      bytes.push(...Buffer.from(c, "utf8"));
      continue;
    }
    const next = body[++i];
    if (next === undefined) return undefined;
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else if (next in C_ESCAPES) bytes.push(C_ESCAPES[next]!);
    else return undefined;
  }
  return Buffer.from(bytes).toString("utf8");
}

/** The agent's final message in a session's transcript (its `result` event's text). */
async function lastAgentMessage(project: Project, sessionId: string): Promise<string> {
  const ev = await lastEventOfKind<{ text?: string }>(project.store.db, sessionId, "result");
  return ev?.data.text ?? "";
}

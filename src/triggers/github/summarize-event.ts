import { dig, labelNames, str } from "./event-fields.ts";

/** Limits of the summary, in UTF-16 code units (JavaScript string length). */
const LIMITS = {
  /** Titles, names, branch names: one line each. */
  line: 200,
  /** Pull request / issue / release bodies and check run output summaries. */
  body: 2000,
  /** Comment and review bodies: what the agent is usually asked to act on. */
  comment: 4000,
  /** Commits listed for a push. */
  commits: 20,
} as const;

/** `text` cut to `max` code units without splitting a surrogate pair. */
function cut(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return { text: text.slice(0, end), truncated: true };
}

/** One line of untrusted text: control characters and line breaks become spaces; cut to `max`. */
function oneLine(text: string, max: number = LIMITS.line): string {
  const flat = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ").trim();
  const c = cut(flat, max);
  return c.truncated ? `${c.text}… (truncated to ${max} of ${flat.length} characters)` : c.text;
}

/** Inline code that survives backticks inside (CommonMark: a longer backtick fence). */
function code(text: string): string {
  const t = oneLine(text);
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((r) => r.length));
  const fence = "`".repeat(longest + 1);
  const pad = t.startsWith("`") || t.endsWith("`") ? " " : "";
  return `${fence}${pad}${t}${pad}${fence}`;
}

/** A fenced block of untrusted text, labelled with who wrote it and whether it was cut. */
function block(label: string, text: string, max: number): string[] {
  const c = cut(text.replace(/\r\n?/g, "\n"), max);
  const note = c.truncated ? ` (truncated: first ${max} of ${text.length} characters)` : "";
  const longest = Math.max(0, ...(c.text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return [`${label}${note}:`, "", `${fence}text`, c.text, fence];
}

const user = (login: string | undefined) => (login ? `@${oneLine(login, 60)}` : "(unknown)");
const yesNo = (v: unknown) => (v === true ? "yes" : v === false ? "no" : "unknown");
/** `; name: yes|no`, or nothing when the payload does not say. */
const flag = (name: string, v: unknown) => (typeof v === "boolean" ? `; ${name}: ${yesNo(v)}` : "");

/** `#2 "Title"` and the URL, for pull requests and issues. */
function itemLine(kind: string, item: unknown): string {
  const n = dig(item, "number");
  const title = str(item, "title");
  const url = str(item, "html_url");
  return `- ${kind}: #${typeof n === "number" ? n : "?"}${title !== undefined ? ` "${oneLine(title)}"` : ""}${url ? ` — ${oneLine(url, 400)}` : ""}`;
}

function labelsLine(payload: unknown, path: string): string[] {
  const labels = labelNames(payload, path);
  return labels && labels.length > 0 ? [`- Labels: ${labels.map((l) => code(l)).join(", ")}`] : [];
}

function bodyBlock(payload: unknown, path: string, authorPath: string, max: number, what: string): string[] {
  const body = str(payload, path);
  if (!body || body.trim() === "") return [];
  const source = authorPath.endsWith(".login")
    ? `written by ${user(str(payload, authorPath))}`
    : `from ${oneLine(str(payload, authorPath) ?? "unknown", 80)}`;
  return ["", ...block(`${what} (${source})`, body, max)];
}

function pullRequestLines(payload: unknown): string[] {
  const pr = dig(payload, "pull_request");
  return [
    itemLine("Pull request", pr),
    `- Author: ${user(str(pr, "user.login"))}`,
    `- Base ← head: ${code(str(pr, "base.ref") ?? "?")} ← ${code(str(pr, "head.ref") ?? "?")}${str(pr, "head.sha") ? ` (head ${code(str(pr, "head.sha")!.slice(0, 12))})` : ""}`,
    `- State: ${oneLine(str(pr, "state") ?? "unknown", 40)}${flag("draft", dig(pr, "draft"))}${flag("merged", dig(pr, "merged"))}`,
    ...labelsLine(payload, "pull_request.labels"),
  ];
}

function issueLines(payload: unknown): string[] {
  const issue = dig(payload, "issue");
  const isPr = dig(issue, "pull_request") !== undefined;
  return [
    itemLine(isPr ? "Pull request (as an issue)" : "Issue", issue),
    `- Author: ${user(str(issue, "user.login"))}`,
    `- State: ${oneLine(str(issue, "state") ?? "unknown", 40)}`,
    ...labelsLine(payload, "issue.labels"),
  ];
}

function checkPrs(payload: unknown, path: string): string[] {
  const prs = dig(payload, path);
  if (!Array.isArray(prs) || prs.length === 0) return ["- Pull requests: none associated"];
  const list = prs.map(
    (pr) =>
      `#${dig(pr, "number") ?? "?"} (${code(str(pr, "base.ref") ?? "?")} ← ${code(str(pr, "head.ref") ?? "?")})`,
  );
  return [`- Pull requests: ${list.join(", ")}`];
}

function pushLines(payload: unknown): string[] {
  const ref = str(payload, "ref") ?? "?";
  const lines = [
    `- Ref: ${code(ref)}${dig(payload, "created") === true ? " (created)" : ""}${dig(payload, "deleted") === true ? " (deleted)" : ""}${dig(payload, "forced") === true ? " (force-push)" : ""}`,
    `- Before → after: ${code((str(payload, "before") ?? "?").slice(0, 12))} → ${code((str(payload, "after") ?? "?").slice(0, 12))}`,
    `- Pusher: ${user(str(payload, "sender.login") ?? str(payload, "pusher.name"))}`,
  ];
  const compare = str(payload, "compare");
  if (compare) lines.push(`- Compare: ${oneLine(compare, 400)}`);
  const commits = dig(payload, "commits");
  if (!Array.isArray(commits) || commits.length === 0) return [...lines, "- Commits: none"];
  const shown = commits.slice(0, LIMITS.commits);
  lines.push(
    `- Commits (${commits.length}${commits.length > shown.length ? `, first ${shown.length} shown` : ""}; first line of each message):`,
  );
  for (const c of shown) {
    const message = str(c, "message") ?? "";
    const [first = "", ...rest] = message.split(/\r?\n/);
    const more = rest.filter((l) => l.trim() !== "").length;
    const author = str(c, "author.username") ?? str(c, "author.name");
    lines.push(
      `  - ${code((str(c, "id") ?? "?").slice(0, 7))} ${oneLine(first)}${more > 0 ? ` (+${more} more line${more === 1 ? "" : "s"} not shown)` : ""}${author ? ` — ${oneLine(author, 60)}` : ""}`,
    );
  }
  if (commits.length > shown.length)
    lines.push(`  - … ${commits.length - shown.length} more commits not shown`);
  return lines;
}

/** The lines specific to one event, after the common header. */
function eventLines(eventName: string, payload: unknown): string[] {
  switch (eventName) {
    case "pull_request":
      return [
        ...pullRequestLines(payload),
        ...(str(payload, "label.name")
          ? [`- Label in this event: ${code(str(payload, "label.name")!)}`]
          : []),
        ...bodyBlock(payload, "pull_request.body", "pull_request.user.login", LIMITS.body, "Description"),
      ];
    case "pull_request_review":
      return [
        ...pullRequestLines(payload),
        `- Review: ${oneLine(str(payload, "review.state") ?? "?", 40)} by ${user(str(payload, "review.user.login"))}${str(payload, "review.html_url") ? ` — ${oneLine(str(payload, "review.html_url")!, 400)}` : ""}`,
        ...bodyBlock(payload, "review.body", "review.user.login", LIMITS.comment, "Review"),
      ];
    case "pull_request_review_comment": {
      const line = dig(payload, "comment.line") ?? dig(payload, "comment.original_line");
      return [
        ...pullRequestLines(payload),
        `- Comment by ${user(str(payload, "comment.user.login"))} on ${code(str(payload, "comment.path") ?? "?")}${typeof line === "number" ? ` line ${line}` : ""}${str(payload, "comment.html_url") ? ` — ${oneLine(str(payload, "comment.html_url")!, 400)}` : ""}`,
        ...bodyBlock(payload, "comment.body", "comment.user.login", LIMITS.comment, "Comment"),
      ];
    }
    case "issues":
      return [
        ...issueLines(payload),
        ...(str(payload, "label.name")
          ? [`- Label in this event: ${code(str(payload, "label.name")!)}`]
          : []),
        ...bodyBlock(payload, "issue.body", "issue.user.login", LIMITS.body, "Description"),
      ];
    case "issue_comment":
      return [
        ...issueLines(payload),
        `- Comment by ${user(str(payload, "comment.user.login"))}${str(payload, "comment.html_url") ? ` — ${oneLine(str(payload, "comment.html_url")!, 400)}` : ""}`,
        ...bodyBlock(payload, "comment.body", "comment.user.login", LIMITS.comment, "Comment"),
      ];
    case "release": {
      const name = str(payload, "release.name");
      return [
        `- Release: ${code(str(payload, "release.tag_name") ?? "?")}${name ? ` "${oneLine(name)}"` : ""}${str(payload, "release.html_url") ? ` — ${oneLine(str(payload, "release.html_url")!, 400)}` : ""}`,
        `- Author: ${user(str(payload, "release.author.login"))}; target: ${code(str(payload, "release.target_commitish") ?? "?")}`,
        `- Draft: ${yesNo(dig(payload, "release.draft"))}; prerelease: ${yesNo(dig(payload, "release.prerelease"))}`,
        ...bodyBlock(payload, "release.body", "release.author.login", LIMITS.body, "Release notes"),
      ];
    }
    case "check_run":
      return [
        `- Check run: ${code(str(payload, "check_run.name") ?? "?")}${str(payload, "check_run.html_url") ? ` — ${oneLine(str(payload, "check_run.html_url")!, 400)}` : ""}`,
        `- Status: ${oneLine(str(payload, "check_run.status") ?? "?", 40)}; conclusion: ${oneLine(str(payload, "check_run.conclusion") ?? "none yet", 40)}`,
        `- Head: ${code(str(payload, "check_run.check_suite.head_branch") ?? "?")} at ${code((str(payload, "check_run.head_sha") ?? "?").slice(0, 12))}`,
        ...(str(payload, "check_run.app.name")
          ? [`- App: ${oneLine(str(payload, "check_run.app.name")!, 80)}`]
          : []),
        ...checkPrs(payload, "check_run.pull_requests"),
        ...(str(payload, "check_run.output.title")
          ? [`- Output title: ${oneLine(str(payload, "check_run.output.title")!)}`]
          : []),
        ...bodyBlock(
          payload,
          "check_run.output.summary",
          "check_run.app.name",
          LIMITS.body,
          "Output summary",
        ),
      ];
    case "check_suite":
      return [
        `- Check suite: ${oneLine(str(payload, "check_suite.app.name") ?? "?", 80)}`,
        `- Status: ${oneLine(str(payload, "check_suite.status") ?? "?", 40)}; conclusion: ${oneLine(str(payload, "check_suite.conclusion") ?? "none yet", 40)}`,
        `- Head: ${code(str(payload, "check_suite.head_branch") ?? "?")} at ${code((str(payload, "check_suite.head_sha") ?? "?").slice(0, 12))}`,
        ...checkPrs(payload, "check_suite.pull_requests"),
      ];
    case "push":
      return pushLines(payload);
    default:
      return [];
  }
}

/**
 * A short Markdown summary of a GitHub delivery, given to the agent as the run's context.
 *
 * It names the event and action, the delivery id, the repository and sender, then what the
 * event is about: the item's number, title, URL and author, base and head branches, labels,
 * draft and merged state; the comment or review text for comment events; name, status and
 * conclusion for check runs and suites; the ref and commit messages (first lines) for a push.
 * Unknown events get the common header only.
 *
 * Text written by people (bodies, comments) is put in fenced blocks labelled with its author,
 * so the agent can tell data from instructions; titles and names are flattened to one line.
 * Long texts are cut and the cut is stated: titles at 200 characters, bodies at 2,000,
 * comments and reviews at 4,000, pushes at 20 commits. Never throws on a malformed payload.
 *
 * @param eventName - the `X-GitHub-Event` header.
 * @param deliveryId - the `X-GitHub-Delivery` header (a GUID).
 * @param payload - the parsed JSON body.
 * @returns Markdown, starting with a `###` heading.
 */
export function summarizeGithubEvent(eventName: string, deliveryId: string, payload: unknown): string {
  const action = str(payload, "action");
  const repo = str(payload, "repository.full_name");
  const lines = [
    `### GitHub ${code(eventName)}${action ? ` · ${code(action)}` : ""}`,
    "",
    `- Delivery: ${code(deliveryId)}`,
    `- Repository: ${repo ? oneLine(repo) : "(unknown)"}`,
    `- Sender: ${user(str(payload, "sender.login"))}`,
    ...eventLines(eventName, payload),
  ];
  return `${lines.join("\n")}\n`;
}

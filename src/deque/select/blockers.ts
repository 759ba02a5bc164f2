import { itemKey, type QueueItem } from "./item.ts";

/**
 * Blocker references found in an item's text (see {@link parseBlockers}). Issue numbers are
 * unique and ascending.
 */
export interface ParsedBlockers {
  /** Items this one is blocked by (depends on, requires, needs, is waiting on). */
  blockedBy: number[];
  /** Items this one blocks (the reverse edge, GitHub's "blocks #n"). */
  blocks: number[];
}

/** The phrases {@link parseBlockers} recognises, for documentation, help text and tests. */
export const BLOCKER_PHRASES = {
  blockedBy: [
    "blocked by",
    "blocked-by",
    "depends on",
    "depends-on",
    "requires",
    "needs",
    "waiting on",
    "waiting-on",
  ],
  blocks: ["blocks"],
} as const;

const KEYWORD_RE =
  /(?<![\w-])(blocked(?:[ \t]+|-)by|depends(?:[ \t]+|-)on|requires|needs|waiting(?:[ \t]+|-)on|blocks)(?![\w-])[ \t*_]*:?[ \t*_]*/gi;

/** One reference: `#12`, `owner/name#12` or a URL `https://host/owner/name/issues/12` (or `/pull/12`). */
const REF_RE =
  /(?:(?:the[ \t]+)?(?:issues?|prs?|pull[ \t]+requests?)[ \t]+)?(?:(?:([A-Za-z0-9][A-Za-z0-9-]*\/[\w.-]+))?#(\d+)(?!\w)|https?:\/\/[^\s/]+\/([A-Za-z0-9][A-Za-z0-9-]*\/[\w.-]+)\/(?:issues|pull)\/(\d+)(?![\w])(?:[/?#][^\s,;)]*)?)/iy;

/** Between two references of one list: `, `, `,and `, ` and `, ` & `, `; `, or plain blanks. */
const SEPARATOR_RE = /[ \t]*[,;&][ \t]*(?:and[ \t]+)?|[ \t]+and[ \t]+|[ \t]+/iy;

/** A negation right before the phrase: `not`, `never`, `no longer`, `no more`, `…n't`, optionally with `be/is/was…`. */
const NEGATION_RE =
  /(?:\bnot|\bnever|\bno[ \t]+longer|\bno[ \t]+more|n['’]t)[ \t]+(?:(?:be|been|being|is|are|was|were)[ \t]+)?$/i;

/** A checked task-list item: `- [x] …`, `* [X] …`, `1. [x] …`. */
const CHECKED_TASK_RE = /^[ \t]*(?:[-*+]|\d+[.)])[ \t]+\[[xX]\][ \t]/;

const FENCE_RE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Finds the items an issue or pull request says it is blocked by, and the items it says it
 * blocks, in its Markdown text (title or body).
 *
 * Recognised, case-insensitive, anywhere on a line (prose, `- [ ]` task lists, `Key: value`
 * trailers, `**bold:**` labels):
 *
 * | phrase | edge |
 * | --- | --- |
 * | `blocked by`, `blocked-by` | this item is blocked by the references |
 * | `depends on`, `depends-on` | blocked by |
 * | `requires`, `needs` | blocked by |
 * | `waiting on`, `waiting-on` | blocked by |
 * | `blocks` | the reverse: this item blocks the references |
 *
 * The phrase may be followed by `:` and Markdown emphasis, then a list on the same line:
 * references separated by `,`, `;`, `&`, `and` or blanks (`#3, #4 and #5`), each optionally
 * preceded by `issue`, `PR` or `pull request`. A reference is `#12`, `owner/name#12`, or an
 * issue or pull-request URL (`https://github.com/owner/name/issues/12`, `/pull/12`). A
 * qualified reference counts only when its `owner/name` is `opts.repo` (case-insensitive):
 * blockers are same-repository only.
 *
 * Not counted (decided, and tested):
 * - a negated phrase: `not blocked by #3`, `no longer depends on #3`, `isn't blocked by #3`;
 * - a phrase inside another word: `unblocked by #3` (the blocker is gone), `deblocks #3`;
 * - other verbs: `after #8`, `blocking #3`, `depend on #3`, `required by #3`, `fixes #3`;
 * - a phrase not followed by a reference: `#12 is not blocked`, `needs tests for #3`;
 * - text in fenced code blocks, inline code, HTML comments (issue templates) and
 *   `~~strikethrough~~`, and checked task-list items (`- [x] blocked by #3`: done);
 * - references on the next line (`Blocked by:` followed by a list below it) and `#0`.
 *
 * GitHub's native issue dependencies ("Relationships" in the sidebar) are not in the text; a
 * forge that reads them can add them to the graph itself.
 */
export function parseBlockers(text: string, opts: { repo?: string } = {}): ParsedBlockers {
  const blockedBy = new Set<number>();
  const blocks = new Set<number>();
  const repo = opts.repo?.toLowerCase();
  for (const line of visibleLines(text)) {
    for (const match of line.matchAll(KEYWORD_RE)) {
      if (NEGATION_RE.test(line.slice(0, match.index))) continue;
      const into = match[1]!.toLowerCase() === "blocks" ? blocks : blockedBy;
      let at = match.index + match[0].length;
      for (;;) {
        REF_RE.lastIndex = at;
        const ref = REF_RE.exec(line);
        if (!ref) break;
        const qualified = ref[1] ?? ref[3];
        const n = Number(ref[2] ?? ref[4]);
        if (
          n > 0 &&
          Number.isSafeInteger(n) &&
          (qualified === undefined || qualified.toLowerCase() === repo)
        ) {
          into.add(n);
        }
        at = REF_RE.lastIndex;
        SEPARATOR_RE.lastIndex = at;
        if (!SEPARATOR_RE.exec(line)) break;
        at = SEPARATOR_RE.lastIndex;
      }
    }
  }
  const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);
  return { blockedBy: sorted(blockedBy), blocks: sorted(blocks) };
}

/** The lines of Markdown a reader sees as prose: no comments, code, strikethrough or checked tasks. */
function visibleLines(text: string): string[] {
  const lines = text.replace(/<!--[\s\S]*?(?:-->|$)/g, " ").split(/\r?\n/);
  const out: string[] = [];
  let fence: string | undefined;
  for (const line of lines) {
    const opener = FENCE_RE.exec(line)?.[1];
    if (fence !== undefined) {
      if (
        opener !== undefined &&
        opener[0] === fence[0] &&
        opener.length >= fence.length &&
        line.trim() === opener
      ) {
        fence = undefined;
      }
      continue;
    }
    if (opener !== undefined) {
      fence = opener;
      continue;
    }
    if (CHECKED_TASK_RE.test(line)) continue;
    out.push(line.replace(/(`+)[^`]*?\1/g, " ").replace(/~~.*?~~/g, " "));
  }
  return out;
}

/**
 * Who blocks whom among a set of open items. Keys are {@link itemKey}s.
 */
export interface BlockerGraph {
  /** How many OTHER open items each item blocks; items that block none are absent (count 0). */
  readonly blocking: ReadonlyMap<string, number>;
  /** The open items that block each item, sorted; items blocked by none are absent. */
  readonly blockedBy: ReadonlyMap<string, readonly string[]>;
}

/**
 * Builds the blocker graph of a set of open items from their titles and bodies
 * ({@link parseBlockers}, same-repository references). An edge counts only when both ends are
 * among `items` (so a reference to a closed or unknown item counts for nothing), an item never
 * blocks itself, and an edge written twice (`A: blocked by #B` and `B: blocks #A`) counts once.
 * Items whose `state` is present and not `open` are left out; an item listed twice counts once.
 *
 * Pass only items whose authors are on the allowlist: the graph is built from their text, and
 * text from anyone else must not change what an agent works on.
 */
export function blockerGraph(items: readonly (QueueItem & { state?: string })[]): BlockerGraph {
  const open = new Map<string, QueueItem>();
  for (const item of items) {
    if (item.state !== undefined && item.state !== "open") continue;
    const key = itemKey(item.repo, item.number);
    if (!open.has(key)) open.set(key, item);
  }
  const edges = new Map<string, Set<string>>(); // blocked → its blockers
  const addEdge = (blocker: string, blocked: string) => {
    if (blocker === blocked || !open.has(blocker) || !open.has(blocked)) return;
    let set = edges.get(blocked);
    if (!set) edges.set(blocked, (set = new Set()));
    set.add(blocker);
  };
  for (const [key, item] of open) {
    const parsed = parseBlockers(`${item.title}\n${item.body}`, { repo: item.repo });
    for (const n of parsed.blockedBy) addEdge(itemKey(item.repo, n), key);
    for (const n of parsed.blocks) addEdge(key, itemKey(item.repo, n));
  }
  const blocking = new Map<string, number>();
  const blockedBy = new Map<string, readonly string[]>();
  for (const [blocked, blockers] of edges) {
    blockedBy.set(blocked, [...blockers].sort());
    for (const b of blockers) blocking.set(b, (blocking.get(b) ?? 0) + 1);
  }
  return { blocking, blockedBy };
}

/** How many other open items `item` blocks in `graph` (0 when none). */
export function blockingCount(graph: BlockerGraph, item: { repo: string; number: number }): number {
  return graph.blocking.get(itemKey(item.repo, item.number)) ?? 0;
}

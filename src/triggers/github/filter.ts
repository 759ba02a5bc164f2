import picomatch from "picomatch";
import { z } from "zod";
import { GITHUB_EVENT_ACTIONS, GITHUB_EVENTS, type GithubEventName } from "./events.ts";
import {
  AUTHOR_FIELD,
  BASE_FIELD,
  DRAFT_FIELD,
  LABELS_FIELD,
  MERGED_FIELD,
  TITLE_FIELD,
  dig,
  labelNames,
  str,
} from "./event-fields.ts";

/** A GitHub login: letters, digits and hyphens, or an app's `name[bot]`. */
const LOGIN_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/;

/** `/pattern/flags`: a title written as a JavaScript regular expression. */
const REGEX_FORM_RE = /^\/(.+)\/([a-z]*)$/s;

/** Flags allowed in a title regex; `g` and `y` make `test()` stateful, so they are refused. */
const REGEX_FLAGS_RE = /^[dimsuv]*$/;

type Test = (value: string) => boolean;

/** Compiles a title pattern (glob, or `/regex/flags`), or returns why it cannot. */
function compileTitle(pattern: string): Test | string {
  const m = REGEX_FORM_RE.exec(pattern);
  if (m) {
    const [, source, flags] = m;
    if (!REGEX_FLAGS_RE.test(flags!)) return `regex flags may only be d, i, m, s, u, v; got "${flags}"`;
    try {
      const re = new RegExp(source!, flags);
      return (value) => re.test(value);
    } catch (e) {
      return `is not a valid regular expression: ${(e as Error).message}`;
    }
  }
  const re = titleGlob(pattern);
  return (value) => re.test(value);
}

/**
 * A title glob as a regular expression: `*` is any text (slashes included), `?` one
 * character, everything else literal — so `feat(api)*` and `[WIP]*` mean what they say.
 * Titles are not paths, so picomatch (kept for branch globs, where `(`, `[`, `!` and `/`
 * are glob syntax) would misread them.
 */
function titleGlob(pattern: string): RegExp {
  const source = pattern
    .split(/([*?])/)
    .map((part) => (part === "*" ? ".*" : part === "?" ? "." : part.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, "su");
}

/** Compiles branch globs: `*` stays inside one path segment, `**` crosses "/" (as in GitHub Actions). */
function compileBranches(patterns: string[]): Test {
  const isMatch = picomatch(patterns, { dot: true });
  return (value) => isMatch(value);
}

const logins = z
  .array(
    z.string().regex(LOGIN_RE, 'must be a GitHub login without "@", such as "octocat" or "dependabot[bot]"'),
  )
  .min(1, "needs at least one login");

const names = (what: string) => z.array(z.string().min(1)).min(1, `needs at least one ${what}`);

const FiltersSchema = z
  .object({
    /** Logins allowed as the event's author (see `AUTHOR_FIELD`); compared case-insensitively. */
    authors: logins.optional(),
    /**
     * On the title: a glob (`"fix*"`: `*` any text, `?` one character, the rest literal and
     * case-sensitive) or a regular expression written `/pattern/flags` (`"/^fix/i"`).
     */
    title: z
      .string()
      .min(1)
      .superRefine((pattern, ctx) => {
        const r = compileTitle(pattern);
        if (typeof r === "string") ctx.addIssue({ code: "custom", message: r });
      })
      .optional(),
    /** Globs on the base branch (`"main"`, `"release/*"`); `*` stays within one `/` segment. */
    base_branches: names("branch glob").optional(),
    /** At least one of these labels must be on the item (case-insensitive). */
    labels_include: names("label").optional(),
    /** None of these labels may be on the item (case-insensitive). */
    labels_exclude: names("label").optional(),
    /** The pull request must (true) or must not (false) be a draft. */
    draft: z.boolean().optional(),
    /** The pull request must (true) or must not (false) be merged; use with action `closed`. */
    merged: z.boolean().optional(),
  })
  .strict();

type FilterName = keyof z.output<typeof FiltersSchema>;

/** The events each filter can be evaluated on. */
const FILTER_EVENTS: Record<FilterName, readonly GithubEventName[]> = {
  authors: GITHUB_EVENTS,
  title: Object.keys(TITLE_FIELD) as GithubEventName[],
  base_branches: Object.keys(BASE_FIELD) as GithubEventName[],
  labels_include: Object.keys(LABELS_FIELD) as GithubEventName[],
  labels_exclude: Object.keys(LABELS_FIELD) as GithubEventName[],
  draft: Object.keys(DRAFT_FIELD) as GithubEventName[],
  merged: Object.keys(MERGED_FIELD) as GithubEventName[],
};

/**
 * A routine trigger on GitHub webhook deliveries, as written in a routine's front-matter:
 *
 * ```yaml
 * triggers:
 *   - github:
 *       events: [pull_request]
 *       actions: [opened, synchronize, ready_for_review]
 *       filters: { base_branches: [main], draft: false, labels_exclude: [no-agent] }
 * ```
 *
 * Unknown keys are errors, so a typo never silently widens a trigger. Also refused: an event
 * nightshift does not know (see `GITHUB_EVENT_ACTIONS`), an action none of the listed events
 * has (GitHub Docs, "Webhook events and payloads"; `merged` is not an action — use `closed`
 * with `filters.merged: true`), and a filter that applies to none of the listed events.
 * All listed conditions must hold; within a list (events, actions, authors, base_branches,
 * labels_include) one entry is enough.
 */
export const GithubTriggerSchema = z
  .object({
    github: z
      .object({
        events: z
          .array(z.enum(GITHUB_EVENTS, { error: `must be one of ${GITHUB_EVENTS.join(", ")}` }))
          .min(1, "needs at least one event"),
        actions: z.array(z.string().min(1)).min(1, "needs at least one action (or leave it out)").optional(),
        filters: FiltersSchema.optional(),
      })
      .strict()
      .superRefine((g, ctx) => {
        for (const [i, action] of (g.actions ?? []).entries()) {
          if (g.events.some((e) => (GITHUB_EVENT_ACTIONS[e] as readonly string[]).includes(action))) continue;
          const hint =
            action === "merged"
              ? 'GitHub sends no "merged" action: use actions [closed] with filters.merged: true'
              : `valid actions: ${g.events.map((e) => `${e}: ${GITHUB_EVENT_ACTIONS[e].join(", ") || "(none)"}`).join("; ")}`;
          ctx.addIssue({
            code: "custom",
            path: ["actions", i],
            message: `"${action}" is not an action of ${g.events.join(", ")}; ${hint}`,
          });
        }
        for (const [name, value] of Object.entries(g.filters ?? {})) {
          if (value === undefined) continue;
          const applies = FILTER_EVENTS[name as FilterName];
          if (g.events.some((e) => applies.includes(e))) continue;
          ctx.addIssue({
            code: "custom",
            path: ["filters", name],
            message: `does not apply to ${g.events.join(", ")}; it applies to ${applies.join(", ")}`,
          });
        }
      }),
  })
  .strict();

/** A validated GitHub trigger. */
export type GithubTrigger = z.output<typeof GithubTriggerSchema>;

/** Whether a delivery starts a routine, and if not, why (for the delivery log). */
export type GithubMatch = { match: true } | { match: false; reason: string };

const no = (reason: string): GithubMatch => ({ match: false, reason });

const notApplicable = (filter: FilterName, event: GithubEventName): GithubMatch =>
  no(`filter "${filter}" does not apply to ${event} events (only to ${FILTER_EVENTS[filter].join(", ")})`);

const quoteList = (xs: readonly string[]) => xs.map((x) => JSON.stringify(x)).join(", ");

/** The base branch(es) of a delivery, or why there are none. */
function baseBranches(event: GithubEventName, payload: unknown): string[] | string {
  if (event === "push") {
    const ref = str(payload, "ref");
    if (ref === undefined) return "payload has no ref";
    if (!ref.startsWith("refs/heads/"))
      return `push to ${ref} is not a branch push; base_branches only matches branches`;
    return [ref.slice("refs/heads/".length)];
  }
  if (event === "check_run" || event === "check_suite") {
    const field = BASE_FIELD[event]!;
    const prs = dig(payload, field);
    const refs = Array.isArray(prs)
      ? prs.map((pr) => str(pr, "base.ref")).filter((r) => r !== undefined)
      : [];
    // GitHub leaves `pull_requests` empty for pull requests from forks and for plain pushes.
    return refs.length > 0
      ? refs
      : `${event} has no associated pull request (${field} is empty), so no base branch`;
  }
  const field = BASE_FIELD[event]!;
  const ref = str(payload, field);
  return ref === undefined ? `payload has no ${field}` : [ref];
}

/**
 * Decides whether a GitHub delivery fires a routine's trigger.
 *
 * Checks, in order: the event is listed; the action is listed (when `actions` is given); then
 * each filter. A filter set on the trigger but meaningless for this event (such as `draft`
 * on `push`) is a non-match, as is a payload that lacks the field a filter needs. Fields:
 *
 * - author: see `AUTHOR_FIELD` — the pull request's, issue's, comment's, review's or release's
 *   author; `sender.login` for `push`, `check_run`, `check_suite`. Case-insensitive.
 * - title: `pull_request.title` / `issue.title` / `release.name` (its `tag_name` when the
 *   name is empty, as GitHub displays it).
 * - base branch: `pull_request.base.ref`; `push`: `ref` without `refs/heads/` (tag pushes do
 *   not match); checks: `pull_requests[].base.ref` (any).
 * - labels: `pull_request.labels` / `issue.labels` names, case-insensitive.
 * - draft: `pull_request.draft`; merged: `pull_request.merged` (`pull_request` events only).
 *
 * Never throws on a malformed payload: it just does not match.
 *
 * @param trigger - a trigger parsed by {@link GithubTriggerSchema}.
 * @param eventName - the `X-GitHub-Event` header.
 * @param payload - the parsed JSON body.
 * @returns `{ match: true }`, or `{ match: false, reason }` naming the first failed check.
 */
export function matchGithubEvent(trigger: GithubTrigger, eventName: string, payload: unknown): GithubMatch {
  const g = trigger.github;
  if (!(g.events as string[]).includes(eventName)) {
    return no(`event "${eventName}" is not one of ${quoteList(g.events)}`);
  }
  const event = eventName as GithubEventName;
  const action = str(payload, "action");
  if (g.actions) {
    if (action === undefined)
      return no(`${event} delivery has no action; the trigger wants ${quoteList(g.actions)}`);
    if (!g.actions.includes(action)) return no(`action "${action}" is not one of ${quoteList(g.actions)}`);
  }
  const f = g.filters;
  if (!f) return { match: true };

  if (f.authors) {
    const field = AUTHOR_FIELD[event];
    const login = str(payload, field);
    if (login === undefined) return no(`payload has no ${field} for the authors filter`);
    const wanted = f.authors.map((a) => a.toLowerCase());
    if (!wanted.includes(login.toLowerCase())) {
      return no(`author "${login}" (${field}) is not one of ${quoteList(f.authors)}`);
    }
  }

  if (f.title !== undefined) {
    const field = TITLE_FIELD[event];
    if (!field) return notApplicable("title", event);
    let title = str(payload, field);
    if (event === "release" && !title) title = str(payload, "release.tag_name");
    if (title === undefined) return no(`payload has no ${field} for the title filter`);
    const test = compileTitle(f.title);
    if (typeof test === "string") return no(`title filter ${test}`);
    if (!test(title)) return no(`title ${JSON.stringify(title)} does not match ${JSON.stringify(f.title)}`);
  }

  if (f.base_branches) {
    if (!BASE_FIELD[event]) return notApplicable("base_branches", event);
    const bases = baseBranches(event, payload);
    if (typeof bases === "string") return no(bases);
    const isMatch = compileBranches(f.base_branches);
    if (!bases.some(isMatch)) {
      return no(`base branch ${quoteList(bases)} does not match ${quoteList(f.base_branches)}`);
    }
  }

  if (f.labels_include || f.labels_exclude) {
    const field = LABELS_FIELD[event];
    if (!field) return notApplicable(f.labels_include ? "labels_include" : "labels_exclude", event);
    const labels = labelNames(payload, field);
    if (labels === undefined) return no(`payload has no ${field} for the label filters`);
    const have = new Set(labels.map((l) => l.toLowerCase()));
    if (f.labels_include && !f.labels_include.some((l) => have.has(l.toLowerCase()))) {
      return no(`labels [${labels.join(", ")}] include none of ${quoteList(f.labels_include)}`);
    }
    const excluded = f.labels_exclude?.find((l) => have.has(l.toLowerCase()));
    if (excluded !== undefined) return no(`label ${JSON.stringify(excluded)} is excluded`);
  }

  for (const [name, fields] of [
    ["draft", DRAFT_FIELD],
    ["merged", MERGED_FIELD],
  ] as const) {
    const wanted = f[name];
    if (wanted === undefined) continue;
    const field = fields[event];
    if (!field) return notApplicable(name, event);
    const value = dig(payload, field);
    if (typeof value !== "boolean") return no(`payload has no ${field} for the ${name} filter`);
    if (value !== wanted) return no(`${field} is ${value}, the trigger wants ${wanted}`);
  }

  return { match: true };
}

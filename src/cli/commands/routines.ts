import { readFileSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { parseDocument } from "yaml";
import { resolve } from "node:path";
import type { Command } from "commander";
import pc from "picocolors";
import { ConfigError, ConfigErrors } from "../../config/errors.ts";
import {
  findProjectRoot,
  loadProjectConfig,
  loadRoutine,
  loadRoutines,
  parseRoutine,
  projectConfigWarnings,
  routineLocator,
} from "../../config/load.ts";
import type { ProjectConfig } from "../../config/project-schema.ts";
import type { Routine, Trigger } from "../../config/routine-schema.ts";
import type {
  compileSchedule as CompileSchedule,
  nextFireTimes as NextFireTimes,
} from "../../scheduler/schedule.ts";
import { routineSwitches, setRoutinePaused } from "../../store/routine-switches.ts";
import { listRuns } from "../../store/runs.ts";
import { listSessions } from "../../store/sessions.ts";
import { CliError, printJson, withProject, workDir } from "../context.ts";
import { table } from "../format.ts";
import { errorCode } from "../../util/errors.ts";
import { routineTimeZone, zonedTime } from "../zoned-time.ts";

function describeTrigger(t: Trigger): string {
  if ("schedule" in t)
    return `schedule ${t.schedule}${t.at ? ` at ${t.at}` : ""}${t.timezone ? ` ${t.timezone}` : ""}`;
  if ("api" in t) return "api";
  if ("github" in t)
    return `github ${t.github.events.join("|")}${t.github.actions ? `.${t.github.actions.join("|")}` : ""}`;
  if ("at" in t) return `once at ${t.at}`;
  if ("in" in t) return `once in ${t.in}`;
  return `webhook ${t.webhook.source}`;
}

/** The next schedule fire of a routine after `now` (ms), if it has schedule triggers that parse. */
function nextRun(r: Routine, now: number, nextFireTimes: typeof NextFireTimes): number | undefined {
  return nextFireTimes(r.triggers, now, 1)[0]?.at;
}

/** A routine's schedule triggers checked as the daemon runs them (time zone, DST, minimum interval), located. */
function scheduleErrors(
  r: Routine,
  minIntervalMs: number,
  compileSchedule: typeof CompileSchedule,
): string[] {
  return r.triggers.flatMap((t, i) => {
    if (!("schedule" in t)) return [];
    try {
      compileSchedule(t, { minIntervalMs });
      return [];
    } catch (err) {
      const { shown, locate } = routineLocator(r);
      const { line, column } = locate(["triggers", i, "schedule"]);
      return [new ConfigError(shown, line, column, `triggers.${i}.schedule`, (err as Error).message).message];
    }
  });
}

function routineJson(r: Routine) {
  return { ...r, timeout_ms: r.timeout };
}

export function registerRoutines(program: Command): void {
  const routines = program.command("routines").description("list, show and validate routine files");

  routines
    .command("list")
    .description("list the project's routines with their last session")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      // The scheduler (croner, cronstrue) loads only for the commands that use it.
      const { nextFireTimes } = await import("../../scheduler/schedule.ts");
      await withProject(cmd, async (p) => {
        const { routines: list, errors } = loadRoutines(p.root);
        const last = await Promise.all(
          list.map(async (r) => (await listSessions(p.store.db, { routine: r.name, limit: 1 }))[0]),
        );
        // The latest fire of any kind: a skipped, missed or late slot shows here, never silently.
        const lastFire = await Promise.all(
          list.map(async (r) => (await listRuns(p.store.db, { routine: r.name, limit: 1 }))[0]),
        );
        const switches = await routineSwitches(p.store.db);
        const pausedOf = (r: Routine) => {
          const sw = switches.get(r.name);
          return sw?.paused ? { reason: sw.reason, since: sw.changed_at, by: sw.changed_by } : null;
        };
        if (opts.json) {
          printJson({
            routines: list.map((r, i) => ({
              ...routineJson(r),
              next_run: r.enabled ? (nextRun(r, p.clock.now(), nextFireTimes) ?? null) : null,
              last_session: last[i] ?? null,
              last_fire: lastFire[i] ?? null,
              paused: pausedOf(r),
            })),
            errors: errors.map((e) => e.message),
          });
          return;
        }
        if (list.length === 0 && errors.length === 0)
          console.log("no routines yet: create .nightshift/routines/<name>.md (see `nightshift init`)");
        else
          console.log(
            table(
              ["NAME", "AGENT", "ENABLED", "TRIGGERS", "NEXT RUN", "LAST FIRE", "LAST RUN", "LAST OUTCOME"],
              list.map((r, i) => [
                r.name,
                r.workflow?.type === "guard"
                  ? "guard (no agent)"
                  : r.agent + (r.model ? ` (${r.model})` : "") + (r.workflow ? ` · ${r.workflow.type}` : ""),
                (r.enabled ? "yes" : "no") +
                  ((pz) => (pz ? ` (paused${pz.reason ? `: ${pz.reason}` : ""})` : ""))(pausedOf(r)),
                r.triggers.map(describeTrigger).join("; ") || "manual",
                !r.enabled
                  ? "disabled"
                  : pausedOf(r)
                    ? "paused"
                    : ((next) => zonedTime(next?.at, next?.timezone))(
                        nextFireTimes(r.triggers, p.clock.now(), 1)[0],
                      ),
                lastFire[i]
                  ? `${zonedTime(lastFire[i]!.scheduled_for ?? lastFire[i]!.created_at, routineTimeZone(r))} ${lastFire[i]!.state}${lastFire[i]!.reason?.startsWith("late:") ? " (late)" : ""}`
                  : null,
                zonedTime(last[i]?.created_at, routineTimeZone(r)),
                last[i]
                  ? `${last[i]!.state}${last[i]!.task_outcome ? ` / ${last[i]!.task_outcome}` : ""}`
                  : "never run",
              ]),
            ),
          );
        for (const e of errors) console.error(pc.red(e.message));
        if (errors.length) process.exitCode = 2;
      });
    });

  routines
    .command("show")
    .description("show one routine's settings and prompt")
    .argument("<name>")
    .option("--json", "print JSON")
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      const root = findProjectRoot(workDir(cmd));
      if (!root) throw new CliError("not in a nightshift project: run `nightshift init` first");
      const r = loadRoutine(root, name);
      const { nextFireTimes } = await import("../../scheduler/schedule.ts");
      const upcoming = r.enabled ? nextFireTimes(r.triggers, Date.now(), 3) : [];
      if (opts.json) return printJson({ ...routineJson(r), next_runs: upcoming.map((n) => n.at) });
      console.log(
        [
          `${pc.bold(r.name)}${r.description ? ` — ${r.description}` : ""}`,
          `  file:          ${r.file}`,
          `  agent:         ${r.agent}${r.model ? ` (model ${r.model})` : ""}${r.command ? ` → ${r.command}` : ""}`,
          ...(r.workflow
            ? [
                `  workflow:      ${r.workflow.type}${r.workflow.type === "guard" ? "" : ` · ${r.workflow.select.strategy}, limit ${r.workflow.select.limit}`}`,
              ]
            : []),
          `  repos:         ${r.repos.map((x) => (typeof x === "string" ? x : x.path)).join(", ")}`,
          `  triggers:      ${r.triggers.map(describeTrigger).join("; ") || "none (run by hand)"}`,
          `  next runs:     ${
            !r.enabled
              ? "none (disabled)"
              : upcoming.length
                ? upcoming.map((n) => zonedTime(n.at, n.timezone)).join("\n                 ")
                : "none scheduled"
          }`,
          `  branch prefix: ${r.branch_prefix}`,
          `  timeout:       ${r.timeout / 1000}s   max turns: ${r.max_turns ?? "agent default"}`,
          `  tools:         ${r.allowed_tools?.join(", ") ?? "default"}`,
          `  environment:   ${r.environment}   enabled: ${r.enabled ? "yes" : "no"}`,
          "",
          r.prompt,
        ].join("\n"),
      );
    });

  for (const [verb, value] of [
    ["enable", true],
    ["disable", false],
  ] as const) {
    routines
      .command(verb)
      .description(`${verb} a routine (sets enabled: ${value} in its file, keeping comments)`)
      .argument("<name>")
      .action(async (name: string, _opts: unknown, cmd: Command) => {
        const root = findProjectRoot(workDir(cmd));
        if (!root) throw new CliError("not in a nightshift project: run `nightshift init` first");
        const r = loadRoutine(root, name);
        writeFileSync(r.file, setFrontMatterField(readFileSync(r.file, "utf8"), "enabled", value));
        loadRoutine(root, name);
        console.log(`${name}: enabled: ${value}`);
      });
  }

  routines
    .command("pause")
    .description(
      "pause a routine: its schedule, API and webhook fires are recorded as skipped until resumed (the file is unchanged)",
    )
    .argument("<name>")
    .option("--reason <text>", "why (shown in the skipped runs and in `routines list`)")
    .option("--by <who>", "who paused it (default: the OS user)")
    .action(async (name: string, opts: { reason?: string; by?: string }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        loadRoutine(p.root, name);
        const row = await setRoutinePaused(p.store.db, {
          routine: name,
          paused: true,
          ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
          by: opts.by ?? userInfo().username,
          now: p.clock.now(),
        }).catch((err: unknown) => {
          throw new CliError(`cannot pause ${name}: ${(err as Error).message}`, 2);
        });
        console.log(
          `${name}: paused${row.reason ? ` (${row.reason})` : ""}; its fires are recorded as skipped until \`nightshift routines resume ${name}\` (\`nightshift run ${name}\` still works)`,
        );
      });
    });

  routines
    .command("resume")
    .description("resume a paused routine: the next slot fires (missed slots follow missed_runs)")
    .argument("<name>")
    .option("--by <who>", "who resumed it (default: the OS user)")
    .action(async (name: string, opts: { by?: string }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        loadRoutine(p.root, name);
        const was = (await routineSwitches(p.store.db)).get(name);
        await setRoutinePaused(p.store.db, {
          routine: name,
          paused: false,
          by: opts.by ?? userInfo().username,
          now: p.clock.now(),
        });
        console.log(was?.paused ? `${name}: resumed` : `${name}: was not paused; nothing to resume`);
      });
    });

  routines
    .command("validate")
    .description("check routine files and the project's config.yaml; exit 2 when any is invalid")
    .argument("[files...]", "routine files (default: every routine of the project)")
    .action(async (files: string[], _opts: unknown, cmd: Command) => {
      const errors: string[] = [];
      const warnings: string[] = [];
      const parsed: Routine[] = [];
      /** Routines that parse but fail a check against the project. */
      let withProblems = 0;
      const root = findProjectRoot(workDir(cmd));
      if (files.length) {
        for (const f of files) {
          try {
            parsed.push(parseRoutine(resolve(f), readFileSync(f, "utf8")));
          } catch (err) {
            if (err instanceof ConfigErrors) errors.push(...err.errors.map((e) => e.message));
            else throw new CliError(`cannot read ${f} (${errorCode(err)})`, 2, { cause: err });
          }
        }
      } else {
        if (!root)
          throw new CliError("not in a nightshift project: run `nightshift init` first, or name files");
        const loaded = loadRoutines(root);
        parsed.push(...loaded.routines);
        errors.push(...loaded.errors.map((e) => e.message));
      }
      if (root) {
        // Checks against the project: its config.yaml, the schedules as the daemon runs them,
        // the MCP servers and the repositories on disk.
        let config: ProjectConfig | undefined;
        try {
          config = loadProjectConfig(root);
        } catch (err) {
          if (!(err instanceof ConfigErrors)) throw err;
          errors.push(...err.errors.map((e) => e.message));
        }
        if (config) {
          warnings.push(...projectConfigWarnings(root, config).map((w) => w.message));
          const { checkRoutineMcpServers } = await import("../../runner/mcp/servers.ts");
          const { checkRoutineRepos } = await import("../../runner/repos.ts");
          const { compileSchedule } = await import("../../scheduler/schedule.ts");
          const selfName = config.forge.type === "github" ? config.forge.repo : undefined;
          for (const r of parsed) {
            const found = [
              ...scheduleErrors(r, config.scheduler.min_interval, compileSchedule),
              ...checkRoutineMcpServers(r, config).map((e) => e.message),
              ...checkRoutineRepos(root, r, selfName).map((e) => e.message),
            ];
            errors.push(...found);
            if (found.length) withProblems++;
          }
        }
      }
      warnings.push(...parsed.flatMap(routineWarnings));
      for (const e of errors) console.error(pc.red(e));
      for (const w of warnings) console.error(pc.yellow(`warning: ${w}`));
      const ok = parsed.length - withProblems;
      console.log(
        `${ok} valid, ${errors.length ? `${errors.length} problem${errors.length > 1 ? "s" : ""}` : "no problems"}${warnings.length ? `, ${warnings.length} warning${warnings.length > 1 ? "s" : ""}` : ""}`,
      );
      if (errors.length) process.exitCode = 2;
    });
}

/**
 * What is valid but risky in a routine, said by `routines validate` without failing it: for
 * now `authors: any`, which lets anyone's GitHub text (issues, comments, reviews) reach the
 * prompt through the routine's webhook triggers. Located at the field, like errors.
 */
export function routineWarnings(r: Routine): string[] {
  if (r.authors !== "any") return [];
  const { shown, locate } = routineLocator(r);
  const { line, column } = locate(["authors"]);
  return [
    new ConfigError(
      shown,
      line,
      column,
      "authors",
      "any lets anyone's issues, pull requests, comments and reviews reach the prompt through GitHub webhook triggers; on a public repository that is any stranger's instructions. List trusted logins instead (authors: [alice]), or remove the field to accept only OWNER, MEMBER and COLLABORATOR authors and deque.allowed_authors",
    ).message,
  ];
}

/** Sets one top-level field of a routine file's front-matter, keeping its comments and layout. */
export function setFrontMatterField(text: string, field: string, value: unknown): string {
  const lines = text.split("\n");
  const end = lines.findIndex((l, i) => i > 0 && l.trim() === "---");
  const doc = parseDocument(lines.slice(1, end).join("\n"));
  doc.set(field, value);
  return ["---", doc.toString().trimEnd(), ...lines.slice(end)].join("\n");
}

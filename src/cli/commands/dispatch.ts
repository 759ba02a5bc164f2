import type { Command } from "commander";
import pc from "picocolors";
import { cancellable, CliError, printJson, withProject } from "../context.ts";
import { printSummary } from "./run.ts";
import { drainReplies, liveDaemon, liveTranscript } from "./reply.ts";

/** Options of `nightshift dispatch`. */
interface DispatchOptions {
  routine?: string;
  agent?: string;
  model?: string;
  repo?: string[];
  json?: boolean;
  verbose?: boolean;
}

export function registerDispatch(program: Command): void {
  program
    .command("dispatch")
    .description(
      "start an ad-hoc session with a prompt, with a routine's settings or the project's defaults (through the daemon when one runs)",
    )
    .argument("<prompt...>", "what the agent should do")
    .option(
      "--routine <name>",
      "run with this routine's settings (agent, model, repos, timeout, environment)",
    )
    .option("--agent <agent>", "claude-code or codex (command needs --routine)")
    .option("--model <model>", "the model")
    .option(
      "--repo <path>",
      "a repository to work on (repeatable; default: the routine's, or the project's own)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option("--json", "print JSON")
    .option("-v, --verbose", "show the prompt, full tool output, stderr and per-turn tokens")
    .action(async (words: string[], opts: DispatchOptions, cmd: Command) => {
      const ok = await withProject(cmd, async (p) => {
        const { queueDispatch, runDispatch, DispatchError } = await import("../../runner/dispatch.ts");
        const req = {
          prompt: words.join(" "),
          ...(opts.routine ? { routine: opts.routine } : {}),
          ...(opts.agent ? { agent: opts.agent } : {}),
          ...(opts.model ? { model: opts.model } : {}),
          ...(opts.repo?.length ? { repos: opts.repo } : {}),
        };
        try {
          const daemon = liveDaemon(p);
          if (daemon) {
            const q = await queueDispatch(p, req);
            if (opts.json)
              printJson({
                type: "dispatch",
                outcome: "queued",
                run_id: q.runId,
                session_id: q.sessionId,
                title: q.title,
              });
            else
              console.log(
                `queued session ${q.sessionId} (run ${q.runId}): "${q.title}"; the daemon at ${daemon} runs it — follow it with \`nightshift logs ${q.sessionId}\``,
              );
            return true;
          }
          return await cancellable(opts.json, async (signal) => {
            const s = await runDispatch(p, req, {
              signal,
              onCreated: (id) => {
                if (!opts.json) console.log(pc.bold(`session ${id}`) + pc.dim(` · dispatch`));
              },
              onEvent: liveTranscript(opts),
            });
            if (opts.json) printJson(s);
            else printSummary(s, p.clock.now(), p.config.workspaces.retention);
            const last = await drainReplies(p, s, signal, opts);
            return last.state === "succeeded";
          });
        } catch (err) {
          if (err instanceof DispatchError) throw new CliError(err.message, 2, { cause: err });
          throw err;
        }
      });
      process.exitCode = ok ? 0 : 1;
    });
}

import type { Command } from "commander";
import { positiveInt, withProject } from "../context.ts";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the daemon: schedules, the HTTP API and webhooks, and a worker pool running sessions")
    .option("--host <host>", "address to listen on (default: server.host, 127.0.0.1)")
    .option("--port <port>", "port (default: server.port, 7070; 0 picks a free one)", (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be 0-65535, got "${v}"`);
      return n;
    })
    .option(
      "--concurrency <n>",
      "sessions at once (default: server.concurrency, 2)",
      positiveInt("--concurrency"),
    )
    .action(async (opts: { host?: string; port?: number; concurrency?: number }, cmd: Command) => {
      // Loaded here, not at start-up: the daemon's modules (Hono, pino) would slow every other command.
      const { startDaemon } = await import("../../daemon/serve.ts");
      await withProject(cmd, async (project) => {
        const daemon = await startDaemon(project, {
          ...(opts.host ? { host: opts.host } : {}),
          ...(opts.port !== undefined ? { port: opts.port } : {}),
          ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
        });
        await new Promise<void>((resolve) => {
          const onSignal = (signal: NodeJS.Signals) => {
            process.removeListener("SIGTERM", onSignal);
            process.removeListener("SIGINT", onSignal);
            void daemon.stop(signal).then(resolve);
          };
          process.on("SIGTERM", onSignal);
          process.on("SIGINT", onSignal);
          // The first line on stdout is the URL, for scripts and tests. Only once the signal
          // handlers are in place: a SIGTERM sent as soon as the URL is read must stop the
          // daemon gracefully, not kill it.
          process.stdout.write(`${daemon.url}\n`);
        });
      });
    });
}

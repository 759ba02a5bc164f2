import type { Command } from "commander";
import { loadRoutine } from "../../config/load.ts";
import { insertApiToken, listApiTokens, revokeApiToken } from "../../store/api-tokens.ts";
import { apiTriggerMissing, createApiToken, hasApiTrigger } from "../../triggers/api-token.ts";
import { CliError, printJson, withProject } from "../context.ts";
import { isoTime, table } from "../format.ts";

export function registerTokens(program: Command): void {
  const tokens = program.command("tokens").description("API trigger tokens (POST /v1/routines/<name>/fire)");

  tokens
    .command("create")
    .description(
      "create a token for a routine with an API trigger (`triggers: [{api: true}]`); it is shown once and stored only as its SHA-256",
    )
    .argument("<routine>")
    .option("--json", "print JSON")
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        const routine = loadRoutine(p.root, name);
        if (!hasApiTrigger(routine)) throw new CliError(apiTriggerMissing(name));
        const t = createApiToken();
        const row = await insertApiToken(p.store.db, {
          routine: name,
          prefix: t.prefix,
          hash: t.hash,
          now: p.clock.now(),
        });
        if (opts.json) return printJson({ id: row.id, routine: name, token: t.token });
        console.log(
          [
            `token ${row.id} for routine "${name}" (shown once; store it now):`,
            "",
            `  ${t.token}`,
            "",
            "fire the routine with:",
            `  curl -X POST -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\`,
            `       -d '{"text":"run-specific context"}' ${p.config.base_url ?? `http://${p.config.server.host}:${p.config.server.port}`}/v1/routines/${name}/fire`,
          ].join("\n"),
        );
      });
    });

  tokens
    .command("list")
    .description("list tokens (prefixes only)")
    .argument("[routine]")
    .option("--json", "print JSON")
    .action(async (name: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        const rows = (await listApiTokens(p.store.db, name)).map(({ hash: _hash, ...r }) => r);
        if (opts.json) return printJson(rows);
        if (rows.length === 0) return console.log("no tokens: `nightshift tokens create <routine>`");
        console.log(
          table(
            ["ID", "ROUTINE", "PREFIX", "CREATED", "LAST USED", "REVOKED"],
            rows.map((r) => [
              r.id,
              r.routine,
              `${r.prefix}…`,
              isoTime(r.created_at),
              isoTime(r.last_used_at),
              isoTime(r.revoked_at),
            ]),
          ),
        );
      });
    });

  tokens
    .command("revoke")
    .description("revoke a token by id or prefix")
    .argument("<routine>")
    .argument("<token-id>")
    .action(async (name: string, id: string, _opts: unknown, cmd: Command) => {
      await withProject(cmd, async (p) => {
        const n = await revokeApiToken(p.store.db, name, id, p.clock.now());
        if (n === 0)
          throw new CliError(
            `no live token "${id}" for routine "${name}" (see \`nightshift tokens list ${name}\`)`,
          );
        console.log(`revoked ${id}`);
      });
    });
}

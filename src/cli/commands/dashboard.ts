import type { Command } from "commander";
import { isLoopbackHost } from "../../server/dashboard/auth.ts";
import { addDashboardUser, listDashboardUsers, removeDashboardUser } from "../../store/dashboard-users.ts";
import { CliError, printJson, withProject } from "../context.ts";
import { isoTime, table } from "../format.ts";

/** `nightshift dashboard add-user | remove-user | users`: logins of a dashboard served beyond loopback. */
export function registerDashboard(program: Command): void {
  const dashboard = program
    .command("dashboard")
    .description(
      "dashboard logins (needed when server.host is not a loopback address; see docs/dashboard.md)",
    );

  dashboard
    .command("add-user")
    .description(
      "create a dashboard login with a generated password, printed once (stored only as its scrypt hash)",
    )
    .argument("<name>", "user name: 1–64 letters, digits, '.', '_' or '-'")
    .option("--json", "print JSON")
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        let password: string;
        try {
          password = await addDashboardUser(p.store.db, name, p.clock.now());
        } catch (err) {
          throw new CliError((err as Error).message, 2, { cause: err });
        }
        if (opts.json) return printJson({ name, password });
        const host = p.config.server.host;
        console.log(
          [
            `dashboard user "${name}" created; its password (shown once, store it now):`,
            "",
            `  ${password}`,
            "",
            isLoopbackHost(host)
              ? `server.host is ${host} (loopback): the dashboard asks for this login once it is served on another address`
              : `log in at ${p.config.base_url ?? `http://${host}:${p.config.server.port}`}/login`,
          ].join("\n"),
        );
      });
    });

  dashboard
    .command("remove-user")
    .description("remove a dashboard login and end its sessions")
    .argument("<name>")
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withProject(cmd, async (p) => {
        if (!(await removeDashboardUser(p.store.db, name)))
          throw new CliError(`no dashboard user "${name}"; \`nightshift dashboard users\` lists them`);
        console.log(`dashboard user "${name}" removed`);
      });
    });

  dashboard
    .command("users")
    .description("list dashboard logins (names and times; never passwords)")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        const users = await listDashboardUsers(p.store.db);
        if (opts.json) return printJson(users);
        if (users.length === 0)
          return console.log("no dashboard users: `nightshift dashboard add-user <name>` makes one");
        console.log(
          table(
            ["USER", "CREATED", "LAST LOGIN"],
            users.map((u) => [u.name, isoTime(u.createdAt), isoTime(u.lastLoginAt)]),
          ),
        );
      });
    });
}

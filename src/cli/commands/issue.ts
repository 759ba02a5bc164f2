import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import type { Command } from "commander";
import pc from "picocolors";
import { importGhIssues } from "../../forge/local/import-gh-issues.ts";
import { CliError, positiveInt, printJson, repoOption, withProject } from "../context.ts";
import { isoTime, table } from "../format.ts";

export function registerIssue(program: Command): void {
  const issue = program.command("issue").description("issues on the local forge");

  issue
    .command("create")
    .description("open an issue")
    .requiredOption("--title <title>", "issue title")
    .option("--body <body>", "issue body (Markdown)", "")
    .option("--body-file <file>", "read the body from a file")
    .option("--label <label...>", "labels")
    .option("--author <login>", "author login", userInfo().username)
    .option("--repo <name>", "repository on the forge (default: the project's)")
    .option("--json", "print JSON")
    .action(
      async (
        opts: {
          title: string;
          body: string;
          bodyFile?: string;
          label?: string[];
          author: string;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        await withProject(cmd, async (p) => {
          const body = opts.bodyFile ? readFileSync(opts.bodyFile, "utf8") : opts.body;
          const created = await p.forge.createIssue(repoOption(cmd, p.repoName), {
            title: opts.title,
            body,
            author: opts.author,
            labels: opts.label ?? [],
          });
          if (opts.json) printJson(created);
          else console.log(`created issue #${created.number}: ${created.title}`);
        });
      },
    );

  issue
    .command("list")
    .description("list issues")
    .option("--state <state>", "open | closed | all", "open")
    .option("--repo <name>", "repository on the forge (default: the project's)")
    .option("--json", "print JSON")
    .action(async (opts: { state: string; json?: boolean }, cmd: Command) => {
      if (!["open", "closed", "all"].includes(opts.state))
        throw new CliError(`--state must be open, closed or all, got "${opts.state}"`);
      await withProject(cmd, async (p) => {
        const list = await p.forge.listIssues(repoOption(cmd, p.repoName), { state: opts.state as "open" });
        if (opts.json) return printJson(list);
        if (list.length === 0) return console.log(`no ${opts.state === "all" ? "" : `${opts.state} `}issues`);
        console.log(
          table(
            ["#", "TITLE", "AUTHOR", "LABELS", "STATE", "CREATED"],
            list.map((i) => [
              i.number,
              i.title,
              i.author,
              i.labels.join(",") || null,
              i.state,
              isoTime(i.createdAt),
            ]),
          ),
        );
      });
    });

  issue
    .command("show")
    .description("show an issue and its comments")
    .argument("<number>", "issue number", positiveInt("issue number"))
    .option("--repo <name>", "repository on the forge (default: the project's)")
    .option("--json", "print JSON")
    .action(async (number: number, opts: { json?: boolean }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        const repo = repoOption(cmd, p.repoName);
        const i = await p.forge.getIssue(repo, number);
        const comments = await p.forge.listComments(repo, number);
        if (opts.json) return printJson({ ...i, comments });
        console.log(
          `${pc.bold(`#${i.number} ${i.title}`)}  [${i.state}]  by ${i.author} on ${isoTime(i.createdAt)}${i.labels.length ? `  labels: ${i.labels.join(", ")}` : ""}\n\n${i.body}`,
        );
        for (const c of comments)
          console.log(`\n${pc.dim(`— ${c.author} on ${isoTime(c.createdAt)}`)}\n${c.body}`);
      });
    });

  issue
    .command("comment")
    .description("comment on an issue")
    .argument("<number>", "issue number", positiveInt("issue number"))
    .requiredOption("--body <body>", "comment text (Markdown)")
    .option("--author <login>", "author login", userInfo().username)
    .option("--repo <name>", "repository on the forge (default: the project's)")
    .action(async (number: number, opts: { body: string; author: string }, cmd: Command) => {
      await withProject(cmd, async (p) => {
        const repo = repoOption(cmd, p.repoName);
        await p.forge.getIssue(repo, number);
        await p.forge.addComment(repo, number, { author: opts.author, body: opts.body });
        console.log(`commented on issue #${number}`);
      });
    });

  for (const [name, state, done] of [
    ["close", "closed", "closed"],
    ["reopen", "open", "reopened"],
  ] as const) {
    issue
      .command(name)
      .description(`${name} an issue${name === "close" ? ", optionally with a comment" : ""}`)
      .argument("<number>", "issue number", positiveInt("issue number"))
      .option("--comment <body>", "comment to add first (Markdown)")
      .option("--author <login>", "author of the comment", userInfo().username)
      .option("--repo <name>", "repository on the forge (default: the project's)")
      .action(async (number: number, opts: { comment?: string; author: string }, cmd: Command) => {
        await withProject(cmd, async (p) => {
          const local = p.forge.local;
          if (!local)
            throw new CliError(
              `issue ${name} works on the local forge only; this project's forge is ${p.config.forge.type}`,
            );
          const repo = repoOption(cmd, p.repoName);
          await p.forge.getIssue(repo, number);
          if (opts.comment)
            await p.forge.addComment(repo, number, { author: opts.author, body: opts.comment });
          await local.setIssueState(repo, number, state);
          console.log(`${done} issue #${number}`);
        });
      });
  }

  issue
    .command("import")
    .description("import issues from `gh issue list --json number,title,body,author,labels,createdAt,state`")
    .argument("<file>", "JSON file printed by gh (or - for stdin)")
    .option("--repo <name>", "repository on the forge (default: the project's)")
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const text = readFileSync(file === "-" ? 0 : file, "utf8");
      await withProject(cmd, async (p) => {
        const r = await importGhIssues(p.store.db, repoOption(cmd, p.repoName), text, p.clock.now());
        console.log(
          `imported ${r.imported.length} issue${r.imported.length === 1 ? "" : "s"}${r.skipped.length ? `, skipped ${r.skipped.length} already present (#${r.skipped.join(", #")})` : ""}`,
        );
      });
    });
}

import { z } from "zod";
import { parseDuration } from "./duration.ts";

/**
 * `.nightshift/config.yaml`: project settings. Every field is optional; the defaults make
 * the embedded setup (SQLite store, local forge) work with no file at all.
 */
export const ProjectConfigSchema = z
  .object({
    /** Where the store, mirrors, workspaces and the local forge live; relative to the project root. */
    state_dir: z.string().min(1).default(".nightshift/state"),
    forge: z
      .object({ type: z.literal("local").default("local") })
      .strict()
      .default({ type: "local" }),
    workspaces: z
      .object({
        /** How long workspaces of finished sessions are kept before cleanup (`7d`, `12h`, `0` to remove at once). */
        retention: z
          .union([z.string(), z.number()])
          .transform((v, ctx) => {
            if (v === 0 || v === "0") return 0;
            const ms = parseDuration(v);
            if (ms === undefined) {
              ctx.addIssue({ code: "custom", message: 'must be a duration such as "7d" or "12h", or 0' });
              return z.NEVER;
            }
            return ms;
          })
          .default(7 * 86_400_000),
      })
      .strict()
      .default({ retention: 7 * 86_400_000 }),
    git: z
      .object({
        author_name: z.string().min(1).default("nightshift"),
        author_email: z.string().min(3).default("nightshift@localhost"),
      })
      .strict()
      .default({ author_name: "nightshift", author_email: "nightshift@localhost" }),
    /** Base URL of `nightshift serve`, used for transcript links in PR bodies. */
    base_url: z.url().optional(),
  })
  .strict();

export type ProjectConfig = z.output<typeof ProjectConfigSchema>;

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { Kysely } from "kysely";
import { findLogin } from "../../store/dashboard-users.ts";
import type { Database } from "../../store/schema.ts";

/** Name of the dashboard's login cookie. */
export const LOGIN_COOKIE = "nightshift_login";

/** How long a login lasts, ms (12 h). */
export const LOGIN_TTL_MS = 12 * 60 * 60_000;

/** Variables the guard sets on the request context. */
export interface DashboardVars {
  /** The logged-in user; `null` on a loopback server (no login needed). */
  user: string | null;
  /** The CSRF token every state-changing request must carry (`_csrf` field or `X-CSRF-Token`). */
  csrf: string;
}

/** Whether `host` (`server.host`) only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Paths reachable without a login (the login page itself and the stylesheet it uses). */
const PUBLIC_PATHS = new Set(["/login", "/assets/dashboard.css"]);

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Constant-time equality of two strings. */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The dashboard's guard. On a loopback server (`server.host` 127.0.0.1, ::1, localhost) pages
 * need no login, but requests must name a loopback `Host` (no DNS rebinding) and state-changing
 * ones carry the process's CSRF token. Otherwise every page, asset and action needs a login
 * cookie (made by `POST /login` with a `nightshift dashboard add-user` credential) and every
 * state-changing request that login's CSRF token. `Authorization` headers (routine API tokens)
 * are never looked at: they grant nothing here.
 */
export function dashboardGuard(opts: {
  db: Kysely<Database>;
  host: string;
  now(): number;
}): MiddlewareHandler<{ Variables: DashboardVars }> {
  const loopback = isLoopbackHost(opts.host);
  // Loopback: a token per process, so a page from another site cannot forge a form post.
  const processSecret = randomBytes(32);
  const loopbackCsrf = createHmac("sha256", processSecret).update("dashboard-csrf").digest("base64url");
  return async (c, next) => {
    const path = c.req.path;
    if (loopback) {
      // The request's URL carries its Host header (@hono/node-server builds it from that).
      const hostHeader = new URL(c.req.url).hostname;
      if (!isLoopbackHost(hostHeader))
        return c.text(`the dashboard answers on a loopback address only, not Host "${hostHeader}"`, 403);
      c.set("user", null);
      c.set("csrf", loopbackCsrf);
    } else {
      const cookie = getCookie(c, LOGIN_COOKIE);
      const login = cookie ? await findLogin(opts.db, cookie, opts.now()) : undefined;
      if (!login) {
        if (PUBLIC_PATHS.has(path)) {
          c.set("user", null);
          c.set("csrf", "");
          return next();
        }
        return refuseLogin(c);
      }
      c.set("user", login.user);
      c.set("csrf", login.csrf);
    }
    if (STATE_CHANGING.has(c.req.method) && path !== "/login") {
      const sent = c.req.header("x-csrf-token") ?? (await formField(c, "_csrf"));
      if (!sent || !sameToken(sent, c.get("csrf")))
        return c.text(
          "refused: the form's CSRF token is missing or wrong; reload the page and try again",
          403,
        );
    }
    return next();
  };
}

/** 401 for API-like requests (SSE, htmx), a redirect to the login page for a browser page. */
function refuseLogin(c: Context): Response {
  const wantsPage =
    c.req.method === "GET" &&
    !c.req.header("hx-request") &&
    (c.req.header("accept") ?? "").includes("text/html");
  if (wantsPage) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 303);
  return c.text(
    "log in first: the dashboard needs a login on this server (nightshift dashboard add-user)",
    401,
  );
}

/** A field of a urlencoded or multipart form body (the body stays readable afterwards). */
export async function formField(c: Context, name: string): Promise<string | undefined> {
  const type = c.req.header("content-type") ?? "";
  if (!type.includes("application/x-www-form-urlencoded") && !type.includes("multipart/form-data"))
    return undefined;
  const body = await c.req.parseBody();
  const v = body[name];
  return typeof v === "string" ? v : undefined;
}

/** The login cookie's attributes: Secure, HttpOnly, SameSite=Strict, whole site. */
export function loginCookieOptions(maxAgeSeconds: number) {
  return {
    path: "/",
    secure: true,
    httpOnly: true,
    sameSite: "Strict" as const,
    maxAge: maxAgeSeconds,
  };
}

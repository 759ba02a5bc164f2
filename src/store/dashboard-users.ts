import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";

/**
 * Dashboard credentials (migration 0008): users with scrypt-hashed passwords, and logins (the
 * session cookie, stored as its SHA-256 only, with its CSRF token). Routine API tokens are a
 * separate table and grant nothing here.
 */

interface UsersDb {
  dashboard_users: { name: string; password_hash: string; created_at: number; last_login_at: number | null };
  dashboard_logins: { hash: string; user_name: string; csrf: string; created_at: number; expires_at: number };
}

function udb(db: Kysely<Database>): Kysely<UsersDb> {
  return db as unknown as Kysely<UsersDb>;
}

/** scrypt cost parameters: N=2^15, r=8, p=1 (about 32 MiB and 50–100 ms per check). */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keylen: 32, maxmem: 64 * 1024 * 1024 };

function scryptAsync(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, SCRYPT.keylen, { N, r, p, maxmem: SCRYPT.maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$<salt hex>$<hash hex>` of `password`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("hex")}$${key.toString("hex")}`;
}

/** Whether `password` matches a {@link hashPassword} string (constant-time compare). */
export async function checkPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split("$");
  if (kind !== "scrypt" || !salt || !hash) return false;
  const key = await scryptAsync(password, Buffer.from(salt, "hex"), Number(n), Number(r), Number(p));
  const want = Buffer.from(hash, "hex");
  return want.length === key.length && timingSafeEqual(want, key);
}

/** Allowed user names: letters, digits, `.`, `_`, `-`; 1–64 characters. */
export const USER_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Creates a dashboard user with a generated password and returns the password (shown once;
 * only its scrypt hash is stored).
 * @throws {Error} when the name is invalid or taken.
 */
export async function addDashboardUser(db: Kysely<Database>, name: string, now: number): Promise<string> {
  if (!USER_NAME.test(name))
    throw new Error(
      `dashboard user name ${JSON.stringify(name)} is invalid: use 1–64 letters, digits, ".", "_" or "-"`,
    );
  const existing = await udb(db)
    .selectFrom("dashboard_users")
    .select("name")
    .where("name", "=", name)
    .executeTakeFirst();
  if (existing)
    throw new Error(
      `dashboard user "${name}" exists already; remove it with \`nightshift dashboard remove-user ${name}\` first`,
    );
  const password = randomBytes(18).toString("base64url");
  await udb(db)
    .insertInto("dashboard_users")
    .values({ name, password_hash: await hashPassword(password), created_at: now, last_login_at: null })
    .execute();
  return password;
}

/** Removes a user and its logins; `false` when there was no such user. */
export async function removeDashboardUser(db: Kysely<Database>, name: string): Promise<boolean> {
  await udb(db).deleteFrom("dashboard_logins").where("user_name", "=", name).execute();
  const r = await udb(db).deleteFrom("dashboard_users").where("name", "=", name).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The users' names and times (never their hashes). */
export async function listDashboardUsers(
  db: Kysely<Database>,
): Promise<{ name: string; createdAt: number; lastLoginAt: number | null }[]> {
  const rows = await udb(db)
    .selectFrom("dashboard_users")
    .select(["name", "created_at", "last_login_at"])
    .orderBy("name")
    .execute();
  return rows.map((r) => ({
    name: r.name,
    createdAt: Number(r.created_at),
    lastLoginAt: r.last_login_at === null ? null : Number(r.last_login_at),
  }));
}

/** A login: the cookie value to set (secret) and its CSRF token. */
export interface DashboardLogin {
  cookie: string;
  csrf: string;
  user: string;
  expiresAt: number;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/**
 * Checks a name and password and, when they match, stores a new login valid for `ttlMs`;
 * `undefined` for a wrong name or password (the same answer for both, after the same work).
 */
export async function logIn(
  db: Kysely<Database>,
  name: string,
  password: string,
  now: number,
  ttlMs: number,
): Promise<DashboardLogin | undefined> {
  const user = await udb(db)
    .selectFrom("dashboard_users")
    .selectAll()
    .where("name", "=", name)
    .executeTakeFirst();
  // An unknown name costs the same scrypt work as a wrong password.
  const ok = await checkPassword(password, user?.password_hash ?? `scrypt$${SCRYPT.N}$8$1$00$00`);
  if (!user || !ok) return undefined;
  const cookie = randomBytes(32).toString("base64url");
  const csrf = randomBytes(24).toString("base64url");
  await udb(db)
    .insertInto("dashboard_logins")
    .values({ hash: sha256(cookie), user_name: name, csrf, created_at: now, expires_at: now + ttlMs })
    .execute();
  await udb(db).updateTable("dashboard_users").set({ last_login_at: now }).where("name", "=", name).execute();
  await udb(db).deleteFrom("dashboard_logins").where("expires_at", "<=", now).execute();
  return { cookie, csrf, user: name, expiresAt: now + ttlMs };
}

/** The live login a cookie value belongs to, or `undefined` (unknown, expired). */
export async function findLogin(
  db: Kysely<Database>,
  cookie: string,
  now: number,
): Promise<{ user: string; csrf: string } | undefined> {
  const row = await udb(db)
    .selectFrom("dashboard_logins")
    .select(["user_name", "csrf", "expires_at"])
    .where("hash", "=", sha256(cookie))
    .executeTakeFirst();
  if (!row || Number(row.expires_at) <= now) return undefined;
  return { user: row.user_name, csrf: row.csrf };
}

/** Ends a login (log out). */
export async function endLogin(db: Kysely<Database>, cookie: string): Promise<void> {
  await udb(db).deleteFrom("dashboard_logins").where("hash", "=", sha256(cookie)).execute();
}

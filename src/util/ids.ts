import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lowercase

/**
 * A random lowercase id of `length` characters (5 bits each): 10 characters give 50 bits,
 * short enough for a branch name and unique enough for a project's sessions.
 */
export function randomId(length = 10): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const b of bytes) out += ALPHABET[b & 31];
  return out;
}

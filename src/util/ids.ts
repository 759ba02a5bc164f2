import { randomFillSync } from "node:crypto";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lowercase

/** Random bytes drawn from the OS CSPRNG in one call and handed out until used up. */
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let used = POOL_SIZE; // empty: the first id fills it

/**
 * A random lowercase id of `length` characters (5 bits each): 10 characters give 50 bits,
 * short enough for a branch name and unique enough for a project's sessions.
 *
 * The bits come from `crypto.randomFillSync` (the OS CSPRNG), drawn a pool of 4 KiB at a time;
 * each byte of the pool is used once.
 *
 * @throws {RangeError} when `length` is not a whole number ≥ 0.
 */
export function randomId(length = 10): string {
  if (!Number.isInteger(length) || length < 0)
    throw new RangeError(`randomId: length must be a whole number ≥ 0, got ${length}`);
  if (length > POOL_SIZE) {
    const bytes = randomFillSync(Buffer.allocUnsafe(length));
    let out = "";
    for (const b of bytes) out += ALPHABET[b & 31];
    return out;
  }
  if (used + length > POOL_SIZE) {
    randomFillSync(pool);
    used = 0;
  }
  let out = "";
  for (let i = used, end = used + length; i < end; i++) out += ALPHABET[pool[i]! & 31];
  used += length;
  return out;
}

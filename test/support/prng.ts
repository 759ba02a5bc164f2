// A seeded PRNG for fuzz tests, so a failure names the seed and iteration that reproduce it.

/** mulberry32: a tiny, well-known 32-bit PRNG. Same seed, same sequence. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const ascii = (n: number) => String.fromCharCode(...Array.from({ length: n }, () => 32 + int(95)));
  const hex = (n: number) => Array.from({ length: n }, () => "0123456789abcdef"[int(16)]).join("");
  /** Any UTF-16 units, lone surrogates included. */
  const units = (n: number) => String.fromCharCode(...Array.from({ length: n }, () => int(0x10000)));
  return { next, int, pick, bytes, ascii, hex, units };
}

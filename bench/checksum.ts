// Order-independent checksum of a job's output rows: each row is hashed from
// its fields (numbers and strings), and the hashes are combined with two
// commutative sums, so any emission order gives the same result while a
// missing, extra or different row changes it.

/** Mixes one 32-bit word into a running hash (murmur3-style). */
function mix(h: number, word: number): number {
  let k = Math.imul(word | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Mixes an integer-valued number (up to 2^53) into a running hash. */
export function mixNumber(h: number, value: number): number {
  const lo = value >>> 0;
  const hi = Math.floor(value / 4294967296) | 0;
  return mix(mix(h, lo), hi);
}

/** Mixes a string into a running hash. */
export function mixString(h: number, text: string): number {
  h = mix(h, text.length);
  for (let i = 0; i < text.length; i++) h = mix(h, text.charCodeAt(i));
  return h;
}

/** Final avalanche. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Accumulates row hashes; `toString()` gives `rows:hex1hex2`. */
export class Checksum {
  rows = 0;
  private a = 0;
  private b = 0;

  /** Adds one row, given the hash built with {@link mixNumber}/{@link mixString} from seed 0. */
  add(rowHash: number): void {
    const h = finish(rowHash);
    this.rows++;
    this.a = (this.a + h) >>> 0;
    this.b = (this.b + Math.imul(h ^ (h >>> 11), 0x9e3779b1)) >>> 0;
  }

  toString(): string {
    return `${this.rows}:${this.a.toString(16).padStart(8, '0')}${this.b.toString(16).padStart(8, '0')}`;
  }
}

/** Hash of an aggregation output row `{ window: { start, end }, key, sum, count }`. */
export function aggRowHash(start: number, end: number, key: string, sum: number, count: number): number {
  return mixNumber(mixNumber(mixString(mixNumber(mixNumber(0, start), end), key), sum), count);
}

/** Hash of an input row `{ ts, key, value }` (the dedup job's output). */
export function eventHash(ts: number, key: string, value: number): number {
  return mixNumber(mixString(mixNumber(1, ts), key), value);
}

/** Hash of a join output pair. */
export function pairHash(lts: number, key: string, lvalue: number, rts: number, rvalue: number): number {
  return mixNumber(mixNumber(mixNumber(mixString(mixNumber(2, lts), key), lvalue), rts), rvalue);
}

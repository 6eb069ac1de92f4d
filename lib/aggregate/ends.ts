import { decodeValue, encodeValue, kindOf } from './valueKinds.js';

/** The accumulator of `first`/`last`: `[]` before any row, else `[value, kind of the non-null values seen (or null)]`. */
export type EndsAcc = unknown[];

/** The checkpoint form of an {@link EndsAcc}. */
export function encodeEnds(acc: EndsAcc): unknown {
  return acc.length === 0 ? [] : [encodeValue(acc[0]), acc[1] ?? null];
}

/** Reads {@link encodeEnds}'s output back; also the `[value]` form older checkpoints hold. */
export function decodeEnds(json: unknown): EndsAcc {
  const a = json as unknown[];
  if (a.length === 0) return [];
  const v = decodeValue(a[0]);
  return [v, a.length > 1 ? a[1] : v === null || v === undefined ? null : kindOf(v)];
}

import { Map as ImmutableMap, Record as ImmutableRecord, type RecordOf } from 'immutable';
import { decodeStableKey, encodeStableKey, type StableKey } from '../internal/keySpec.js';
import type { RestKey } from './EventTimeKeys.js';
import { WATERMARK_ENTRY } from '../state/KeyedStepResult.js';
import type { StateCodec } from '../state/StateStore.js';

/**
 * The keys one batch added to a deduplication state, with their eviction
 * times. A segment is never mutated: eviction replaces it by a smaller one
 * (or removes it), so older state versions stay intact.
 */
export interface DedupeSegment {
  /** The remembered keys. */
  readonly keys: readonly StableKey[];
  /**
   * `times[i]` is the time at or below which the eviction watermark removes
   * `keys[i]`, `Infinity` for never (see {@link DedupeStateFields.segments}).
   */
  readonly times: readonly number[];
  /** The smallest of `times` (`Infinity` when every key is kept for ever). */
  readonly minTime: number;
}

/** The fields of {@link DedupeState}. */
export interface DedupeStateFields {
  /**
   * The watermark after the last batch the operator finished: the
   * late-events watermark of the next batch (kept so that a recovered query
   * drops late rows from its first batch on).
   */
  readonly watermarkMs: number;
  /** Number of keys remembered (the sum of the segments' sizes). */
  readonly size: number;
  /**
   * The remembered keys, one segment per batch that added keys, by batch id.
   * A key's time is its event time for `dropDuplicates` when the event-time
   * column is a key column, the first row's event time plus the watermark
   * delay for `dropDuplicatesWithinWatermark`, and `Infinity` (never evicted)
   * otherwise.
   */
  readonly segments: ImmutableMap<number, DedupeSegment>;
}

/**
 * The state of a deduplication operator: an Immutable record holding an
 * Immutable map of frozen segments, so a snapshot after each batch costs
 * O(1) and a batch writes one entry for its new keys plus one per segment it
 * evicts from.
 */
export type DedupeState = RecordOf<DedupeStateFields>;

/** Builds a {@link DedupeState}. */
export const DedupeState = ImmutableRecord<DedupeStateFields>({ watermarkMs: 0, size: 0, segments: ImmutableMap<number, DedupeSegment>() }, 'DedupeState');

/**
 * Builds a segment from keys and times of equal length. The arrays are handed
 * over: the caller must not change them afterwards (they are not frozen, to
 * keep large arrays on V8's fast path).
 */
export function dedupeSegment(keys: readonly StableKey[], times: readonly number[]): DedupeSegment {
  let minTime = Number.POSITIVE_INFINITY;
  for (let i = 0; i < times.length; i++) if (times[i]! < minTime) minTime = times[i]!;
  return Object.freeze({ keys, times, minTime });
}

/** A key of a {@link SplitKeySegment} held whole (a row that did not take the event-time fast path). */
export interface WholeKey {
  readonly key: StableKey;
}

/**
 * A segment written by the event-time fast path of `dropDuplicates`: entry
 * `i` is the rest key of a key whose event time is `times[i]` (the key itself
 * is `compose(times[i], rests[i])`), or a {@link WholeKey} for a row that took
 * the general path. {@link DedupeSegment.keys} builds the keys when read
 * (checkpoints), so the hot path builds no key string per row. The arrays are
 * handed over and never changed.
 */
export class SplitKeySegment implements DedupeSegment {
  constructor(
    readonly rests: readonly (RestKey | WholeKey)[],
    readonly times: readonly number[],
    readonly minTime: number,
    private readonly compose: (t: number, rest: RestKey) => StableKey,
  ) {}

  /** A segment with the same key encoding holding the given entries (handed over likewise). */
  withEntries(rests: readonly (RestKey | WholeKey)[], times: readonly number[], minTime: number): SplitKeySegment {
    return new SplitKeySegment(rests, times, minTime, this.compose);
  }

  get keys(): readonly StableKey[] {
    const rests = this.rests;
    const keys: StableKey[] = new Array<StableKey>(rests.length);
    for (let i = 0; i < rests.length; i++) {
      const r = rests[i]!;
      keys[i] = typeof r === 'object' ? r.key : this.compose(this.times[i]!, r);
    }
    return keys;
  }
}

function segmentJson(segment: DedupeSegment): unknown {
  return { keys: segment.keys.map(encodeStableKey), times: segment.times.map((t) => (Number.isFinite(t) ? t : null)) };
}

/**
 * Checkpoint codec of {@link DedupeState}: an entry `@watermark`, and one
 * entry `g<batchId>` per segment whose value is
 * `{ keys: string[], times: (number | null)[] }` (keys encoded `n<number>` or
 * `s<string>`, `null` for a time that never comes).
 */
export const dedupeCodec: StateCodec<DedupeState> = {
  *entries(state) {
    yield [WATERMARK_ENTRY, state.watermarkMs];
    for (const [id, segment] of state.segments) yield [`g${id}`, segmentJson(segment)];
  },
  get(state, key) {
    if (key === WATERMARK_ENTRY) return state.watermarkMs;
    if (!key.startsWith('g')) return undefined;
    const segment = state.segments.get(Number(key.slice(1)));
    return segment === undefined ? undefined : segmentJson(segment);
  },
  fromEntries(entries) {
    let watermarkMs = 0;
    let size = 0;
    const segments = ImmutableMap<number, DedupeSegment>().withMutations((m) => {
      for (const [key, value] of entries) {
        if (key === WATERMARK_ENTRY) {
          if (typeof value === 'number') watermarkMs = value;
          continue;
        }
        if (!key.startsWith('g') || typeof value !== 'object' || value === null) continue;
        const json = value as { keys?: unknown; times?: unknown };
        if (!Array.isArray(json.keys) || !Array.isArray(json.times)) continue;
        const keys: StableKey[] = [];
        const times: number[] = [];
        for (let i = 0; i < json.keys.length; i++) {
          const decoded = typeof json.keys[i] === 'string' ? decodeStableKey(json.keys[i] as string) : undefined;
          if (decoded === undefined) continue;
          const t: unknown = json.times[i];
          keys.push(decoded);
          times.push(typeof t === 'number' ? t : Number.POSITIVE_INFINITY);
        }
        size += keys.length;
        m.set(Number(key.slice(1)), dedupeSegment(keys, times));
      }
    });
    return DedupeState({ watermarkMs, size, segments });
  },
};

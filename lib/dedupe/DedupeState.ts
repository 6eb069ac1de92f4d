import { Map as ImmutableMap, Record as ImmutableRecord, type RecordOf } from 'immutable';
import { decodeStableKey, encodeStableKey, type StableKey } from '../internal/keySpec.js';
import type { StateCodec } from '../state/StateStore.js';

/** The fields of {@link DedupeState}. */
export interface DedupeStateFields {
  /**
   * The watermark after the last batch the operator finished: the
   * late-events watermark of the next batch (kept so that a recovered query
   * drops late rows from its first batch on).
   */
  readonly watermarkMs: number;
  /**
   * One entry per remembered key: the time at or below which the eviction
   * watermark removes it (`dropDuplicates`: the row's event time when the
   * event-time column is a key column; `dropDuplicatesWithinWatermark`: the
   * first row's event time plus the watermark delay), or `Infinity` for a key
   * that is never evicted.
   */
  readonly keys: ImmutableMap<StableKey, number>;
}

/** The state of a deduplication operator: an Immutable record, so a snapshot after each batch costs O(1). */
export type DedupeState = RecordOf<DedupeStateFields>;

/** Builds a {@link DedupeState}. */
export const DedupeState = ImmutableRecord<DedupeStateFields>({ watermarkMs: 0, keys: ImmutableMap<StableKey, number>() }, 'DedupeState');

const WATERMARK = '@watermark';

/**
 * Checkpoint codec of {@link DedupeState}: one entry `@watermark`, and one
 * entry per key (`n<number>` or `s<string>`) whose value is the eviction time,
 * `null` for never.
 */
export const dedupeCodec: StateCodec<DedupeState> = {
  *entries(state) {
    yield [WATERMARK, state.watermarkMs];
    for (const [key, time] of state.keys) yield [encodeStableKey(key), Number.isFinite(time) ? time : null];
  },
  get(state, key) {
    if (key === WATERMARK) return state.watermarkMs;
    const decoded = decodeStableKey(key);
    if (decoded === undefined) return undefined;
    const time = state.keys.get(decoded);
    if (time === undefined) return undefined;
    return Number.isFinite(time) ? time : null;
  },
  fromEntries(entries) {
    let watermarkMs = 0;
    const keys = ImmutableMap<StableKey, number>().withMutations((m) => {
      for (const [key, value] of entries) {
        if (key === WATERMARK) {
          if (typeof value === 'number') watermarkMs = value;
          continue;
        }
        const decoded = decodeStableKey(key);
        if (decoded !== undefined) m.set(decoded, typeof value === 'number' ? value : Number.POSITIVE_INFINITY);
      }
    });
    return DedupeState({ watermarkMs, keys });
  },
};

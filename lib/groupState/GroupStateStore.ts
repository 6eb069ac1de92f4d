import { Map as ImmutableMap, Record as ImmutableRecord, type RecordOf } from 'immutable';
import { decodeValue, encodeValue } from '../aggregate/valueKinds.js';
import { decodeStableKey, encodeStableKey, type StableKey } from '../internal/keySpec.js';
import { WATERMARK_ENTRY } from '../state/KeyedStepResult.js';
import type { StateCodec } from '../state/StateStore.js';
import { NO_TIMEOUT, type GroupEntry } from './GroupState.js';

/** The fields of {@link GroupStateStore}. */
export interface GroupStateStoreFields {
  /** The watermark after the last batch (the late-events watermark of the next one). */
  readonly watermarkMs: number;
  /** One frozen entry per key with state or a pending timeout. */
  readonly groups: ImmutableMap<StableKey, GroupEntry>;
}

/**
 * The state of `mapGroupsWithState` / `flatMapGroupsWithState`: an Immutable
 * record holding an Immutable map from key to {@link GroupEntry}, updated once
 * per invoked key per batch, so a snapshot after each batch costs O(1).
 */
export type GroupStateStore = RecordOf<GroupStateStoreFields>;

/** Builds a {@link GroupStateStore}. */
export const GroupStateStore = ImmutableRecord<GroupStateStoreFields>({ watermarkMs: 0, groups: ImmutableMap<StableKey, GroupEntry>() }, 'GroupStateStore');

function entryJson(entry: GroupEntry): unknown {
  // Keys and state values keep their types through the checkpoint (a Date key or a NaN in the state reads back as itself).
  return { key: encodeValue(entry.key), exists: entry.exists, ...(entry.exists ? { value: encodeValue(entry.value) } : {}), timeoutAt: entry.timeoutAt === NO_TIMEOUT ? null : entry.timeoutAt };
}

/**
 * Checkpoint codec of {@link GroupStateStore}: an entry `@watermark`, and one
 * entry per key (`n<number>` or `s<string>`) whose value is
 * `{ key, exists, value?, timeoutAt }` (`timeoutAt` `null` when none). Keys
 * and state values are written with `encodeValue`: `Date`s, `NaN`,
 * `±Infinity`, `-0` and bigints in them read back as themselves; anything
 * else must be JSON-serialisable.
 */
export const groupStateCodec: StateCodec<GroupStateStore> = {
  *entries(state) {
    yield [WATERMARK_ENTRY, state.watermarkMs];
    for (const [key, entry] of state.groups) yield [encodeStableKey(key), entryJson(entry)];
  },
  get(state, key) {
    if (key === WATERMARK_ENTRY) return state.watermarkMs;
    const decoded = decodeStableKey(key);
    const entry = decoded === undefined ? undefined : state.groups.get(decoded);
    return entry === undefined ? undefined : entryJson(entry);
  },
  fromEntries(entries) {
    let watermarkMs = 0;
    const map = ImmutableMap<StableKey, GroupEntry>().withMutations((m) => {
      for (const [key, value] of entries) {
        if (key === WATERMARK_ENTRY) {
          if (typeof value === 'number') watermarkMs = value;
          continue;
        }
        const decoded = decodeStableKey(key);
        if (decoded === undefined || typeof value !== 'object' || value === null) continue;
        const json = value as { key?: unknown; exists?: unknown; value?: unknown; timeoutAt?: unknown };
        const exists = json.exists === true;
        m.set(decoded, Object.freeze({ key: decodeValue(json.key), exists, value: exists ? decodeValue(json.value) : undefined, timeoutAt: typeof json.timeoutAt === 'number' ? json.timeoutAt : NO_TIMEOUT }));
      }
    });
    return GroupStateStore({ watermarkMs, groups: map });
  },
};

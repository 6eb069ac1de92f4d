import { Map as IMap } from 'immutable';
import { decodeStableKey, encodeStableKey, type StableKey } from '../internal/keySpec.js';
import type { StateCodec } from '../state/StateStore.js';

/** One buffered row of a join side. Never changed once committed (a new entry replaces it). */
export interface JoinEntry<T> {
  readonly row: T;
  /** The row's time in the time-range condition (ms), `NaN` without a range or when missing. */
  readonly t: number;
  /** The time compared with this side's state watermark (ms); buffered rows of a key are ordered by it. */
  readonly evt: number;
  /** The row has matched at least one row of the other side (Spark's state format v2 `matched` flag). */
  readonly matched: boolean;
}

/** The buffered rows of one join side, by join key; each key's rows ordered by {@link JoinEntry.evt}. */
export interface JoinSideState<T> {
  readonly rows: IMap<StableKey, readonly JoinEntry<T>[]>;
  /** Number of buffered rows. */
  readonly size: number;
}

/** A stream-stream join's state: both sides' buffers and the watermarks it keeps between batches. */
export interface JoinState<TLeft, TRight> {
  readonly left: JoinSideState<TLeft>;
  readonly right: JoinSideState<TRight>;
  /** The global input watermark after the last batch (the next batch's late-events watermark). */
  readonly watermark: number;
  /** The watermark the join emitted after the last batch. */
  readonly outputWatermark: number;
}

/** An empty side. */
export function emptySide<T>(): JoinSideState<T> {
  return { rows: IMap<StableKey, readonly JoinEntry<T>[]>(), size: 0 };
}

/** The state a join starts from. */
export function emptyJoinState<TLeft, TRight>(): JoinState<TLeft, TRight> {
  return { left: emptySide(), right: emptySide(), watermark: 0, outputWatermark: 0 };
}

/** The checkpoint entry key of a side's key: `L…` or `R…`. */
export function sideEntryKey(side: 'L' | 'R', key: StableKey): string {
  return side + encodeStableKey(key);
}

type StoredRow = readonly [row: unknown, matched: boolean];

function storedRows(entries: readonly JoinEntry<unknown>[]): StoredRow[] {
  const out: StoredRow[] = new Array<StoredRow>(entries.length);
  for (let i = 0; i < entries.length; i++) out[i] = [entries[i]!.row, entries[i]!.matched];
  return out;
}

/**
 * The checkpoint codec of a join's state. Entries: `meta` (the watermarks),
 * and one per buffered key and side, `L<key>` / `R<key>`, holding
 * `[row, matched]` pairs (rows must be JSON-serialisable). Restored entries
 * get their times from `leftTime`/`rightTime`; the eviction times are
 * recomputed by the operator before its first batch (`evt` is `NaN` until then).
 */
export function joinStateCodec<TLeft, TRight>(leftTime: (row: TLeft) => number, rightTime: (row: TRight) => number): StateCodec<JoinState<TLeft, TRight>> {
  return {
    *entries(state) {
      yield ['meta', { watermark: state.watermark, outputWatermark: state.outputWatermark }];
      for (const [key, entries] of state.left.rows) yield [sideEntryKey('L', key), storedRows(entries)];
      for (const [key, entries] of state.right.rows) yield [sideEntryKey('R', key), storedRows(entries)];
    },
    get(state, key) {
      if (key === 'meta') return { watermark: state.watermark, outputWatermark: state.outputWatermark };
      const stable = decodeStableKey(key.slice(1));
      if (stable === undefined) return undefined;
      const side = key[0] === 'L' ? state.left : key[0] === 'R' ? state.right : undefined;
      const entries = side?.rows.get(stable);
      return entries === undefined ? undefined : storedRows(entries);
    },
    fromEntries(entries) {
      let watermark = 0;
      let outputWatermark = 0;
      let leftSize = 0;
      let rightSize = 0;
      const left = IMap<StableKey, readonly JoinEntry<TLeft>[]>().asMutable();
      const right = IMap<StableKey, readonly JoinEntry<TRight>[]>().asMutable();
      for (const [key, value] of entries) {
        if (key === 'meta') {
          const meta = value as { watermark?: unknown; outputWatermark?: unknown };
          if (typeof meta.watermark === 'number') watermark = meta.watermark;
          if (typeof meta.outputWatermark === 'number') outputWatermark = meta.outputWatermark;
          continue;
        }
        const stable = decodeStableKey(key.slice(1));
        if (stable === undefined || !Array.isArray(value)) continue;
        const stored = value as readonly StoredRow[];
        if (key[0] === 'L') {
          left.set(stable, stored.map(([row, matched]) => ({ row: row as TLeft, t: leftTime(row as TLeft), evt: Number.NaN, matched })));
          leftSize += stored.length;
        } else if (key[0] === 'R') {
          right.set(stable, stored.map(([row, matched]) => ({ row: row as TRight, t: rightTime(row as TRight), evt: Number.NaN, matched })));
          rightSize += stored.length;
        }
      }
      return { left: { rows: left.asImmutable(), size: leftSize }, right: { rows: right.asImmutable(), size: rightSize }, watermark, outputWatermark };
    },
  };
}

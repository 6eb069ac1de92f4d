import { Map as IMap, Set as ISet } from 'immutable';
import { decodeValue, encodeValue } from '../aggregate/valueKinds.js';
import type { StateCodec } from '../state/StateStore.js';

/**
 * The rows one join side buffered in one micro-batch, as the checkpointed
 * state holds them. Rows leave the state when the whole segment is evicted;
 * until then rows of a partly evicted segment stay in the snapshot and are
 * recognised as gone by the side's `evictedUpTo` watermark.
 */
export interface JoinSegment<T> {
  /** The buffered rows, in arrival order. Never changed. */
  readonly rows: readonly T[];
  /** Positions (in `rows`) of the rows that have matched a row of the other side. */
  readonly matched: ISet<number>;
  /** The largest eviction time among the rows (`NaN` while the side is never evicted). */
  readonly maxEvictionTime: number;
}

/** One join side's checkpointed state: its segments by the micro-batch that buffered them. */
export interface JoinSideState<T> {
  readonly segments: IMap<number, JoinSegment<T>>;
  /** The last state watermark this side was evicted with: rows at or below it are gone. */
  readonly evictedUpTo: number | undefined;
}

/** A stream-stream join's checkpointed state: both sides and the watermarks kept between batches. */
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
  return { segments: IMap<number, JoinSegment<T>>(), evictedUpTo: undefined };
}

/** The state a join starts from. */
export function emptyJoinState<TLeft, TRight>(): JoinState<TLeft, TRight> {
  return { left: emptySide(), right: emptySide(), watermark: 0, outputWatermark: 0 };
}

/** The checkpoint entry key of a side's segment: `L<batchId>` or `R<batchId>`. */
export function segmentKey(side: 'L' | 'R', segmentId: number): string {
  return `${side}${segmentId}`;
}

interface StoredSegment {
  readonly rows: readonly unknown[];
  readonly matched: readonly number[];
  readonly maxEvictionTime: number | null;
}

function storeSegment(segment: JoinSegment<unknown>): StoredSegment {
  // Rows keep their types through the checkpoint (a schema's timestamp column holds Dates, which JSON would turn into text).
  return { rows: encodeValue(segment.rows) as readonly unknown[], matched: segment.matched.toArray(), maxEvictionTime: Number.isFinite(segment.maxEvictionTime) ? segment.maxEvictionTime : null };
}

function meta(state: JoinState<unknown, unknown>): unknown {
  return { watermark: state.watermark, outputWatermark: state.outputWatermark, leftEvictedUpTo: state.left.evictedUpTo ?? null, rightEvictedUpTo: state.right.evictedUpTo ?? null };
}

/**
 * The checkpoint codec of a join's state. Entries: `meta` (the watermarks)
 * and one per buffered segment, `L<batchId>` / `R<batchId>`, holding
 * `{ rows, matched, maxEvictionTime }`. Rows are written with `encodeValue`,
 * so `Date`s, `NaN`, `±Infinity`, `-0` and bigints in them read back as
 * themselves; anything else in a row must be JSON-serialisable.
 */
export function joinStateCodec<TLeft, TRight>(): StateCodec<JoinState<TLeft, TRight>> {
  return {
    *entries(state) {
      yield ['meta', meta(state)];
      for (const [id, segment] of state.left.segments) yield [segmentKey('L', id), storeSegment(segment)];
      for (const [id, segment] of state.right.segments) yield [segmentKey('R', id), storeSegment(segment)];
    },
    get(state, key) {
      if (key === 'meta') return meta(state);
      const side = key[0] === 'L' ? state.left : key[0] === 'R' ? state.right : undefined;
      const segment = side?.segments.get(Number(key.slice(1)));
      return segment === undefined ? undefined : storeSegment(segment);
    },
    fromEntries(entries) {
      let m: { watermark?: unknown; outputWatermark?: unknown; leftEvictedUpTo?: unknown; rightEvictedUpTo?: unknown } = {};
      const left = IMap<number, JoinSegment<TLeft>>().asMutable();
      const right = IMap<number, JoinSegment<TRight>>().asMutable();
      for (const [key, value] of entries) {
        if (key === 'meta') {
          m = value as typeof m;
          continue;
        }
        const id = Number(key.slice(1));
        const stored = value as StoredSegment;
        if (!Number.isInteger(id) || typeof stored !== 'object' || stored === null || !Array.isArray(stored.rows)) continue;
        const segment = { rows: decodeValue(stored.rows) as readonly unknown[], matched: ISet(stored.matched), maxEvictionTime: stored.maxEvictionTime ?? Number.NaN };
        if (key[0] === 'L') left.set(id, segment as JoinSegment<TLeft>);
        else if (key[0] === 'R') right.set(id, segment as JoinSegment<TRight>);
      }
      const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
      return {
        left: { segments: left.asImmutable(), evictedUpTo: num(m.leftEvictedUpTo) },
        right: { segments: right.asImmutable(), evictedUpTo: num(m.rightEvictedUpTo) },
        watermark: num(m.watermark) ?? 0,
        outputWatermark: num(m.outputWatermark) ?? 0,
      };
    },
  };
}

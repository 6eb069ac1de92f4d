import { isObservable, type Observable, type OperatorFunction } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import { InvalidOptionError, describeValue } from '../lib/errors/index.js';
import type { JoinType } from '../lib/join/JoinCondition.js';
import type { JoinRow, JoinableBatch, StaticJoinOptions, StaticJoinType, StreamJoinOptions } from '../lib/join/joinOptions.js';
import { JOIN_OP as OP } from '../lib/join/joinOutput.js';
import { isStaticRows, type StaticRows } from '../lib/join/staticJoin.js';
import { isStaticTable, type StaticTable } from '../lib/join/staticTable.js';
import { streamStaticJoin } from '../lib/join/streamStaticJoin.js';
import { streamStreamJoin } from '../lib/join/streamStreamJoin.js';
import type { RowTypeArgumentOnly } from '../lib/aggregate/rowTypes.js';

export type { JoinKeys, JoinTimeRange, JoinType, JoinWhere } from '../lib/join/JoinCondition.js';
/**
 * {@link streamJoin} for left rows `TLeft` (and right rows of type `TRight`),
 * as `streamJoin<Left>()` returns it: still generic in the right row (inferred
 * from `other`), the join type (from `type`) and the output row (from `select`).
 */
export interface StreamJoinFor<TLeft, TRight = unknown> {
  <R extends TRight, J extends JoinType = 'inner', O = JoinRow<J, TLeft, R>>(other: Observable<JoinableBatch<R>>, options: StreamJoinOptions<TLeft, R, J, O>): OperatorFunction<JoinableBatch<TLeft>, Batch<O>>;
  <R extends TRight, J extends StaticJoinType = 'inner', O = JoinRow<J, TLeft, R>>(other: StaticRows<R> | StaticTable<R>, options: StaticJoinOptions<TLeft, R, J, O>): OperatorFunction<Batch<TLeft>, Batch<O>>;
}

export type { JoinLateRowsHandler, JoinOptionsBase, JoinableBatch, JoinRow, JoinedLeft, JoinedRight, StaticJoinOptions, StaticJoinType, StreamJoinOptions } from '../lib/join/joinOptions.js';

/**
 * Joins this batch stream (the left side) with `other`: another batch stream
 * (stream-stream join, both sides buffered in state) or a static table (an
 * array, an Immutable collection, or `staticTable(tables$)` for a table that
 * is replaced when `tables$` emits).
 *
 * Spark: `Dataset.join` between two streams (`StreamingSymmetricHashJoinExec`)
 * or a stream and a static Dataset.
 *
 * ```text
 * left     a---c---e--|    a = #0 [L1 id 1 ts 10s]   c = #1 [L2 id 2 ts 40s]   e = #2 [L4 id 4 ts 70s]
 * right    --b---d---f|    b = #0 [R1 id 1 ts 15s]   d = #1 [R3 id 3 ts 50s]   f = #2 [R5 id 5 ts 80s]
 *          (both inputs through withWatermark('ts', '10 seconds'))
 *          streamJoin(right$, { on: 'id', type: 'leftOuter',
 *            timeRange: { leftTime: 'ts', rightTime: 'ts', lower: 0, upper: '10 seconds' } })
 * output   a-b-c-d-e-f|    #0 []  wm 0        #1 [L1+R1]  wm 0        #2 []         wm 0
 *                          #3 []  wm 19 999   #4 []       wm 29 999   #5 [L2+null]  wm 49 999
 * ```
 * Unaligned, each arriving batch is a micro-batch (ids in arrival order). The
 * global watermark is the min of the inputs (0, 0, 5 s, 30 s, 40 s, 60 s); the
 * left state watermark `W - 10 s - 1 ms` evicts L1 (matched, silently) at #3
 * and L2 (never matched: `L2+null`) at #5; the output watermark is the
 * smaller of `W` and the state watermarks.
 *
 * Every new row on either side joins all buffered rows of the other side, so
 * each matching pair is emitted exactly once, whatever batches the two rows
 * came in. Per micro-batch: left rows join the right state, right rows join
 * the left state (this batch's left rows included), then rows that can no
 * longer match are evicted.
 *
 * **State**: every non-late row of both sides, indexed by join key and ordered
 * by eviction time. A side is evicted only when Spark would: with a
 * watermarked join key (a `window` or the event time itself), both sides drop
 * rows whose key is at or below the watermark `W`; otherwise, from
 * `timeRange` and the watermarks, the left side drops rows with `leftTime <=
 * W - upper - 1 ms` and the right side rows with `rightTime <= W + lower - 1
 * ms` (no 1 ms for strict bounds). Without those, state grows forever, as in
 * Spark. Stream-static joins keep no state.
 *
 * **Late data**: each side drops rows whose event time is at or below the
 * previous batch's global watermark (`min` of the inputs by default); they are
 * counted in `numRowsDroppedByWatermark` and handed to `onLateRows`.
 *
 * **Output modes**: append only. Outer rows padded with `null` appear exactly
 * when the row is evicted without ever having matched; left semi emits each
 * left row once.
 *
 * **Types**: the output row follows `type` and `select`; the left row type
 * comes from the source or an earlier operator, the right one from `other`.
 * Where the join starts a fragment, fix the left row type with
 * `streamJoin<Left>()` (or `streamJoin<Left, Right>()`), which returns
 * `streamJoin` for those rows. `streamJoin<Left>(other, options)` does not
 * compile: once a type argument is given TypeScript infers none.
 *
 * @example
 * ```ts
 * const monitor$ = fromBatches([[{ id: 'phone1', action: 'open', ts: 1000 }]]).pipe(withWatermark('ts', '1 hour'));
 * const health$ = fromBatches([[{ id: 'phone1', health: 'good', ts: 2000 }]]).pipe(withWatermark('ts', '1 hour'));
 * monitor$
 *   .pipe(streamJoin(health$, { on: 'id', select: (m, h) => ({ id: m.id, action: m.action, health: h.health }) }))
 *   .subscribe((b) => console.log(b.rows));
 * // => []
 * // => [ { id: 'phone1', action: 'open', health: 'good' } ]
 * ```
 *
 * @param other The right side: an `Observable<Batch<R>>`, an array or Immutable collection, or `staticTable(tables$)`.
 * @param options `on`, `type`, `timeRange`, `where`, `select`; for two streams also `aligned`, `policy`, `name`, `onLateRows`.
 * @returns An operator emitting one batch per micro-batch.
 * @throws {UnsupportedOperationError} `streamJoin: Stream-stream join without equality predicate is not supported. …` when two streams are joined without `on`.
 * @throws {UnsupportedOperationError} (as an error notification on subscribe, or on the first batch when the watermarks are not known before) `streamJoin: Stream-stream LeftOuter join between two streaming DataFrame/Datasets is not supported without a watermark in the join keys, or a watermark on the nullable side and an appropriate range condition` (also `RightOuter`, `FullOuter`, `LeftSemi`).
 * @throws {UnsupportedOperationError} (on subscribe) `streamJoin: Join between two streaming DataFrames/Datasets is not supported in Update output mode, only in Append output mode` when an input is in update (or complete) mode.
 * @throws {UnsupportedOperationError} `streamJoin: FullOuter joins with streaming DataFrames/Datasets on the left and a static DataFrame/Dataset on the right is not supported` for a full outer stream-static join.
 * @throws {UnsupportedOperationError} `streamJoin: RightOuter join with a streaming DataFrame/Dataset on the left and a static DataFrame/DataSet on the right not supported` for a right outer stream-static join.
 * @throws {InvalidOptionError} for a malformed option, e.g. `streamJoin: type must be one of 'inner', 'leftOuter', 'rightOuter', 'fullOuter', 'leftSemi'; got "leftAnti". …`.
 * @throws {UserFunctionError} (as an error notification) when `on`, `where`, `select` or a time function throws.
 * @throws {InvalidDurationError} an unparsable `timeRange.lower` or `timeRange.upper`.
 * @throws {BatchSequenceError} (as an error notification) when an input's batch ids do not increase.
 * @see staticTable
 * @see withWatermark
 */
export function streamJoin<TLeft, TRight, J extends JoinType = 'inner', O = JoinRow<J, TLeft, TRight>>(
  other: Observable<JoinableBatch<TRight>>,
  options: StreamJoinOptions<TLeft, TRight, J, O>,
): OperatorFunction<JoinableBatch<TLeft>, Batch<O>>;
export function streamJoin<TLeft, TRight, J extends StaticJoinType = 'inner', O = JoinRow<J, TLeft, TRight>>(
  other: StaticRows<TRight> | StaticTable<TRight>,
  options: StaticJoinOptions<TLeft, TRight, J, O>,
): OperatorFunction<Batch<TLeft>, Batch<O>>;
/**
 * `streamJoin<Left>()` (or `streamJoin<Left, Right>()`) fixes the left row
 * type (and bounds the right one) and returns `streamJoin` for those rows,
 * still generic in the join type and the output row: use it to start a
 * fragment, `pipe(streamJoin<Click>()(impressions$, { on: 'ad', type: 'leftOuter', … }), …)`,
 * where no source gives the left row type.
 */
export function streamJoin<TLeft, TRight = unknown>(): StreamJoinFor<TLeft, TRight>;
/** Refused: `streamJoin<Left>(other, options)` would lose the right row, join type and output row types; write `streamJoin<Left>()(other, options)`. */
export function streamJoin<TLeft>(
  other: Observable<Batch<unknown>> | StaticRows<unknown> | StaticTable<unknown>,
  options: StreamJoinOptions<TLeft, unknown, JoinType, unknown> & RowTypeArgumentOnly<'streamJoin', 'other, options', 'the right row, join type and output row types'>,
): never;
export function streamJoin<TLeft, TRight, O>(
  // Both optional only for `streamJoin<Left>()`; a call with arguments goes on to validate them.
  other: Observable<Batch<TRight>> | StaticRows<TRight> | StaticTable<TRight> = undefined as never,
  options: StreamJoinOptions<TLeft, TRight, JoinType, O> | StaticJoinOptions<TLeft, TRight, StaticJoinType, O> = undefined as never,
): OperatorFunction<Batch<TLeft>, Batch<O>> | StreamJoinFor<TLeft, TRight> {
  if (arguments.length === 0) return streamJoin as StreamJoinFor<TLeft, TRight>;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(`${OP}: options must be an object with at least on; got ${describeValue(options)}.`, 'options', options, '{ on, type?, timeRange?, where?, select? }');
  }
  if (isStaticTable(other) || isStaticRows(other)) return streamStaticJoin(other as StaticRows<TRight> | StaticTable<TRight>, options as StaticJoinOptions<TLeft, TRight, StaticJoinType, O>);
  if (isObservable(other)) return streamStreamJoin(other as Observable<Batch<TRight>>, options as StreamJoinOptions<TLeft, TRight, JoinType, O>);
  throw new InvalidOptionError(
    `${OP}: other must be an Observable of batches, an array, an Immutable collection or staticTable(tables$); got ${describeValue(other)}.`,
    'other',
    other,
    'an Observable of batches or a static table',
  );
}

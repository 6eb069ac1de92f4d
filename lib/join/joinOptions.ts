import type { Batch } from '../batch/Batch.js';
import type { LateRowsHandler } from '../types.js';
import type { WatermarkPolicy } from '../internal/watermarkPolicy.js';
import type { JoinKeys, JoinTimeRange, JoinType, JoinWhere } from './JoinCondition.js';

/** The left value an output row carries: `null` possible in right and full outer joins. */
export type JoinedLeft<J extends JoinType, TLeft> = J extends 'rightOuter' | 'fullOuter' ? TLeft | null : TLeft;
/** The right value an output row carries: `null` possible in left and full outer joins, always `null` in left semi joins. */
export type JoinedRight<J extends JoinType, TRight> = J extends 'leftSemi' ? null : J extends 'leftOuter' | 'fullOuter' ? TRight | null : TRight;
/** The default output row: `{ left, right }`, or the left row itself for a left semi join. */
export type JoinRow<J extends JoinType, TLeft, TRight> = J extends 'leftSemi' ? TLeft : { readonly left: JoinedLeft<J, TLeft>; readonly right: JoinedRight<J, TRight> };

/** The join types a stream-static join supports with the stream on the left. */
export type StaticJoinType = 'inner' | 'leftOuter' | 'leftSemi';

/** A late-data side output for a join: one handler for both sides' late rows, or one per side. */
export type JoinLateRowsHandler<TLeft, TRight> = LateRowsHandler<TLeft | TRight> | { readonly left?: LateRowsHandler<TLeft>; readonly right?: LateRowsHandler<TRight> };

/** Options shared by stream-stream and stream-static joins. */
export interface JoinOptionsBase<TLeft, TRight, J extends JoinType, O> {
  /** The join type. @defaultValue `'inner'` */
  readonly type?: J;
  /** `leftTime + lower <= rightTime <= leftTime + upper`; with watermarks it bounds the buffered state. */
  readonly timeRange?: JoinTimeRange<TLeft, TRight>;
  /** Any further condition: a function of both rows, or `{ left?, right?, both? }`. */
  readonly where?: JoinWhere<TLeft, TRight>;
  /** Shapes each output row. @defaultValue `(left, right) => ({ left, right })`; the left row itself for `'leftSemi'`. */
  readonly select?: (left: JoinedLeft<J, TLeft>, right: JoinedRight<J, TRight>) => O;
  /**
   * Check that the key fields (and `timeRange` fields) exist: against each
   * input's schema when the pipeline is built, else in every non-empty batch
   * of each input and every non-empty static table (a field no row has is a
   * `ColumnNotFoundError`). Pass `false` for sparse data.
   * @defaultValue `true`
   */
  readonly checkColumns?: boolean;
}

/** Options for a stream-stream {@link streamJoin}. */
export interface StreamJoinOptions<TLeft, TRight, J extends JoinType = 'inner', O = JoinRow<J, TLeft, TRight>> extends JoinOptionsBase<TLeft, TRight, J, O> {
  /** The equi-join key (required between two streams). */
  readonly on: JoinKeys<TLeft, TRight>;
  /**
   * Both inputs carry the same batch ids (one trigger drives both): batch N
   * of each input forms one micro-batch, left rows first. Without it each
   * arriving batch is a micro-batch of its own, numbered in arrival order.
   * @defaultValue `false`
   */
  readonly aligned?: boolean;
  /** How the two inputs' watermarks combine. @defaultValue `'min'` */
  readonly policy?: WatermarkPolicy;
  /** Stable operator id for checkpoints. @defaultValue `streamJoin#<n>` */
  readonly name?: string;
  /** Receives the rows dropped as late (a handler for both sides, or `{ left, right }`). */
  readonly onLateRows?: JoinLateRowsHandler<TLeft, TRight>;
}

/** Options for a stream-static {@link streamJoin} (the stream is the left side). */
export interface StaticJoinOptions<TLeft, TRight, J extends StaticJoinType = 'inner', O = JoinRow<J, TLeft, TRight>> extends JoinOptionsBase<TLeft, TRight, J, O> {
  /** The equi-join key; leave it out to test every table row with `where` / `timeRange`. */
  readonly on?: JoinKeys<TLeft, TRight>;
}


/**
 * A batch a stream-stream join accepts: anything but a result in update or
 * complete mode (Spark joins two streams in append mode only), so that
 * `outputMode('update')` before a join is refused when the code compiles as
 * well as on subscribe.
 */
export type JoinableBatch<T> = Batch<T> & { readonly outputMode?: 'append' };

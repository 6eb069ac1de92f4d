import type { WindowBounds } from '../window/WindowBounds.js';
import type { AggregateResults } from './Aggregator.js';
import type { KeyFields } from './groupKey.js';

/** Flattens an intersection for readable hover types. */
export type Simplify<O> = { [P in keyof O]: O[P] } & {};

/** A windowed result row: `{ window: { start, end }, ...keyFields, ...aggregates }`. */
export type WindowedRow<T, K, S> = Simplify<{ window: WindowBounds } & KeyFields<T, K> & AggregateResults<S>>;

/** A grouped result row without a window: `{ ...keyFields, ...aggregates }`. */
export type GroupedRow<T, K, S> = Simplify<KeyFields<T, K> & AggregateResults<S>>;

/**
 * The refusal of a call that gives an operator its row type argument but
 * not the types its options determine, such as `windowTumbling<Row>(options)`
 * or `mapGroupsWithState<Row, S, R>(options, fn)`. TypeScript infers no type
 * argument once one is given, so the key and aggregate types the options hold
 * would be lost (every aggregate field `unknown`, an `unknown` key); the call
 * does not compile, and its error (the name of the missing property) names
 * the form that keeps them: `windowTumbling<Row>()(options)`, a function of
 * the options that is generic in the key and the aggregates. Where the source
 * or an earlier operator gives the row type (`source$.pipe(…)`,
 * `pipe(withWatermark<Row>(…), …)`), no type argument is needed at all.
 */
export type RowTypeArgumentOnly<Op extends string, Args extends string = 'options', Lost extends string = 'the key and aggregate types'> = {
  readonly [P in `${Op}<Row>(${Args}) would lose ${Lost} (TypeScript infers no type argument once one is given): write ${Op}<Row>()(${Args}), or leave out <Row> where the source or an earlier operator gives the row type`]: never;
};

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
 * The refusal of a call that gives an operator only its row type argument,
 * such as `windowTumbling<Row>(options)`. TypeScript infers no type argument
 * once one is given, so the key and aggregate types the options hold would be
 * lost (every aggregate field `unknown`); the call does not compile, and its
 * error names the form that keeps them: `windowTumbling<Row>()(options)`, a
 * function of the options that is generic in the key and the aggregates.
 * Where the source or an earlier operator gives the row type (`source$.pipe(…)`,
 * `pipe(withWatermark<Row>(…), …)`), no type argument is needed at all.
 */
export type RowTypeArgumentOnly<Op extends string, Args extends string = 'options'> = {
  readonly [P in `${Op}<Row>(${Args}) would lose the types inferred from ${Args} (TypeScript infers nothing once a type argument is given): write ${Op}<Row>()(${Args}), or leave out <Row> where the source or an earlier operator gives the row type`]: never;
};

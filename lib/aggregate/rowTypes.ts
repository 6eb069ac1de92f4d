import type { WindowBounds } from '../window/WindowBounds.js';
import type { AggregateResults } from './Aggregator.js';
import type { KeyFields } from './groupKey.js';

/** Flattens an intersection for readable hover types. */
export type Simplify<O> = { [P in keyof O]: O[P] } & {};

/** A windowed result row: `{ window: { start, end }, ...keyFields, ...aggregates }`. */
export type WindowedRow<T, K, S> = Simplify<{ window: WindowBounds } & KeyFields<T, K> & AggregateResults<S>>;

/** A grouped result row without a window: `{ ...keyFields, ...aggregates }`. */
export type GroupedRow<T, K, S> = Simplify<KeyFields<T, K> & AggregateResults<S>>;

/**
 * What a built-in aggregator's accumulator is, for engines that keep
 * accumulators in typed-array columns (`denseGroupEngine.ts`):
 *
 * - `count`: `count()`, a number, `+ 1` per row;
 * - `number`: always a number (`count(field)`), updated through the aggregator's `add`;
 * - `sum`: a number or `null` (no value yet);
 * - `avg`: `[sum, count]`;
 * - `min` / `max`: `null`, a number, or another comparable value (text, a date…).
 *
 * `field` is the field the aggregator reads when it is a plain field name:
 * the engine then reads a number inline and calls `add` only for other
 * values (casts, nulls, invalid values), so the result is the aggregator's.
 */
export type ColumnKind =
  | { readonly kind: 'count' }
  | { readonly kind: 'number' }
  | { readonly kind: 'sum' | 'avg' | 'min' | 'max'; readonly field: string | undefined };

const KINDS = new WeakMap<object, ColumnKind>();

/** Records what a built-in aggregator's accumulator is (see {@link ColumnKind}); returns the aggregator. */
export function columnAccumulator<A extends object>(aggregator: A, kind: ColumnKind): A {
  KINDS.set(aggregator, kind);
  return aggregator;
}

/** The {@link ColumnKind} of a built-in aggregator, or `undefined` (user aggregators, and built-ins whose accumulator is not numbers). */
export function columnKindOf(aggregator: object): ColumnKind | undefined {
  return KINDS.get(aggregator);
}

/** How many float64 slots a kind takes. */
export function slotsOf(kind: ColumnKind): number {
  return kind.kind === 'avg' ? 2 : 1;
}

import type { Aggregator } from './Aggregator.js';

/** Marks the built-in aggregators whose result does not depend on the order rows are folded and merged in. */
const ORDER_INSENSITIVE = new WeakSet<object>();

/**
 * Declares a built-in aggregator order-insensitive (its `merge` is
 * commutative as well as associative, so any grouping and order of the same
 * rows gives the same result) and returns it. Engines may then combine
 * partial aggregates in any order, e.g. the panes of a sliding window.
 */
export function orderInsensitive<A extends object>(aggregator: A): A {
  ORDER_INSENSITIVE.add(aggregator);
  return aggregator;
}

/**
 * Whether an aggregator's result is the same whatever the order rows reach
 * it: a built-in declared so, or a user aggregator with `commutative: true`.
 */
export function isOrderInsensitive(aggregator: Aggregator<never, unknown, unknown> | object): boolean {
  return ORDER_INSENSITIVE.has(aggregator) || (aggregator as { commutative?: unknown }).commutative === true;
}

import type { Batch } from './Batch.js';

/** What kind of aggregation produced a result: a time window (tumbling or sliding), a session window, or plain grouping. */
export type AggregationKind = 'window' | 'session' | 'group';

/** What an aggregation tells `outputMode` about itself, also when the pipeline information is hidden. */
export interface AggregationInfo<K extends AggregationKind = AggregationKind> {
  readonly kind: K;
  /** The aggregation groups by the watermarked column or a window on it (append mode is allowed). */
  readonly hasWatermark: boolean;
  /** The stable operator id. */
  readonly operatorId: string;
  /** The aggregation runs with complete-mode semantics (no late filtering, no eviction). */
  readonly complete: boolean;
}

/**
 * The whole result table of an aggregation after a batch: every group still
 * in the state. It wraps an Immutable snapshot of the operator's state, taken
 * when the table is first read during the batch (incrementally: O(groups
 * written by the batch) when the previous batch was snapshotted too, as in
 * complete mode or under a checkpoint); rows are built when iterated. A table
 * taken during an earlier batch keeps showing that batch's result.
 */
export interface ResultTable<R> extends Iterable<R> {
  /** Number of rows (groups). */
  readonly size: number;
  /** The rows in a new array. */
  toArray(): R[];
}

/**
 * What an aggregation emits: a {@link Batch} that also carries the changes of
 * the result table, so that `outputMode` can pick what to emit.
 *
 * - `rows` = `finalized`: the groups the watermark finalised and evicted in
 *   this batch, with their final values: what append mode emits (Spark's
 *   default output mode), so aggregations chain in append mode;
 * - `updated`: the groups written by this batch's non-late rows, with their
 *   new values, before eviction: what update mode emits;
 * - `table`: the whole result table after the batch: what complete mode emits.
 *
 * Rows of `updated`, `finalized` and `table` are built on first access.
 * Between snapshots the operator updates its working state in place, so read
 * `updated` and `table` while the batch is being emitted (as `outputMode`
 * does); reading them after a later batch was processed raises an
 * `InvariantViolationError` instead of returning wrong rows. `finalized`
 * (rows that left the state) can be read at any time.
 */
export interface ResultBatch<R, K extends AggregationKind = AggregationKind> extends Batch<R> {
  readonly finalized: readonly R[];
  readonly updated: readonly R[];
  readonly table: ResultTable<R>;
  readonly aggregation: AggregationInfo<K>;
}

/** `true` when `value` is a {@link ResultBatch} (carries the result-table fields). */
export function isResultBatch(value: unknown): value is ResultBatch<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  // `table` is a lazy getter that takes a snapshot: test for it without reading it.
  const b = value as { aggregation?: unknown };
  return typeof b.aggregation === 'object' && b.aggregation !== null && 'table' in value && 'updated' in value;
}

/** Builds a {@link ResultTable} over `size` groups whose rows `iterate` produces. */
export function resultTable<R>(size: number, iterate: () => Iterator<R>): ResultTable<R> {
  return {
    size,
    [Symbol.iterator]: iterate,
    toArray() {
      const out: R[] = [];
      const it = iterate();
      for (let s = it.next(); s.done !== true; s = it.next()) out.push(s.value);
      return out;
    },
  };
}

/**
 * Creates a {@link ResultBatch} whose `rows`/`finalized`, `updated` and
 * `table` are computed on first access (own enumerable getters, so that a
 * spread copy still carries them).
 */
export function createResultBatch<R, K extends AggregationKind>(
  base: Omit<Batch<R>, 'rows'>,
  aggregation: AggregationInfo<K>,
  lazy: { readonly finalized: () => readonly R[]; readonly updated: () => readonly R[]; readonly table: () => ResultTable<R> },
): ResultBatch<R, K> {
  let finalized: readonly R[] | undefined;
  let updated: readonly R[] | undefined;
  let table: ResultTable<R> | undefined;
  const getFinalized = (): readonly R[] => (finalized ??= lazy.finalized());
  const out = { ...base, aggregation } as ResultBatch<R, K>;
  Object.defineProperties(out, {
    rows: { get: getFinalized, enumerable: true },
    finalized: { get: getFinalized, enumerable: true },
    updated: { get: () => (updated ??= lazy.updated()), enumerable: true },
    table: { get: () => (table ??= lazy.table()), enumerable: true },
  });
  return out;
}

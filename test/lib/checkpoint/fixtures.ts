import { Map as ImMap } from 'immutable';
import type { MonoTypeOperatorFunction, OperatorFunction } from 'rxjs';
import type { Batch } from '../../../lib/batch/Batch.js';
import type { StateCodec } from '../../../lib/state/StateStore.js';
import { statefulOperator, type Step } from '../../../lib/internal/statefulOperator.js';
import { mapRows as libraryMapRows } from '../../../operators/mapRows.js';

/** State of the test operator: a count per key. */
export type Counts = ImMap<string, number>;

export const countsCodec: StateCodec<Counts> = {
  entries: (state) => state.entries(),
  get: (state, key) => state.get(key),
  fromEntries: (entries) => ImMap(entries as Iterable<[string, number]>),
};

/** A row of the test stream. */
export interface Row {
  readonly k: string;
  readonly ts: number;
  /** Decrement instead of increment; a count reaching 0 removes the key. */
  readonly remove?: boolean;
}

/**
 * A minimal stateful operator, written the way the library's operators are:
 * registers its state, restores it, skips replayed batches, publishes the
 * state and changed keys per batch, and emits the running counts of the keys
 * the batch touched.
 */
export function countByKey<T extends { readonly k: string; readonly remove?: boolean } = Row>(options: { readonly name?: string; readonly by?: string } = {}): OperatorFunction<Batch<T>, Batch<{ k: string; count: number }>> {
  return (source) =>
    statefulOperator<Step, Batch<{ k: string; count: number }>, Counts>({
      op: 'countByKey',
      inputs: [source],
      stateful: { kind: 'countByKey' },
      derive: ([input]) => input!,
      state: () => ({ kind: 'countByKey', name: options.name, descriptor: { by: options.by ?? 'k' }, codec: countsCodec }),
      open: ({ restored }) => {
        let state: Counts = restored ?? ImMap();
        return {
          step: ({ batches: [input] }) => {
            const batch = input as Batch<T>;
            const changed = new Set<string>();
            state = state.withMutations((m) => {
              for (const row of batch.rows) {
                const next = (m.get(row.k) ?? 0) + (row.remove === true ? -1 : 1);
                if (next <= 0) m.delete(row.k);
                else m.set(row.k, next);
                changed.add(row.k);
              }
            });
            return {
              publish: { state, changedKeys: changed },
              output: (metrics) => ({ batchId: batch.batchId, watermark: batch.watermark, rows: [...changed].map((k) => ({ k, count: state.get(k) ?? 0 })), ...(metrics === undefined ? {} : { metrics }) }),
            };
          },
        };
      },
    });
}

/** A stateless map over the rows of each batch (a compatible pipeline change). */
export function mapRows<T>(f: (row: T) => T): MonoTypeOperatorFunction<Batch<T>> {
  return libraryMapRows<T, T>((row) => f(row));
}

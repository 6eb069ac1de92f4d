import { Map as ImMap } from 'immutable';
import { Observable, type MonoTypeOperatorFunction, type OperatorFunction } from 'rxjs';
import type { Batch } from '../../../lib/batch/Batch.js';
import { batchSubscriber } from '../../../lib/internal/batchSubscriber.js';
import { registerState, type StateCodec } from '../../../lib/state/StateStore.js';

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
    new Observable<Batch<{ k: string; count: number }>>((subscriber) => {
      const handle = registerState<Counts>({ kind: 'countByKey', ...(options.name === undefined ? {} : { name: options.name }), descriptor: { by: options.by ?? 'k' }, codec: countsCodec });
      const skipUpTo = handle.restored?.batchId ?? -1;
      let state: Counts = handle.restored?.state ?? ImMap();
      return source.subscribe(
        batchSubscriber<T>(subscriber, 'countByKey', (batch) => {
          if (batch.batchId <= skipUpTo) return;
          const changed = new Set<string>();
          state = state.withMutations((m) => {
            for (const row of batch.rows) {
              const next = (m.get(row.k) ?? 0) + (row.remove === true ? -1 : 1);
              if (next <= 0) m.delete(row.k);
              else m.set(row.k, next);
              changed.add(row.k);
            }
          });
          handle.publish(batch.batchId, state, changed);
          subscriber.next({ ...batch, rows: [...changed].map((k) => ({ k, count: state.get(k) ?? 0 })) });
        }),
      );
    });
}

/** A stateless map over the rows of each batch (a compatible pipeline change). */
export function mapRows<T>(f: (row: T) => T): MonoTypeOperatorFunction<Batch<T>> {
  return (source) => new Observable<Batch<T>>((subscriber) => source.subscribe(batchSubscriber<T>(subscriber, 'mapRows', (batch) => subscriber.next({ ...batch, rows: batch.rows.map(f) }))));
}

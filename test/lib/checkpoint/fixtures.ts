import { Map as ImMap } from 'immutable';
import { Observable, type MonoTypeOperatorFunction, type OperatorFunction } from 'rxjs';
import type { Batch } from '../../../lib/batch/Batch.js';
import { batchSubscriber } from '../../../lib/internal/batchSubscriber.js';
import type { StateCodec } from '../../../lib/state/StateStore.js';
import { Stage, infoOfBatch, registerStage, stamp, withStateful, type Registration } from '../../../lib/internal/pipeline.js';
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
  return (source) => {
    const stage = new Stage('countByKey', [source], ([input]) => input!, { stateful: { kind: 'countByKey' } });
    return stage.attach(new Observable<Batch<{ k: string; count: number }>>((subscriber) => {
      let reg: Registration<Counts> | undefined;
      let skipUpTo = -1;
      let state: Counts = ImMap();
      return source.subscribe(
        batchSubscriber<T>(subscriber, 'countByKey', (batch) => {
          if (reg === undefined) {
            const input = infoOfBatch(batch);
            reg = registerStage<Counts>(stage, [input], { kind: 'countByKey', name: options.name, descriptor: { by: options.by ?? 'k' }, codec: countsCodec });
            skipUpTo = reg.handle.restored?.batchId ?? -1;
            state = reg.handle.restored?.state ?? state;
          }
          const handle = reg.handle;
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
          subscriber.next(stamp({ ...batch, rows: [...changed].map((k) => ({ k, count: state.get(k) ?? 0 })) }, withStateful(stage.derive([infoOfBatch(batch)]), reg.self)));
        }),
      );
    }));
  };
}

/** A stateless map over the rows of each batch (a compatible pipeline change). */
export function mapRows<T>(f: (row: T) => T): MonoTypeOperatorFunction<Batch<T>> {
  return libraryMapRows<T, T>((row) => f(row));
}

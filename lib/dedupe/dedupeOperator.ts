import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import { withStateMetrics, type Batch } from '../batch/Batch.js';
import { UnsupportedOperationError } from '../errors/index.js';
import { batchSubscriber } from '../internal/batchSubscriber.js';
import { columnChecks, knownColumnsOf, withKnownColumns } from '../internal/knownColumns.js';
import { resolveKeySpec } from '../internal/keySpec.js';
import { emitLateRows } from '../internal/lateRows.js';
import { derivePlan, planOf, withPlan, type StreamPlan } from '../internal/plan.js';
import { UNSUPPORTED } from '../query/unsupportedOperations.js';
import { registerState } from '../state/StateStore.js';
import type { KeySpec, LateRowsHandler } from '../types.js';
import { dedupeCodec, type DedupeState } from './DedupeState.js';
import { Deduplicator, type DedupeMode } from './Deduplicator.js';

/** The options both deduplication operators take. */
export interface DedupeOperatorOptions<T> {
  readonly name?: string;
  readonly onLateRows?: LateRowsHandler<T>;
  /** `false` turns off the per-batch check that each key field is present in some row (sparse data). @defaultValue `true` */
  readonly checkColumns?: boolean;
}

/** Spark's message refusing the upstream plan, if it does: an aggregation before `dropDuplicates`, no watermark before `dropDuplicatesWithinWatermark`. */
function refusalFor(mode: DedupeMode, upstream: StreamPlan): string | undefined {
  if (mode === 'first') return upstream.aggregation === undefined ? undefined : UNSUPPORTED.dedupAfterAggregation;
  return upstream.watermarked ? undefined : UNSUPPORTED.dedupWithinWatermarkWithoutWatermark;
}

/**
 * The RxJS shell shared by `dropDuplicates` (`mode` `'first'`) and
 * `dropDuplicatesWithinWatermark` (`'withinWatermark'`): resolves the key
 * (a bad key spec throws here, inside `pipe()`), checks the upstream plan on
 * subscribe (no aggregation upstream for `dropDuplicates`, a watermark
 * upstream for `dropDuplicatesWithinWatermark`), registers the state, skips
 * batches already in a restored state, runs a {@link Deduplicator} per batch,
 * hands late rows to `onLateRows`, publishes the state and emits the batch
 * with its state metrics.
 */
export function dedupeOperator<T>(op: string, mode: DedupeMode, keys: KeySpec<T> | undefined, options: DedupeOperatorOptions<T>): MonoTypeOperatorFunction<Batch<T>> {
  const key = resolveKeySpec<T>(op, keys, 'keys', true);
  const { name, onLateRows } = options;
  return (source) => {
    const known = knownColumnsOf(source);
    const checkColumns = columnChecks(op, (key.fields ?? []).map((column) => ({ option: 'keys', column })), known, options.checkColumns);
    const upstream = planOf(source);
    const output = new Observable<Batch<T>>((subscriber) => {
      const refused = upstream === undefined ? undefined : refusalFor(mode, upstream);
      if (refused !== undefined) {
        subscriber.error(new UnsupportedOperationError(op, refused));
        return undefined;
      }
      const handle = registerState<DedupeState>({ kind: op, ...(name === undefined ? {} : { name }), descriptor: { keys: key.descriptor }, codec: dedupeCodec });
      const skipUpTo = handle.restored?.batchId ?? -1;
      const dedupe = new Deduplicator<T>(op, mode, key, handle.restored?.state);
      return source.subscribe(
        batchSubscriber<T>(subscriber, op, (batch) => {
          if (batch.batchId <= skipUpTo || subscriber.closed) return;
          checkColumns?.(batch.rows, batch.batchId);
          const step = dedupe.step(batch, onLateRows !== undefined);
          if (step.lateRows !== undefined) emitLateRows(onLateRows, { operatorId: handle.operatorId, batchId: batch.batchId, watermark: step.lateWatermarkMs, rows: step.lateRows });
          handle.publish(batch.batchId, dedupe.state, step.changedKeys);
          subscriber.next({
            ...batch,
            rows: step.rows,
            metrics: withStateMetrics(batch.metrics, {
              operatorId: handle.operatorId,
              operatorName: op,
              numRowsTotal: dedupe.state.size,
              numRowsUpdated: step.numAdded,
              numRowsRemoved: step.numRemoved,
              numRowsDroppedByWatermark: step.numLate,
              memoryUsedBytes: dedupe.memoryUsedBytes,
              customMetrics: { numDroppedDuplicateRows: step.numDuplicates },
            }),
          });
        }),
      );
    });
    return withKnownColumns(withPlan(output, derivePlan(source, {}, op)), known);
  };
}

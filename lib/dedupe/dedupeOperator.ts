import type { MonoTypeOperatorFunction } from 'rxjs';
import type { Batch } from '../batch/Batch.js';
import { UnsupportedOperationError } from '../errors/index.js';
import { batchColumnCheck, knownColumnsOf, resolveColumns } from '../internal/knownColumns.js';
import { resolveKeySpec } from '../internal/keySpec.js';
import { watermarkNamed, type PipelineInfo } from '../internal/pipeline.js';
import { lateOutput, statefulOperator, type Step } from '../internal/statefulOperator.js';
import { UNSUPPORTED } from '../query/unsupportedOperations.js';
import { checkOperatorName } from '../state/StateStore.js';
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

/** Spark's refusal for deduplicating a stream with this info, if any. */
function refusalFor(op: string, mode: DedupeMode, input: PipelineInfo, keyFields: readonly string[] | undefined): UnsupportedOperationError | undefined {
  for (const s of input.stateful) {
    const aggregation = s.kind === 'windowTumbling' || s.kind === 'windowSliding' || s.kind === 'windowSession' || s.kind === 'groupAggregate';
    if (aggregation && (s.outputMode === 'update' || s.outputMode === 'complete')) return new UnsupportedOperationError(op, UNSUPPORTED.globalWatermarkCorrectness);
  }
  if (mode === 'withinWatermark' && !input.watermarked) return new UnsupportedOperationError(op, UNSUPPORTED.dedupWithinWatermarkWithoutWatermark);
  const timed = (keyFields ?? []).filter((f) => watermarkNamed(input, f) !== undefined);
  if (timed.length > 1) return new UnsupportedOperationError(op, `${UNSUPPORTED.multipleEventTimeColumns} event time columns: ${timed.join(', ')}`);
  return undefined;
}

/**
 * The RxJS shell shared by `dropDuplicates` (`mode` `'first'`) and
 * `dropDuplicatesWithinWatermark` (`'withinWatermark'`): resolves the key
 * (a bad key spec throws here, inside `pipe()`), checks the pipeline (no
 * aggregation in update or complete mode upstream, a watermark upstream for
 * `dropDuplicatesWithinWatermark`), registers the state with the query of its
 * first batch, skips batches already in a restored state, runs a
 * {@link Deduplicator} per batch, hands late rows to `onLateRows`, publishes
 * the state and emits the batch with its state metrics.
 */
export function dedupeOperator<T>(op: string, mode: DedupeMode, keys: KeySpec<T> | undefined, options: DedupeOperatorOptions<T>): MonoTypeOperatorFunction<Batch<T>> {
  const key = resolveKeySpec<T>(op, keys, 'keys', true);
  const { name, onLateRows } = options;
  checkOperatorName(op, name);
  const named = (key.fields ?? []).map((column) => ({ option: 'keys', column }));
  return (source) => {
    resolveColumns(op, named, knownColumnsOf(source));
    return statefulOperator<Step, Batch<T>, DedupeState>({
      op,
      inputs: [source],
      stateful: { kind: op, name, codec: dedupeCodec },
      derive: ([input]) => {
        const refused = refusalFor(op, mode, input!, key.fields);
        if (refused !== undefined) throw refused;
        resolveColumns(op, named, input!.columns);
        return input!;
      },
      state: () => ({ kind: op, name, descriptor: { keys: key.descriptor }, codec: dedupeCodec }),
      open: ({ restored, infos, query }) => {
        const dedupe = new Deduplicator<T>(op, mode, key, restored, query !== undefined);
        // Unknown columns: a key field no row of a non-empty batch has is a ColumnNotFoundError (as for aggregations).
        const checkColumns = infos[0]!.columns === undefined && options.checkColumns !== false ? batchColumnCheck(op, named) : undefined;
        return {
          step: ({ batches: [input] }) => {
            const batch = input as Batch<T>;
            checkColumns?.(batch.rows, batch.batchId);
            const step = dedupe.step(batch, onLateRows !== undefined);
            return {
              late: [lateOutput(onLateRows, step.lateWatermarkMs, step.lateRows)],
              publish: { state: dedupe.state, changedKeys: step.changedKeys },
              stateMetrics: {
                numRowsTotal: dedupe.state.size,
                numRowsUpdated: step.numAdded,
                numRowsRemoved: step.numRemoved,
                numRowsDroppedByWatermark: step.numLate,
                memoryUsedBytes: dedupe.memoryUsedBytes,
                customMetrics: { numDroppedDuplicateRows: step.numDuplicates },
              },
              output: (metrics) => ({ ...batch, rows: step.rows, ...(metrics === undefined ? {} : { metrics }) }),
            };
          },
        };
      },
    });
  };
}

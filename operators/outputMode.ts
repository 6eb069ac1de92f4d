import { Observable, type OperatorFunction } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import { isResultBatch, type AggregationInfo, type ResultBatch } from '../lib/batch/ResultBatch.js';
import { InvalidOptionError, UnsupportedOperationError, describeValue } from '../lib/errors/index.js';
import { batchSubscriber } from '../lib/internal/batchSubscriber.js';
import { Stage, aggregationFeeding, infoOfBatch, requestMode, stamp, type OutputModeName, type PipelineInfo } from '../lib/internal/pipeline.js';
import { queryModeRefusal } from '../lib/query/unsupportedOperations.js';

/** A batch emitted by {@link outputMode}: the rows of the mode, tagged with the mode (and the aggregation it came from). */
export interface OutputBatch<R, M extends OutputModeName = OutputModeName> extends Batch<R> {
  readonly outputMode: M;
  readonly aggregation?: AggregationInfo;
}

/** Spark's refusals of `mode` for a stream with this info. */
function check(op: string, mode: OutputModeName, info: PipelineInfo): void {
  const refused = queryModeRefusal(info, mode);
  if (refused !== undefined) throw new UnsupportedOperationError(op, refused);
}

/**
 * Emits, for each result batch of an aggregation, the rows of one of Spark's
 * output modes: `'append'` the rows the watermark finalised (each window once,
 * with its final value), `'update'` the rows changed by the batch,
 * `'complete'` the whole result table (every batch, even an empty one).
 *
 * Spark: `writeStream.outputMode(mode)`.
 *
 * ```text
 * input    a---b---c---|     a = #0 [ts 10s, 11s]  b = #1 [ts 25s]  c = #2 []   (withWatermark('ts', '10 seconds'), 5 s tumbling count)
 *          outputMode('append')     a = #0 []   b = #1 [[10s,15s) 2]   c = #2 []
 *          outputMode('update')     a = #0 [[10s,15s) 2]   b = #1 [[25s,30s) 1]   c = #2 []
 *          outputMode('complete')   a = #0 [[10s,15s) 2]   b = #1 [[10s,15s) 2, [25s,30s) 1]   c = #2 (same two rows)
 * ```
 *
 * The mode also tells the aggregation how to run: in complete mode it keeps
 * every group and drops no late row (Spark ignores the watermark there), in
 * append and update mode it evicts what the watermark passes.
 * The mode reaches the aggregation when the pipeline is built, through any
 * RxJS operators in between (`tap`, `map`, `share`, `subscribeOn`…).
 *
 * @example
 * ```ts
 * fromBatches([[{ ts: 1_000 }], []])
 *   .pipe(windowTumbling({ eventTime: 'ts', size: '5 seconds', aggregate: { n: count() } }), outputMode('complete'))
 *   .subscribe((b) => console.log(b.batchId, b.rows));
 * // => 0 [{ window: { start: 0, end: 5000 }, n: 1 }]
 * // => 1 [{ window: { start: 0, end: 5000 }, n: 1 }]
 * ```
 *
 * @param mode `'append'`, `'update'` or `'complete'`.
 * @returns An operator from an aggregation's {@link ResultBatch}es to plain batches of result rows.
 * @throws {InvalidOptionError} `outputMode: mode must be 'append', 'update' or 'complete'; got …`
 * @throws {UnsupportedOperationError} (on subscribe) `Append output mode not supported when there are streaming aggregations on streaming DataFrames/DataSets without watermark`
 * @throws {UnsupportedOperationError} (on subscribe) `Complete output mode not supported when there are no streaming aggregations on streaming DataFrames/Datasets`
 * @throws {UnsupportedOperationError} (on subscribe) `Update output mode not supported for session window on streaming DataFrames/DataSets`
 * @see windowTumbling
 * @see orderBy
 * @see limit
 */
export function outputMode<R>(mode: 'append'): OperatorFunction<ResultBatch<R>, OutputBatch<R, 'append'>>;
export function outputMode<R>(mode: 'update'): OperatorFunction<ResultBatch<R, 'window' | 'group'>, OutputBatch<R, 'update'>>;
export function outputMode<R>(mode: 'complete'): OperatorFunction<ResultBatch<R>, OutputBatch<R, 'complete'>>;
export function outputMode<R>(mode: OutputModeName): OperatorFunction<ResultBatch<R>, OutputBatch<R>>;
export function outputMode<R>(mode: OutputModeName): OperatorFunction<ResultBatch<R, 'window' | 'group'>, OutputBatch<R>> {
  const op = 'outputMode';
  if (mode !== 'append' && mode !== 'update' && mode !== 'complete') {
    throw new InvalidOptionError(`${op}: mode must be 'append', 'update' or 'complete'; got ${describeValue(mode)}.`, 'mode', mode, "'append' | 'update' | 'complete'");
  }
  return (source) => {
    // Tell the aggregation feeding this operator which mode it runs in (complete keeps every group), when the pipeline is built.
    const feeding = aggregationFeeding(source);
    if (feeding !== undefined) requestMode(feeding, mode, op);
    const stage = new Stage(op, [source], ([input]) => {
      check(op, mode, input!);
      return { ...input!, outputMode: mode };
    });
    const output = new Observable<OutputBatch<R>>((subscriber) => {
      if (stage.refuse(subscriber)) return undefined;
      let outInfo: PipelineInfo | undefined;
      return source.subscribe(
        batchSubscriber<R>(subscriber, op, (input) => {
          const batch = input as Batch<R> | ResultBatch<R>;
          const result = isResultBatch(batch) ? (batch as ResultBatch<R>) : undefined;
          if (outInfo === undefined) {
            outInfo = stage.derive([infoOfBatch(batch)]);
            if (mode === 'complete' && result !== undefined && result.aggregation.hasWatermark && !result.aggregation.complete) {
              throw new UnsupportedOperationError(
                op,
                `complete mode needs the aggregation ${result.aggregation.operatorId} to keep every group, but it runs in ${feeding === undefined ? 'append' : 'another'} mode and evicts by watermark: an Observable that is not an RxJS operator (no source link) lies between them. Put outputMode('complete') right after the aggregation, or use RxJS operators in between.`,
              );
            }
          }
          const rows = result === undefined ? batch.rows : mode === 'append' ? result.finalized : mode === 'update' ? result.updated : result.table.toArray();
          subscriber.next(
            stamp(
              {
                batchId: batch.batchId,
                rows,
                watermark: batch.watermark,
                ...(batch.eventTime === undefined ? {} : { eventTime: batch.eventTime }),
                ...(batch.metrics === undefined ? {} : { metrics: batch.metrics }),
                outputMode: mode,
                ...(result === undefined ? {} : { aggregation: result.aggregation }),
              },
              outInfo,
            ),
          );
        }),
      );
    });
    return stage.attach(output);
  };
}

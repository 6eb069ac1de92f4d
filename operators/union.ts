import { Observable, Subscriber, type OperatorFunction } from 'rxjs';
import { mergeMetrics, type Batch } from '../lib/batch/Batch.js';
import { pairBatches, type PairedBatch } from '../lib/internal/alignBatches.js';
import { SOURCE_INFO, Stage, carriedInfoOf, infoOfBatch, stamp, staticInfoOf, unionInfo, type PipelineInfo } from '../lib/internal/pipeline.js';
import { GlobalWatermark, takesPartInWatermark, watermarkPolicy, type WatermarkPolicy } from '../lib/internal/watermarkPolicy.js';

/** Options for {@link union}. */
export interface UnionOptions {
  /**
   * How the inputs' watermarks combine: `'min'` (Spark's default: the slowest
   * input holds the query back) or `'max'` (the fastest drives it).
   * @defaultValue `'min'`
   */
  readonly policy?: WatermarkPolicy;
  /**
   * Both inputs carry the same batch ids (one trigger drives both): batch N of
   * each input forms output batch N, rows of this stream first. Without it,
   * each arriving batch is an output batch of its own, numbered in arrival order.
   * @defaultValue `false`
   */
  readonly aligned?: boolean;
}

/**
 * Merges this batch stream with `other$`; the watermark of each output batch
 * combines the inputs' watermarks with `policy`.
 *
 * Spark: `Dataset.union` with `spark.sql.streaming.multipleWatermarkPolicy`.
 *
 * ```text
 * left     a-------c---|     a = #0 [ts 10s] wm 0     c = #1 [ts 40s] wm 30s
 * right    ----b-------|     b = #0 [ts 20s] wm 10s
 *          union(right$)     (policy 'min')
 * output   a---b---c---|     #0 wm 0, #1 wm 0 (left 0, right 10s), #2 wm 10s (left 30s, right 10s)
 * ```
 *
 * The global watermark starts at 0; only inputs with a watermark take part
 * (an input without `withWatermark` does not hold it back, as in Spark), one
 * that has reported nothing counts as 0, and the value is replaced only when
 * the combined value is strictly greater, so it never moves back.
 *
 * @example
 * ```ts
 * const clicks$ = fromBatches([[{ ts: 10_000 }]]).pipe(withWatermark('ts', '5 seconds'));
 * const taps$ = fromBatches([[{ ts: 30_000 }]]).pipe(withWatermark('ts', '5 seconds'));
 * clicks$.pipe(union(taps$, { aligned: true })).subscribe((b) => console.log(b.rows.length, b.watermark));
 * // => 2 5000
 * ```
 *
 * @throws {InvalidOptionError} `union: Invalid value for multipleWatermarkPolicy: '<p>'. Valid values are 'min' and 'max'.` for another policy.
 */
export function union<T, U = T>(other$: Observable<Batch<U>>, options: UnionOptions = {}): OperatorFunction<Batch<T>, Batch<T | U>> {
  const op = 'union';
  const policy = watermarkPolicy(op, options.policy);
  const aligned = options.aligned;
  return (source) => {
    const stage = new Stage(op, [source, other$], unionInfo);
    const output = new Observable<Batch<T | U>>((subscriber) => {
      const tracker = new GlobalWatermark(policy, 2);
      const leftBuilt = staticInfoOf(source);
      const rightBuilt = staticInfoOf(other$);
      let leftInfo: PipelineInfo = leftBuilt ?? SOURCE_INFO;
      let rightInfo: PipelineInfo = rightBuilt ?? SOURCE_INFO;
      tracker.observe(0, 0, takesPartInWatermark(undefined, leftBuilt));
      tracker.observe(1, 0, takesPartInWatermark(undefined, rightBuilt));
      const inner = new Subscriber<PairedBatch<T, U>>({
          next: (step) => {
            const { left, right } = step;
            if (left !== undefined) {
              leftInfo = infoOfBatch(left);
              tracker.observe(0, left.watermark, takesPartInWatermark(carriedInfoOf(left), leftBuilt));
            }
            if (right !== undefined) {
              rightInfo = infoOfBatch(right);
              tracker.observe(1, right.watermark, takesPartInWatermark(carriedInfoOf(right), rightBuilt));
            }
            const rows: readonly (T | U)[] = left === undefined ? (right?.rows ?? []) : right === undefined ? left.rows : [...left.rows, ...right.rows];
            const eventTime = left?.eventTime ?? right?.eventTime;
            const metrics = mergeMetrics(left?.metrics, right?.metrics);
            subscriber.next(
              stamp(
                {
                  batchId: step.batchId,
                  rows,
                  watermark: tracker.advance(),
                  ...(eventTime === undefined ? {} : { eventTime }),
                  ...(metrics === undefined ? {} : { metrics }),
                },
                stage.derive([leftInfo, rightInfo]),
              ),
            );
          },
          error: (error: unknown) => subscriber.error(error),
          complete: () => subscriber.complete(),
      });
      // Linked before subscribing, so an unsubscribe reaches a synchronous input while it emits.
      subscriber.add(inner);
      pairBatches(source, other$, aligned).subscribe(inner);
    });
    return stage.attach(output);
  };
}

import { Observable, type OperatorFunction } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import { InvalidOptionError, UnsupportedOperationError, describeValue } from '../lib/errors/index.js';
import { batchSubscriber } from '../lib/internal/batchSubscriber.js';
import { Stage, infoOfBatch, registerStage, stamp, withStateful, type PipelineInfo } from '../lib/internal/pipeline.js';
import { UNSUPPORTED } from '../lib/query/unsupportedOperations.js';
import { checkOperatorName, type StateCodec, type StateHandle } from '../lib/state/StateStore.js';

/** Options for {@link limit}. */
export interface LimitOptions {
  /** Stable operator id for checkpoints (the count emitted so far, outside complete mode). @defaultValue `limit#<n>` */
  readonly name?: string;
}

/** A batch `limit` accepts: anything but an update-mode result. */
export type LimitableBatch<R> = Batch<R> & { readonly outputMode?: 'append' | 'complete' };

const codec: StateCodec<number> = {
  entries: (n) => [['emitted', n]],
  get: (n, key) => (key === 'emitted' ? n : undefined),
  fromEntries: (entries) => {
    for (const [key, value] of entries) if (key === 'emitted' && typeof value === 'number') return value;
    return 0;
  },
};

/**
 * Keeps at most `n` rows: of each result table in complete mode, or of the
 * whole stream otherwise (append mode, or a stream without aggregation: the
 * first `n` rows ever, then nothing).
 *
 * Spark: `df.limit(n)` (`StreamingGlobalLimitExec` outside complete mode).
 *
 * ```text
 * input    a---b---c---|     a = #0 [1, 2]   b = #1 [3, 4]   c = #2 [5]
 *          limit(3)
 * output   a---b---c---|     a = #0 [1, 2]   b = #1 [3]      c = #2 []
 * ```
 *
 * **State** (outside complete mode): the number of rows emitted so far.
 *
 * @example
 * ```ts
 * fromBatches([[1, 2], [3, 4], [5]]).pipe(limit(3)).subscribe((b) => console.log(b.rows));
 * // => [1, 2]
 * // => [3]
 * // => []
 * ```
 *
 * @param n The maximum number of rows, a non-negative integer.
 * @returns An operator limiting rows.
 * @throws {InvalidOptionError} `limit: n must be a non-negative integer; got …`
 * @throws {UnsupportedOperationError} (on subscribe or first batch) `limit: Limits are not supported on streaming DataFrames/Datasets in Update output mode`
 * @see orderBy
 * @see outputMode
 */
export function limit<R>(n: number, options: LimitOptions = {}): OperatorFunction<LimitableBatch<R>, LimitableBatch<R>> {
  const op = 'limit';
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new InvalidOptionError(`${op}: n must be a non-negative integer; got ${describeValue(n)}. Use e.g. limit(10).`, 'n', n, 'a non-negative integer');
  }
  checkOperatorName(op, options.name);
  const modeOf = (info: PipelineInfo, batch: Batch<unknown> | undefined): string | undefined => info.outputMode ?? (batch as { outputMode?: string } | undefined)?.outputMode;
  return (source) => {
    const stage = new Stage(op, [source], ([input]) => {
      if (input!.outputMode === 'update') throw new UnsupportedOperationError(op, UNSUPPORTED.limitInUpdateMode);
      return input!;
    });
    const output = new Observable<LimitableBatch<R>>((subscriber) => {
      if (stage.refuse(subscriber)) return undefined;
      let mode: string | undefined;
      let first = true;
      let handle: StateHandle<number> | undefined;
      let emitted = 0;
      let skipUpTo = -1;
      let outInfo: PipelineInfo | undefined;
      return source.subscribe(
        batchSubscriber<R>(subscriber, op, (input) => {
          const batch = input as LimitableBatch<R>;
          if (first) {
            const info = infoOfBatch(batch);
            const derived = stage.derive([info]);
            mode = modeOf(info, batch);
            if (mode === 'update') throw new UnsupportedOperationError(op, UNSUPPORTED.limitInUpdateMode);
            outInfo = derived;
            if (mode !== 'complete') {
              // Outside complete mode a limit counts what it emitted across batches: state.
              const reg = registerStage<number>(stage, [info], { kind: op, name: options.name, descriptor: { n }, codec });
              handle = reg.handle;
              emitted = handle.restored?.state ?? 0;
              skipUpTo = handle.restored?.batchId ?? -1;
              outInfo = withStateful(derived, reg.self);
            }
            first = false;
          }
          if (batch.batchId <= skipUpTo) return;
          if (mode === 'complete') {
            subscriber.next(stamp(batch.rows.length <= n ? { ...batch } : { ...batch, rows: batch.rows.slice(0, n) }, outInfo!));
            return;
          }
          const room = Math.max(0, n - emitted);
          const rows = batch.rows.length <= room ? batch.rows : batch.rows.slice(0, room);
          emitted += rows.length;
          handle?.publish(batch.batchId, emitted, ['emitted']);
          subscriber.next(stamp({ ...batch, rows }, outInfo!));
        }),
      );
    });
    return stage.attach(output);
  };
}

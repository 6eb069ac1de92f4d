import type { OperatorFunction } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import { InvalidOptionError, UnsupportedOperationError, describeValue } from '../lib/errors/index.js';
import type { PipelineInfo } from '../lib/internal/pipeline.js';
import { statefulOperator, type Step } from '../lib/internal/statefulOperator.js';
import { UNSUPPORTED } from '../lib/query/unsupportedOperations.js';
import { checkOperatorName, type StateCodec } from '../lib/state/StateStore.js';

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
  const modeOfStep = (info: PipelineInfo, step: Step): string | undefined => {
    const mode = modeOf(info, step.batches[0]);
    if (mode === 'update') throw new UnsupportedOperationError(op, UNSUPPORTED.limitInUpdateMode);
    return mode;
  };
  return (source) =>
    statefulOperator<Step, LimitableBatch<R>, number>({
      op,
      inputs: [source],
      derive: ([input]) => {
        if (input!.outputMode === 'update') throw new UnsupportedOperationError(op, UNSUPPORTED.limitInUpdateMode);
        return input!;
      },
      // Outside complete mode a limit counts what it emitted across batches: state.
      state: (_mode, [info], first) => (modeOfStep(info!, first) === 'complete' ? undefined : { kind: op, name: options.name, descriptor: { n }, codec }),
      open: ({ restored, infos }, first) => {
        const complete = modeOfStep(infos[0]!, first) === 'complete';
        let emitted = restored ?? 0;
        return {
          step: ({ batches: [input] }) => {
            const batch = input as LimitableBatch<R>;
            const room = complete ? n : Math.max(0, n - emitted);
            const rows = batch.rows.length <= room ? batch.rows : batch.rows.slice(0, room);
            if (!complete) emitted += rows.length;
            return {
              ...(complete ? {} : { publish: { state: emitted, changedKeys: ['emitted'] } }),
              output: (metrics) => ({ ...batch, rows, ...(metrics === undefined ? {} : { metrics }) }),
            };
          },
        };
      },
    });
}

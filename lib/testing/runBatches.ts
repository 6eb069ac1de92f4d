import type { OperatorFunction } from 'rxjs';
import type { Batch, BatchMetrics } from '../batch/Batch.js';
import { fromBatches } from '../batch/fromBatches.js';

/** What a pipeline emitted for one output batch. */
export interface BatchStep<R> {
  readonly batchId: number;
  readonly rows: readonly R[];
  readonly watermark: number;
  readonly metrics: BatchMetrics | undefined;
}

/**
 * Runs `pipeline` over batches made of `inputs` (one batch per array, ids from
 * 0) synchronously, and returns every output batch. Throws the pipeline's
 * error, if it fails.
 *
 * @example
 * const steps = runBatches(withWatermark('ts', '10 seconds'), [[at(10_000)], [at(25_000)]]);
 * steps.map((s) => s.watermark); //=> [0, 15000]
 */
export function runBatches<T, R>(pipeline: OperatorFunction<Batch<T>, Batch<R>>, inputs: Iterable<readonly T[]>): BatchStep<R>[] {
  const steps: BatchStep<R>[] = [];
  let failure: { error: unknown } | undefined;
  let completed = false;
  fromBatches(inputs)
    .pipe(pipeline)
    .subscribe({
      next: (b) => steps.push({ batchId: b.batchId, rows: b.rows, watermark: b.watermark, metrics: b.metrics }),
      error: (error: unknown) => {
        failure = { error };
      },
      complete: () => {
        completed = true;
      },
    });
  if (failure !== undefined) throw failure.error;
  if (!completed) throw new Error('runBatches: the pipeline did not complete synchronously; use StreamTest or a TestScheduler for asynchronous pipelines.');
  return steps;
}

import { Subject, type OperatorFunction, type Subscription } from 'rxjs';
import type { Batch, BatchMetrics } from '../batch/Batch.js';
import { toBatches } from '../batch/toBatches.js';
import type { StateOperatorMetrics } from '../state/metrics.js';
import { canonicalRow, sameRows } from './rows.js';

/** What the pipeline emitted for one added batch. */
export interface StreamTestStep<R> {
  readonly batchId: number;
  /** Rows of the output batches emitted since the previous `addData` (usually one batch). */
  readonly rows: readonly R[];
  /** The watermark of the last output batch. */
  readonly watermark: number;
  readonly metrics: BatchMetrics | undefined;
}

/**
 * A step runner in the spirit of Spark's `StreamTest`: add a batch of rows,
 * then check what that batch emitted, the watermark, the state rows and the
 * rows dropped by the watermark. Every `check*` method throws an `Error`
 * describing the difference, and returns `this` for chaining.
 *
 * @example
 * ```ts
 * streamTest(pipe(withWatermark('ts', '10 seconds'), windowTumbling({ eventTime: 'ts', size: '5 seconds', aggregate: { n: count() } }), outputMode('append')))
 *   .addData([at(10_000), at(11_000)])      // watermark after: 1s
 *   .checkNewAnswer([])
 *   .addData([at(25_000)])                  // watermark after: 15s
 *   .checkNewAnswer([{ window: { start: 10_000, end: 15_000 }, n: 2 }])
 *   .checkStateRows(1)
 *   .stop();
 * ```
 */
export class StreamTest<T, R> {
  private readonly input = new Subject<readonly T[]>();
  private readonly subscription: Subscription;
  private pending: Batch<R>[] = [];
  private failure: { error: unknown } | undefined;
  private last: StreamTestStep<R> | undefined;
  private nextBatchId = 0;

  constructor(pipeline: OperatorFunction<Batch<T>, Batch<R>>) {
    this.subscription = this.input.pipe(toBatches<T>(), pipeline).subscribe({
      next: (b) => this.pending.push(b),
      error: (error: unknown) => {
        this.failure = { error };
      },
    });
  }

  /** Adds one batch of rows (an empty array is an empty batch) and records what the pipeline emitted for it. */
  addData(rows: readonly T[]): this {
    this.throwIfFailed();
    this.pending = [];
    this.input.next(rows);
    this.throwIfFailed();
    const out = this.pending;
    const lastOut = out[out.length - 1];
    this.last = {
      batchId: this.nextBatchId++,
      rows: out.length === 1 ? out[0]!.rows : out.flatMap((b) => b.rows),
      watermark: lastOut?.watermark ?? this.last?.watermark ?? 0,
      metrics: lastOut?.metrics,
    };
    return this;
  }

  /** Adds one batch and expects the pipeline to fail with an error for which `match` returns true (or of that class). */
  expectFailure(rows: readonly T[], match: ((error: unknown) => boolean) | (abstract new (...args: never[]) => Error)): this {
    this.pending = [];
    this.input.next(rows);
    if (this.failure === undefined) throw new Error('StreamTest: expected the pipeline to fail, but it did not');
    const ok = match.prototype instanceof Error || match === Error ? this.failure.error instanceof (match as abstract new (...args: never[]) => Error) : (match as (e: unknown) => boolean)(this.failure.error);
    if (!ok) throw new Error(`StreamTest: the pipeline failed with an unexpected error: ${String(this.failure.error)}`);
    return this;
  }

  /** What the last `addData` emitted. */
  get lastStep(): StreamTestStep<R> {
    if (this.last === undefined) throw new Error('StreamTest: no batch was added yet');
    return this.last;
  }

  /** The rows the last batch emitted equal `expected` as multisets (Spark's `CheckNewAnswer`). */
  checkNewAnswer(expected: readonly R[]): this {
    const { rows, batchId } = this.lastStep;
    if (!sameRows(rows, expected)) {
      throw new Error(`StreamTest: batch ${batchId} emitted\n  ${rows.map(canonicalRow).join('\n  ') || '(nothing)'}\nbut expected\n  ${expected.map(canonicalRow).join('\n  ') || '(nothing)'}`);
    }
    return this;
  }

  /** The watermark after the last batch. */
  checkWatermark(expectedMs: number): this {
    const { watermark, batchId } = this.lastStep;
    if (watermark !== expectedMs) throw new Error(`StreamTest: watermark after batch ${batchId} is ${watermark}, expected ${expectedMs}`);
    return this;
  }

  /** State rows held after the last batch, summed over stateful operators (or for one operator id). */
  checkStateRows(expected: number, operatorId?: string): this {
    return this.checkMetric('numRowsTotal', expected, operatorId);
  }

  /** Rows dropped by the watermark in the last batch, summed over stateful operators (or for one operator id). */
  checkDroppedByWatermark(expected: number, operatorId?: string): this {
    return this.checkMetric('numRowsDroppedByWatermark', expected, operatorId);
  }

  /** Rows dropped in the last batch because their event time was invalid. */
  checkDroppedInvalidEventTime(expected: number): this {
    const actual = this.lastStep.metrics?.numRowsDroppedInvalidEventTime ?? 0;
    if (actual !== expected) throw new Error(`StreamTest: ${actual} rows dropped for an invalid event time in batch ${this.lastStep.batchId}, expected ${expected}`);
    return this;
  }

  /** The state operators' metrics of the last batch. */
  stateOperators(): readonly StateOperatorMetrics[] {
    return this.lastStep.metrics?.stateOperators ?? [];
  }

  /** Ends the input (the pipeline completes) and unsubscribes. */
  stop(): void {
    this.input.complete();
    this.subscription.unsubscribe();
  }

  private checkMetric(metric: 'numRowsTotal' | 'numRowsDroppedByWatermark', expected: number, operatorId: string | undefined): this {
    const ops = this.stateOperators().filter((m) => operatorId === undefined || m.operatorId === operatorId);
    if (ops.length === 0) throw new Error(`StreamTest: batch ${this.lastStep.batchId} carries no state metrics${operatorId === undefined ? '' : ` for ${operatorId}`}`);
    const actual = ops.reduce((sum, m) => sum + m[metric], 0);
    if (actual !== expected) throw new Error(`StreamTest: ${metric} after batch ${this.lastStep.batchId} is ${actual}, expected ${expected}`);
    return this;
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure.error;
  }
}

/** Starts a {@link StreamTest} over `pipeline`. */
export function streamTest<T, R>(pipeline: OperatorFunction<Batch<T>, Batch<R>>): StreamTest<T, R> {
  return new StreamTest(pipeline);
}

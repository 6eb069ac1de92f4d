import { Observable } from 'rxjs';
import type { Batch } from '../../lib/batch/Batch.js';
import { SOURCE_INFO, Stage, freezeInfo, infoOfBatch, stamp, staticInfoOf, type PipelineInfo } from '../../lib/internal/pipeline.js';

/** A stream info to patch: what a source stream has. */
export const EMPTY_PLAN: PipelineInfo = SOURCE_INFO;

/**
 * Gives a test input the pipeline information an upstream operator would
 * have given it (an aggregation, an output mode…): on the Observable, for the
 * checks made when the pipeline is built, and on every batch.
 */
export function withPlan<T>(source: Observable<Batch<T>>, patch: Partial<PipelineInfo>): Observable<Batch<T>> {
  const stage = new Stage('testPlan', [source], ([input]) => ({ ...input!, ...patch }));
  const output = new Observable<Batch<T>>((subscriber) =>
    source.subscribe({
      next: (batch) => subscriber.next(stamp({ ...batch }, freezeInfo({ ...infoOfBatch(batch), ...patch }))),
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    }),
  );
  return stage.attach(output);
}

/** The info known when the pipeline is built. */
export const planOf = staticInfoOf;

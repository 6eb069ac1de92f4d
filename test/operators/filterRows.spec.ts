import { Subject, of } from 'rxjs';
import type { Batch } from '../../lib/batch/Batch.js';
import { InvalidOptionError, UserFunctionError } from '../../lib/errors/index.js';
import { infoOfBatch } from '../../lib/internal/pipeline.js';
import { runBatches } from '../../lib/testing/index.js';
import { fromBatches as batchesOf } from '../../lib/batch/fromBatches.js';

/** The emitted batches themselves (runBatches keeps only ids, rows, watermarks and metrics). */
function collect<T, R>(pipeline: (b$: ReturnType<typeof batchesOf<T>>) => import('rxjs').Observable<Batch<R>>, inputs: T[][]): Batch<R>[] {
  const out: Batch<R>[] = [];
  pipeline(batchesOf(inputs)).subscribe((b) => out.push(b));
  return out;
}
import { filterRows } from '../../operators/filterRows.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { createTestScheduler, batch, at } from '../helpers/scheduler.js';

describe('filterRows', () => {
  it('keeps the rows that pass and every batch, empty ones too', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('  a-b-c|', { a: batch(0, [1, 2, 3]), b: batch(1, [5], 7), c: batch(2, []) });
      expectObservable(input.pipe(filterRows((n: number) => n % 2 === 0))).toBe('a-b-c|', { a: batch(0, [2]), b: batch(1, [], 7), c: batch(2, []) });
      expectSubscriptions(input.subscriptions).toBe('^----!');
    });
  });

  it('keeps the watermarked column and the rest of the pipeline information', () => {
    const steps = collect((b$) => b$.pipe(withWatermark<{ ts: number }>('ts', 0), filterRows((r) => r.ts > 1_000)), [[at(1_000), at(2_000)]]);
    expect(steps[0]!.eventTime?.field).toBe('ts');
    expect(steps[0]!.rows).toEqual([at(2_000)]);
    expect(infoOfBatch(steps[0]!).watermarks.map((w) => w.column)).toEqual(['ts']);
    expect(infoOfBatch(steps[0]!).stateful.map((s) => s.kind)).toEqual(['watermark']);
  });

  it('rejects a non-function and names the batch when the predicate throws', () => {
    expect(() => filterRows(null as never)).toThrow(InvalidOptionError);
    let error: unknown;
    of(batch(4, [1])).pipe(filterRows(() => { throw new Error('boom'); })).subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(UserFunctionError);
    expect((error as UserFunctionError).batchId).toBe(4);
  });

  it('unsubscribes from its source', () => {
    const input = new Subject<Batch<number>>();
    input.pipe(filterRows(() => true)).subscribe().unsubscribe();
    expect(input.observed).toBe(false);
  });
});

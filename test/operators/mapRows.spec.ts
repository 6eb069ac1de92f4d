import { Subject, of, throwError } from 'rxjs';
import type { Batch } from '../../lib/batch/Batch.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import { count } from '../../lib/aggregate/count.js';
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
import { mapRows } from '../../operators/mapRows.js';
import { outputMode } from '../../operators/outputMode.js';
import { streamJoin } from '../../operators/streamJoin.js';
import { windowTumbling } from '../../operators/windowTumbling.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { createTestScheduler, batch, at } from '../helpers/scheduler.js';

type Ev = { ts: number; n: number };

describe('mapRows', () => {
  it('maps every row and keeps the batch id, watermark and metrics', () => {
    createTestScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('  a-b|', { a: batch(0, [at(1_000, { n: 1 }), at(2_000, { n: 2 })]), b: batch(1, [], 5) });
      expectObservable(input.pipe(mapRows((r: Ev) => ({ ts: r.ts, doubled: r.n * 2 })))).toBe('a-b|', {
        a: batch(0, [{ ts: 1_000, doubled: 2 }, { ts: 2_000, doubled: 4 }]),
        b: batch(1, [], 5),
      });
      expectSubscriptions(input.subscriptions).toBe('^--!');
    });
  });

  it('keeps a watermarked column that the rows carry through, so append mode downstream is accepted', () => {
    const steps = runBatches(
      (b$) => b$.pipe(withWatermark<Ev>('ts', 0), mapRows((r: Ev) => ({ ts: r.ts, k: 'x' })), windowTumbling({ eventTime: 'ts', size: '5 seconds', aggregate: { c: count() } }), outputMode('append')),
      [[at(1_000, { n: 1 })], [at(20_000, { n: 1 })]],
    );
    expect(steps.map((s) => s.rows)).toEqual([[], [{ window: { start: 0, end: 5_000 }, c: 1 }]]);
  });

  it('drops the watermark of a column it renames or recomputes, as Spark does', () => {
    const renamed = collect((b$: ReturnType<typeof batchesOf<Ev>>) => b$.pipe(withWatermark<Ev>('ts', 0), mapRows((r: Ev) => ({ at: r.ts }))), [[at(1_000, { n: 1 })]]);
    expect(infoOfBatch(renamed[0]!).watermarked).toBe(true); // a withWatermark is upstream…
    expect(infoOfBatch(renamed[0]!).watermarks).toEqual([]); // …but no column carries it any more
    expect(renamed[0]!.eventTime).toBeUndefined();
    const recomputed = collect((b$: ReturnType<typeof batchesOf<Ev>>) => b$.pipe(withWatermark<Ev>('ts', 0), mapRows((r: Ev) => ({ ts: r.ts + 1 }))), [[at(1_000, { n: 1 })]]);
    expect(infoOfBatch(recomputed[0]!).watermarks).toEqual([]);
    let error: unknown;
    fromBatches([[at(1_000, { n: 1 })]])
      .pipe(withWatermark<Ev>('ts', 0), mapRows((r: Ev) => ({ ts: r.ts * 2 })), windowTumbling({ eventTime: 'ts', size: '5 seconds', aggregate: { c: count() } }), outputMode('append'))
      .subscribe({ error: (e: unknown) => (error = e) });
    expect((error as Error).message).toBe('outputMode: Append output mode not supported when there are streaming aggregations on streaming DataFrames/DataSets without watermark');
  });

  it('flattens { left, right } join rows keeping the side\'s watermarked column under its own name', () => {
    const left = fromBatches([[{ k: 1, ts: 1_000 }], [{ k: 2, ts: 30_000 }]]).pipe(withWatermark<{ k: number; ts: number }>('ts', 0));
    const right = fromBatches([[{ k: 1, ts: 1_500 }], [{ k: 2, ts: 30_500 }]]).pipe(withWatermark<{ k: number; ts: number }>('ts', 0));
    const out: Batch<{ ts: number }>[] = [];
    left
      .pipe(streamJoin(right, { on: 'k', aligned: true }), mapRows((r) => ({ k: r.left.k, ts: r.left.ts })))
      .subscribe((b) => out.push(b));
    expect(out[0]!.eventTime?.field).toBe('ts');
    expect(infoOfBatch(out[0]!).watermarks.map((w) => [w.column, w.side])).toEqual([['ts', 'left']]);
  });

  it('rejects a non-function and names the batch when the function throws', () => {
    expect(() => mapRows(42 as never)).toThrow(InvalidOptionError);
    expect(() => mapRows(42 as never)).toThrow('mapRows: fn must be a function of the row; got 42.');
    let error: unknown;
    of(batch(3, [1])).pipe(mapRows(() => { throw new Error('boom'); })).subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(UserFunctionError);
    expect((error as UserFunctionError).batchId).toBe(3);
  });

  it('forwards errors and completion, and unsubscribes', () => {
    let error: unknown;
    throwError(() => new Error('up')).pipe(mapRows((r: number) => r)).subscribe({ error: (e: unknown) => (error = e) });
    expect((error as Error).message).toBe('up');
    const input = new Subject<Batch<number>>();
    const sub = input.pipe(mapRows((r: number) => r)).subscribe();
    sub.unsubscribe();
    expect(input.observed).toBe(false);
  });
});

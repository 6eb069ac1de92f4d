import { take } from 'rxjs';
import { fromBatches } from '../../../lib/batch/fromBatches.js';
import { toBatches } from '../../../lib/batch/toBatches.js';
import { flattenRows } from '../../../lib/batch/flattenRows.js';
import { isBatch, lateValueOf, mergeMetrics, withStateMetrics, type Batch } from '../../../lib/batch/Batch.js';
import { createTestScheduler, batch } from '../../helpers/scheduler.js';

describe('fromBatches', () => {
  it('emits one batch per array with ids from 0 and watermark 0, then completes', () => {
    const out: Batch<number>[] = [];
    let done = false;
    fromBatches([[1, 2], [], [3]]).subscribe({ next: (b) => out.push(b), complete: () => (done = true) });
    expect(out).toEqual([batch(0, [1, 2]), batch(1, []), batch(2, [3])]);
    expect(done).toBe(true);
  });

  it('emits synchronously without a scheduler and in scheduled actions with one', () => {
    const testScheduler = createTestScheduler();
    testScheduler.run(({ expectObservable }) => {
      expectObservable(fromBatches([[1], [2]])).toBe('(ab|)', { a: batch(0, [1]), b: batch(1, [2]) });
      expectObservable(fromBatches([[1], [2]], testScheduler)).toBe('(ab|)', { a: batch(0, [1]), b: batch(1, [2]) });
    });
  });

  it('stops pulling from the iterable once the subscriber has enough (synchronous firehose)', () => {
    let pulled = 0;
    function* endless(): Generator<number[]> {
      for (;;) yield [pulled++];
    }
    const out: number[] = [];
    fromBatches(endless()).pipe(take(3)).subscribe((b) => out.push(b.batchId));
    expect(out).toEqual([0, 1, 2]);
    expect(pulled).toBe(3);
  });
});

describe('toBatches', () => {
  it('numbers each emitted array as a batch', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const arrays = cold<number[]>('a-b-c|', { a: [1], b: [], c: [2, 3] });
      expectObservable(arrays.pipe(toBatches<number>())).toBe('a-b-c|', { a: batch(0, [1]), b: batch(1, []), c: batch(2, [2, 3]) });
    });
  });

  it('starts from firstBatchId and forwards errors', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const arrays = cold('a-#', { a: [1] }, new Error('down'));
      expectObservable(arrays.pipe(toBatches({ firstBatchId: 7 }))).toBe('a-#', { a: batch(7, [1]) }, new Error('down'));
    });
  });
});

describe('flattenRows', () => {
  it('emits the rows of each batch one by one', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const batches = cold<Batch<number>>('a-b-c|', { a: batch(0, [1, 2]), b: batch<number>(1, []), c: batch(2, [3]) });
      expectObservable(batches.pipe(flattenRows<number>())).toBe('(xy)z|', { x: 1, y: 2, z: 3 });
    });
  });
});

describe('Batch helpers', () => {
  it('isBatch recognises the shape', () => {
    expect(isBatch(batch(0, []))).toBe(true);
    expect(isBatch({ batchId: 0, rows: [] })).toBe(false);
    expect(isBatch(null)).toBe(false);
  });

  it('lateValueOf reads event times, window ends and computed columns', () => {
    expect(lateValueOf({ field: 'ts', isWindow: false, delayMs: 0 }, { ts: 5 })).toBe(5);
    expect(lateValueOf({ field: 'ts', isWindow: false, delayMs: 0 }, { ts: '1970-01-01T00:00:01' })).toBe(1000);
    expect(lateValueOf({ field: 'window', isWindow: true, delayMs: 0 }, { window: { start: 0, end: 10 } })).toBe(10);
    expect(lateValueOf({ field: '<function>', isWindow: false, delayMs: 0, read: ((r: { t: number }) => r.t * 2) as (r: never) => unknown }, { t: 4 })).toBe(8);
    expect(lateValueOf({ field: 'ts', isWindow: false, delayMs: 0 }, {})).toBeNaN();
  });

  it('accumulates state metrics and merges two inputs', () => {
    const m = (id: string) => ({ operatorId: id, operatorName: 'x', numRowsTotal: 1, numRowsUpdated: 0, numRowsRemoved: 0, numRowsDroppedByWatermark: 0, memoryUsedBytes: 0 });
    const a = withStateMetrics({ eventTime: { min: 1, max: 3, avg: 2, count: 2 } }, m('a'));
    const b = withStateMetrics({ eventTime: { min: 0, max: 10, avg: 5, count: 2 }, numRowsDroppedInvalidEventTime: 1 }, m('b'));
    expect(mergeMetrics(a, b)).toEqual({
      stateOperators: [m('a'), m('b')],
      eventTime: { min: 0, max: 10, avg: 3.5, count: 4 },
      numRowsDroppedInvalidEventTime: 1,
    });
    expect(mergeMetrics(undefined, b)).toBe(b);
  });
});

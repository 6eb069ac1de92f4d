import { map } from 'rxjs';
import { count, groupAggregate, outputMode, sum, windowTumbling, withWatermark, type Batch } from '../../../lib/index.js';
import { at, batch, createTestScheduler } from '../../../lib/testing/index.js';
import { sameRows } from '../../../lib/testing/rows.js';

type Ev = { ts: number; page: string; n?: number };
const tumbling = () => windowTumbling<Ev>()({ eventTime: 'ts', size: '5 seconds', aggregate: { n: count() } });

/** The message of what `fn` throws (fails the test when it does not throw). */
function thrown(fn: () => void): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the marble assertion to fail');
}

describe('createTestScheduler: marble tests over batches', () => {
  it('passes on matching ids, rows and watermarks whatever metadata the emitted batches carry', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const input = cold('a-b-c|', { a: batch(0, [at(10_000, { page: 'x' }), at(11_000, { page: 'x' })]), b: batch(1, [at(25_000, { page: 'y' })]), c: batch(2, []) });
      // The output carries metrics, an event-time marker, outputMode and a circular aggregation handle.
      const out = input.pipe(withWatermark('ts', '10 seconds'), tumbling(), outputMode('append'));
      expectObservable(out).toBe('a-b-c|', {
        a: batch(0, [], 1_000),
        b: batch(1, [{ window: { start: 10_000, end: 15_000 }, n: 2 }], 15_000),
        c: batch(2, [], 15_000),
      });
    });
  });

  it('ignores symbol-keyed and other unnamed fields of a batch', () => {
    const info = Symbol('info');
    createTestScheduler().run(({ cold, expectObservable }) => {
      const carried = { batchId: 0, rows: [1], watermark: 5, [info]: { startedAt: 1 }, extra: { anything: true } };
      expectObservable(cold('a|', { a: carried })).toBe('a|', { a: batch(0, [1], 5) });
    });
  });

  it('compares rows as multisets by default, and in order with rowOrder: ordered', () => {
    const run = (rowOrder?: 'ordered') =>
      createTestScheduler(rowOrder === undefined ? {} : { rowOrder }).run(({ cold, expectObservable }) => {
        expectObservable(cold('a|', { a: batch(0, [{ k: 1 }, { k: 2 }]) })).toBe('a|', { a: batch(0, [{ k: 2 }, { k: 1 }]) });
      });
    expect(run).not.toThrow();
    expect(thrown(() => run('ordered'))).toContain('same rows in a different order (rowOrder: ordered)');
  });

  it('counts duplicates: a multiset, not a set', () => {
    const message = thrown(() =>
      createTestScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold('a|', { a: batch(0, ['x', 'x', 'y']) })).toBe('a|', { a: batch(0, ['x', 'y', 'y']) });
      }),
    );
    expect(message).toContain('missing rows: "y"');
    expect(message).toContain('unexpected rows: "x"');
  });

  it('fails with a readable line diff naming the frame, the watermark and the rows that differ', () => {
    const message = thrown(() =>
      createTestScheduler().run(({ cold, expectObservable }) => {
        const input = cold('a-b|', { a: batch(0, [at(1_000, { page: 'x', n: 2 }), at(2_000, { page: 'y', n: 3 })]), b: batch(1, [at(3_000, { page: 'x', n: 4 })]) });
        const out = input.pipe(groupAggregate({ keyBy: 'page', aggregate: { total: sum('n') } }), outputMode('update'));
        expectObservable(out).toBe('a-b|', {
          a: batch(0, [{ page: 'x', total: 2 }, { page: 'y', total: 3 }]),
          b: batch(1, [{ page: 'x', total: 5 }], 7),
        });
      }),
    );
    expect(message).toBe(
      [
        'Marble mismatch (rows compared as multisets; - expected, + emitted):',
        '  frame 0: batch #0 wm 0 rows [{"page":"x","total":2}, {"page":"y","total":3}]',
        '- frame 2: batch #1 wm 7 rows [{"page":"x","total":5}]',
        '+ frame 2: batch #1 wm 0 rows [{"page":"x","total":6}]',
        '    at frame 2, watermark: expected 7, got 0',
        '    at frame 2, missing rows: {"page":"x","total":5}',
        '    at frame 2, unexpected rows: {"page":"x","total":6}',
        '  frame 3: complete',
      ].join('\n'),
    );
  });

  it('reports missing and extra frames, and errors by name and message', () => {
    const message = thrown(() =>
      createTestScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold('a-#', { a: batch(0, [1]) }, new TypeError('down'))).toBe('a-b-|', { a: batch(0, [1]), b: batch(1, []) });
      }),
    );
    expect(message).toContain('- frame 2: batch #1 wm 0 rows []');
    expect(message).toContain('+ frame 2: error TypeError: down');
    expect(message).toContain('- frame 4: complete');
    createTestScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a-#', { a: batch(0, [1]) }, new Error('down'))).toBe('a-#', { a: batch(0, [1]) }, new Error('down'));
    });
  });

  it('checks a metadata field when the expected batch names it', () => {
    const metrics = { numRowsDroppedInvalidEventTime: 1 };
    const run = (expected: Batch<unknown>) =>
      createTestScheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold('a|', { a: { ...batch(0, [1]), metrics, outputMode: 'update' } })).toBe('a|', { a: expected });
      });
    expect(() => run(batch(0, [1], 0, { metrics }))).not.toThrow();
    expect(thrown(() => run(batch(0, [1], 0, { metrics: {} })))).toContain('metrics: expected {}, got {"numRowsDroppedInvalidEventTime":1}');
  });

  it('hands the normalised frames to a framework assertion (jest here), and leaves non-batch values and subscriptions alone', () => {
    createTestScheduler({ assert: (actual, expected) => expect(actual).toEqual(expected) }).run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('a-b|', { a: batch(0, [at(10_000, { page: 'x' })]), b: batch(1, [at(30_000, { page: 'x' })]) });
      expectObservable(input.pipe(withWatermark('ts', '10 seconds'))).toBe('a-b|', { a: batch(0, [at(10_000, { page: 'x' })]), b: batch(1, [at(30_000, { page: 'x' })], 20_000) });
      expectObservable(input.pipe(map((b) => b.rows.length))).toBe('a-b|', { a: 1, b: 1 });
      expectSubscriptions(input.subscriptions).toBe(['^--!', '^--!']);
    });
    expect(() =>
      createTestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ cold, expectObservable }) => {
        expectObservable(cold('a|', { a: batch(0, [1]) })).toBe('a|', { a: batch(0, [2]) });
      }),
    ).toThrow(/toEqual/);
  });
});

describe('sameRows', () => {
  it('compares rows holding an invalid Date without a RangeError (it equals only another invalid Date)', () => {
    expect(sameRows([{ at: new Date(Number.NaN) }], [{ at: new Date(Number.NaN) }])).toBe(true);
    expect(sameRows([{ at: new Date(Number.NaN) }], [{ at: new Date(0) }])).toBe(false);
  });
});

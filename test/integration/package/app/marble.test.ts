// A user-written marble test in a fresh app: the package's `testing` entry and
// RxJS's TestScheduler, no test framework (a tiny runner: each case throws or not).
import { pipe } from 'rxjs';
import { count, groupAggregate, max, outputMode, windowTumbling, withWatermark, type Batch } from 'rxjs-structured-streaming';
import { at, batch, createTestScheduler } from 'rxjs-structured-streaming/testing';

const cases: Array<[string, () => void]> = [];
const test = (name: string, fn: () => void): void => void cases.push([name, fn]);

test('windowed counts emit when the watermark passes the window end', () => {
  createTestScheduler().run(({ cold, expectObservable }) => {
    const input = cold('a-b-c|', { a: batch(0, [at(10_000), at(11_000)]), b: batch(1, [at(25_000)]), c: batch(2, [at(12_000)]) });
    const counts = input.pipe(
      withWatermark('ts', '10 seconds'),
      windowTumbling({ eventTime: 'ts', size: '5 seconds', aggregate: { n: count() } }),
      outputMode('append'),
    );
    expectObservable(counts).toBe('a-b-c|', {
      a: batch(0, [], 1_000),
      b: batch(1, [{ window: { start: 10_000, end: 15_000 }, n: 2 }], 15_000),
      c: batch(2, [], 15_000),
    });
  });
});

test('update mode rows compare as a multiset', () => {
  createTestScheduler().run(({ cold, expectObservable }) => {
    const input = cold('a|', { a: batch(0, [at(1, { page: 'x' }), at(2, { page: 'y' }), at(3, { page: 'x' })]) });
    expectObservable(input.pipe(groupAggregate({ keyBy: 'page', aggregate: { n: count() } }), outputMode('update'))).toBe('a|', {
      a: batch(0, [{ page: 'y', n: 1 }, { page: 'x', n: 2 }]),
    });
  });
});

test('a wrong expectation fails with a readable diff', () => {
  let message = '';
  try {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const input = cold('a|', { a: batch(0, [at(1, { page: 'x' })]) });
      expectObservable(input.pipe(groupAggregate({ keyBy: 'page', aggregate: { n: count() } }), outputMode('update'))).toBe('a|', { a: batch(0, [{ page: 'x', n: 5 }]) });
    });
  } catch (error) {
    message = (error as Error).message;
  }
  if (!message.includes('missing rows: {"n":5,"page":"x"}') || !message.includes('unexpected rows: {"n":1,"page":"x"}')) throw new Error(`no readable diff: ${message}`);
});

test('a reusable fragment typed by its first operator is marble-tested like any operator', () => {
  type View = { ts: number; page: string; ms: number };
  const slowest = pipe(
    withWatermark<View>('ts', '1 second'),
    windowTumbling({ eventTime: 'ts', size: '10 seconds', keyBy: 'page', aggregate: { views: count(), slowest: max('ms') } }),
    outputMode('update'),
  );
  createTestScheduler().run(({ cold, expectObservable }) => {
    const input = cold<Batch<View>>('a-b|', {
      a: batch(0, [at(1_000, { page: 'home', ms: 30 }), at(2_000, { page: 'cart', ms: 5 })]),
      b: batch(1, [at(3_000, { page: 'home', ms: 80 })]),
    });
    expectObservable(input.pipe(slowest)).toBe('a-b|', {
      a: batch(0, [{ window: { start: 0, end: 10_000 }, page: 'cart', views: 1, slowest: 5 }, { window: { start: 0, end: 10_000 }, page: 'home', views: 1, slowest: 30 }], 1_000),
      b: batch(1, [{ window: { start: 0, end: 10_000 }, page: 'home', views: 2, slowest: 80 }], 2_000),
    });
  });
});

test("rowOrder: 'ordered' compares rows in order, and says so when they differ", () => {
  const run = (rowOrder: 'any' | 'ordered'): string => {
    try {
      createTestScheduler({ rowOrder }).run(({ cold, expectObservable }) => {
        const input = cold('a|', { a: batch(0, [at(1, { page: 'x' }), at(2, { page: 'y' })]) });
        expectObservable(input).toBe('a|', { a: batch(0, [at(2, { page: 'y' }), at(1, { page: 'x' })]) });
      });
      return 'passed';
    } catch (error) {
      return (error as Error).message;
    }
  };
  if (run('any') !== 'passed') throw new Error(`as a multiset the rows match: ${run('any')}`);
  const ordered = run('ordered');
  if (ordered === 'passed' || !ordered.includes('different order')) throw new Error(`ordered comparison did not fail readably: ${ordered}`);
});

let failed = 0;
for (const [name, fn] of cases) {
  try {
    fn();
    console.log(`ok - ${name}`);
  } catch (error) {
    failed++;
    console.log(`not ok - ${name}\n${(error as Error).message}`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;

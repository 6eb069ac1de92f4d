/**
 * Queries over several sources (`startQuery({ sources, pipeline })`), and the
 * query-level parts of the pipeline model: the query context reaching stateful
 * operators through `subscribeOn` and `share`, the output mode set in one
 * place, Spark's refusals that depend on the query's output mode.
 */
import { asyncScheduler, observeOn, share, subscribeOn, type Observable } from 'rxjs';
import type { Batch } from '../../../lib/batch/Batch.js';
import { count } from '../../../lib/aggregate/count.js';
import { MemoryCheckpointStore } from '../../../lib/checkpoint/MemoryCheckpointStore.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import { InvalidOptionError, UnsupportedOperationError } from '../../../lib/errors/index.js';
import type { GroupState } from '../../../lib/groupState/GroupState.js';
import { MultiSource } from '../../../lib/query/multiSource.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { StreamingQueryManager } from '../../../lib/query/StreamingQueryManager.js';
import type { Sink } from '../../../lib/sinks/Sink.js';
import type { Source } from '../../../lib/sources/Source.js';
import { dropDuplicates } from '../../../operators/dropDuplicates.js';
import { flatMapGroupsWithState } from '../../../operators/flatMapGroupsWithState.js';
import { groupAggregate } from '../../../operators/groupAggregate.js';
import { mapGroupsWithState } from '../../../operators/mapGroupsWithState.js';
import { outputMode } from '../../../operators/outputMode.js';
import { streamJoin } from '../../../operators/streamJoin.js';
import { union } from '../../../operators/union.js';
import { windowTumbling } from '../../../operators/windowTumbling.js';
import { withWatermark } from '../../../operators/withWatermark.js';

const S = 1000;
type Ev = { k: string; ts: number };

/** A replayable source over an array that grows: offset = number of rows; `perTrigger` rows at most per batch. */
function logSource<T>(log: T[], perTrigger = 2): Source<T, number> {
  return {
    description: 'LogSource',
    async start() {},
    async latestOffset(start) {
      if (log.length === 0 && start === undefined) return undefined;
      return Math.min(log.length, (start ?? 0) + perTrigger);
    },
    async getBatch(start, end) {
      return log.slice(start ?? 0, end);
    },
    async commit() {},
    async stop() {},
  };
}

/** An idempotent sink: batch N's rows, once (a re-run batch replaces them). */
function batchSink<R>(): Sink<R> & { readonly byBatch: Map<number, readonly R[]>; rows(): R[] } {
  const byBatch = new Map<number, readonly R[]>();
  return {
    description: 'BatchSink',
    supportedModes: ['append', 'update', 'complete'],
    idempotent: true,
    byBatch,
    async addBatch(batchId, rows) {
      byBatch.set(batchId, [...rows]);
    },
    rows() {
      return [...byBatch.keys()].sort((a, b) => a - b).flatMap((id) => [...byBatch.get(id)!]);
    },
  };
}

const manager = new StreamingQueryManager({ onQueryError: () => undefined });
const sorted = <R>(rows: readonly R[]): string[] => rows.map((r) => JSON.stringify(r)).sort();

const leftLog = (): Ev[] => [{ k: 'a', ts: 1 * S }, { k: 'b', ts: 2 * S }, { k: 'a', ts: 6 * S }, { k: 'c', ts: 12 * S }, { k: 'a', ts: 21 * S }, { k: 'b', ts: 31 * S }];
const rightLog = (): Ev[] => [{ k: 'a', ts: 1 * S }, { k: 'a', ts: 6 * S }, { k: 'b', ts: 3 * S }, { k: 'c', ts: 13 * S }, { k: 'b', ts: 30 * S }, { k: 'd', ts: 40 * S }];

/** join -> window agg, append mode, over two sources. */
const joinThenWindows = ({ left, right }: { readonly left: Observable<Batch<Ev>>; readonly right: Observable<Batch<Ev>> }) =>
  left.pipe(
    withWatermark<Ev>('ts', '2 seconds'),
    streamJoin(right.pipe(withWatermark<Ev>('ts', '2 seconds')), { on: 'k', timeRange: { leftTime: 'ts', rightTime: 'ts', lower: '-2 seconds', upper: '2 seconds' } }),
    windowTumbling({ eventTime: 'left.ts', size: '10 seconds', keyBy: 'left.k', aggregate: { n: count() } }),
    outputMode('append'),
  );

async function runToEnd(options: Parameters<typeof startQuery>[0]): Promise<void> {
  const query = startQuery({ ...options, manager } as never);
  await query.processAllAvailable();
  await query.stop();
}

describe('startQuery with several sources', () => {
  it('plans every source in one trigger: batch N of each input is one micro-batch, the WAL entry holds every offset, progress lists every source', async () => {
    const store = new MemoryCheckpointStore('multi');
    const sink = batchSink<unknown>();
    const query = startQuery({ sources: { left: logSource(leftLog()), right: logSource(rightLog()) }, pipeline: joinThenWindows, sink, checkpoint: openCheckpoint(store), manager });
    await query.processAllAvailable();
    const progress = query.recentProgress;
    await query.stop();
    expect(sorted(sink.rows())).toEqual(sorted([{ window: { start: 0, end: 10 * S }, k: 'a', n: 2 }, { window: { start: 0, end: 10 * S }, k: 'b', n: 1 }, { window: { start: 10 * S, end: 20 * S }, k: 'c', n: 1 }]));
    expect(progress[0]!.sources.map((s) => [s.description, s.endOffset, s.numInputRows])).toEqual([['left: LogSource', 2, 2], ['right: LogSource', 2, 2]]);
    const wal = new TextDecoder().decode(store.files.get('offsets/0'));
    expect(wal).toContain('"offsets":[2,2]');
  });

  it('a run stopped after any batch and restarted gives exactly the output of an uninterrupted run', async () => {
    const whole = batchSink<unknown>();
    await runToEnd({ sources: { left: logSource(leftLog()), right: logSource(rightLog()) }, pipeline: joinThenWindows, sink: whole, checkpoint: openCheckpoint(new MemoryCheckpointStore('whole')) } as never);
    for (let stopAfter = 0; stopAfter < 3; stopAfter++) {
      const store = new MemoryCheckpointStore(`restart-${stopAfter}`);
      const sink = batchSink<unknown>();
      const left = leftLog();
      const right = rightLog();
      // The first run sees only part of the data, then stops.
      const leftPart = left.slice(0, 2 * (stopAfter + 1));
      const rightPart = right.slice(0, 2 * (stopAfter + 1));
      await runToEnd({ sources: { left: logSource(leftPart), right: logSource(rightPart) }, pipeline: joinThenWindows, sink, checkpoint: openCheckpoint(store) } as never);
      leftPart.push(...left.slice(leftPart.length));
      rightPart.push(...right.slice(rightPart.length));
      await runToEnd({ sources: { left: logSource(leftPart), right: logSource(rightPart) }, pipeline: joinThenWindows, sink, checkpoint: openCheckpoint(store) } as never);
      expect(sorted(sink.rows())).toEqual(sorted(whole.rows()));
    }
  });

  it('unions two inputs as one micro-batch per trigger', async () => {
    const sink = batchSink<Ev>();
    await runToEnd({ sources: { a: logSource(leftLog(), 6), b: logSource(rightLog(), 6) }, pipeline: ({ a, b }: { a: Observable<Batch<Ev>>; b: Observable<Batch<Ev>> }) => a.pipe(union(b)), sink } as never);
    expect([...sink.byBatch.keys()]).toEqual([0]);
    expect(sink.rows()).toHaveLength(12);
  });

  it('`sources` with one entry is the same query as `source`', async () => {
    const viaSources = batchSink<unknown>();
    const viaSource = batchSink<unknown>();
    const pipeline = (b$: Observable<Batch<Ev>>) => b$.pipe(withWatermark<Ev>('ts', 0), dropDuplicates<Ev>(['k']));
    await runToEnd({ sources: { only: logSource(leftLog()) }, pipeline: ({ only }: { only: Observable<Batch<Ev>> }) => pipeline(only), sink: viaSources } as never);
    await runToEnd({ source: logSource(leftLog()), pipeline, sink: viaSource } as never);
    expect(viaSources.rows()).toEqual(viaSource.rows());
  });

  it('rejects source together with sources, an empty sources object and a non-source entry', () => {
    const sink = batchSink<unknown>();
    expect(() => startQuery({ source: logSource([]), sources: { a: logSource([]) }, pipeline: () => undefined as never, sink, manager } as never)).toThrow(InvalidOptionError);
    expect(() => startQuery({ sources: {}, pipeline: () => undefined as never, sink, manager } as never)).toThrow('startQuery: sources must be a non-empty object of named sources; got {}.');
    expect(() => startQuery({ sources: { a: 42 }, pipeline: () => undefined as never, sink, manager } as never)).toThrow(/startQuery: sources\.a must be a Source/);
  });
});

describe('MultiSource: plans composed from its inputs', () => {
  /** A log source that also describes and restores plans: `plan` is the batch's range, restored ranges are recorded. */
  function planningSource(log: Ev[], restored: Array<[number | undefined, number, unknown]>): Source<Ev, number> {
    return {
      ...logSource(log),
      async describePlan(start, end) {
        return { range: [start ?? 0, end] };
      },
      async restorePlan(start, end, plan) {
        restored.push([start, end, plan]);
      },
    };
  }

  it('describes a plan per input, null for an input that read nothing in the batch or describes nothing', async () => {
    const multi = new MultiSource(['a', 'b', 'c'], [planningSource(leftLog(), []), planningSource(rightLog(), []), logSource(leftLog())]);
    expect(await multi.describePlan(undefined, [2, null, 2])).toEqual([{ range: [0, 2] }, null, null]);
    expect(await multi.describePlan([2, 4, 2], [4, 4, 3])).toEqual([{ range: [2, 4] }, null, null]);
  });

  it("gives each input its part of a plan back, and refuses a plan that is not one entry per input or an input that cannot take its part", async () => {
    const restoredA: Array<[number | undefined, number, unknown]> = [];
    const restoredB: Array<[number | undefined, number, unknown]> = [];
    const multi = new MultiSource(['a', 'b'], [planningSource(leftLog(), restoredA), planningSource(rightLog(), restoredB)]);
    await multi.restorePlan([2, null], [4, 2], [{ range: [2, 4] }, { range: [0, 2] }]);
    expect(restoredA).toEqual([[2, 4, { range: [2, 4] }]]);
    expect(restoredB).toEqual([[undefined, 2, { range: [0, 2] }]]);
    await multi.restorePlan([4, 2], [6, 2], [{ range: [4, 6] }, null]);
    expect(restoredB).toHaveLength(1);
    await expect(multi.restorePlan(undefined, [2, 2], [{ range: [0, 2] }])).rejects.toThrow('a plan for its 2 inputs must be a list with one entry per input; got');
    const plain = new MultiSource(['a', 'b'], [planningSource(leftLog(), []), logSource(rightLog())]);
    await expect(plain.restorePlan(undefined, [2, 2], [null, { range: [0, 2] }])).rejects.toThrow('input b (LogSource) cannot restore a plan');
  });

  it('reports progress for an input that had no data yet (its offset null), as the first batch of a query whose second input is still empty', async () => {
    const sink = batchSink<unknown>();
    const query = startQuery({ sources: { a: logSource(leftLog()), b: { ...logSource<Ev>([]), progressMetrics: (end: number | undefined) => ({ seen: end === undefined ? -1 : end.valueOf() }) } }, pipeline: ({ a, b }: { a: Observable<Batch<Ev>>; b: Observable<Batch<Ev>> }) => a.pipe(union(b)), sink, checkpoint: openCheckpoint(new MemoryCheckpointStore('empty-input')), manager } as never);
    await query.processAllAvailable();
    const progress = query.recentProgress;
    await query.stop();
    expect(progress[0]!.sources.map((s) => [s.endOffset, s.metrics['seen']])).toEqual([[2, undefined], [null, -1]]);
  });
});

describe('the query context reaches stateful operators through any RxJS operator', () => {
  const pipeline = (b$: Observable<Batch<Ev>>) =>
    b$.pipe(
      withWatermark<Ev>('ts', '1 second'),
      subscribeOn(asyncScheduler),
      dropDuplicates<Ev>(['k', 'ts']),
      share(),
      observeOn(asyncScheduler),
      windowTumbling({ eventTime: 'ts', size: '10 seconds', keyBy: 'k', aggregate: { n: count() } }),
      outputMode('append'),
    );

  it('with subscribeOn(asyncScheduler) and share() between them under a checkpoint: state files are written and a restart is exact', async () => {
    const whole = batchSink<unknown>();
    await runToEnd({ source: logSource(leftLog()), pipeline, sink: whole, checkpoint: openCheckpoint(new MemoryCheckpointStore('w')) } as never);
    expect(whole.rows().length).toBeGreaterThan(0);
    const store = new MemoryCheckpointStore('ctx');
    const sink = batchSink<unknown>();
    const log = leftLog().slice(0, 3);
    await runToEnd({ source: logSource(log), pipeline, sink, checkpoint: openCheckpoint(store) } as never);
    const stateFiles = [...store.files.keys()].filter((f) => f.startsWith('state/'));
    expect(stateFiles.some((f) => f.startsWith('state/watermark%230/'))).toBe(true);
    expect(stateFiles.some((f) => f.startsWith('state/dropDuplicates%231/'))).toBe(true);
    expect(stateFiles.some((f) => f.startsWith('state/windowTumbling%232/'))).toBe(true);
    log.push(...leftLog().slice(3));
    await runToEnd({ source: logSource(log), pipeline, sink, checkpoint: openCheckpoint(store) } as never);
    expect(sorted(sink.rows())).toEqual(sorted(whole.rows()));
  });

  it('keeps operator ids stable across restarts; a name fixes an id so the pipeline can be edited around it', async () => {
    const store = new MemoryCheckpointStore('named');
    const named = (b$: Observable<Batch<Ev>>) => b$.pipe(withWatermark<Ev>('ts', 0, { name: 'wm' }), dropDuplicates<Ev>(['k'], { name: 'dedup' }));
    await runToEnd({ source: logSource(leftLog().slice(0, 2)), pipeline: named, sink: batchSink(), checkpoint: openCheckpoint(store) } as never);
    expect([...store.files.keys()].filter((f) => f.startsWith('state/')).map((f) => f.split('/')[1]).sort()).toEqual(expect.arrayContaining(['dedup', 'wm']));
    // A stateless stage added in between keeps the named state.
    const edited = (b$: Observable<Batch<Ev>>) => b$.pipe(withWatermark<Ev>('ts', 0, { name: 'wm' }), observeOn(asyncScheduler), dropDuplicates<Ev>(['k'], { name: 'dedup' }));
    const sink = batchSink<Ev>();
    await runToEnd({ source: logSource(leftLog()), pipeline: edited, sink, checkpoint: openCheckpoint(store) } as never);
    expect(sink.rows().map((r) => r.k)).toEqual(['c']); // a and b were seen before the restart
  });
});

describe('the output mode in one place', () => {
  type Row = { k: string; ts: number };
  const aggregated = (b$: Observable<Batch<Row>>) => b$.pipe(withWatermark<Row>('ts', 0), windowTumbling({ eventTime: 'ts', size: '10 seconds', keyBy: 'k', aggregate: { n: count() } }));

  it('startQuery({ outputMode }) sets the mode of an aggregation the pipeline leaves without one', async () => {
    const complete = batchSink<unknown>();
    await runToEnd({ source: logSource(leftLog()), pipeline: aggregated, sink: complete, outputMode: 'complete' } as never);
    const last = complete.byBatch.get(Math.max(...complete.byBatch.keys()))!;
    expect(last).toHaveLength(5); // every window of every key, kept in complete mode
    const update = batchSink<unknown>();
    await runToEnd({ source: logSource(leftLog()), pipeline: aggregated, sink: update, outputMode: 'update' } as never);
    expect(update.byBatch.get(0)).toHaveLength(2);
  });

  it('an aggregation without any output mode runs in append mode, with its rules', async () => {
    const append = batchSink<unknown>();
    await runToEnd({ source: logSource(leftLog()), pipeline: aggregated, sink: append } as never);
    expect(sorted(append.rows())).toEqual(sorted([{ window: { start: 0, end: 10 * S }, k: 'a', n: 2 }, { window: { start: 0, end: 10 * S }, k: 'b', n: 1 }, { window: { start: 10 * S, end: 20 * S }, k: 'c', n: 1 }, { window: { start: 20 * S, end: 30 * S }, k: 'a', n: 1 }]));
    const unwatermarked = (b$: Observable<Batch<Row>>) => b$.pipe(groupAggregate({ keyBy: 'k', aggregate: { n: count() } }));
    expect(() => startQuery({ source: logSource(leftLog()), pipeline: unwatermarked, sink: batchSink(), manager } as never)).toThrow(
      new UnsupportedOperationError('startQuery', 'Append output mode not supported when there are streaming aggregations on streaming DataFrames/DataSets without watermark'),
    );
  });

  it('refuses startQuery({ outputMode }) that contradicts the pipeline\'s', () => {
    expect(() => startQuery({ source: logSource(leftLog()), pipeline: (b$: Observable<Batch<Row>>) => aggregated(b$).pipe(outputMode('append')), sink: batchSink(), outputMode: 'complete', manager } as never)).toThrow(
      /^startQuery: outputMode is "complete" but the pipeline already emits in append mode/,
    );
  });

  it('refuses, with Spark wording, modes Spark refuses for the whole query', () => {
    const join = ({ left, right }: { left: Observable<Batch<Row>>; right: Observable<Batch<Row>> }) =>
      left.pipe(withWatermark<Row>('ts', 0), streamJoin(right.pipe(withWatermark<Row>('ts', 0)), { on: 'k', timeRange: { leftTime: 'ts', rightTime: 'ts', lower: 0, upper: '1 second' } }));
    expect(() => startQuery({ sources: { left: logSource([]), right: logSource([]) }, pipeline: join, sink: batchSink(), outputMode: 'update', manager } as never)).toThrow(
      new UnsupportedOperationError('startQuery', 'Join between two streaming DataFrames/Datasets is not supported in Update output mode, only in Append output mode'),
    );
    const joinThenGroups = (inputs: { left: Observable<Batch<Row>>; right: Observable<Batch<Row>> }) => join(inputs).pipe(groupAggregate({ keyBy: 'left.k', aggregate: { n: count() } }));
    expect(() => startQuery({ sources: { left: logSource([]), right: logSource([]) }, pipeline: joinThenGroups, sink: batchSink(), outputMode: 'update', manager } as never)).toThrow(
      new UnsupportedOperationError('startQuery', 'Join between two streaming DataFrames/Datasets is not supported in Update output mode, only in Append output mode'),
    );
    const fn = (_k: string, rows: readonly Row[], _s: GroupState<number>) => rows;
    const groups = (b$: Observable<Batch<Row>>) => b$.pipe(flatMapGroupsWithState<Row, number, Row, 'k'>({ keyBy: 'k', outputMode: 'update' }, fn));
    expect(() => startQuery({ source: logSource([]), pipeline: groups, sink: batchSink(), outputMode: 'append', manager } as never)).toThrow(
      new UnsupportedOperationError('startQuery', 'flatMapGroupsWithState in update mode is not supported with Append output mode on a streaming DataFrame/Dataset'),
    );
    const hidden = (b$: Observable<Batch<Row>>) => groups(b$).pipe(dropDuplicates<Row>(['k']));
    expect(() => startQuery({ source: logSource([]), pipeline: hidden, sink: batchSink(), outputMode: 'append', manager } as never)).toThrow(
      new UnsupportedOperationError('startQuery', 'flatMapGroupsWithState in update mode is not supported with Append output mode on a streaming DataFrame/Dataset'),
    );
    const mapped = (b$: Observable<Batch<Row>>) => b$.pipe(mapGroupsWithState<Row, number, Row, 'k'>({ keyBy: 'k' }, (_k, rows) => rows[0]!), dropDuplicates<Row>(['k']));
    expect(() => startQuery({ source: logSource([]), pipeline: mapped, sink: batchSink(), outputMode: 'append', manager } as never)).toThrow(
      new UnsupportedOperationError('startQuery', 'mapGroupsWithState is not supported with Append output mode on a streaming DataFrame/Dataset'),
    );
  });
});

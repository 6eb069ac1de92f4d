import { Subject, map } from 'rxjs';
import { count } from '../../../lib/aggregate/count.js';
import type { Batch } from '../../../lib/batch/Batch.js';
import { MemoryCheckpointStore } from '../../../lib/checkpoint/MemoryCheckpointStore.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import { InvalidOptionError, SinkError, UnsupportedOperationError, UserFunctionError } from '../../../lib/errors/index.js';
import { EVENTS } from '../../../lib/instrumentation/events.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { StreamingQueryManager } from '../../../lib/query/StreamingQueryManager.js';
import { forEachBatch } from '../../../lib/sinks/forEachBatch.js';
import type { Sink } from '../../../lib/sinks/Sink.js';
import { toFiles } from '../../../lib/sinks/toFiles.js';
import { dropMemoryTable, memoryTable, toMemory } from '../../../lib/sinks/toMemory.js';
import { fromObservable } from '../../../lib/sources/fromObservable.js';
import { rateSource } from '../../../lib/sources/rateSource.js';
import type { Source } from '../../../lib/sources/Source.js';
import { outputMode } from '../../../operators/outputMode.js';
import { windowTumbling } from '../../../operators/windowTumbling.js';
import { withWatermark } from '../../../operators/withWatermark.js';
import { VirtualClock, settle } from './virtualClock.js';

interface Ev {
  readonly id: string;
  readonly action: string;
  readonly ts: number;
}

/** A replayable source over a growing in-memory log: offsets are row counts. */
function logSource<T>(log: T[], maxRowsPerTrigger?: number): Source<T, number> & { readonly reads: [number | undefined, number][] } {
  const reads: [number | undefined, number][] = [];
  return {
    description: 'LogSource',
    reads,
    async start() {},
    async latestOffset(start, limit) {
      if (log.length === 0 && start === undefined) return undefined;
      const from = start ?? 0;
      return limit.all || maxRowsPerTrigger === undefined ? log.length : Math.min(log.length, from + maxRowsPerTrigger);
    },
    async getBatch(start, end) {
      reads.push([start, end]);
      return log.slice(start ?? 0, end);
    },
    async commit() {},
    async stop() {},
  };
}

/** A sink recording each batch and when it arrived, optionally taking virtual time. */
function recordingSink<R>(clock: VirtualClock, durationMs: (batchId: number) => number = () => 0): Sink<R> & { readonly batches: { batchId: number; at: number; rows: readonly R[] }[] } {
  const batches: { batchId: number; at: number; rows: readonly R[] }[] = [];
  return {
    description: 'RecordingSink',
    supportedModes: ['append', 'update', 'complete'],
    idempotent: false,
    batches,
    async addBatch(batchId, rows) {
      batches.push({ batchId, at: clock.now(), rows });
      const ms = durationMs(batchId);
      if (ms > 0) await new Promise<void>((resolve) => clock.schedule(() => resolve(), ms));
    },
  };
}

const MIN = 60_000;
const T0 = Date.UTC(2018, 2, 2, 10, 0, 0);

describe('startQuery', () => {
  let manager: StreamingQueryManager;
  let clock: VirtualClock;
  beforeEach(() => {
    clock = new VirtualClock();
    manager = new StreamingQueryManager({ scheduler: clock });
  });
  afterEach(async () => {
    for (const q of manager.active) await q.stop();
  });

  describe('default trigger', () => {
    it('runs a batch as soon as data arrives and the previous batch finished', async () => {
      const input = new Subject<{ word: string }>();
      const sink = recordingSink<{ word: string }>(clock, () => 10);
      const query = startQuery({ source: fromObservable(input), sink, scheduler: clock, manager });
      await clock.advanceTo(5);
      input.next({ word: 'a' });
      await clock.advanceTo(6);
      input.next({ word: 'b' });
      input.next({ word: 'c' });
      await clock.advanceTo(50);
      expect(sink.batches.map((b) => [b.batchId, b.at, b.rows.length])).toEqual([
        [0, 5, 1],
        [1, 15, 2], // b and c arrived while batch 0 was in the sink: one batch right after it
      ]);
      expect(query.status).toEqual({ message: 'Waiting for data to arrive', isDataAvailable: false, isTriggerActive: false });
    });

    it('polls a source without dataAvailable$', async () => {
      const log: { n: number }[] = [];
      const sink = recordingSink<{ n: number }>(clock);
      startQuery({ source: logSource(log), sink, scheduler: clock, manager, pollInterval: 100 });
      await clock.advanceTo(10);
      log.push({ n: 1 });
      await clock.advanceTo(250);
      expect(sink.batches.map((b) => [b.batchId, b.at])).toEqual([[0, 100]]);
    });
  });

  describe('processing-time trigger', () => {
    it('runs one batch per interval and never piles batches up after a slow one', async () => {
      const input = new Subject<number>();
      // Batch 1 takes 25 s in the sink; the interval is 10 s.
      const sink = recordingSink<number>(clock, (id) => (id === 1 ? 25_000 : 0));
      startQuery({ source: fromObservable(input), sink, trigger: { processingTime: '10 seconds' }, scheduler: clock, manager });
      input.next(1);
      await clock.advanceTo(9_000);
      input.next(2);
      await clock.advanceTo(12_000);
      input.next(3); // arrives during the slow batch 1 (10 s – 35 s)
      await clock.advanceTo(20_000);
      input.next(4);
      await clock.advanceTo(31_000);
      input.next(5);
      await clock.advanceTo(60_000);
      expect(sink.batches.map((b) => [b.batchId, b.at, b.rows])).toEqual([
        [0, 0, [1]],
        [1, 10_000, [2]],
        [2, 35_000, [3, 4, 5]], // one batch at once after the slow one (Spark), not one per missed interval
      ]);
    });

    it("with whenBehind 'nextInterval' the batch after a slow one waits for the next interval boundary", async () => {
      const input = new Subject<number>();
      const sink = recordingSink<number>(clock, (id) => (id === 0 ? 25_000 : 0));
      startQuery({ source: fromObservable(input), sink, trigger: { processingTime: '10 seconds', whenBehind: 'nextInterval' }, scheduler: clock, manager });
      input.next(1);
      await clock.advanceTo(5_000);
      input.next(2);
      await clock.advanceTo(60_000);
      expect(sink.batches.map((b) => [b.batchId, b.at])).toEqual([
        [0, 0],
        [1, 30_000],
      ]);
    });
  });

  describe('once and availableNow', () => {
    it('once: one batch with everything available, ignoring the per-trigger limit, then stops', async () => {
      const log = [1, 2, 3, 4, 5];
      const sink = recordingSink<number>(clock);
      const query = startQuery({ source: logSource(log, 2), sink, trigger: { once: true }, scheduler: clock, manager });
      await clock.advanceTo(10);
      expect(await query.awaitTermination()).toBe(true);
      expect(sink.batches.map((b) => b.rows)).toEqual([[1, 2, 3, 4, 5]]);
      expect(query.isActive).toBe(false);
      expect(query.status).toEqual({ message: 'Stopped', isDataAvailable: false, isTriggerActive: false });
    });

    it('availableNow: what is there at the start, in batches that respect the limit, then stops; later rows wait', async () => {
      const input = new Subject<number[]>();
      const source = fromObservable(input, { maxRowsPerTrigger: 2 });
      const sink = recordingSink<number>(clock);
      const query = startQuery({ source, sink, trigger: { availableNow: true }, scheduler: clock, manager });
      input.next([1, 2, 3, 4, 5]);
      await query.ready;
      input.next([6]); // after the start: not part of this run
      await clock.advanceTo(10);
      await query.awaitTermination();
      expect(sink.batches.map((b) => b.rows)).toEqual([[1, 2], [3, 4], [5]]);
    });

    it('availableNow finalises windows in the last batch (the trailing no-data step is folded into it)', async () => {
      const log: Ev[] = [
        { id: 'p1', action: 'open', ts: T0 + 2 * MIN },
        { id: 'p2', action: 'open', ts: T0 + 25 * MIN },
      ];
      const sink = recordingSink<unknown>(clock);
      const query = startQuery({
        source: logSource(log, 1),
        pipeline: (b$) => b$.pipe(withWatermark('ts', '10 minutes'), windowTumbling({ eventTime: 'ts', size: '10 minutes', keyBy: 'action', aggregate: { count: count() } }), outputMode('append')),
        sink,
        trigger: { availableNow: true },
        scheduler: clock,
        manager,
      });
      await clock.advanceTo(10);
      await query.awaitTermination();
      expect(sink.batches.map((b) => b.rows)).toEqual([[], [{ window: { start: T0, end: T0 + 10 * MIN }, action: 'open', count: 1 }]]);
    });
  });

  describe('progress', () => {
    it('reports every field, with durations measured on the scheduler clock', async () => {
      const input = new Subject<Ev[]>();
      const sink = recordingSink<unknown>(clock, () => 7);
      const query = startQuery({
        source: fromObservable<Ev>(input),
        pipeline: (b$) => b$.pipe(withWatermark('ts', '10 minutes'), windowTumbling({ eventTime: 'ts', size: '10 minutes', keyBy: 'action', aggregate: { count: count() } }), outputMode('update')),
        sink,
        name: 'monitor',
        scheduler: clock,
        manager,
      });
      const seen: number[] = [];
      query.progress$.subscribe((p) => seen.push(p.batchId));
      await clock.advanceTo(1_000);
      input.next([
        { id: 'p1', action: 'open', ts: T0 + 2 * MIN },
        { id: 'p2', action: 'open', ts: T0 + 4 * MIN },
        { id: 'p1', action: 'close', ts: T0 + 6 * MIN },
      ]);
      await clock.advanceTo(3_000);
      input.next([{ id: 'p3', action: 'open', ts: T0 + 22 * MIN }]);
      await clock.advanceTo(5_000);
      expect(seen).toEqual([0, 1]);
      expect(query.recentProgress).toHaveLength(2);
      const p = query.lastProgress!;
      expect(p).toEqual({
        id: query.id,
        runId: query.runId,
        name: 'monitor',
        timestamp: new Date(3_000).toISOString(),
        batchId: 1,
        batchDuration: 7,
        numInputRows: 1,
        inputRowsPerSecond: 0.5, // 1 row over the 2 s since the previous trigger
        processedRowsPerSecond: 1000 / 7,
        durationMs: { latestOffset: 0, getBatch: 0, addBatch: 7, walCommit: 0, commitOffsets: 0, triggerExecution: 7 },
        eventTime: {
          watermark: new Date(T0 + 12 * MIN).toISOString(),
          min: new Date(T0 + 22 * MIN).toISOString(),
          max: new Date(T0 + 22 * MIN).toISOString(),
          avg: new Date(T0 + 22 * MIN).toISOString(),
        },
        stateOperators: [expect.objectContaining({ operatorName: 'windowTumbling', numRowsTotal: 1, numRowsUpdated: 1, numRowsRemoved: 2, numRowsDroppedByWatermark: 0 })],
        sources: [
          {
            description: 'ObservableSource',
            startOffset: 3,
            endOffset: 4,
            latestOffset: 4,
            numInputRows: 1,
            inputRowsPerSecond: 0.5,
            processedRowsPerSecond: 1000 / 7,
            metrics: { numDeadLetterRecords: 0, numBufferedRows: 0, maxBufferedRowsSeen: 1, bufferCapacity: 100_000, numRowsDropped: 0, numRowsLost: 0 },
          },
        ],
        sink: { description: 'RecordingSink', numOutputRows: 1 },
        numRowsDroppedInvalidEventTime: 0,
      });
      expect(query.recentProgress[0]!.eventTime).toEqual({
        watermark: new Date(T0 - 4 * MIN).toISOString(), // 10:06 - 10 minutes
        min: new Date(T0 + 2 * MIN).toISOString(),
        max: new Date(T0 + 6 * MIN).toISOString(),
        avg: new Date(T0 + 4 * MIN).toISOString(),
      });
    });

    it('emits instrumentation events on the query and its manager; a throwing listener harms nothing', async () => {
      const input = new Subject<number>();
      const errors: unknown[] = [];
      const query = startQuery({ source: fromObservable(input), sink: toMemory('events-test'), scheduler: clock, manager, onListenerError: (e) => errors.push(e) });
      const types: string[] = [];
      query.on(EVENTS.QUERY_PROGRESS, (e) => types.push(`${e.type}:${e.payload.batchId}`));
      query.on(EVENTS.QUERY_PROGRESS, () => {
        throw new Error('listener bug');
      });
      manager.on(EVENTS.QUERY_TERMINATED, (e) => types.push(`${e.type}:${String(e.payload.exception)}`));
      input.next(1);
      await clock.advanceTo(10);
      await query.stop();
      expect(types).toEqual(['query.progress:0', 'query.terminated:undefined']);
      expect(errors).toHaveLength(1);
      expect(() => query.on('query.nope' as never, () => undefined)).toThrow(InvalidOptionError);
      dropMemoryTable('events-test');
    });
  });

  describe('lifecycle', () => {
    it('processAllAvailable resolves once everything that arrived is processed; stop() stops', async () => {
      const input = new Subject<number>();
      const query = startQuery({ source: fromObservable(input), sink: toMemory('paa'), scheduler: clock, manager });
      input.next(1);
      input.next(2);
      let done = false;
      void query.processAllAvailable().then(() => (done = true));
      await clock.advanceTo(1);
      expect(done).toBe(true);
      expect(memoryTable('paa')).toEqual([1, 2]);
      expect(manager.active).toEqual([query]);
      await query.stop();
      expect(query.isActive).toBe(false);
      expect(manager.active).toEqual([]);
      dropMemoryTable('paa');
    });

    it('awaitTermination with a timeout resolves false while the query runs', async () => {
      const query = startQuery({ source: fromObservable(new Subject<number>()), sink: toMemory('await'), scheduler: clock, manager });
      const result = query.awaitTermination('5 seconds');
      await clock.advanceTo(6_000);
      await expect(result).resolves.toBe(false);
      expect(query.isActive).toBe(true);
      dropMemoryTable('await');
    });

    it('refuses a second active query with the same name', () => {
      startQuery({ source: fromObservable(new Subject<number>()), sink: toMemory('dup'), name: 'q', scheduler: clock, manager });
      expect(() => startQuery({ source: fromObservable(new Subject<number>()), sink: toMemory('dup'), name: 'q', scheduler: clock, manager })).toThrow(
        'startQuery: name must be unique among active queries; got "q". Cannot start query with name q as a query with that name is already active.',
      );
      dropMemoryTable('dup');
    });
  });

  describe('errors', () => {
    it('a pipeline error stops that query only, kept in exception; awaitTermination and awaitAnyTermination reject', async () => {
      const badInput = new Subject<number>();
      const goodInput = new Subject<number>();
      const bad = startQuery({
        source: fromObservable(badInput),
        pipeline: (b$) =>
          b$.pipe(
            map((b: Batch<number>) => {
              if (b.rows.includes(13)) throw new Error('unlucky');
              return b;
            }),
          ),
        sink: toMemory('bad'),
        scheduler: clock,
        manager,
      });
      const good = startQuery({ source: fromObservable(goodInput), sink: toMemory('good'), scheduler: clock, manager });
      const anyTermination = manager.awaitAnyTermination().catch((error: unknown) => error);
      badInput.next(13);
      goodInput.next(1);
      await clock.advanceTo(10);
      expect(bad.isActive).toBe(false);
      expect(bad.exception?.message).toBe('unlucky');
      await expect(bad.awaitTermination()).rejects.toThrow('unlucky');
      expect(await anyTermination).toBe(bad.exception);
      goodInput.next(2);
      await clock.advanceTo(20);
      expect(good.isActive).toBe(true);
      expect(memoryTable('good')).toEqual([1, 2]);
      dropMemoryTable('good');
      dropMemoryTable('bad');
    });

    it('a sink function that throws stops the query with a UserFunctionError', async () => {
      const input = new Subject<number>();
      const query = startQuery({
        source: fromObservable(input),
        sink: forEachBatch(() => {
          throw new TypeError('no');
        }),
        scheduler: clock,
        manager,
      });
      input.next(1);
      await clock.advanceTo(10);
      expect(query.exception).toBeInstanceOf(UserFunctionError);
      expect(query.exception?.message).toBe('forEachBatch: a user function threw while processing batch 0: TypeError: no');
    });

    it('retries a retriable sink error with backoff and jitter on the scheduler, then goes on', async () => {
      const input = new Subject<number>();
      let attempts = 0;
      const written: number[][] = [];
      const sink: Sink<number> = {
        description: 'Flaky',
        supportedModes: ['append'],
        idempotent: true,
        async addBatch(_id, rows) {
          attempts++;
          if (attempts <= 2) throw new SinkError('Flaky', 'broker unavailable', undefined, true);
          written.push([...rows]);
        },
      };
      const query = startQuery({ source: fromObservable(input), sink, scheduler: clock, manager, retry: { initialRetryTimeMs: 100, jitter: 0.5, random: () => 0.5 } });
      const retries: number[] = [];
      query.on(EVENTS.QUERY_RETRY, (e) => retries.push(e.payload.delayMs));
      input.next(1);
      await clock.advanceTo(99);
      expect(written).toEqual([]);
      await clock.advanceTo(300);
      expect(written).toEqual([[1]]);
      expect(retries).toEqual([100, 200]);
      expect(query.isActive).toBe(true);
    });

    it('does not retry a non-retriable error', async () => {
      const input = new Subject<number>();
      let attempts = 0;
      const sink: Sink<number> = {
        description: 'Broken',
        supportedModes: ['append'],
        idempotent: true,
        async addBatch() {
          attempts++;
          throw new SinkError('Broken', 'bad request', undefined, false);
        },
      };
      const query = startQuery({ source: fromObservable(input), sink, scheduler: clock, manager });
      input.next(1);
      await clock.advanceTo(10_000);
      expect(attempts).toBe(1);
      expect(query.exception).toBeInstanceOf(SinkError);
    });

    it('rejects a pipeline that emits a batch id other than the one it was given', async () => {
      const input = new Subject<number>();
      const query = startQuery({ source: fromObservable(input), pipeline: (b$) => b$.pipe(map((b) => ({ ...b, batchId: b.batchId + 7 }))), sink: toMemory('renumber'), scheduler: clock, manager });
      input.next(1);
      await clock.advanceTo(10);
      expect(query.exception).toBeInstanceOf(UnsupportedOperationError);
      expect(query.exception?.message).toMatch(/^startQuery: the pipeline emitted batch 7 while batch 0 was running\./);
      dropMemoryTable('renumber');
    });
  });

  describe('recovery from a checkpoint', () => {
    it('keeps the query id, gets a new run id, re-runs the pending batch with exactly its offsets and continues the numbering', async () => {
      const store = new MemoryCheckpointStore('q');
      const log = [1, 2, 3];
      let failOn: number | undefined = 1;
      const outputs: [number, number[]][] = [];
      const sink = forEachBatch<number>((rows, batchId) => {
        if (batchId === failOn) throw new Error('crash');
        outputs.push([batchId, [...rows]]);
      });
      const first = logSource(log, 2);
      const q1 = startQuery({ source: first, sink, checkpoint: openCheckpoint(store), scheduler: clock, manager });
      await clock.advanceTo(10);
      expect(q1.isActive).toBe(false); // batch 1 = (2, 3] failed after offsets/1 was written
      expect(outputs).toEqual([[0, [1, 2]]]);
      log.push(4, 5);
      failOn = undefined;
      const second = logSource(log, 2);
      const events: string[] = [];
      const offStart = manager.on(EVENTS.QUERY_STARTED, (e) => events.push(`${e.type}:${e.payload.runId === q1.runId ? 'old' : 'new'}`));
      const offProgress = manager.on(EVENTS.QUERY_PROGRESS, (e) => events.push(`${e.type}:${e.payload.batchId}`));
      const q2 = startQuery({ source: second, sink, checkpoint: openCheckpoint(store), scheduler: clock, manager });
      await q2.ready;
      await clock.advanceTo(20);
      offStart();
      offProgress();
      // As Spark: the query's start is posted before the re-run batch's progress.
      expect(events).toEqual(['query.start:new', 'query.progress:1', 'query.progress:2']);
      expect(q2.id).toBe(q1.id);
      expect(q2.runId).not.toBe(q1.runId);
      expect(second.reads[0]).toEqual([2, 3]); // exactly the logged range, although (2, 4] is available now
      expect(outputs).toEqual([
        [0, [1, 2]],
        [1, [3]],
        [2, [4, 5]],
      ]);
      await q2.stop();
    });

    it('restores operator state and the watermark', async () => {
      const store = new MemoryCheckpointStore('agg');
      const log: Ev[] = [{ id: 'p1', action: 'open', ts: T0 + 2 * MIN }];
      const pipeline = (b$: import('rxjs').Observable<Batch<Ev>>) =>
        b$.pipe(withWatermark('ts', '10 minutes'), windowTumbling({ eventTime: 'ts', size: '10 minutes', keyBy: 'action', aggregate: { count: count() } }), outputMode('complete'));
      const q1 = startQuery({ source: logSource(log), pipeline, sink: toMemory('agg'), checkpoint: openCheckpoint(store), scheduler: clock, manager });
      await clock.advanceTo(10);
      await q1.stop();
      log.push({ id: 'p2', action: 'open', ts: T0 + 3 * MIN }, { id: 'p3', action: 'close', ts: T0 + 30 * MIN });
      const q2 = startQuery({ source: logSource(log), pipeline, sink: toMemory('agg'), checkpoint: openCheckpoint(store), scheduler: clock, manager });
      await clock.advanceTo(20);
      expect(memoryTable('agg')).toEqual([
        { window: { start: T0, end: T0 + 10 * MIN }, action: 'open', count: 2 },
        { window: { start: T0 + 30 * MIN, end: T0 + 40 * MIN }, action: 'close', count: 1 },
      ]);
      expect(q2.lastProgress?.batchId).toBe(1);
      expect(q2.lastProgress?.eventTime).toMatchObject({ watermark: new Date(T0 + 20 * MIN).toISOString() });
      await q2.stop();
      dropMemoryTable('agg');
    });
  });

  describe('continuous trigger', () => {
    it('processes rows as they arrive and commits an epoch per interval', async () => {
      const store = new MemoryCheckpointStore('cont');
      const query = startQuery({
        source: rateSource({ rowsPerSecond: 2 }),
        pipeline: (b$) => b$.pipe(map((b) => ({ ...b, rows: b.rows.filter((r) => r.value % 2 === 0) }))),
        sink: toMemory('cont'),
        trigger: { continuous: '3 seconds' },
        checkpoint: openCheckpoint(store),
        scheduler: clock,
        manager,
      });
      await clock.advanceTo(1_000);
      expect(memoryTable<{ value: number }>('cont').map((r) => r.value)).toEqual([0]); // visible at once, before the epoch commits
      expect(query.recentProgress).toEqual([]);
      await clock.advanceTo(3_000);
      expect(query.recentProgress.map((p) => [p.batchId, p.numInputRows, p.sink.numOutputRows])).toEqual([[0, 6, 3]]);
      await clock.advanceTo(6_000);
      expect(query.recentProgress.map((p) => p.batchId)).toEqual([0, 1]);
      expect([...store.files.keys()].filter((k) => k.startsWith('commits/')).sort()).toEqual(['commits/0', 'commits/1']);
      expect(memoryTable<{ value: number }>('cont').map((r) => r.value)).toEqual([0, 2, 4, 6, 8, 10]);
      await query.stop();
      dropMemoryTable('cont');
    });
  });

  describe('misconfiguration', () => {
    it('rejects a sink that does not support the output mode, with Spark wording', () => {
      expect(() => startQuery({ source: fromObservable(new Subject<number>()), sink: toFiles('/tmp/never'), outputMode: 'complete', scheduler: clock, manager })).toThrow(UnsupportedOperationError);
      expect(() => startQuery({ source: fromObservable(new Subject<number>()), sink: toFiles('/tmp/never'), outputMode: 'complete', scheduler: clock, manager })).toThrow(
        'startQuery: Data source FileSink[/tmp/never, json] does not support Complete output mode; it supports Append. Choose another sink or output mode.',
      );
    });

    it("reads the output mode from the pipeline's plan", () => {
      expect(() =>
        startQuery({
          source: fromObservable(new Subject<Ev>()),
          pipeline: (b$) => b$.pipe(windowTumbling({ eventTime: 'ts', size: '10 minutes', aggregate: { count: count() } }), outputMode('complete')),
          sink: toFiles('/tmp/never'),
          scheduler: clock,
          manager,
        }),
      ).toThrow('Data source FileSink[/tmp/never, json] does not support Complete output mode');
    });

    it('rejects aggregations, watermarks and sinks without continuous support under a continuous trigger', () => {
      const source = () => rateSource();
      expect(() =>
        startQuery({
          source: fromObservable(new Subject<Ev>()),
          pipeline: (b$) => b$.pipe(windowTumbling({ eventTime: 'ts', size: '10 minutes', aggregate: { count: count() } }), outputMode('update')),
          sink: toMemory('x'),
          trigger: { continuous: '1 second' },
          scheduler: clock,
          manager,
        }),
      ).toThrow('startQuery: Continuous processing does not support Aggregate operations.');
      expect(() => startQuery({ source: source(), pipeline: (b$) => b$.pipe(withWatermark('timestamp', '1 second')), sink: toMemory('x'), trigger: { continuous: '1 second' }, scheduler: clock, manager })).toThrow(
        'startQuery: Continuous processing does not support EventTimeWatermark operations.',
      );
      expect(() => startQuery({ source: source(), sink: forEachBatch(() => undefined), trigger: { continuous: '1 second' }, scheduler: clock, manager })).toThrow(
        'startQuery: Data source ForeachBatchSink does not support continuous processing. Use a micro-batch trigger, or toConsole, toMemory or forEach.',
      );
    });

    it('rejects what is not a source or a sink', () => {
      expect(() => startQuery({ source: {} as never, sink: toMemory('x'), manager })).toThrow(
        'startQuery: source must be a Source (fromDirectory, fromSocket, rateSource, fromObservable, fromKafka…); got {}.',
      );
      expect(() => startQuery({ source: rateSource(), sink: null as never, manager })).toThrow(InvalidOptionError);
      expect(() => startQuery({ source: rateSource(), sink: toMemory('x'), name: '', manager })).toThrow('startQuery: name must be a non-empty string; got "".');
    });
  });
});

afterAll(async () => {
  await settle();
});

describe('startQuery with a pipeline that completes', () => {
  it('stops the query after the batch in which the pipeline completed', async () => {
    const clock = new VirtualClock();
    const manager = new StreamingQueryManager({ scheduler: clock });
    const input = new Subject<number>();
    const { take } = await import('rxjs');
    const query = startQuery({ source: fromObservable(input), pipeline: (b$) => b$.pipe(take(1)), sink: toMemory('take'), scheduler: clock, manager });
    input.next(1);
    await clock.advanceTo(10);
    expect(query.isActive).toBe(false);
    expect(query.exception).toBeUndefined();
    expect(memoryTable('take')).toEqual([1]);
    dropMemoryTable('take');
  });
});

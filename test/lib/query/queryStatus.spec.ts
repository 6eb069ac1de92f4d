import { Subject } from 'rxjs';
import type { StreamingQueryStatus } from '../../../lib/query/progress.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import type { StreamingQuery } from '../../../lib/query/StreamingQuery.js';
import { StreamingQueryManager } from '../../../lib/query/StreamingQueryManager.js';
import type { Sink } from '../../../lib/sinks/Sink.js';
import { fromObservable } from '../../../lib/sources/fromObservable.js';
import type { Source } from '../../../lib/sources/Source.js';
import { VirtualClock } from './virtualClock.js';

/** Waits `ms` of virtual time. */
function wait(clock: VirtualClock, ms: number): Promise<void> {
  return new Promise<void>((resolve) => clock.schedule(() => resolve(), ms));
}

/** A replayable source over an in-memory log whose `latestOffset` takes `latencyMs` of virtual time (as Spark's suite blocks it on a manual clock). */
function slowLogSource(clock: VirtualClock, log: number[], latencyMs: number, failAt?: number): Source<number, number> {
  return {
    description: 'LogSource',
    async start() {},
    async latestOffset() {
      await wait(clock, latencyMs);
      if (failAt !== undefined && log.length >= failAt) throw new Error(`the log broke at row ${failAt}`);
      return log.length === 0 ? undefined : log.length;
    },
    async getBatch(start, end) {
      return log.slice(start ?? 0, end);
    },
    async commit() {},
    async stop() {},
  };
}

/** A sink that takes `ms` of virtual time per batch. */
function slowSink(clock: VirtualClock, ms: number): Sink<number> {
  return {
    description: 'SlowSink',
    supportedModes: ['append', 'update', 'complete'],
    idempotent: false,
    async addBatch() {
      await wait(clock, ms);
    },
    async addRows() {},
  };
}

const status = (message: string, isDataAvailable: boolean, isTriggerActive: boolean): StreamingQueryStatus => ({ message, isDataAvailable, isTriggerActive });

/** Advances the clock to each time and reads the status there. */
async function statusesAt(clock: VirtualClock, query: StreamingQuery, steps: readonly (readonly [number, (() => void)?])[]): Promise<[number, StreamingQueryStatus][]> {
  const seen: [number, StreamingQueryStatus][] = [];
  for (const [t, action] of steps) {
    await clock.advanceTo(t);
    seen.push([t, query.status]);
    action?.();
  }
  return seen;
}

describe('StreamingQuery.status', () => {
  let clock: VirtualClock;
  let manager: StreamingQueryManager;
  beforeEach(() => {
    clock = new VirtualClock();
    manager = new StreamingQueryManager({ scheduler: clock, onQueryError: () => undefined });
  });
  afterEach(async () => {
    for (const q of manager.active) {
      const stopped = q.stop();
      await clock.advanceBy(10_000); // lets a trigger in flight finish
      await stopped;
    }
  });

  it('follows Spark through idle, getting offsets, processing and waiting with a processing-time trigger', async () => {
    const log: number[] = [];
    // latestOffset takes 50 ms, the sink 100 ms, a trigger every second (StreamingQuerySuite "query statuses and progresses").
    const query = startQuery({ source: slowLogSource(clock, log, 50), sink: slowSink(clock, 100), trigger: { processingTime: '1 second' }, scheduler: clock, manager });
    expect(query.status).toEqual(status('Initializing sources', false, false)); // no checkpoint to open: the sources start at once
    const seen = await statusesAt(clock, query, [
      [20], // the first trigger starts at once
      [500, () => log.push(1, 2)], // the first trigger found nothing
      [1_020], // second trigger, asking the source
      [1_100], // new data: the batch is in the sink
      [1_500], // batch done, waiting for the next trigger: the last trigger had data
      [2_020], // third trigger asking
      [2_500], // it found nothing new
      [9_500], // idle for long: still nothing new
    ]);
    expect(seen).toEqual([
      [20, status('Getting offsets from LogSource', false, true)],
      [500, status('Waiting for next trigger', false, false)],
      [1_020, status('Getting offsets from LogSource', false, true)],
      [1_100, status('Processing new data', true, true)],
      [1_500, status('Waiting for next trigger', true, false)],
      [2_020, status('Getting offsets from LogSource', true, true)],
      [2_500, status('Waiting for next trigger', false, false)],
      [9_500, status('Waiting for next trigger', false, false)],
    ]);
    const stopped = query.stop();
    await clock.advanceBy(100);
    await stopped;
    expect(query.status).toEqual(status('Stopped', false, false));
  });

  it('reads false for isDataAvailable while a default-trigger query is idle after a batch', async () => {
    const input = new Subject<number>();
    const query = startQuery({ source: fromObservable(input), sink: slowSink(clock, 100), scheduler: clock, manager });
    const seen = await statusesAt(clock, query, [
      [10, () => input.next(1)],
      [50], // in the sink
      [200], // done; the next trigger ran at once and found nothing
      [60_000], // a minute later, nothing arrived
      [60_001, () => input.next(2)],
      [60_050],
    ]);
    expect(seen).toEqual([
      [10, status('Waiting for data to arrive', false, false)],
      [50, status('Processing new data', true, true)],
      [200, status('Waiting for data to arrive', false, false)],
      [60_000, status('Waiting for data to arrive', false, false)],
      [60_001, status('Waiting for data to arrive', false, false)],
      [60_050, status('Processing new data', true, true)],
    ]);
  });

  it('ends as "Terminated with exception: <message>" when the query fails', async () => {
    const log = [1];
    const query = startQuery({ source: slowLogSource(clock, log, 10, 2), sink: slowSink(clock, 0), trigger: { processingTime: '1 second' }, scheduler: clock, manager });
    await clock.advanceTo(500);
    expect(query.status).toEqual(status('Waiting for next trigger', true, false));
    log.push(2);
    await clock.advanceTo(1_500);
    expect(query.isActive).toBe(false);
    expect(query.status).toEqual(status('Terminated with exception: the log broke at row 2', false, false));
  });

  it('keeps both flags false under a continuous trigger (Spark: they do not apply to continuous execution)', async () => {
    const input = new Subject<number>();
    const query = startQuery({ source: fromObservable(input), sink: slowSink(clock, 0), trigger: { continuous: '1 second' }, scheduler: clock, manager });
    const seen: StreamingQueryStatus[] = [];
    for (const t of [10, 20, 1_500, 2_500]) {
      await clock.advanceTo(t);
      seen.push(query.status);
      input.next(t);
    }
    expect(seen.every((s) => !s.isDataAvailable && !s.isTriggerActive)).toBe(true);
    await query.stop();
    expect(query.status).toEqual(status('Stopped', false, false));
  });

  it('reads "Stopped" after a once trigger ran its batch', async () => {
    const query = startQuery({ source: slowLogSource(clock, [1, 2], 10), sink: slowSink(clock, 10), trigger: { once: true }, scheduler: clock, manager });
    await clock.advanceTo(15);
    expect(query.status).toEqual(status('Processing new data', true, true));
    await clock.advanceTo(100);
    expect(await query.awaitTermination()).toBe(true);
    expect(query.status).toEqual(status('Stopped', false, false));
  });
});

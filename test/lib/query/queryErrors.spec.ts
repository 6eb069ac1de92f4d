import { Subject, map } from 'rxjs';
import type { Batch } from '../../../lib/batch/Batch.js';
import { InvalidOptionError } from '../../../lib/errors/index.js';
import { describeQuery, logQueryError } from '../../../lib/query/queryErrors.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import type { StreamingQuery } from '../../../lib/query/StreamingQuery.js';
import { StreamingQueryManager, streams } from '../../../lib/query/StreamingQueryManager.js';
import type { Sink } from '../../../lib/sinks/Sink.js';
import { fromObservable } from '../../../lib/sources/fromObservable.js';
import type { Source } from '../../../lib/sources/Source.js';
import { VirtualClock } from './virtualClock.js';

const discard: Sink<number> = { description: 'Discard', supportedModes: ['append', 'update', 'complete'], idempotent: true, async addBatch() {} };

/** A pipeline that fails on the row 13. */
const unlucky = (b$: import('rxjs').Observable<Batch<number>>) =>
  b$.pipe(
    map((b: Batch<number>) => {
      if (b.rows.includes(13)) throw new Error('unlucky');
      return b;
    }),
  );

/** A source whose start fails (it cannot connect). */
const unreachable: Source<number, number> = {
  description: 'Unreachable',
  async start() {
    throw new Error('cannot connect to 127.0.0.1:9; got ECONNREFUSED');
  },
  async latestOffset() {
    return undefined;
  },
  async getBatch() {
    return [];
  },
  async commit() {},
  async stop() {},
};

type Report = [Error, StreamingQuery];

describe('query errors nobody waits for', () => {
  let clock: VirtualClock;
  let reports: Report[];
  let manager: StreamingQueryManager;
  let consoleError: jest.SpyInstance;
  beforeEach(() => {
    clock = new VirtualClock();
    reports = [];
    manager = new StreamingQueryManager({ scheduler: clock, onQueryError: (error, query) => reports.push([error, query]) });
    consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    consoleError.mockRestore();
    for (const q of manager.active) await q.stop();
  });

  function failing(options: { name?: string; onQueryError?: (error: Error, query: StreamingQuery) => void; manager?: StreamingQueryManager } = {}) {
    const input = new Subject<number>();
    const query = startQuery({ source: fromObservable(input), pipeline: unlucky, sink: discard, scheduler: clock, manager, ...options });
    return { input, query };
  }

  it('are logged once by default, with the query name, id and run id', async () => {
    const plain = new StreamingQueryManager({ scheduler: clock });
    const { input, query } = failing({ name: 'monitor', manager: plain });
    await clock.advanceTo(5);
    input.next(13);
    await clock.advanceTo(10);
    expect(query.isActive).toBe(false);
    expect(consoleError).toHaveBeenCalledTimes(1);
    expect(consoleError).toHaveBeenCalledWith(`Query monitor [id = ${query.id}, runId = ${query.runId}] terminated with error:`, query.exception);
    // Later waits still see the error, without a second log line.
    await expect(query.awaitTermination()).rejects.toThrow('unlucky');
    await expect(query.processAllAvailable()).rejects.toThrow('unlucky');
    expect(consoleError).toHaveBeenCalledTimes(1);
  });

  it("go to the manager's onQueryError, once per failed query", async () => {
    const a = failing({ name: 'a' });
    const b = failing({ name: 'b' });
    await clock.advanceTo(5);
    a.input.next(13);
    b.input.next(1);
    await clock.advanceTo(10);
    b.input.next(13);
    await clock.advanceTo(20);
    expect(reports.map(([error, query]) => [error.message, query.name])).toEqual([
      ['unlucky', 'a'],
      ['unlucky', 'b'],
    ]);
    expect(reports[0]![1]).toBe(a.query);
    expect(consoleError).not.toHaveBeenCalled();
  });

  it("go to the query's own onQueryError instead of the manager's", async () => {
    const own: Report[] = [];
    const { input, query } = failing({ onQueryError: (error, q) => own.push([error, q]) });
    await clock.advanceTo(5);
    input.next(13);
    await clock.advanceTo(10);
    expect(own).toEqual([[query.exception, query]]);
    expect(reports).toEqual([]);
  });

  it('are reported when the manager handler is assigned later; a bad handler is refused', async () => {
    const later: string[] = [];
    manager.onQueryError = (error, query) => later.push(`${describeQuery(query)}: ${error.message}`);
    const { input, query } = failing();
    await clock.advanceTo(5);
    input.next(13);
    await clock.advanceTo(10);
    expect(later).toEqual([`[id = ${query.id}, runId = ${query.runId}]: unlucky`]);
    expect(() => {
      (streams as { onQueryError: unknown }).onQueryError = 'log';
    }).toThrow(new InvalidOptionError('StreamingQueryManager: onQueryError must be a function (error, query) => void; got "log". Pass logQueryError for the default log line.', 'onQueryError', 'log', ''));
    expect(streams.onQueryError).toBe(logQueryError);
    expect(() => startQuery({ source: fromObservable(new Subject<number>()), sink: discard, onQueryError: 42 as never, manager })).toThrow(InvalidOptionError);
  });

  it('are not reported to a handler when awaitTermination() is waiting: it rejects instead', async () => {
    const { input, query } = failing();
    const termination = query.awaitTermination().catch((error: unknown) => error);
    await clock.advanceTo(5);
    input.next(13);
    await clock.advanceTo(10);
    expect(await termination).toBe(query.exception);
    expect(reports).toEqual([]);
  });

  it('are not reported when processAllAvailable() or awaitAnyTermination() is waiting', async () => {
    const first = failing();
    const waiting = first.query.processAllAvailable().catch((error: unknown) => error);
    first.input.next(13);
    await clock.advanceTo(10);
    expect(await waiting).toBe(first.query.exception);

    const second = failing();
    manager.resetTerminated();
    const any = manager.awaitAnyTermination().catch((error: unknown) => error);
    await clock.advanceTo(15);
    second.input.next(13);
    await clock.advanceTo(20);
    expect(await any).toBe(second.query.exception);
    expect(reports).toEqual([]);
  });

  it('an awaitTermination(timeout) that timed out no longer counts as waiting', async () => {
    const { input, query } = failing();
    const timedOut = query.awaitTermination(100);
    await clock.advanceTo(150);
    expect(await timedOut).toBe(false);
    input.next(13);
    await clock.advanceTo(200);
    expect(reports.map(([error]) => error)).toEqual([query.exception]);
  });

  it('a query whose source cannot connect is reported, unless its ready promise is awaited', async () => {
    const unawaited = startQuery({ name: 'unawaited', source: unreachable, sink: discard, scheduler: clock, manager });
    await clock.advanceTo(10);
    expect(unawaited.isActive).toBe(false);
    expect(reports.map(([error, q]) => [error.message, q.name])).toEqual([['cannot connect to 127.0.0.1:9; got ECONNREFUSED', 'unawaited']]);

    const awaited = startQuery({ name: 'awaited', source: unreachable, sink: discard, scheduler: clock, manager });
    const ready = awaited.ready.catch((error: unknown) => error);
    await clock.advanceTo(20);
    expect(await ready).toBe(awaited.exception);
    expect(reports).toHaveLength(1);
  });

  it('a handler that throws is logged and the query still stops', async () => {
    const { input, query } = failing({
      onQueryError: () => {
        throw new Error('handler bug');
      },
    });
    await clock.advanceTo(5);
    input.next(13);
    await clock.advanceTo(10);
    expect(query.isActive).toBe(false);
    expect(await query.awaitTermination().catch((error: unknown) => (error as Error).message)).toBe('unlucky');
    expect(consoleError).toHaveBeenCalledTimes(1);
    expect(String(consoleError.mock.calls[0]![0])).toMatch(/^The onQueryError handler of query \[id = .*\] threw:$/);
  });

  it('a query that stops without an error reports nothing', async () => {
    const { input, query } = failing();
    input.next(1);
    await clock.advanceTo(10);
    await query.stop();
    expect(reports).toEqual([]);
    expect(consoleError).not.toHaveBeenCalled();
  });
});

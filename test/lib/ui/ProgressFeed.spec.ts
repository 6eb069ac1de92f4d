import { Subject } from 'rxjs';
import { startQuery } from '../../../lib/query/startQuery.js';
import { StreamingQueryManager } from '../../../lib/query/StreamingQueryManager.js';
import type { Sink } from '../../../lib/sinks/Sink.js';
import { fromObservable } from '../../../lib/sources/fromObservable.js';
import { ProgressFeed, type ProgressFeedEvent } from '../../../lib/ui/ProgressFeed.js';
import { VirtualClock } from '../query/virtualClock.js';

const discard: Sink<number> = { description: 'Discard', supportedModes: ['append', 'update', 'complete'], idempotent: true, async addBatch() {} };

describe('ProgressFeed', () => {
  let clock: VirtualClock;
  let manager: StreamingQueryManager;
  beforeEach(() => {
    clock = new VirtualClock();
    manager = new StreamingQueryManager({ scheduler: clock, onQueryError: () => undefined });
  });
  afterEach(async () => {
    for (const q of manager.active) await q.stop();
  });

  function start(name: string) {
    const input = new Subject<number>();
    return { input, query: startQuery({ name, source: fromObservable(input), sink: discard, scheduler: clock, manager }) };
  }

  it('starts from the reports a query already has, and keeps the last `history`', async () => {
    const { input, query } = start('q');
    for (let i = 0; i < 3; i++) {
      input.next(i);
      await clock.advanceBy(10);
    }
    const feed = new ProgressFeed(query, { history: 2, scheduler: clock });
    expect(feed.snapshot().queries[0]!.recentProgress.map((p) => p.batchId)).toEqual([1, 2]);
    input.next(3);
    await clock.advanceBy(10);
    expect(feed.snapshot().queries[0]!.recentProgress.map((p) => p.batchId)).toEqual([2, 3]);
    feed.close();
  });

  it('tells subscribers each report and status change until they unsubscribe or the feed closes', async () => {
    const { input, query } = start('q');
    await clock.advanceBy(5);
    const feed = new ProgressFeed(manager, { scheduler: clock });
    const seen: string[] = [];
    const off = feed.subscribe((e: ProgressFeedEvent) => seen.push(e.type === 'progress' ? `progress ${e.data.progress.batchId}` : e.type === 'query' ? `query ${e.data.status.message}` : e.type));
    input.next(1);
    await clock.advanceBy(10);
    expect(seen).toEqual(['progress 0', 'query Waiting for next trigger', 'query Waiting for data to arrive']);
    off();
    input.next(2);
    await clock.advanceBy(10);
    expect(seen).toHaveLength(3);
    const late: string[] = [];
    feed.subscribe((e) => late.push(e.type));
    feed.close();
    input.next(3);
    await clock.advanceBy(10);
    expect(late).toEqual([]);
    expect(query.lastProgress?.batchId).toBe(2);
  });

  it('keeps running queries and the last `stoppedQueries` stopped ones', async () => {
    const feed = new ProgressFeed(manager, { scheduler: clock, stoppedQueries: 1 });
    const a = start('a');
    const b = start('b');
    const c = start('c');
    await clock.advanceBy(5);
    expect(feed.snapshot().queries.map((q) => q.name)).toEqual(['a', 'b', 'c']);
    await a.query.stop();
    await b.query.stop();
    expect(feed.snapshot().queries.map((q) => [q.name, q.isActive])).toEqual([
      ['b', false],
      ['c', true],
    ]);
    await c.query.stop();
    expect(feed.snapshot().queries.map((q) => q.name)).toEqual(['c']);
    feed.close();
  });
});

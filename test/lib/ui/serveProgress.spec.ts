import { request, type IncomingHttpHeaders } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { Subject, map } from 'rxjs';
import type { Batch } from '../../../lib/batch/Batch.js';
import { InvalidOptionError, StreamingError } from '../../../lib/errors/index.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import type { StreamingQuery } from '../../../lib/query/StreamingQuery.js';
import { StreamingQueryManager } from '../../../lib/query/StreamingQueryManager.js';
import type { Sink } from '../../../lib/sinks/Sink.js';
import { fromObservable } from '../../../lib/sources/fromObservable.js';
import type { Source } from '../../../lib/sources/Source.js';
import type { ProgressSnapshot, QueryHeader } from '../../../lib/ui/ProgressFeed.js';
import { serveProgress, type ProgressServer } from '../../../lib/ui/serveProgress.js';
import { feedJson, formatSseEvent } from '../../../lib/ui/sse.js';
import { VirtualClock } from '../query/virtualClock.js';

const discard: Sink<number> = { description: 'Discard', supportedModes: ['append', 'update', 'complete'], idempotent: true, async addBatch() {} };

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

function get(url: string, options: { readonly method?: string; readonly host?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, method: options.method ?? 'GET', headers: options.host === undefined ? {} : { host: options.host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface SseMessage {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: unknown;
}

/** A Server-Sent-Events reader: `next()` resolves with each message in order; `raw` is everything received. */
function openEvents(url: string) {
  const queue: SseMessage[] = [];
  const waiting: ((m: SseMessage) => void)[] = [];
  let buffer = '';
  let raw = '';
  let headers: IncomingHttpHeaders = {};
  let ended!: () => void;
  const end = new Promise<void>((resolve) => (ended = resolve));
  const req = request(url, { agent: false }, (res) => {
    headers = res.headers;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      raw += chunk;
      buffer += chunk;
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const fields = block.split('\n');
        const event = fields.find((l) => l.startsWith('event: '))?.slice(7);
        if (event === undefined) continue; // the `retry:` line
        const message = { id: fields.find((l) => l.startsWith('id: '))?.slice(4), event, data: JSON.parse(fields.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')) as unknown };
        const waiter = waiting.shift();
        if (waiter === undefined) queue.push(message);
        else waiter(message);
      }
    });
    res.on('end', () => ended());
  });
  req.end();
  return {
    next: (): Promise<SseMessage> => new Promise((resolve) => (queue.length > 0 ? resolve(queue.shift()!) : waiting.push(resolve))),
    /** The next message of this type (skipping others) that `matches`. */
    async nextOf(event: string, matches: (data: never) => boolean = () => true): Promise<SseMessage> {
      for (;;) {
        const m = await this.next();
        if (m.event === event && matches(m.data as never)) return m;
      }
    },
    get raw() {
      return raw;
    },
    get headers() {
      return headers;
    },
    end,
    close: () => req.destroy(),
  };
}

describe('serveProgress', () => {
  let clock: VirtualClock;
  let manager: StreamingQueryManager;
  let server: ProgressServer | undefined;
  beforeEach(() => {
    clock = new VirtualClock();
    manager = new StreamingQueryManager({ scheduler: clock, onQueryError: () => undefined });
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    for (const q of manager.active) await q.stop();
  });

  function numbers(name = 'numbers'): { input: Subject<number>; query: StreamingQuery } {
    const input = new Subject<number>();
    const query = startQuery({ name, source: fromObservable(input), sink: discard, scheduler: clock, manager });
    return { input, query };
  }

  it('serves the page, its script and the JSON feed on 127.0.0.1, with nothing from another host', async () => {
    const { input, query } = numbers();
    await clock.advanceTo(5);
    input.next(1);
    input.next(2);
    await clock.advanceTo(10);
    server = await serveProgress(query, { scheduler: clock, title: 'Device <monitor>' });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);

    const page = await get(server.url);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).toContain('<title>Device &#60;monitor&#62;</title>');
    expect(page.body).toContain('<script src="app.js" defer></script>');
    expect(page.body).not.toMatch(/(src|href)="(https?:)?\/\//);

    const script = await get(`${server.url}app.js`);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(() => new Function(script.body)).not.toThrow(); // it parses
    expect(script.body).toContain("new EventSource('api/events')");
    expect(script.body).not.toMatch(/https:\/\/|\bimport\(|\bfetch\(/);

    const feed = await get(`${server.url}api/progress`);
    expect(feed.headers['content-type']).toBe('application/json; charset=utf-8');
    const snapshot = JSON.parse(feed.body) as ProgressSnapshot;
    expect(snapshot.queries).toHaveLength(1);
    const view = snapshot.queries[0]!;
    expect(view).toMatchObject({ id: query.id, runId: query.runId, name: 'numbers', isActive: true, exception: null, status: query.status });
    expect(view.recentProgress).toEqual(JSON.parse(JSON.stringify(query.recentProgress)));
    expect(view.recentProgress.map((p) => p.numInputRows)).toEqual([2]);
  });

  it('streams a snapshot, then each progress report and each status change, as Server-Sent Events', async () => {
    const { input, query } = numbers();
    await clock.advanceTo(5);
    server = await serveProgress(query, { scheduler: clock });
    const events = openEvents(`${server.url}api/events`);
    const snapshot = await events.next();
    expect(events.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(events.raw).toBe(`retry: 2000\n\n${formatSseEvent('snapshot', { queries: [{ id: query.id, runId: query.runId, name: 'numbers', isActive: true, status: query.status, exception: null, recentProgress: [] }] }, 1)}`);
    expect(snapshot).toMatchObject({ id: '1', event: 'snapshot' });

    input.next(7);
    await clock.advanceTo(10);
    const progress = await events.nextOf('progress');
    expect(progress.data).toEqual({ runId: query.runId, progress: JSON.parse(JSON.stringify(query.lastProgress)) });
    // The status is read again after each event: right after the batch, then after the next (idle) trigger.
    expect(((await events.nextOf('query')).data as QueryHeader).status).toEqual({ message: 'Waiting for next trigger', isDataAvailable: true, isTriggerActive: false });
    expect(((await events.nextOf('query')).data as QueryHeader).status).toEqual({ message: 'Waiting for data to arrive', isDataAvailable: false, isTriggerActive: false });

    input.next(8);
    await clock.advanceTo(20);
    const second = await events.nextOf('progress');
    expect((second.data as { progress: { batchId: number } }).progress.batchId).toBe(1);
    expect(Number(second.id)).toBeGreaterThan(Number(progress.id));

    await query.stop();
    const stopped = (await events.nextOf('query', (h: QueryHeader) => !h.isActive)).data as QueryHeader;
    expect(stopped).toMatchObject({ isActive: false, status: { message: 'Stopped', isDataAvailable: false, isTriggerActive: false }, exception: null });
    events.close();
  });

  it('follows every query of a manager, also those started later, and shows how a failed one ended', async () => {
    const first = numbers('first');
    await clock.advanceTo(5);
    server = await serveProgress(manager, { scheduler: clock });
    const events = openEvents(`${server.url}api/events`);
    expect(((await events.next()).data as ProgressSnapshot).queries.map((q) => q.name)).toEqual(['first']);

    const input = new Subject<number>();
    const second = startQuery({
      name: 'second',
      source: fromObservable(input),
      pipeline: (b$) =>
        b$.pipe(
          map((b: Batch<number>) => {
            if (b.rows.includes(13)) throw new RangeError('13 is not a reading');
            return b;
          }),
        ),
      sink: discard,
      scheduler: clock,
      manager,
    });
    await clock.advanceTo(10);
    expect(((await events.nextOf('query')).data as QueryHeader).name).toBe('second');
    input.next(13);
    await clock.advanceTo(20);
    const failed = (await events.nextOf('query', (h: QueryHeader) => !h.isActive)).data as QueryHeader;
    expect(failed).toMatchObject({ runId: second.runId, isActive: false, status: { message: 'Terminated with exception: 13 is not a reading' }, exception: { name: 'RangeError', message: '13 is not a reading' } });
    expect(failed.exception?.stack).toContain('RangeError: 13 is not a reading');

    // A query that cannot even start is shown with its error too.
    const unreachable: Source<number, number> = {
      description: 'Unreachable',
      async start() {
        throw new Error('cannot connect');
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
    startQuery({ name: 'third', source: unreachable, sink: discard, scheduler: clock, manager });
    await clock.advanceTo(30);
    expect((await events.nextOf('query', (h: QueryHeader) => h.name === 'third')).data).toMatchObject({ name: 'third', isActive: false, exception: { message: 'cannot connect' } });

    const feed = JSON.parse((await get(`${server.url}api/progress`)).body) as ProgressSnapshot;
    expect(feed.queries.map((q) => [q.name, q.isActive])).toEqual([
      ['first', true],
      ['second', false],
      ['third', false],
    ]);
    events.close();
    await first.query.stop();
  });

  it('keeps the last `history` reports per query', async () => {
    const { input, query } = numbers();
    server = await serveProgress(query, { scheduler: clock, history: 2 });
    for (let i = 0; i < 4; i++) {
      input.next(i);
      await clock.advanceBy(10);
    }
    const feed = JSON.parse((await get(`${server.url}api/progress`)).body) as ProgressSnapshot;
    expect(feed.queries[0]!.recentProgress.map((p) => p.batchId)).toEqual([2, 3]);
    expect((await get(server.url)).body).toContain('data-history="2"');
  });

  it('close() ends the open event streams and stops listening', async () => {
    const { input, query } = numbers();
    server = await serveProgress(query, { scheduler: clock });
    const url = server.url;
    const events = openEvents(`${url}api/events`);
    await events.next();
    const closing = [server.close(), server.close()];
    await events.end; // the stream ended from the server's side
    await Promise.all(closing);
    server = undefined;
    await expect(get(url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    input.next(1); // the feed no longer listens: nothing breaks
    await clock.advanceBy(10);
    expect(query.lastProgress?.batchId).toBe(0);
  });

  it('answers only for its own host name, GET only, and 404 elsewhere', async () => {
    const { query } = numbers();
    server = await serveProgress(query, { scheduler: clock });
    expect((await get(server.url, { host: `localhost:${server.port}` })).status).toBe(200);
    const rebound = await get(server.url, { host: 'attacker.example' });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('serveProgress: refused a request for host "attacker.example"');
    const post = await get(server.url, { method: 'POST' });
    expect([post.status, post.headers['allow']]).toEqual([405, 'GET, HEAD']);
    const missing = await get(`${server.url}nothing`);
    expect(missing.status).toBe(404);
    expect(missing.body).toBe('serveProgress: no page at /nothing; the page is at / and the feed at /api/progress and /api/events.\n');
  });

  describe('misconfiguration', () => {
    it('refuses what is not a query or a manager, and bad options, at the call', () => {
      const { query } = numbers();
      expect(() => serveProgress({} as never)).toThrow(
        new InvalidOptionError('serveProgress: target must be a StreamingQuery or a StreamingQueryManager; got {}. Pass what startQuery returned, or streams.', 'target', {}, ''),
      );
      expect(() => serveProgress(query, { port: 70_000 })).toThrow('serveProgress: port must be an integer from 0 to 65535; got 70000. Use 0 for a free port.');
      expect(() => serveProgress(query, { port: 1.5 })).toThrow(InvalidOptionError);
      expect(() => serveProgress(query, { host: '' })).toThrow(`serveProgress: host must be a non-empty string; got "". Use '127.0.0.1' (loopback only).`);
      expect(() => serveProgress(query, { history: 0 })).toThrow('serveProgress: history must be a positive integer; got 0.');
    });

    it('rejects when the port is taken', async () => {
      const { query } = numbers();
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const { port } = taken.address() as AddressInfo;
      try {
        const attempt = serveProgress(query, { port, scheduler: clock });
        await expect(attempt).rejects.toThrow(StreamingError);
        await expect(attempt).rejects.toThrow(`serveProgress: cannot listen on 127.0.0.1:${port}; got EADDRINUSE. Pass another port (0 picks a free one) or a host of this machine.`);
      } finally {
        await new Promise<void>((resolve) => taken.close(() => resolve()));
      }
    });
  });
});

describe('formatSseEvent', () => {
  it('frames one message: id, event, one data line per line of JSON, a blank line', () => {
    expect(formatSseEvent('progress', { a: 1, text: 'two\nlines' }, 7)).toBe('id: 7\nevent: progress\ndata: {"a":1,"text":"two\\nlines"}\n\n');
    expect(formatSseEvent('query', [1, 2])).toBe('event: query\ndata: [1,2]\n\n');
  });

  it('writes bigints (e.g. in offsets) as strings, and refuses an event name with a line break', () => {
    expect(feedJson({ offset: 12345678901234567890n })).toBe('{"offset":"12345678901234567890"}');
    expect(() => formatSseEvent('a\nb', {})).toThrow('formatSseEvent: an event name has no line breaks; got "a\\nb"');
  });
});

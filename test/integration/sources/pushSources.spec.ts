// Push sources that never stall or die silently: a bounded buffer when the
// producer is faster than the sink (fromObservable, fromSocket on a real TCP
// server on 127.0.0.1), and the socket source reconnecting when the server
// closes the connection or restarts. Everything waits on events or on the
// rows themselves, never on the clock.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { SourceBufferOverflowError } from '../../../lib/errors/index.js';
import type { StreamingQuery } from '../../../lib/query/StreamingQuery.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { StreamingQueryManager } from '../../../lib/query/StreamingQueryManager.js';
import { forEachBatch } from '../../../lib/sinks/forEachBatch.js';
import { readCommittedJson, toFiles } from '../../../lib/sinks/toFiles.js';
import { fromObservable } from '../../../lib/sources/fromObservable.js';
import { SocketConnectionLostError, fromSocket, type SocketLine } from '../../../lib/sources/fromSocket.js';

// Nothing here waits on the clock; jest's backstop (jest.config.cjs) only stops a hang.

let manager: StreamingQueryManager;
const servers: Server[] = [];
const sockets: Socket[] = [];

beforeEach(() => {
  manager = new StreamingQueryManager();
});
afterEach(async () => {
  for (const q of manager.active) await q.stop();
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
});

/** Resolves once `condition` holds, checking after each turn of the event loop (bounded by the work, not by a clock). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

/** A sink that holds each batch until `release()` is called, recording what it got. */
function gatedSink<R>() {
  const batches: R[][] = [];
  let open = false;
  let waiting: Array<() => void> = [];
  let entered = 0;
  const sink = forEachBatch<R>(async (rows) => {
    entered++;
    if (!open) await new Promise<void>((resolve) => waiting.push(resolve));
    batches.push([...rows]);
  });
  return {
    sink,
    batches,
    get entered() {
      return entered;
    },
    rows: () => batches.reduce((n, b) => n + b.length, 0),
    release() {
      open = true;
      for (const resolve of waiting) resolve();
      waiting = [];
    },
  };
}

const metricsOf = (query: StreamingQuery): Readonly<Record<string, number>> => query.lastProgress!.sources[0]!.metrics;

describe('fromObservable: a bounded buffer for a producer faster than the sink', () => {
  it("with onBufferFull: 'drop' holds at most maxBufferedRows and counts exactly what it dropped", async () => {
    const input = new Subject<number>();
    const source = fromObservable(input, { maxBufferedRows: 1000, onBufferFull: 'drop' });
    const gate = gatedSink<number>();
    const query = startQuery({ source, sink: gate.sink, manager });
    await query.ready;
    input.next(0);
    await until(() => gate.entered === 1); // batch 0 (one row) is in the sink, not committed
    for (let i = 1; i <= 5000; i++) input.next(i);
    expect(source.progressMetrics!(undefined)).toMatchObject({ numBufferedRows: 1000, bufferCapacity: 1000, numRowsDropped: 4001 });
    gate.release();
    await query.processAllAvailable();
    expect(gate.batches.flat()).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(metricsOf(query)).toMatchObject({ numRowsDropped: 4001, bufferCapacity: 1000 });
    expect(Math.max(...query.recentProgress.map((p) => p.sources[0]!.metrics['maxBufferedRowsSeen']!))).toBe(1000);
  });

  it("by default ('error') stops the query with a SourceBufferOverflowError instead of growing", async () => {
    const input = new Subject<number>();
    const source = fromObservable(input, { maxBufferedRows: 500 });
    const gate = gatedSink<number>();
    const query = startQuery({ source, sink: gate.sink, manager });
    await query.ready;
    input.next(0);
    await until(() => gate.entered === 1);
    for (let i = 1; i <= 100_000; i++) input.next(i);
    expect(source.progressMetrics!(undefined)['numBufferedRows']).toBe(500);
    gate.release();
    await expect(query.awaitTermination()).rejects.toBeInstanceOf(SourceBufferOverflowError);
    expect(query.exception?.message).toContain('the buffer holds 500 rows not yet committed, its limit (maxBufferedRows: 500)');
    expect(query.exception?.message).toContain("onBufferFull: 'drop'");
  });
});

/** A server on 127.0.0.1 (port 0 = any free port); `connections` receives each accepted socket. */
async function listen(port = 0): Promise<{ server: Server; port: number; connections: Socket[]; next(): Promise<Socket> }> {
  const connections: Socket[] = [];
  let waiters: Array<(s: Socket) => void> = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    connections.push(socket);
    socket.on('error', () => undefined);
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const seen = { count: 0 };
  return {
    server,
    port: (server.address() as AddressInfo).port,
    connections,
    next: () => {
      const index = seen.count++;
      if (connections.length > index) return Promise.resolve(connections[index]!);
      return new Promise<Socket>((resolve) => waiters.push(resolve));
    },
  };
}

describe('fromSocket: backpressure instead of an unbounded buffer', () => {
  it("pauses the socket when maxBufferedRows lines are held, so the server's writes back up; every line arrives once", async () => {
    const lines = 1_000_000; // ~7 MB: more than the loopback socket buffers take, so the rest must wait in the server
    const { port, next } = await listen();
    const source = fromSocket({ host: '127.0.0.1', port, maxBufferedRows: 10_000 });
    const gate = gatedSink<SocketLine>();
    const query = startQuery({ source, sink: gate.sink, manager });
    const peer = await next();
    let text = '';
    for (let i = 0; i < lines; i++) text += `${i}\n`;
    peer.write(text);
    await until(() => gate.entered >= 1 && (source.progressMetrics!(undefined)['numPauses'] ?? 0) >= 1);
    // Held: the limit plus at most one read (64 KiB) of lines; the rest waits in the kernel and in the server.
    const held = source.progressMetrics!(undefined)['numBufferedRows']!;
    expect(held).toBeLessThanOrEqual(10_000 + 65_536);
    await until(() => peer.writableLength > 0 || peer.writableNeedDrain);
    expect(peer.writableLength).toBeGreaterThan(0);
    gate.release();
    await until(() => gate.rows() === lines);
    await query.processAllAvailable();
    const all = gate.batches.flat();
    expect(all).toHaveLength(lines);
    expect(all[0]).toEqual({ value: '0' });
    expect(all[lines - 1]).toEqual({ value: String(lines - 1) });
    expect(all.every((row, i) => row.value === String(i))).toBe(true);
    const seen = query.recentProgress.map((p) => p.sources[0]!.metrics);
    expect(Math.max(...seen.map((m) => m['maxBufferedRowsSeen']!))).toBeLessThanOrEqual(10_000 + 65_536);
    expect(seen.every((m) => m['numRowsDropped'] === 0)).toBe(true);
    expect(metricsOf(query)['numPauses']).toBeGreaterThanOrEqual(1);
  });
});

describe('fromSocket: reconnecting', () => {
  it('reconnects with backoff when the server closes the connection and when the server restarts, and goes on reading', async () => {
    const first = await listen();
    const { port } = first;
    const seen: string[] = [];
    const query = startQuery({
      source: fromSocket({ host: '127.0.0.1', port, reconnect: { maxAttempts: 50, initialDelay: 1, maxDelay: 20 } }),
      sink: forEachBatch<SocketLine>((rows) => void seen.push(...rows.map((r) => r.value))),
      manager,
    });
    const c1 = await first.next();
    c1.write('a\nb\n');
    await until(() => seen.length === 2);

    c1.end(); // the server closes the connection
    const c2 = await first.next();
    c2.write('c\n');
    await until(() => seen.length === 3);

    // The server stops and starts again on the same port.
    c2.destroy();
    await new Promise<void>((resolve) => first.server.close(() => resolve()));
    const second = await listen(port);
    const c3 = await second.next();
    c3.write('d\n');
    await until(() => seen.length === 4);
    await query.processAllAvailable();
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
    expect(query.isActive).toBe(true);
    expect(metricsOf(query)).toMatchObject({ numReconnects: 2, connected: 1 });
  });

  it('stops the query with a SocketConnectionLostError after reconnect.maxAttempts failed attempts in a row', async () => {
    const { server, port, next } = await listen();
    const query = startQuery({ source: fromSocket({ host: '127.0.0.1', port, reconnect: { maxAttempts: 2, initialDelay: 1 } }), sink: forEachBatch(() => undefined), manager });
    const peer = await next();
    peer.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await expect(query.awaitTermination()).rejects.toBeInstanceOf(SocketConnectionLostError);
    expect((query.exception as SocketConnectionLostError).attempts).toBe(2);
    expect(query.exception?.message).toContain(`to 127.0.0.1:${port} and 2 reconnection attempts in a row failed; got ECONNREFUSED. Check the server, or raise reconnect.maxAttempts`);
    expect(query.isActive).toBe(false);
  });

  it('with reconnect: false stops the query at once when the server closes the connection', async () => {
    const { port, next } = await listen();
    const query = startQuery({ source: fromSocket({ host: '127.0.0.1', port, reconnect: false }), sink: forEachBatch(() => undefined), manager });
    (await next()).end();
    await expect(query.awaitTermination()).rejects.toBeInstanceOf(SocketConnectionLostError);
    expect(query.exception?.message).toContain(`the server closed the connection to 127.0.0.1:${port}; got reconnect: false.`);
  });
});

describe('push sources restarted from a checkpoint', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rss-push-restart-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A query over a fresh fromObservable (a new run) on the checkpoint in `dir`; `crashOn` fails the sink on that batch. */
  function run(input: Subject<{ n: number }>, got: Array<[number, number[]]>, crashOn?: number) {
    return startQuery({
      source: fromObservable(input),
      sink: forEachBatch<{ n: number }>((rows, batchId) => {
        if (batchId === crashOn) throw new Error('crash in the sink');
        got.push([batchId, rows.map((r) => r.n)]);
      }),
      checkpointLocation: join(dir, 'ckpt'),
      manager,
    });
  }

  it("reads every row of the new run: none is skipped for the earlier run's offsets", async () => {
    const got: Array<[number, number[]]> = [];
    const first = new Subject<{ n: number }>();
    const q1 = run(first, got);
    await q1.ready;
    for (let n = 0; n < 5; n++) first.next({ n });
    await q1.processAllAvailable();
    await q1.stop();
    const second = new Subject<{ n: number }>();
    const q2 = run(second, got);
    for (let n = 100; n < 108; n++) second.next({ n }); // also rows emitted while the query starts
    await q2.ready;
    await q2.processAllAvailable();
    await q2.stop();
    expect(got.flatMap(([, rows]) => rows)).toEqual([0, 1, 2, 3, 4, 100, 101, 102, 103, 104, 105, 106, 107]);
    expect(q2.recentProgress[0]!.sources[0]!.startOffset).toBe(5); // numbered after the checkpoint
  });

  it("runs a batch the earlier run left pending without its rows (they were in that run's memory), counted as numRowsLost", async () => {
    const got: Array<[number, number[]]> = [];
    const first = new Subject<{ n: number }>();
    const q1 = run(first, got, 1);
    await q1.ready;
    for (let n = 0; n < 5; n++) first.next({ n });
    await until(() => got.length === 1);
    for (let n = 5; n < 8; n++) first.next({ n }); // batch 1: fails in the sink, offsets/1 pending
    await expect(q1.awaitTermination()).rejects.toThrow('crash in the sink');
    const second = new Subject<{ n: number }>();
    const q2 = run(second, got);
    second.next({ n: 100 });
    await q2.ready;
    await q2.processAllAvailable();
    await q2.stop();
    expect(got).toEqual([
      [0, [0, 1, 2, 3, 4]],
      [1, []],
      [2, [100]],
    ]);
    expect(q2.recentProgress[0]!.sources[0]!.metrics).toMatchObject({ numRowsLost: 3 });
  });

  it('re-runs the batches a restored older checkpoint lost without their rows (they are in the output), then writes every new row once', async () => {
    const out = join(dir, 'out');
    const start = (input: Subject<{ n: number }>) => startQuery({ source: fromObservable(input), sink: toFiles<{ n: number }>(out, { fsync: false }), checkpointLocation: join(dir, 'ckpt'), manager });
    const feed = async (values: number[][]): Promise<StreamingQuery> => {
      const input = new Subject<{ n: number }>();
      const query = start(input);
      await query.ready;
      for (const batch of values) {
        for (const n of batch) input.next({ n });
        await query.processAllAvailable();
      }
      await query.stop();
      return query;
    };
    await feed([[1, 2]]); // batch 0
    cpSync(join(dir, 'ckpt'), join(dir, 'backup'), { recursive: true });
    await feed([[3], [4, 5]]); // batches 1, 2
    rmSync(join(dir, 'ckpt'), { recursive: true });
    cpSync(join(dir, 'backup'), join(dir, 'ckpt'), { recursive: true });
    const third = await feed([[6, 7, 8]]);
    expect(third.recentProgress.map((p) => [p.batchId, p.numInputRows])).toEqual([
      [1, 0],
      [2, 0],
      [3, 3],
    ]);
    expect(metricsOf(third)['numRowsLost']).toBe(3); // so far: batch 1's row and batch 2's two

    expect((await readCommittedJson<{ n: number }>(out)).map((r) => r.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

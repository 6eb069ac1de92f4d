import { createServer } from 'node:net';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Batch } from '../../../lib/batch/Batch.js';
import { count } from '../../../lib/aggregate/count.js';
import { sum } from '../../../lib/aggregate/sum.js';
import { FencedCheckpointStore, TaskFencedError } from '../../../lib/checkpoint/FencedCheckpointStore.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import { CheckpointCorruptError, CheckpointError, InvalidOptionError } from '../../../lib/errors/index.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import type { Sink } from '../../../lib/sinks/Sink.js';
import type { Source } from '../../../lib/sources/Source.js';
import { S3CheckpointStore, S3CheckpointStoreError, S3ConditionalWriteUnsupportedError } from '../../../lib/s3/index.js';
import { outputMode } from '../../../operators/outputMode.js';
import { windowTumbling } from '../../../operators/windowTumbling.js';
import { withWatermark } from '../../../operators/withWatermark.js';
import type { Observable } from 'rxjs';
import { startConditionalProxy, startS3Server, type S3TestServer } from './s3TestKit.js';

const BUCKET = 'checkpoints';

let server: S3TestServer;
let client: S3Client;
let prefixes = 0;
/** A fresh prefix per test, so that tests share the server but no objects. */
const freshPrefix = (): string => `t${++prefixes}/cp`;

beforeAll(async () => {
  server = await startS3Server([BUCKET]);
  client = server.client();
});
afterAll(async () => {
  await server?.stop();
});

async function* chunksOf(...parts: (string | Uint8Array)[]): AsyncIterable<Uint8Array> {
  for (const part of parts) yield typeof part === 'string' ? Buffer.from(part) : part;
}

const text = (bytes: Uint8Array | undefined): string | undefined => (bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8'));

describe('S3CheckpointStore: the CheckpointStore contract against s3rver on 127.0.0.1', () => {
  let store: S3CheckpointStore;
  beforeEach(() => {
    store = new S3CheckpointStore({ client, bucket: BUCKET, prefix: freshPrefix() });
  });

  it('reads back what it wrote (all chunks, byte count returned) and a missing key as undefined', async () => {
    expect(await store.write('metadata', chunksOf('{"id":', '"q"}'))).toBe(10);
    expect(text(await store.read('metadata'))).toBe('{"id":"q"}');
    expect(await store.read('offsets/0')).toBeUndefined();
    expect(await store.read('no/such/dir/file')).toBeUndefined();
    expect(await store.write('empty', chunksOf())).toBe(0);
    expect(await store.read('empty')).toEqual(new Uint8Array(0));
  });

  it('replaces a file whole on rewrite', async () => {
    await store.write('offsets/0', chunksOf('old content, longer than the new'));
    await store.write('offsets/0', chunksOf('new'));
    expect(text(await store.read('offsets/0'))).toBe('new');
  });

  it('lists one level of nested paths, names relative to the directory, sub-directories once, sorted; [] for a missing directory', async () => {
    for (const path of ['offsets/0', 'offsets/1', 'commits/0', 'metadata', 'state/dropDuplicates%231/1.delta', 'state/dropDuplicates%231/2.delta', 'state/window%232/2.snapshot', 'sources/0/0']) {
      await store.write(path, chunksOf(path));
    }
    // s3rver 3.7.1 leaves out a common prefix whose objects are all two or more levels further down
    // ('state/', 'sources/' here; AWS S3 lists them). The checkpoint never lists such a directory:
    // it lists offsets/, commits/, state/ and state/<operator>/, each of which holds objects directly.
    expect(await store.list('')).toEqual(expect.arrayContaining(['commits', 'metadata', 'offsets']));
    expect(await store.list('sources')).toEqual(['0']);
    expect(await store.list('offsets')).toEqual(['0', '1']);
    expect(await store.list('state')).toEqual(['dropDuplicates%231', 'window%232']);
    expect(await store.list('state/dropDuplicates%231')).toEqual(['1.delta', '2.delta']);
    expect(await store.list('nothing')).toEqual([]);
    expect(await store.list('offsets/0')).toEqual([]); // a file is no directory
    // Operator ids keep their escapes in the key: what was written under a name is read under it.
    expect(text(await store.read('state/dropDuplicates%231/2.delta'))).toBe('state/dropDuplicates%231/2.delta');
  });

  it('lists directories of more than one ListObjectsV2 page (continuation tokens)', async () => {
    const paged = new S3CheckpointStore({ client, bucket: BUCKET, prefix: freshPrefix(), listPageSize: 2 });
    const names = Array.from({ length: 7 }, (_, i) => String(i));
    for (const name of names) await paged.write(`commits/${name}`, chunksOf(name));
    for (const dir of ['a', 'b', 'c']) await paged.write(`state/${dir}/1.delta`, chunksOf(dir));
    await paged.write('state/x', chunksOf('x'));
    expect(await paged.list('commits')).toEqual(names);
    expect(await paged.list('state')).toEqual(['a', 'b', 'c', 'x']);
  });

  it('keeps a large file (12 MiB from 3,000 chunks) whole', async () => {
    const chunks: Uint8Array[] = [];
    let seed = 7;
    for (let i = 0; i < 3000; i++) {
      const chunk = new Uint8Array(4096 + (i % 7));
      for (let j = 0; j < chunk.length; j++) chunk[j] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
      chunks.push(chunk);
    }
    const expected = Buffer.concat(chunks);
    expect(await store.write('state/big%231/5.snapshot', chunksOf(...chunks))).toBe(expected.length);
    const back = await store.read('state/big%231/5.snapshot');
    expect(back?.length).toBe(expected.length);
    expect(Buffer.compare(Buffer.from(back!), expected)).toBe(0);
  });

  it('removes a file; removing a missing one is nothing', async () => {
    await store.write('commits/3', chunksOf('c'));
    await store.remove('commits/3');
    await store.remove('commits/3');
    await store.remove('never/there');
    expect(await store.read('commits/3')).toBeUndefined();
    expect(await store.list('commits')).toEqual([]);
  });

  it('keeps checkpoints under different prefixes (and the bucket root) apart', async () => {
    const a = new S3CheckpointStore({ client, bucket: BUCKET, prefix: 'apart/a' });
    const ab = new S3CheckpointStore({ client, bucket: BUCKET, prefix: 'apart/ab/' });
    await a.write('offsets/0', chunksOf('a'));
    await ab.write('offsets/0', chunksOf('ab'));
    expect(text(await a.read('offsets/0'))).toBe('a');
    expect(await a.list('')).toEqual(['offsets']);
    expect(a.location).toBe(`s3://${BUCKET}/apart/a`);
    expect(ab.location).toBe(`s3://${BUCKET}/apart/ab`);
    const root = new S3CheckpointStore({ client, bucket: BUCKET, prefix: 'apart/ab' });
    expect(root.location).toBe(`s3://${BUCKET}/apart/ab`);
    expect(text(await root.read('offsets/0'))).toBe('ab');
    expect(new S3CheckpointStore({ client, bucket: BUCKET }).location).toBe(`s3://${BUCKET}`);
  });

  it('lists no temporary objects, and removeTemporaryFiles deletes them (what an interrupted probe leaves)', async () => {
    await store.write('offsets/0', chunksOf('o'));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${store.prefix}.conditional-write-probe-left.tmp`, Body: 'probe' }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${store.prefix}offsets/.left.tmp`, Body: 'probe' }));
    expect(await store.list('')).toEqual(['offsets']);
    expect(await store.list('offsets')).toEqual(['0']);
    await store.removeTemporaryFiles('');
    await store.removeTemporaryFiles('offsets');
    expect(await store.read('.conditional-write-probe-left.tmp')).toBeUndefined();
    expect(await store.read('offsets/.left.tmp')).toBeUndefined();
    expect(text(await store.read('offsets/0'))).toBe('o');
  });

  it('wraps S3 failures in S3CheckpointStoreError naming the bucket, key and operation', async () => {
    const missing = new S3CheckpointStore({ client, bucket: 'no-such-bucket', prefix: 'q' });
    const read = await missing.read('offsets/0').catch((e: unknown) => e);
    expect(read).toBeInstanceOf(S3CheckpointStoreError);
    expect(read).toBeInstanceOf(CheckpointError);
    expect(read).toMatchObject({ bucket: 'no-such-bucket', key: 'q/offsets/0', operation: 'GetObject', statusCode: 404, code: 'NoSuchBucket', retriable: false, path: 's3://no-such-bucket/q/offsets/0' });
    expect((read as Error).message).toContain('GetObject of s3://no-such-bucket/q/offsets/0 failed; got HTTP 404 NoSuchBucket');
    await expect(missing.write('offsets/0', chunksOf('x'))).rejects.toMatchObject({ name: 'S3CheckpointStoreError', operation: 'PutObject', key: 'q/offsets/0' });
    await expect(missing.list('offsets')).rejects.toMatchObject({ name: 'S3CheckpointStoreError', operation: 'ListObjectsV2', key: 'q/offsets/' });
  });

  it('reports an unreachable endpoint as a retriable S3CheckpointStoreError', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 1));
      });
    });
    const unreachable = new S3CheckpointStore({ client: server.client(`http://127.0.0.1:${closed}`), bucket: BUCKET });
    await expect(unreachable.read('offsets/0')).rejects.toMatchObject({ name: 'S3CheckpointStoreError', operation: 'GetObject', statusCode: undefined, retriable: true });
  });

  it('never hands on a body cut short: a read whose connection drops mid-body is a retriable S3CheckpointStoreError', async () => {
    const prefix = freshPrefix();
    const whole = Buffer.alloc(256 * 1024, 7);
    await new S3CheckpointStore({ client, bucket: BUCKET, prefix }).write('state/op/3.snapshot', chunksOf(whole));
    const cutting = await startConditionalProxy(server.port, { cutBodiesOf: '3.snapshot' });
    try {
      const store = new S3CheckpointStore({ client: server.client(cutting.endpoint), bucket: BUCKET, prefix });
      const error = await store.read('state/op/3.snapshot').then((bytes) => bytes, (e: unknown) => e);
      expect(error).toBeInstanceOf(S3CheckpointStoreError);
      expect(error).toMatchObject({ operation: 'GetObject', key: `${prefix}/state/op/3.snapshot`, retriable: true });
    } finally {
      await cutting.stop();
    }
  });

  it('refuses bad options with InvalidOptionError', () => {
    expect(() => new S3CheckpointStore({ client, bucket: '' })).toThrow(InvalidOptionError);
    expect(() => new S3CheckpointStore({ client, bucket: BUCKET, prefix: '/abs' })).toThrow("s3: prefix must be a key prefix such as 'checkpoints/my-query'");
    expect(() => new S3CheckpointStore({ client, bucket: BUCKET, prefix: 'a//b' })).toThrow(InvalidOptionError);
    expect(() => new S3CheckpointStore({ client, bucket: BUCKET, listPageSize: 0 })).toThrow('s3: listPageSize must be an integer from 1 to 1000; got 0.');
    expect(() => new S3CheckpointStore({ client: {} as S3Client, bucket: BUCKET })).toThrow('s3: client must be an S3Client');
  });
});

describe('S3CheckpointStore: conditional writes and fencing', () => {
  it('probes at open: s3rver overwrites on PutObject with If-None-Match: *, so conditionalWrites is false and no probe object is left', async () => {
    const prefix = freshPrefix();
    const store = await S3CheckpointStore.open({ client, bucket: BUCKET, prefix });
    expect(store.conditionalWrites).toBe(false);
    const raw = new S3CheckpointStore({ client, bucket: BUCKET, prefix, listPageSize: 1000 });
    await raw.removeTemporaryFiles(''); // nothing to remove; the probe deleted its object
    expect(await raw.list('')).toEqual([]);
  });

  it('refuses create-if-absent, and so fencing, with S3ConditionalWriteUnsupportedError rather than overwriting', async () => {
    const store = new S3CheckpointStore({ client, bucket: BUCKET, prefix: freshPrefix() });
    expect(store.conditionalWrites).toBeUndefined();
    await expect(store.createIfAbsent('epochs/0', Buffer.from('{}'))).rejects.toBeInstanceOf(S3ConditionalWriteUnsupportedError);
    expect(store.conditionalWrites).toBe(false);
    const fenced = new FencedCheckpointStore(store, { owner: 'a' });
    const error = await fenced.claim().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3ConditionalWriteUnsupportedError);
    expect((error as Error).message).toContain('does not honour conditional writes (PutObject with If-None-Match: *)');
    expect(await store.read('epochs/0')).toBeUndefined();
  });

  it('FencedCheckpointStore refuses a store without createIfAbsent', () => {
    const { createIfAbsent: _none, ...plain } = { location: 'x', read: async () => undefined, write: async () => 0, list: async () => [], remove: async () => undefined, removeTemporaryFiles: async () => undefined, createIfAbsent: undefined };
    expect(() => new FencedCheckpointStore(plain, { owner: 'a' })).toThrow('checkpoint: a fenced store needs an inner store with createIfAbsent');
  });

  describe('through a test proxy that adds If-None-Match to s3rver (real HTTP 412 answers)', () => {
    let proxy: Awaited<ReturnType<typeof startConditionalProxy>>;
    let proxied: S3Client;
    beforeAll(async () => {
      proxy = await startConditionalProxy(server.port);
      proxied = server.client(proxy.endpoint);
    });
    afterAll(async () => {
      await proxy?.stop();
    });

    it('creates if absent: created, then exists with the first content kept', async () => {
      const store = await S3CheckpointStore.open({ client: proxied, bucket: BUCKET, prefix: freshPrefix() });
      expect(store.conditionalWrites).toBe(true);
      expect(await store.createIfAbsent('commits/0', Buffer.from('first'))).toBe('created');
      expect(await store.createIfAbsent('commits/0', Buffer.from('second'))).toBe('exists');
      expect(text(await store.read('commits/0'))).toBe('first');
    });

    it('fences a stale epoch writer: its offsets entry and later writes are refused with TaskFencedError', async () => {
      const prefix = freshPrefix();
      const old = new FencedCheckpointStore(await S3CheckpointStore.open({ client: proxied, bucket: BUCKET, prefix }), { owner: 'old' });
      const next = new FencedCheckpointStore(await S3CheckpointStore.open({ client: proxied, bucket: BUCKET, prefix }), { owner: 'new' });
      expect(await old.claim()).toBe(0);
      await old.write('offsets/0', chunksOf('batch 0 by old'));
      expect(await next.claim()).toBe(1);
      await next.write('offsets/1', chunksOf('batch 1 by new'));
      await expect(old.write('offsets/1', chunksOf('batch 1 by old, different'))).rejects.toBeInstanceOf(TaskFencedError);
      expect(old.fenced).toBe(true);
      await expect(old.write('state/op/2.delta', chunksOf('x'))).rejects.toMatchObject({ name: 'TaskFencedError', epoch: 0, currentEpoch: 1 });
      expect(text(await next.read('offsets/1'))).toBe('batch 1 by new');
      expect(await next.list('epochs')).toEqual(['0', '1']);
      expect(proxy.conditionalPuts()).toBeGreaterThan(0);
    });

    it('lets two claimants race for one epoch: exactly one gets each', async () => {
      const prefix = freshPrefix();
      const stores = await Promise.all(['a', 'b', 'c'].map(async (owner) => new FencedCheckpointStore(await S3CheckpointStore.open({ client: proxied, bucket: BUCKET, prefix }), { owner })));
      const epochs = await Promise.all(stores.map((s) => s.claim()));
      expect([...epochs].sort()).toEqual([0, 1, 2]);
    });
  });
});

interface Reading {
  readonly device: string;
  readonly ts: number;
  readonly v: number;
}

/** A deterministic replayable source: the first `available` readings of a fixed list, at most 4 per batch; offset = readings read. */
function readingsSource(readings: readonly Reading[], available: { n: number }): Source<Reading, number> {
  return {
    description: 'Readings',
    start: async () => undefined,
    latestOffset: async (start) => {
      const end = Math.min(available.n, (start ?? 0) + 4);
      return end === 0 ? undefined : end;
    },
    getBatch: async (start, end) => readings.slice(start ?? 0, end),
    commit: async () => undefined,
    stop: async () => undefined,
    sameOffset: (a, b) => a === b,
  };
}

const READINGS: Reading[] = Array.from({ length: 40 }, (_, i) => ({ device: `d${i % 3}`, ts: 1_000 * i + (i % 4) * 250, v: (i * 7) % 11 }));

/** A sink that keeps each batch's rows by batch id (a re-run batch replaces its rows, as an idempotent sink does), and can fail once in a chosen batch. */
function batchesSink(out: Map<number, unknown[]>, failIn?: { batchId: number; failed: boolean }): Sink<unknown> {
  return {
    description: 'Batches',
    supportedModes: ['append', 'update', 'complete'],
    idempotent: true,
    addBatch: async (batchId: number, rows: readonly unknown[]) => {
      if (failIn !== undefined && failIn.batchId === batchId && !failIn.failed) {
        failIn.failed = true;
        throw new Error(`sink lost batch ${batchId}`);
      }
      out.set(batchId, [...rows]);
    },
  };
}

const pipeline = (b$: Observable<Batch<Reading>>): Observable<Batch<unknown>> =>
  b$.pipe(withWatermark<Reading>('ts', '2 seconds'), windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'device', aggregate: { n: count(), total: sum('v') } }), outputMode('append')) as Observable<Batch<unknown>>;

const rowsOf = (out: Map<number, unknown[]>): string[] => [...out.keys()].sort((a, b) => a - b).flatMap((id) => out.get(id)!.map((row) => JSON.stringify(row)));

async function uninterrupted(): Promise<string[]> {
  const out = new Map<number, unknown[]>();
  const store = new S3CheckpointStore({ client, bucket: BUCKET, prefix: freshPrefix() });
  const query = startQuery<Reading, unknown>({ source: readingsSource(READINGS, { n: READINGS.length }), pipeline, sink: batchesSink(out), checkpointLocation: store });
  await query.processAllAvailable();
  await query.stop();
  return rowsOf(out);
}

describe('a windowed query checkpointed in S3', () => {
  let expected: string[];
  beforeAll(async () => {
    expected = await uninterrupted();
  });

  it('stopped and restarted on a new store object (as another process would), writes exactly the rows of an uninterrupted run', async () => {
    expect(expected.length).toBeGreaterThan(10);
    const prefix = freshPrefix();
    const out = new Map<number, unknown[]>();
    const available = { n: 16 };
    const first = startQuery<Reading, unknown>({ source: readingsSource(READINGS, available), pipeline, sink: batchesSink(out), checkpointLocation: new S3CheckpointStore({ client, bucket: BUCKET, prefix }) });
    await first.processAllAvailable();
    await first.stop();
    expect(out.size).toBeGreaterThan(0);
    const store = new S3CheckpointStore({ client, bucket: BUCKET, prefix });
    expect(await store.list('')).toEqual(expect.arrayContaining(['commits', 'offsets']));
    expect((await store.list('state')).length).toBeGreaterThan(0);
    available.n = READINGS.length;
    const second = startQuery<Reading, unknown>({ source: readingsSource(READINGS, available), pipeline, sink: batchesSink(out), checkpointLocation: store });
    await second.processAllAvailable();
    await second.stop();
    expect(rowsOf(out)).toEqual(expected);
  });

  it('re-runs a batch whose sink failed after its offsets were logged, exactly once, and matches an uninterrupted run', async () => {
    const prefix = freshPrefix();
    const out = new Map<number, unknown[]>();
    const failIn = { batchId: 3, failed: false };
    const available = { n: READINGS.length };
    const first = startQuery<Reading, unknown>({ source: readingsSource(READINGS, available), pipeline, sink: batchesSink(out, failIn), checkpointLocation: new S3CheckpointStore({ client, bucket: BUCKET, prefix }), onQueryError: () => undefined });
    await expect(first.awaitTermination()).rejects.toThrow('sink lost batch 3');
    const store = new S3CheckpointStore({ client, bucket: BUCKET, prefix });
    expect(await store.list('offsets')).toContain('3');
    expect(await store.list('commits')).not.toContain('3');
    const recovery = await openCheckpoint(new S3CheckpointStore({ client, bucket: BUCKET, prefix })).open();
    expect(recovery.lastCommittedBatchId).toBe(2);
    const second = startQuery<Reading, unknown>({ source: readingsSource(READINGS, available), pipeline, sink: batchesSink(out), checkpointLocation: store });
    await second.processAllAvailable();
    await second.stop();
    expect(rowsOf(out)).toEqual(expected);
  });

  it('reports a corrupt object as CheckpointCorruptError naming its key, and never reads it half', async () => {
    const prefix = freshPrefix();
    const out = new Map<number, unknown[]>();
    const available = { n: 20 };
    const first = startQuery<Reading, unknown>({ source: readingsSource(READINGS, available), pipeline, sink: batchesSink(out), checkpointLocation: new S3CheckpointStore({ client, bucket: BUCKET, prefix }) });
    await first.processAllAvailable();
    await first.stop();
    const store = new S3CheckpointStore({ client, bucket: BUCKET, prefix });
    const commits = (await store.list('commits')).map(Number).sort((a, b) => a - b);
    const last = commits[commits.length - 1]!;
    const key = `${prefix}/offsets/${last}`;
    const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x5a; // one flipped byte inside the entry
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes }));
    const error = await openCheckpoint(new S3CheckpointStore({ client, bucket: BUCKET, prefix }))
      .open()
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointCorruptError);
    expect((error as CheckpointCorruptError).path).toContain(`s3://${BUCKET}/${prefix}/offsets/${last}`);
    // The query over that checkpoint fails with it too, and its sink receives nothing more.
    const before = rowsOf(out);
    available.n = READINGS.length;
    const second = startQuery<Reading, unknown>({ source: readingsSource(READINGS, available), pipeline, sink: batchesSink(out), checkpointLocation: store, onQueryError: () => undefined });
    await expect(second.awaitTermination()).rejects.toBeInstanceOf(CheckpointCorruptError);
    expect(rowsOf(out)).toEqual(before);
  });
});

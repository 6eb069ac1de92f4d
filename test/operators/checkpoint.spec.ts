import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Observable, Subject, firstValueFrom, lastValueFrom, throwError, concat, of, take, toArray } from 'rxjs';
import { VirtualTimeScheduler } from 'rxjs';
import { checkpoint } from '../../operators/checkpoint.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { dropDuplicates } from '../../operators/dropDuplicates.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import type { Batch } from '../../lib/batch/Batch.js';
import { MemoryCheckpointStore } from '../../lib/checkpoint/MemoryCheckpointStore.js';
import { StoreCheckpoint } from '../../lib/checkpoint/StoreCheckpoint.js';
import type { CheckpointRecovery } from '../../lib/checkpoint/Checkpoint.js';
import { BatchSequenceError, CheckpointIncompatibleError, InvalidOptionError, UserFunctionError } from '../../lib/errors/index.js';
import { countByKey, type Row } from '../lib/checkpoint/fixtures.js';

const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? '' : new TextDecoder().decode(bytes));
const ids = (batches: readonly Batch<unknown>[]) => batches.map((b) => b.batchId);
const collect = <T>(source: Observable<Batch<T>>) => lastValueFrom(source.pipe(toArray()));
const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
};

// a = #0 [a@1s]   b = #1 [b@2s]   c = #2 [a@3s, c@3s]   d = #3 [b@4s, d@4s]
const INPUT: Row[][] = deepFreeze([[{ k: 'a', ts: 1000 }], [{ k: 'b', ts: 2000 }], [{ k: 'a', ts: 3000 }, { k: 'c', ts: 3000 }], [{ k: 'b', ts: 4000 }, { k: 'd', ts: 4000 }]]);

describe('checkpoint', () => {
  it('emits every batch unchanged and writes offsets, state and a commit for each', async () => {
    const store = new MemoryCheckpointStore('ck');
    const input = fromBatches(INPUT.slice(0, 3));
    const out = await collect(input.pipe(withWatermark<Row>('ts', '1 second'), checkpoint(store)));
    const plain = await collect(input.pipe(withWatermark<Row>('ts', '1 second')));
    // The same batches; only the query context in their pipeline info differs.
    const strip = (bs: readonly Batch<Row>[]) => bs.map(({ batchId, rows, watermark, eventTime, metrics }) => ({ batchId, rows, watermark, eventTime, metrics }));
    expect(strip(out)).toEqual(strip(plain));
    expect([...store.files.keys()].sort()).toEqual([
      'commits/0', 'commits/1', 'commits/2', 'metadata', 'offsets/0', 'offsets/1', 'offsets/2',
      'state/watermark%230/0.delta', 'state/watermark%230/1.delta', 'state/watermark%230/2.delta',
    ]);
    // offsets/N holds the watermark batch N starts with; a plain Observable has no source offsets.
    expect(text(store.files.get('offsets/2'))).toMatch(/\{"batchId":2,"offsets":\[\],"watermark":1000,"timestamp":\d+\}/);
    expect(text(store.files.get('commits/2'))).toContain('"watermark":2000');
  });

  it('restores the stateful operators and skips committed batches on restart', async () => {
    const store = new MemoryCheckpointStore();
    const pipeline = (n: number) => fromBatches(INPUT.slice(0, n)).pipe(withWatermark<Row>('ts', '1 second'), dropDuplicates<Row>('k'), checkpoint(store));
    const first = await collect(pipeline(3));
    expect(first.map((b) => [b.batchId, b.rows.map((r) => r.k), b.watermark])).toEqual([[0, ['a'], 0], [1, ['b'], 1000], [2, ['c'], 2000]]);
    const second = await collect(pipeline(4));
    // b was seen in batch 1 (restored state); the watermark continues from 2000.
    expect(second.map((b) => [b.batchId, b.rows.map((r) => r.k), b.watermark])).toEqual([[3, ['d'], 3000]]);
    expect(await collect(pipeline(4))).toEqual([]);
  });

  it('decodes the restored state of the operators upstream before it subscribes to them (before their first batch)', async () => {
    const store = new MemoryCheckpointStore();
    let subscribed = false;
    const input = (n: number) =>
      new Observable<Batch<Row>>((subscriber) => {
        subscribed = true;
        return fromBatches(INPUT.slice(0, n)).subscribe(subscriber);
      });
    // `pipe` keeps the operators' source links, so the checkpoint finds withWatermark and dropDuplicates.
    const pipeline = (n: number) => input(n).pipe(withWatermark<Row>('ts', '1 second'), dropDuplicates<Row>('k'), checkpoint(store));
    await collect(pipeline(3));
    const proto = StoreCheckpoint.prototype as unknown as { decodeState: (...args: unknown[]) => unknown };
    const original = proto.decodeState;
    const decodedWhen: boolean[] = [];
    proto.decodeState = function (this: unknown, ...args: unknown[]) {
      decodedWhen.push(subscribed);
      return original.apply(this, args);
    };
    try {
      subscribed = false;
      const second = await collect(pipeline(4));
      expect(second.map((b) => [b.batchId, b.rows.map((r) => r.k)])).toEqual([[3, ['d']]]);
    } finally {
      proto.decodeState = original;
    }
    expect(decodedWhen).toEqual([false, false]);
  });

  it('passes an empty batch through with its id', async () => {
    const out = await collect(fromBatches<Row>([[], [{ k: 'a', ts: 1 }], []]).pipe(countByKey(), checkpoint(new MemoryCheckpointStore())));
    expect(out.map((b) => [b.batchId, b.rows.length])).toEqual([[0, 0], [1, 1], [2, 0]]);
  });

  it('emits batches in order, one at a time, each after its offsets are written', async () => {
    const store = new MemoryCheckpointStore();
    const seen: Array<[number, boolean, boolean]> = [];
    const out = await new Promise<number[]>((resolve) => {
      const got: number[] = [];
      const store2 = new MemoryCheckpointStore();
      fromBatches(INPUT)
        .pipe(countByKey(), checkpoint(store2))
        .subscribe({
          next: (b) => {
            got.push(b.batchId);
            seen.push([b.batchId, store2.files.has(`offsets/${b.batchId}`), store2.files.has(`commits/${b.batchId}`)]);
          },
          complete: () => resolve(got),
        });
    });
    expect(out).toEqual([0, 1, 2, 3]);
    expect(seen).toEqual([[0, true, false], [1, true, false], [2, true, false], [3, true, false]]);
  });

  it('completes only after the last commit is written', async () => {
    const store = new MemoryCheckpointStore();
    await collect(fromBatches(INPUT).pipe(countByKey(), checkpoint(store)));
    expect(store.files.has('commits/3')).toBe(true);
  });

  it('does not complete while the source does not', async () => {
    const source = new Subject<Batch<Row>>();
    const store = new MemoryCheckpointStore();
    const out: number[] = [];
    let completed = false;
    const sub = source.pipe(countByKey(), checkpoint(store)).subscribe({ next: (b) => out.push(b.batchId), complete: () => (completed = true) });
    await new Promise((resolve) => setImmediate(resolve));
    source.next({ batchId: 0, rows: INPUT[0]!, watermark: 0 });
    source.next({ batchId: 1, rows: INPUT[1]!, watermark: 0 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(out).toEqual([0, 1]);
    expect(completed).toBe(false);
    sub.unsubscribe();
  });

  it('forwards a source error after the batches before it are committed', async () => {
    const store = new MemoryCheckpointStore();
    const boom = new Error('source failed');
    const source = concat(fromBatches(INPUT.slice(0, 2)), throwError(() => boom));
    const out: number[] = [];
    const error = await new Promise((resolve) => source.pipe(countByKey(), checkpoint(store)).subscribe({ next: (b) => out.push(b.batchId), error: resolve }));
    expect(error).toBe(boom);
    expect(out).toEqual([0, 1]);
    expect(store.files.has('commits/1')).toBe(true);
  });

  it('commits the batch it delivered and stops when unsubscribed early; the next run resumes after it', async () => {
    const store = new MemoryCheckpointStore();
    const first = await firstValueFrom(fromBatches(INPUT).pipe(countByKey(), checkpoint(store), take(1)));
    expect(first.batchId).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect([...store.files.keys()].filter((p) => p.startsWith('commits/') || p.startsWith('offsets/')).sort()).toEqual(['commits/0', 'offsets/0']);
    const rest = await collect(fromBatches(INPUT).pipe(countByKey(), checkpoint(store)));
    expect(rest.map((b) => [b.batchId, b.rows])).toEqual([[1, [{ k: 'b', count: 1 }]], [2, [{ k: 'a', count: 2 }, { k: 'c', count: 1 }]], [3, [{ k: 'b', count: 2 }, { k: 'd', count: 1 }]]]);
  });

  it('rejects batch ids that do not increase', async () => {
    const repeated: Batch<Row> = { batchId: 1, rows: [], watermark: 0 };
    const source = of(repeated, repeated);
    await expect(collect(source.pipe(checkpoint(new MemoryCheckpointStore())))).rejects.toBeInstanceOf(BatchSequenceError);
  });

  it('does not mutate the input batches', async () => {
    const batches = deepFreeze(INPUT.map((rows, batchId) => ({ batchId, rows, watermark: 0 })));
    const out = await collect(of(...batches).pipe(checkpoint(new MemoryCheckpointStore())));
    expect(out).toEqual(batches);
  });

  it('keeps two subscriptions apart (each opens its own checkpoint)', async () => {
    const a = new MemoryCheckpointStore('a');
    const b = new MemoryCheckpointStore('b');
    const counted = (store: MemoryCheckpointStore, n: number) => collect(fromBatches(INPUT.slice(0, n)).pipe(countByKey(), checkpoint(store)));
    await counted(a, 2);
    const fromB = await counted(b, 3);
    expect(ids(fromB)).toEqual([0, 1, 2]);
    expect(ids(await counted(a, 3))).toEqual([2]);
  });

  it('reports where it resumes and takes processing time from the scheduler', async () => {
    const store = new MemoryCheckpointStore();
    const scheduler = new VirtualTimeScheduler();
    scheduler.frame = 42_000;
    const recoveries: CheckpointRecovery[] = [];
    await collect(fromBatches(INPUT.slice(0, 2)).pipe(countByKey(), checkpoint(store, { scheduler, onRecovery: (r) => recoveries.push(r) })));
    await collect(fromBatches(INPUT).pipe(countByKey(), checkpoint(store, { scheduler, onRecovery: (r) => recoveries.push(r) })));
    expect(recoveries.map((r) => [r.fresh, r.lastCommittedBatchId])).toEqual([[true, -1], [false, 1]]);
    expect(recoveries[1]!.queryId).toBe(recoveries[0]!.queryId);
    expect(text(store.files.get('offsets/3'))).toContain('"timestamp":42000');
  });

  it('fails with CheckpointIncompatibleError when the stateful operators changed', async () => {
    const store = new MemoryCheckpointStore('ck');
    await collect(fromBatches(INPUT.slice(0, 2)).pipe(countByKey(), checkpoint(store)));
    await expect(collect(fromBatches(INPUT).pipe(countByKey({ by: 'ts' }), checkpoint(store)))).rejects.toMatchObject({
      name: 'CheckpointIncompatibleError',
      operatorId: 'countByKey#0',
      path: 'ck/state/countByKey%230',
      message: expect.stringContaining('checkpoint: stateful operator countByKey#0 does not match the checkpoint; got countByKey {"by":"ts"} where the checkpoint has countByKey {"by":"k"}.'),
    });
    const removed = await collect(fromBatches(INPUT).pipe(checkpoint(store))).catch((e: unknown) => e);
    expect(removed).toBeInstanceOf(CheckpointIncompatibleError);
    expect((removed as Error).message).toContain('stateful operator countByKey#0 (countByKey) is in the checkpoint but not in the pipeline');
  });

  it('wraps an onRecovery callback that throws in a UserFunctionError', async () => {
    const failure = collect(fromBatches(INPUT).pipe(checkpoint(new MemoryCheckpointStore(), { onRecovery: () => { throw new Error('nope'); } })));
    await expect(failure).rejects.toBeInstanceOf(UserFunctionError);
  });

  it('works over a directory and creates it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rss-ckpt-op-'));
    try {
      const location = join(dir, 'nested', 'ck');
      await collect(fromBatches(INPUT.slice(0, 2)).pipe(withWatermark<Row>('ts', 0), countByKey(), checkpoint(location)));
      expect(readdirSync(location).sort()).toEqual(['commits', 'metadata', 'offsets', 'state']);
      expect(readdirSync(join(location, 'state')).sort()).toEqual(['countByKey%231', 'watermark%230']);
      expect(ids(await collect(fromBatches(INPUT).pipe(withWatermark<Row>('ts', 0), countByKey(), checkpoint(location))))).toEqual([2, 3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('misconfiguration', () => {
    it('rejects a location that is not a directory path or a store, when the operator is built', () => {
      expect(() => checkpoint('')).toThrow(
        new InvalidOptionError(`checkpoint: location must be a directory path or a CheckpointStore; got "". Pass a directory such as './checkpoints/my-query'.`, 'location', '', 'a non-empty directory path or a CheckpointStore'),
      );
      expect(() => checkpoint(42 as never)).toThrow(InvalidOptionError);
    });

    it('rejects a snapshotInterval or minBatchesToRetain that is not a positive integer', () => {
      expect(() => checkpoint(new MemoryCheckpointStore(), { snapshotInterval: 0 })).toThrow(
        new InvalidOptionError('checkpoint: snapshotInterval must be a positive integer; got 0.', 'snapshotInterval', 0, 'a positive integer'),
      );
      expect(() => checkpoint(new MemoryCheckpointStore(), { minBatchesToRetain: 2.5 })).toThrow('checkpoint: minBatchesToRetain must be a positive integer; got 2.5.');
    });

    it('rejects a snapshotDeltaRatio that is not a finite number of at least 0', () => {
      expect(() => checkpoint(new MemoryCheckpointStore(), { snapshotDeltaRatio: -0.5 })).toThrow(
        new InvalidOptionError('checkpoint: snapshotDeltaRatio must be a finite number of at least 0; got -0.5.', 'snapshotDeltaRatio', -0.5, 'a finite number of at least 0'),
      );
      expect(() => checkpoint(new MemoryCheckpointStore(), { snapshotDeltaRatio: Number.POSITIVE_INFINITY })).toThrow('checkpoint: snapshotDeltaRatio must be a finite number of at least 0; got Infinity.');
      expect(() => checkpoint(new MemoryCheckpointStore(), { snapshotDeltaRatio: '1' as never })).toThrow('checkpoint: snapshotDeltaRatio must be a finite number of at least 0; got "1".');
    });
  });
});

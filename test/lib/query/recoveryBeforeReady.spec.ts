import { Observable, asyncScheduler, map } from 'rxjs';
import type { Batch } from '../../../lib/batch/Batch.js';
import { count } from '../../../lib/aggregate/count.js';
import { sum } from '../../../lib/aggregate/sum.js';
import { MemoryCheckpointStore } from '../../../lib/checkpoint/MemoryCheckpointStore.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import { StoreCheckpoint } from '../../../lib/checkpoint/StoreCheckpoint.js';
import { CheckpointCorruptError } from '../../../lib/errors/index.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { StreamingQueryManager } from '../../../lib/query/StreamingQueryManager.js';
import type { Sink } from '../../../lib/sinks/Sink.js';
import type { Source } from '../../../lib/sources/Source.js';
import { dropDuplicates } from '../../../operators/dropDuplicates.js';
import { groupAggregate } from '../../../operators/groupAggregate.js';
import { outputMode } from '../../../operators/outputMode.js';
import { withWatermark } from '../../../operators/withWatermark.js';

// Recovery is done when `ready` resolves (issue 13, point 5): startQuery decodes every stateful operator's
// restored state before the query is ready, so the first batch after a restart does no restore work.

interface Row {
  readonly id: number;
  readonly k: string;
  readonly v: number;
  readonly t: number;
}

/** One batch per trigger from a shared list; offset = index of the last batch read. */
function listSource(batches: readonly Row[][]): Source<Row, number> {
  return {
    description: 'List',
    start: async () => undefined,
    latestOffset: async (start) => (batches.length === 0 ? undefined : Math.min((start ?? -1) + 1, batches.length - 1)),
    getBatch: async (start, end) => batches.slice((start ?? -1) + 1, end + 1).flat(),
    commit: async () => undefined,
    stop: async () => undefined,
    sameOffset: (a, b) => a === b,
  };
}

interface Out {
  readonly k: string;
  readonly n: number;
  readonly total: number;
}

/** Keeps the latest row per key (update mode), like a table upserted by key. */
function tableSink(table: Map<string, Out>): Sink<Out> {
  return {
    description: 'Table',
    supportedModes: ['update'],
    idempotent: true,
    addBatch: async (_batchId, rows) => {
      for (const row of rows) table.set(row.k, row);
    },
  };
}

/** The same batches through an Observable of its own (no `source` link to what it subscribes to). */
const hidden = <B>(input: Observable<B>): Observable<B> => new Observable<B>((subscriber) => input.subscribe(subscriber));

const row = (id: number, k: string, v: number, t: number): Row => ({ id, k, v, t });

/** withWatermark, a foreign map that copies each batch, dropDuplicates by id, then count and sum per key: three stateful operators. */
const pipeline = (b$: Observable<Batch<Row>>) =>
  b$.pipe(
    withWatermark<Row>('t', '10 seconds'),
    map((b) => ({ ...b })),
    dropDuplicates<Row>(['id']),
    groupAggregate<Row>()({ keyBy: 'k', aggregate: { n: count(), total: sum('v') } }),
    outputMode('update'),
  ) as unknown as Observable<Batch<Out>>;

const first: Row[][] = [
  [row(1, 'a', 1, 1_000), row(2, 'b', 2, 2_000), row(1, 'a', 1, 1_000)],
  [row(3, 'a', 4, 3_000), row(2, 'b', 2, 2_000)],
];
const later: Row[][] = [[row(4, 'a', 8, 4_000), row(3, 'a', 4, 3_000), row(5, 'c', 16, 5_000)]];

/** A query over `batches` on the checkpoint in `store`, upserting into `table`. */
function start(store: MemoryCheckpointStore, batches: Row[][], table: Map<string, Out>, build = pipeline) {
  return startQuery<Row, Out>({ source: listSource(batches), pipeline: build, sink: tableSink(table), checkpoint: openCheckpoint(store), scheduler: asyncScheduler, manager: new StreamingQueryManager() });
}

async function runOnce(store: MemoryCheckpointStore, batches: Row[][], table: Map<string, Out>, build = pipeline): Promise<void> {
  const query = start(store, batches, table, build);
  await query.processAllAvailable();
  await query.stop();
}

/** Runs a restart to the end, counting the checkpoint's state decodes before `ready` resolved and after. */
async function restartCountingDecodes(store: MemoryCheckpointStore, batches: Row[][], table: Map<string, Out>, build = pipeline): Promise<{ beforeReady: number; afterReady: number }> {
  const counts = { beforeReady: 0, afterReady: 0 };
  let ready = false;
  const proto = StoreCheckpoint.prototype as unknown as { decodeState: (...args: unknown[]) => unknown };
  const original = proto.decodeState;
  proto.decodeState = function (this: unknown, ...args: unknown[]) {
    if (ready) counts.afterReady++;
    else counts.beforeReady++;
    return original.apply(this, args);
  };
  try {
    const query = start(store, batches, table, build);
    await query.ready;
    ready = true;
    const atReady = counts.beforeReady;
    await query.processAllAvailable();
    await query.stop();
    return { beforeReady: atReady, afterReady: counts.afterReady };
  } finally {
    proto.decodeState = original;
  }
}

describe('startQuery on a checkpoint: the restored state is decoded before the query is ready', () => {
  it('every stateful operator (through a foreign map) is restored before ready; the first batch after it restores nothing; the output continues exactly', async () => {
    const store = new MemoryCheckpointStore();
    const table = new Map<string, Out>();
    await runOnce(store, first, table);
    expect(Object.fromEntries(table)).toEqual({ a: { k: 'a', n: 2, total: 5 }, b: { k: 'b', n: 1, total: 2 } });

    const counts = await restartCountingDecodes(store, [...first, ...later], table);
    expect(counts).toEqual({ beforeReady: 3, afterReady: 0 }); // withWatermark, dropDuplicates, groupAggregate
    // Id 3 is a duplicate of batch 1's (the restored dedup state knows it); a and c go on from the restored sums.
    expect(Object.fromEntries(table)).toEqual({ a: { k: 'a', n: 3, total: 13 }, b: { k: 'b', n: 1, total: 2 }, c: { k: 'c', n: 1, total: 16 } });
  });

  it('named operators are found by their name; an operator hidden behind a foreign Observable restores at registration, with the same result', async () => {
    const named = (b$: Observable<Batch<Row>>) =>
      hidden(b$.pipe(withWatermark<Row>('t', '10 seconds', { name: 'wm' }))).pipe(
        dropDuplicates<Row>(['id'], { name: 'dedup' }),
        groupAggregate<Row>()({ keyBy: 'k', aggregate: { n: count(), total: sum('v') }, name: 'totals' }),
        outputMode('update'),
      ) as unknown as Observable<Batch<Out>>;
    const store = new MemoryCheckpointStore();
    const table = new Map<string, Out>();
    await runOnce(store, first, table, named);

    // A foreign Observable with no `source` link hides what lies above it (the watermark) until the first batch.
    expect(await restartCountingDecodes(store, [...first, ...later], table, named)).toEqual({ beforeReady: 2, afterReady: 1 });
    expect(Object.fromEntries(table)).toEqual({ a: { k: 'a', n: 3, total: 13 }, b: { k: 'b', n: 1, total: 2 }, c: { k: 'c', n: 1, total: 16 } });
  });

  it('a corrupt state file found while decoding early still fails the query with a CheckpointCorruptError naming the file', async () => {
    const store = new MemoryCheckpointStore();
    await runOnce(store, first, new Map());
    const damaged = [...store.files.keys()].find((p) => p.startsWith('state/') && p.includes('groupAggregate') && p.endsWith('/1.delta'));
    expect(damaged).toBeDefined();
    const broken = new Uint8Array(store.files.get(damaged!)!);
    broken[broken.length - 3] = broken[broken.length - 3]! ^ 0xff;
    store.files.set(damaged!, broken);

    const query = start(store, [...first, ...later], new Map());
    const failure = await query.ready.then(
      () => query.awaitTermination().then(() => undefined, (e: unknown) => e),
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(CheckpointCorruptError);
    expect(String((failure as Error).message)).toContain('1.');
  });
});

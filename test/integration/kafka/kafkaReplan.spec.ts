// Kafka → query → Kafka with a checkpoint that falls behind the output topic
// (restored from an older copy): the batches the topic already holds are
// re-planned from the origins toKafka keeps on each batch's row 0 (`rss.origin`,
// `rss.before`), re-run (the sink skips them) and the query goes on; every
// input record reaches the output exactly once. Counted, not sampled.
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { map } from 'rxjs';
import { count } from '../../../lib/aggregate/count.js';
import { SinkError } from '../../../lib/errors/index.js';
import { groupAggregate } from '../../../operators/groupAggregate.js';
import { outputMode } from '../../../operators/outputMode.js';
import type { KafkaLogRecord } from '../../../lib/kafka/KafkaLog.js';
import type { StreamingQueryProgress } from '../../../lib/query/progress.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import type { BatchOrigin, Sink } from '../../../lib/sinks/Sink.js';
import { MARKER_HEADERS, toKafka } from '../../../lib/sinks/toKafka.js';
import { fromKafka, type KafkaRow } from '../../../lib/sources/fromKafka.js';
import type { KafkaSource } from '../../../lib/kafka/KafkaSource.js';
import type { KafkaOffsets } from '../../../lib/kafka/KafkaOffsets.js';
import type { ReadLimit, Source } from '../../../lib/sources/Source.js';
import { claimTopic, closeTestKafka, kafkaBroker, messages, produce, readTopic } from './kafkaTestKit.js';

afterAll(closeTestKafka);

let work: string;
let checkpoint: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'rss-kafka-replan-'));
  checkpoint = join(work, 'ckpt');
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const header = (record: KafkaLogRecord, name: string): string | undefined => record.headers.find((h) => h.key === name)?.value?.toString();

/** How often each value is in the topic. */
async function counts(topic: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const r of await readTopic(topic)) {
    const v = r.value?.toString() ?? '<null>';
    out.set(v, (out.get(v) ?? 0) + 1);
  }
  return out;
}

const once = (values: readonly string[]): Map<string, number> => new Map(values.map((v) => [v, 1]));

/**
 * A Kafka source whose first `latestOffset` waits for `gate`: with
 * `startingOffsets: 'latest'` the test produces records after `'latest'` is
 * fixed (at start) but before the first trigger looks, so batch 0 has them
 * however the machine schedules the trigger.
 */
function gated(source: KafkaSource<KafkaRow>, gate: Promise<void>): Source<KafkaRow, KafkaOffsets> {
  return new Proxy(source, {
    get(target, property) {
      if (property === 'latestOffset') return async (start: KafkaOffsets | undefined, limit: ReadLimit) => (await gate, target.latestOffset(start, limit));
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A gate and the function that opens it. */
function gate(): { readonly promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** The query under test: batches of at most 4 records; values starting with `x-` are dropped (batches without output). */
function query(input: string, output: string, startingOffsets: 'earliest' | 'latest', trigger?: { readonly availableNow: true }, opened: Promise<void> = Promise.resolve()) {
  return startQuery<KafkaRow, { key: string | null; value: string }>({
    source: gated(fromKafka({ brokers: [kafkaBroker()], topic: input, startingOffsets, maxOffsetsPerTrigger: 4 }), opened),
    pipeline: (b$) =>
      b$.pipe(
        map((batch) => ({
          ...batch,
          rows: batch.rows.filter((r) => !String(r.value).startsWith('x-')).map((r) => ({ key: r.key === null ? null : String(r.key), value: String(r.value) })),
        })),
      ),
    sink: toKafka({ brokers: [kafkaBroker()], topic: output, idempotentProducer: false, key: 'key', value: 'value' }),
    ...(trigger === undefined ? {} : { trigger }),
    checkpointLocation: checkpoint,
  });
}

/** Everything available now, then the query ends; its progress reports. */
async function run(input: string, output: string, startingOffsets: 'earliest' | 'latest' = 'earliest'): Promise<readonly StreamingQueryProgress[]> {
  const q = query(input, output, startingOffsets, { availableNow: true });
  await q.awaitTermination();
  return q.recentProgress;
}

function restore(backup: string): void {
  rmSync(checkpoint, { recursive: true });
  cpSync(backup, checkpoint, { recursive: true });
}

describe('fromKafka → toKafka: a checkpoint behind the output topic', () => {
  it('re-plans the batches the topic holds beyond a checkpoint restored from an older copy, then goes on: every record once', async () => {
    const input = await claimTopic(2);
    const output = await claimTopic(2);
    await produce(input, messages('a', 6, 2));
    await run(input, output); // batches 0, 1
    const backup = join(work, 'backup');
    cpSync(checkpoint, backup, { recursive: true });
    await produce(input, messages('b', 9, 2));
    const second = await run(input, output); // batches 2, 3, 4
    expect(second.map((p) => p.batchId)).toEqual([2, 3, 4]);
    restore(backup);
    await produce(input, messages('c', 5, 2));
    const third = await run(input, output);
    // Batches 2–4 again with exactly their first offsets (the sink skipped them), then the new records.
    expect(third.slice(0, 3).map((p) => [p.batchId, p.numInputRows, p.sources[0]!.endOffset])).toEqual(second.map((p) => [p.batchId, p.numInputRows, p.sources[0]!.endOffset]));
    expect(third.slice(3).reduce((n, p) => n + p.numInputRows, 0)).toBe(5);
    expect(await counts(output)).toEqual(once([...messages('a', 6, 2), ...messages('b', 9, 2), ...messages('c', 5, 2)].map((m) => m.value as string)));
  });

  it("re-plans batch 0 from where 'latest' was when it first ran, and batches without output from the next batch's row 0", async () => {
    const input = await claimTopic(1);
    const output = await claimTopic(1);
    await produce(input, messages('before', 3, 1)); // 'latest' skips these
    const empty = query(input, output, 'latest');
    await empty.ready;
    await empty.stop(); // the checkpoint has its metadata, no batch
    const backup = join(work, 'backup');
    cpSync(checkpoint, backup, { recursive: true });
    const produced = gate();
    const live = query(input, output, 'latest', undefined, produced.promise);
    await live.ready; // 'latest' is fixed now: offset 3
    await produce(input, [...messages('d', 4, 1), ...messages('x', 4, 1), ...messages('e', 2, 1)]); // one request: visible at once
    produced.open();
    await live.processAllAvailable();
    await live.stop();
    const second = live.recentProgress; // batches 0 (d), 1 (x: no output), 2 (e)
    expect(second.map((p) => [p.batchId, p.numInputRows, p.sink.numOutputRows])).toEqual([
      [0, 4, 4],
      [1, 4, 0],
      [2, 2, 2],
    ]);
    const records = await readTopic(output);
    const row0 = records.filter((r) => header(r, MARKER_HEADERS.row) === '0');
    expect(row0.map((r) => header(r, MARKER_HEADERS.batch))).toEqual(['0', '2']);
    const before = JSON.parse(header(row0[1]!, MARKER_HEADERS.before)!) as Array<{ batchId: number; origin: BatchOrigin }>;
    expect(before.map((b) => b.batchId)).toEqual([1]);
    restore(backup); // no committed batch at all
    await produce(input, messages('f', 3, 1));
    const third = await run(input, output, 'latest');
    expect(third.map((p) => [p.batchId, p.numInputRows])).toEqual([
      [0, 4],
      [1, 4],
      [2, 2],
      [3, 3],
    ]);
    expect(await counts(output)).toEqual(once([...messages('d', 4, 1), ...messages('e', 2, 1), ...messages('f', 3, 1)].map((m) => m.value as string)));
  });

  it('re-plans a batch without output that ended its run: the next run carries its origin (from offsets/N) on its first row 0', async () => {
    const input = await claimTopic(1);
    const output = await claimTopic(1);
    await produce(input, messages('d', 4, 1));
    await run(input, output); // batch 0 (d)
    const backup = join(work, 'backup');
    cpSync(checkpoint, backup, { recursive: true });
    await produce(input, messages('x', 4, 1));
    expect((await run(input, output)).map((p) => [p.batchId, p.sink.numOutputRows])).toEqual([[1, 0]]); // no output, the last batch of its run
    await produce(input, messages('e', 2, 1));
    expect((await run(input, output)).map((p) => [p.batchId, p.sink.numOutputRows])).toEqual([[2, 2]]);
    const row0 = (await readTopic(output)).filter((r) => header(r, MARKER_HEADERS.row) === '0');
    expect(row0.map((r) => header(r, MARKER_HEADERS.batch))).toEqual(['0', '2']);
    const before = JSON.parse(header(row0[1]!, MARKER_HEADERS.before)!) as Array<{ batchId: number; origin: BatchOrigin }>;
    expect(before.map((b) => [b.batchId, b.origin.endOffsets])).toEqual([[1, [{ [input]: { '0': 8 } }]]]);
    restore(backup); // commits batch 0 only: batch 1 has no row of its own in the topic
    await produce(input, messages('f', 3, 1));
    const third = await run(input, output);
    expect(third.map((p) => [p.batchId, p.numInputRows])).toEqual([
      [1, 4],
      [2, 2],
      [3, 3],
    ]);
    expect(await counts(output)).toEqual(once([...messages('d', 4, 1), ...messages('e', 2, 1), ...messages('f', 3, 1)].map((m) => m.value as string)));
  });

  it("re-runs a pending batch 0 from where 'latest' was at its first run, whether the topic holds it or not, so state has its rows", async () => {
    let input = await claimTopic(1);
    let output = await claimTopic(1);
    await produce(input, messages('before', 3, 1)); // 'latest' skips these
    const total = (crash: 'before sink' | 'after sink' | 'no', opened: Promise<void> = Promise.resolve()) => {
      const real = toKafka<{ all: string; n: number }>({ brokers: [kafkaBroker()], topic: output, idempotentProducer: false });
      const sink: Sink<{ all: string; n: number }> = {
        description: real.description,
        supportedModes: real.supportedModes,
        idempotent: true,
        start: (context) => real.start(context),
        stop: () => real.stop(),
        lastCommittedBatchId: () => real.lastCommittedBatchId(),
        committedOrigin: (batchId) => real.committedOrigin(batchId),
        async addBatch(batchId, rows, origin) {
          if (crash === 'before sink') throw new SinkError('crashingSink', 'simulated crash before the write', undefined, false);
          await real.addBatch(batchId, rows, origin);
          if (crash === 'after sink') throw new SinkError('crashingSink', 'simulated crash after the write, before the commit', undefined, false);
        },
      };
      return startQuery<KafkaRow, { all: string; n: number }>({
        source: gated(fromKafka({ brokers: [kafkaBroker()], topic: input, startingOffsets: 'latest' }), opened),
        pipeline: (b$) => b$.pipe(map((batch) => ({ ...batch, rows: batch.rows.map(() => ({ all: 'rows' })) })), groupAggregate({ keyBy: 'all', aggregate: { n: count() } }), outputMode('update')),
        sink,
        checkpointLocation: checkpoint,
      });
    };
    const firstProduced = gate();
    const first = total('after sink', firstProduced.promise);
    await first.ready;
    await produce(input, messages('d', 4, 1));
    firstProduced.open();
    await expect(first.awaitTermination()).rejects.toThrow(/simulated crash/); // batch 0 in the topic, offsets/0 pending
    await produce(input, messages('e', 3, 1)); // 'latest' is 7 now
    const second = total('no');
    await second.ready;
    await second.processAllAvailable();
    await second.stop();
    expect(second.recentProgress.map((p) => [p.batchId, p.numInputRows])).toEqual([
      [0, 4],
      [1, 3],
    ]);
    const values = (await readTopic(output)).map((r) => JSON.parse(r.value!.toString()) as { n: number });
    expect(values.map((v) => v.n)).toEqual([4, 7]);

    // A pending batch 0 that never reached the topic: it starts where 'latest' was at the first start too
    // (the source keeps its first batch's start offsets in <checkpoint>/sources/0/initial).
    rmSync(checkpoint, { recursive: true });
    const input2 = await claimTopic(1);
    const output2 = await claimTopic(1);
    input = input2;
    output = output2;
    await produce(input, messages('before', 3, 1));
    const thirdProduced = gate();
    const third = total('before sink', thirdProduced.promise);
    await third.ready;
    expect(existsSync(join(checkpoint, 'sources', '0', 'initial'))).toBe(true);
    await produce(input, messages('d', 4, 1));
    thirdProduced.open();
    await expect(third.awaitTermination()).rejects.toThrow(/simulated crash before the write/);
    await produce(input, messages('e', 3, 1));
    const fourth = total('no');
    await fourth.ready;
    await fourth.processAllAvailable();
    await fourth.stop();
    expect(fourth.recentProgress.map((p) => [p.batchId, p.numInputRows])).toEqual([
      [0, 4],
      [1, 3],
    ]);
    expect((await readTopic(output)).map((r) => (JSON.parse(r.value!.toString()) as { n: number }).n)).toEqual([4, 7]);
  });

  it('gives back what each batch read after a restart of the sink (lastCommittedBatchId, committedOrigin); a foreign writer never counts', async () => {
    const topic = await claimTopic(2);
    const queryId = randomUUID();
    const origin = (n: number): BatchOrigin => ({ startOffsets: [n === 0 ? null : { t: { '0': n } }], endOffsets: [{ t: { '0': n + 1 } }], watermark: 0, timestamp: 1000 + n, plans: [null] });
    const first = toKafka<{ value: string }>({ brokers: [kafkaBroker()], topic, idempotentProducer: false });
    await first.start({ queryId, runId: randomUUID(), outputMode: 'append' });
    await first.addBatch(0, [{ value: 'a' }, { value: 'b' }], origin(0));
    await first.addBatch(1, [], origin(1));
    await first.addBatch(2, [{ value: 'c' }], origin(2));
    await first.stop();
    const other = toKafka<{ value: string }>({ brokers: [kafkaBroker()], topic, idempotentProducer: false, sinkId: 'someone-else' });
    await other.addBatch(99, [{ value: 'z' }], origin(99));
    await other.stop();
    const restarted = toKafka<{ value: string }>({ brokers: [kafkaBroker()], topic, idempotentProducer: false });
    await restarted.start({ queryId, runId: randomUUID(), outputMode: 'append' });
    try {
      expect(await restarted.lastCommittedBatchId()).toBe(2);
      expect(await restarted.committedOrigin(0)).toEqual(origin(0));
      expect(await restarted.committedOrigin(1)).toEqual(origin(1)); // from batch 2's rss.before
      expect(await restarted.committedOrigin(2)).toEqual(origin(2));
      expect(await restarted.committedOrigin(3)).toBeUndefined();
    } finally {
      await restarted.stop();
    }
    // Only row 0 of a batch carries the origin.
    const records = await readTopic(topic);
    expect(records.filter((r) => header(r, MARKER_HEADERS.origin) !== undefined).map((r) => [header(r, MARKER_HEADERS.writer) === queryId, header(r, MARKER_HEADERS.batch)]).sort()).toEqual([
      [false, '99'],
      [true, '0'],
      [true, '2'],
    ]);
  });
});

// Kafka → query → Kafka through startQuery with a checkpoint directory: a
// restart resumes from the checkpointed offsets, and a batch the sink wrote but
// the query never committed is replayed without writing anything twice.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SinkError } from '../../../lib/errors/index.js';
import type { KafkaLogRecord } from '../../../lib/kafka/KafkaLog.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import type { Sink } from '../../../lib/sinks/Sink.js';
import { MARKER_HEADERS, toKafka } from '../../../lib/sinks/toKafka.js';
import { fromKafka, type KafkaRow } from '../../../lib/sources/fromKafka.js';
import { forEachBatch } from '../../../lib/sinks/forEachBatch.js';
import { sum } from '../../../lib/aggregate/sum.js';
import { mapRows } from '../../../operators/mapRows.js';
import { outputMode } from '../../../operators/outputMode.js';
import { windowTumbling } from '../../../operators/windowTumbling.js';
import { claimTopic, closeTestKafka, kafkaBroker, messages, produce, readTopic } from './kafkaTestKit.js';


afterAll(closeTestKafka);

const tmpDirs: string[] = [];
afterAll(() => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function checkpointDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rss-kafka-query-'));
  tmpDirs.push(dir);
  return path.join(dir, 'checkpoint');
}

const group = { heartbeatInterval: 200, sessionTimeout: 6000, rebalanceTimeout: 6000 };
const valuesOf = (records: readonly KafkaLogRecord[]): string[] => records.map((r) => r.value?.toString() ?? '<null>').sort();
const batchesOf = (records: readonly KafkaLogRecord[]): number[] =>
  [...new Set(records.map((r) => Number(r.headers.find((h) => h.key === MARKER_HEADERS.batch)?.value?.toString())))].sort((a, b) => a - b);

function run(input: string, output: string, checkpointLocation: string, sink?: Sink<KafkaRow>) {
  return startQuery<KafkaRow, KafkaRow>({
    source: fromKafka({ brokers: [kafkaBroker()], topic: input, groupId: `g-${input}`, group, startingOffsets: 'latest', maxOffsetsPerTrigger: 4 }),
    sink: sink ?? toKafka<KafkaRow>({ brokers: [kafkaBroker()], topic: output, idempotentProducer: false }),
    checkpointLocation,
  });
}

describe('fromKafka → startQuery → toKafka', () => {
  it('resumes from the checkpointed offsets after a restart and writes every input record to the output once', async () => {
    const input = await claimTopic(2);
    const output = await claimTopic(2);
    const checkpointLocation = checkpointDir();
    await produce(input, messages('before', 2, 2)); // before the first start: 'latest' skips these

    const first = run(input, output, checkpointLocation);
    await first.ready;
    await produce(input, messages('a', 6, 2));
    await first.processAllAvailable();
    await first.stop();
    expect(valuesOf(await readTopic(output))).toEqual(messages('a', 6, 2).map((m) => m.value).sort());
    const lastOfFirst = first.lastProgress!;
    expect(lastOfFirst.sources[0]!.endOffset).toEqual({ [input]: { '0': 4, '1': 4 } });

    await produce(input, messages('b', 5, 2));
    const second = run(input, output, checkpointLocation);
    await second.ready;
    expect(second.id).toBe(first.id);
    await second.processAllAvailable();
    await second.stop();

    expect(valuesOf(await readTopic(output))).toEqual([...messages('a', 6, 2), ...messages('b', 5, 2)].map((m) => m.value).sort());
    expect(second.recentProgress[0]!.batchId).toBeGreaterThan(lastOfFirst.batchId);
    expect(second.recentProgress[0]!.sources[0]!.startOffset).toEqual({ [input]: { '0': 4, '1': 4 } });
  });

  it('replays a batch that reached the topic but was never committed, without writing it twice', async () => {
    const input = await claimTopic(1);
    const output = await claimTopic(1);
    const checkpointLocation = checkpointDir();

    // A sink that "crashes" right after the batch holding the last record (m-6) reached Kafka, before the query could
    // write its commits/N. (Which records share that batch depends on when the trigger sees them: at most 4.)
    const real = toKafka<KafkaRow>({ brokers: [kafkaBroker()], topic: output, idempotentProducer: false });
    let crashedBatch: number | undefined;
    let crashedRows = 0;
    const crashing: Sink<KafkaRow> = {
      description: real.description,
      supportedModes: real.supportedModes,
      idempotent: true,
      start: (context) => real.start(context),
      stop: () => real.stop(),
      async addBatch(batchId, rows) {
        await real.addBatch(batchId, rows);
        if (rows.some((r) => r.value?.toString() === 'm-6')) {
          crashedBatch = batchId;
          crashedRows = rows.length;
          throw new SinkError('crashingSink', 'simulated crash after the write, before the commit', undefined, false);
        }
      },
    };
    const first = run(input, output, checkpointLocation, crashing);
    await first.ready;
    await produce(input, messages('m', 7, 1)); // batches of at most 4 records (maxOffsetsPerTrigger)
    await expect(first.awaitTermination()).rejects.toThrow(/simulated crash/);
    expect(valuesOf(await readTopic(output))).toEqual(messages('m', 7, 1).map((m) => m.value).sort());

    const second = run(input, output, checkpointLocation);
    await second.ready;
    await second.processAllAvailable();
    await second.stop();

    const written = await readTopic(output);
    expect(valuesOf(written)).toEqual(messages('m', 7, 1).map((m) => m.value).sort());
    expect(batchesOf(written)).toContain(crashedBatch);
    expect(second.recentProgress[0]!.batchId).toBe(crashedBatch); // the uncommitted batch ran again, with the same offsets
    expect(second.recentProgress[0]!.numInputRows).toBe(crashedRows);
    expect(crashedRows).toBeGreaterThan(0);
  });
});

describe('the trading-profit example of notes/003 from Kafka (from_json with a schema, to_timestamp with a format)', () => {
  it('prints the notes tables batch by batch with a valueSchema and an event-time format, no hand-written parser', async () => {
    const topic = await claimTopic(1);
    const schema = { id: 'string', type: 'string', amount: 'integer', time: { type: 'timestamp', format: 'dd-MM-yyyy-HH-mm' } } as const;
    const tables: unknown[][] = [];
    const query = startQuery({
      source: fromKafka({ brokers: [kafkaBroker()], topic, startingOffsets: 'earliest', valueSchema: schema }),
      pipeline: (records$) =>
        records$.pipe(
          mapRows(({ value }) => ({ ...value, profit: value?.amount == null ? null : value.type === 'sell' ? -value.amount : value.amount })),
          windowTumbling({ eventTime: 'time', size: '5 minute', aggregate: { profit: sum('profit') } }),
          outputMode('complete'),
        ),
      sink: forEachBatch((rows) => void tables.push([...rows])),
      checkpointLocation: checkpointDir(),
    });
    await query.ready;
    const at = (hhmm: string): number => Date.parse(`2020-04-20T${hhmm}:00Z`);
    const win = (from: string, to: string) => ({ start: at(from), end: at(to) });
    const steps = [
      '{ "id": "apple", "amount": 10, "type": "buy", "time": "20-04-2020-10-10" }',
      '{ "id": "shell", "amount": "18", "type": "buy", "time": "20-04-2020-10-12" }', // numeric text: converted by the schema
      '{ "id": "apple", "amount": 5, "type": "sell", "time": "20-04-2020-10-22" }',
      '{ "id": "asus", "amount": 5, "type": "buy", "time": "20-04-2020-10-14" }',
    ];
    for (const value of steps) {
      await produce(topic, [{ partition: 0, value }]);
      await query.processAllAvailable();
    }
    await query.stop();
    const sorted = (rows: unknown[]) => [...rows].sort((a, b) => (a as { window: { start: number } }).window.start - (b as { window: { start: number } }).window.start);
    expect(tables.filter((t) => t.length > 0).map(sorted)).toEqual([
      [{ window: win('10:10', '10:15'), profit: 10 }],
      [{ window: win('10:10', '10:15'), profit: 28 }],
      [{ window: win('10:10', '10:15'), profit: 28 }, { window: win('10:20', '10:25'), profit: -5 }],
      [{ window: win('10:10', '10:15'), profit: 33 }, { window: win('10:20', '10:25'), profit: -5 }],
    ]);
  });
});

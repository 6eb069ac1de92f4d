import { randomUUID } from 'node:crypto';
import { InvalidOptionError, SinkError } from '../../../lib/errors/index.js';
import type { KafkaLogRecord } from '../../../lib/kafka/KafkaLog.js';
import type { BatchOrigin, SinkContext } from '../../../lib/sinks/Sink.js';
import { MARKER_HEADERS, toKafka, type ToKafkaOptions } from '../../../lib/sinks/toKafka.js';
import { API_KEY, claimTopic, closeTestKafka, faultyNetwork, kafkaBroker, produce, readTopic } from './kafkaTestKit.js';


afterAll(closeTestKafka);

interface Trade {
  readonly id: string;
  readonly amount: number;
}

const trades = (prefix: string, n: number): Trade[] => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, amount: i }));

function context(queryId: string): SinkContext {
  return { queryId, runId: randomUUID(), outputMode: 'append' };
}

const header = (record: KafkaLogRecord, name: string): string | undefined => record.headers.find((h) => h.key === name)?.value?.toString();
const valuesOf = (records: readonly KafkaLogRecord[]): string[] => records.map((r) => r.value?.toString() ?? '<null>').sort();

describe('toKafka', () => {
  const sinks: Array<{ stop(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(sinks.splice(0).map((s) => s.stop()));
  });

  // mokapi 0.52 rejects kafkajs's idempotent record batches once a partition
  // gets a batch of several records (OUT_OF_ORDER_SEQUENCE_NUMBER), so these
  // tests write with a plain producer; the batch markers are what make the
  // sink exactly-once. One test below uses the idempotent default.
  function sink<R>(topic: string, options: Partial<ToKafkaOptions<R>> = {}) {
    const s = toKafka<R>({ brokers: [kafkaBroker()], topic, idempotentProducer: false, ...options });
    sinks.push(s);
    return s;
  }

  it('writes one record per row: the row as JSON, key and headers as asked, marked with writer, batch and row', async () => {
    const topic = await claimTopic(2);
    const s = sink<Trade>(topic, { key: 'id', headers: (row) => ({ kind: row.amount % 2 === 0 ? 'even' : 'odd' }) });
    await s.start(context('q1'));
    await s.addBatch(0, trades('a', 3));

    const records = await readTopic(topic);
    expect(valuesOf(records)).toEqual(trades('a', 3).map((t) => JSON.stringify(t)).sort());
    const a1 = records.find((r) => r.key?.toString() === 'a1')!;
    expect(JSON.parse(a1.value!.toString())).toEqual({ id: 'a1', amount: 1 });
    expect(header(a1, 'kind')).toBe('odd');
    expect(header(a1, MARKER_HEADERS.writer)).toBe('q1');
    expect(header(a1, MARKER_HEADERS.batch)).toBe('0');
    expect(header(a1, MARKER_HEADERS.row)).toBe('1');
  });

  it("writes Spark-shaped rows' key, value and headers columns as they are", async () => {
    const topic = await claimTopic(1);
    const s = sink<{ key: string | null; value: Buffer; headers: Array<{ key: string; value: Buffer | null }> }>(topic);
    await s.start(context('q2'));
    await s.addBatch(7, [
      { key: 'k', value: Buffer.from([1, 2]), headers: [{ key: 'h', value: Buffer.from('1') }, { key: 'h', value: Buffer.from('2') }] },
      { key: null, value: Buffer.from('plain'), headers: [] },
    ]);
    const records = await readTopic(topic);
    expect(records.map((r) => [r.key?.toString() ?? null, r.value])).toEqual([
      ['k', Buffer.from([1, 2])],
      [null, Buffer.from('plain')],
    ]);
    expect(records[0]!.headers.filter((h) => h.key === 'h').map((h) => h.value?.toString())).toEqual(['1', '2']);
  });

  it('does not write a replayed batch id twice, also after a restart (new sink, same query id)', async () => {
    const topic = await claimTopic(3);
    const first = sink<Trade>(topic, { key: 'id' });
    await first.start(context('q3'));
    await first.addBatch(0, trades('a', 4));
    await first.addBatch(1, trades('b', 5));
    await first.addBatch(1, trades('b', 5)); // replay within the run
    await first.stop();

    const second = sink<Trade>(topic, { key: 'id' });
    await second.start(context('q3'));
    await second.addBatch(0, trades('a', 4)); // older than the last batch
    await second.addBatch(1, trades('b', 5)); // the last batch, complete
    await second.addBatch(2, trades('c', 2));

    expect(valuesOf(await readTopic(topic))).toEqual([...trades('a', 4), ...trades('b', 5), ...trades('c', 2)].map((t) => JSON.stringify(t)).sort());
  });

  it('writes only the missing rows of a batch that was cut off half-way, ignoring other writers', async () => {
    const topic = await claimTopic(2);
    const rows = trades('r', 5);
    const marked = (writer: string, batch: number, row: number, partition: number) => ({
      partition,
      value: JSON.stringify(rows[row]),
      headers: { [MARKER_HEADERS.writer]: writer, [MARKER_HEADERS.batch]: String(batch), [MARKER_HEADERS.row]: String(row) },
    });
    // Batch 3 of q4 reached the topic up to rows 0 and 2 (on different partitions) before the crash;
    // another query wrote a later batch meanwhile.
    await produce(topic, [marked('q4', 2, 0, 0), marked('q4', 3, 0, 0), marked('q4', 3, 2, 1), marked('other', 9, 1, 0), marked('other', 9, 3, 1)]);

    const s = sink<Trade>(topic);
    await s.start(context('q4'));
    await s.addBatch(3, rows);

    const mine = (await readTopic(topic)).filter((r) => header(r, MARKER_HEADERS.writer) === 'q4' && header(r, MARKER_HEADERS.batch) === '3');
    expect(mine.map((r) => Number(header(r, MARKER_HEADERS.row))).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(valuesOf(mine)).toEqual(rows.map((t) => JSON.stringify(t)).sort());
  });

  it("sends row 0 (the batch's origin) alone and first: when a later request fails, the topic holds row 0, and a restarted sink has the origin and writes only the rest", async () => {
    const topic = await claimTopic(2);
    const origin: BatchOrigin = { startOffsets: [{ in: { '0': 3 } }], endOffsets: [{ in: { '0': 8 } }], watermark: 0, timestamp: 1_700_000_000_000, plans: [null] };
    const rows = trades('h', 5);
    // Every produce request after the first resets its connection (a broker or the network failing mid-batch).
    const network = faultyNetwork();
    network.failAfter.set(API_KEY.produce, 1);
    const cut = sink<Trade>(topic, { key: 'id', kafka: { socketFactory: network.socketFactory, retry: { retries: 0 } } });
    await cut.start(context('q-cut'));
    await expect(cut.addBatch(0, rows, origin)).rejects.toBeInstanceOf(SinkError);
    expect(network.sent.get(API_KEY.produce)).toBe(1);
    const reached = await readTopic(topic);
    expect(reached.map((r) => [header(r, MARKER_HEADERS.batch), header(r, MARKER_HEADERS.row)])).toEqual([['0', '0']]);
    expect(JSON.parse(header(reached[0]!, MARKER_HEADERS.origin)!)).toEqual(origin);

    const restarted = sink<Trade>(topic, { key: 'id' });
    await restarted.start(context('q-cut'));
    expect(await restarted.lastCommittedBatchId!()).toBe(0);
    expect(await restarted.committedOrigin!(0)).toEqual(origin); // a checkpoint behind this batch re-plans it from here
    await restarted.addBatch(0, rows, origin);
    const all = await readTopic(topic);
    expect(valuesOf(all)).toEqual(rows.map((t) => JSON.stringify(t)).sort());
    expect(all.filter((r) => header(r, MARKER_HEADERS.origin) !== undefined)).toHaveLength(1);
  });

  it('a forged marker of its own writer id for a far batch (rss.batch=1000000) suppresses nothing', async () => {
    const topic = await claimTopic(2);
    const first = sink<Trade>(topic, { key: 'id' });
    await first.start(context('q8'));
    await first.addBatch(0, trades('a', 3));
    await first.stop();
    await produce(topic, [{ partition: 1, key: 'x', value: 'forged', headers: { [MARKER_HEADERS.writer]: 'q8', [MARKER_HEADERS.batch]: '1000000', [MARKER_HEADERS.row]: '0' } }]);

    const restarted = sink<Trade>(topic, { key: 'id' });
    await restarted.start(context('q8'));
    await restarted.addBatch(0, trades('a', 3)); // a replay: already there
    await restarted.addBatch(1, trades('b', 4));
    await restarted.addBatch(2, trades('c', 2));
    const written = (await readTopic(topic)).filter((r) => r.value?.toString() !== 'forged');
    expect(valuesOf(written)).toEqual([...trades('a', 3), ...trades('b', 4), ...trades('c', 2)].map((t) => JSON.stringify(t)).sort());
  });

  it('a marker for the very batch and row being written, but with other content, does not suppress the row', async () => {
    const topic = await claimTopic(1);
    await produce(topic, [{ partition: 0, value: 'not row 0', headers: { [MARKER_HEADERS.writer]: 'q9', [MARKER_HEADERS.batch]: '0', [MARKER_HEADERS.row]: '0' } }]);
    const s = sink<Trade>(topic);
    await s.start(context('q9'));
    await s.addBatch(0, trades('a', 2));
    expect(valuesOf(await readTopic(topic))).toEqual(['not row 0', ...trades('a', 2).map((t) => JSON.stringify(t))].sort());
  });

  it('a new query (new checkpoint, new query id) on a topic another query wrote gets all of its rows written', async () => {
    const topic = await claimTopic(2);
    const old = sink<Trade>(topic, { key: 'id' });
    await old.start(context('old-query'));
    for (let b = 0; b < 4; b++) await old.addBatch(b, trades(`o${b}-`, 3));
    const fresh = sink<Trade>(topic, { key: 'id' });
    await fresh.start(context('new-query'));
    for (let b = 0; b < 4; b++) await fresh.addBatch(b, trades(`o${b}-`, 3));
    const records = await readTopic(topic);
    expect(records).toHaveLength(24);
    expect(records.filter((r) => header(r, MARKER_HEADERS.writer) === 'new-query')).toHaveLength(12);
  });

  it('is at-least-once without markers when exactlyOnce is false', async () => {
    const topic = await claimTopic(1);
    const s = sink<Trade>(topic, { exactlyOnce: false });
    expect(s.idempotent).toBe(false);
    await s.addBatch(0, trades('a', 2));
    await s.addBatch(0, trades('a', 2));
    const records = await readTopic(topic);
    expect(records).toHaveLength(4);
    expect(records.every((r) => header(r, MARKER_HEADERS.batch) === undefined)).toBe(true);
  });

  it('writes through the idempotent producer by default', async () => {
    const topic = await claimTopic(1);
    const s = toKafka<Trade>({ brokers: [kafkaBroker()], topic });
    sinks.push(s);
    await s.start(context('q7'));
    for (let batch = 0; batch < 3; batch++) await s.addBatch(batch, trades(`b${batch}-`, 1));
    expect(valuesOf(await readTopic(topic))).toEqual(['b0-', 'b1-', 'b2-'].map((p) => JSON.stringify({ id: `${p}0`, amount: 0 })).sort());
  });

  it('states its output modes and idempotence', () => {
    const s = toKafka({ brokers: ['localhost:9092'], topic: 'out' });
    expect(s.supportedModes).toEqual(['append', 'update', 'complete']);
    expect(s.idempotent).toBe(true);
    expect(s.description).toBe('KafkaSink[out]');
  });

  describe('failures', () => {
    it('wraps an unreachable broker in a retriable SinkError naming brokers and topic', async () => {
      const s = toKafka({ brokers: ['127.0.0.1:1'], topic: 'out', kafka: { retry: { retries: 1, initialRetryTime: 50 }, connectionTimeout: 500 } });
      sinks.push(s);
      const error = await s.start(context('q5')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SinkError);
      expect((error as SinkError).retriable).toBe(true);
      expect((error as Error).message).toMatch(/^toKafka: connecting failed for topic out on brokers 127\.0\.0\.1:1: /);
    });

    it('wraps writing to a topic the broker does not have in a SinkError naming it', async () => {
      const s = toKafka({ brokers: [kafkaBroker()], topic: 'rss-no-such-topic', idempotentProducer: false, kafka: { retry: { retries: 0 } } });
      sinks.push(s);
      await s.start(context('q6'));
      const error = await s.addBatch(0, [{ a: 1 }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SinkError);
      expect((error as Error).message).toMatch(/^toKafka: reading back the batch markers failed for topic rss-no-such-topic on brokers /);
    });

    it('asks for a writer id when used without start() and without sinkId', async () => {
      const s = toKafka({ brokers: [kafkaBroker()], topic: 'out' });
      const error = await s.addBatch(0, []).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SinkError);
      expect((error as Error).message).toBe(
        'toKafka: the sink has no writer id for its batch markers (topic out): start() was not called. Pass sinkId, or run the sink through startQuery.',
      );
    });
  });

  describe('misconfiguration', () => {
    const brokers = ['localhost:9092'];
    it.each([
      [{ brokers: 'nope', topic: 't' }, 'brokers', 'toKafka: brokers must be a non-empty list of host:port addresses; got "nope". Pass e.g. [\'localhost:9092\'] or \'host1:9092,host2:9092\'.'],
      [{ brokers }, 'topic', 'toKafka: topic must be a valid Kafka topic name; got undefined. Topic names use letters, digits, ".", "_" and "-".'],
      [{ brokers, topic: 't', key: 3 }, 'key', "toKafka: key must be a column name or a function of the row; got 3. Pass e.g. key: 'id' or key: (row) => row.id."],
      [{ brokers, topic: 't', headers: {} }, 'headers', 'toKafka: headers must be a function of the row; got {}. Pass headers: (row) => ({ source: row.origin }).'],
      [{ brokers, topic: 't', maxRecordsPerSend: 1.5 }, 'maxRecordsPerSend', 'toKafka: maxRecordsPerSend must be a positive integer; got 1.5. Leave it out for 10000.'],
      [{ brokers, topic: 't', sinkId: '' }, 'sinkId', 'toKafka: sinkId must be a non-empty string; got "". Leave it out to use the query id.'],
    ])('rejects %j (%s)', (options, option, message) => {
      let error: unknown;
      try {
        toKafka(options as never);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(option);
      expect((error as Error).message).toBe(message);
    });
  });
});

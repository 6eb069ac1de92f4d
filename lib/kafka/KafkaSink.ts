import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import type { OutputModeName } from '../internal/pipeline.js';
import { SinkError, StreamingError } from '../errors/index.js';
import type { BatchOrigin, Sink, SinkContext } from '../sinks/Sink.js';
import { createKafka, isRetriableKafkaError, kafkaErrorMessage, type KafkaConnectionOptions } from './KafkaConnection.js';
import { KafkaLog, type KafkaLogRecord, type PartitionWatermarks } from './KafkaLog.js';

/** Bytes a record's key, value or header may be given as. */
export type KafkaBytes = string | Buffer;

/** Headers `toKafka` writes: a map, or Spark's list of `{ key, value }` (repeated keys allowed). */
export type KafkaHeadersInput = Readonly<Record<string, KafkaBytes | undefined>> | ReadonlyArray<{ readonly key: string; readonly value: KafkaBytes | null }>;

/** Names of the headers that mark each record with the batch that wrote it. */
export const MARKER_HEADERS = {
  /** The writer: the query id (or `sinkId`). */
  writer: 'rss.writer',
  /** The batch id. */
  batch: 'rss.batch',
  /** The row's index within the batch. */
  row: 'rss.row',
  /**
   * On a batch's row 0 only: what the batch read (JSON of the `BatchOrigin`
   * the query hands the sink: `offsets/N` and the sources' plans), so a
   * checkpoint restored from an older copy re-plans the batches the topic
   * holds exactly as they ran.
   */
  origin: 'rss.origin',
  /** On a batch's row 0 only, when batches without rows came right before it in the run: their origins (JSON list of `{ batchId, origin }`). */
  before: 'rss.before',
} as const;

const RESERVED_HEADERS = new Set<string>(Object.values(MARKER_HEADERS));

/** Everything {@link KafkaSink} needs, validated by `toKafka`. */
export interface KafkaSinkConfig<R> {
  readonly connection: KafkaConnectionOptions;
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly key: (row: R) => KafkaBytes | null | undefined;
  readonly value: (row: R) => KafkaBytes | null;
  readonly headers: ((row: R) => KafkaHeadersInput | undefined) | undefined;
  readonly partition: ((row: R) => number | undefined) | undefined;
  readonly exactlyOnce: boolean;
  readonly idempotentProducer: boolean;
  readonly sinkId: string | undefined;
  readonly maxRecordsPerSend: number;
}

const OPERATOR = 'toKafka';
const SCAN_WINDOW = 512;

/**
 * What the topic says this writer already wrote from batch `from` on: per
 * batch id, per row index, the record found (its key and value are compared
 * with the row before the row is skipped).
 */
interface WrittenState {
  readonly from: number;
  readonly batches: Map<number, Map<number, WrittenRecord[]>>;
}

/** The part of a record compared with a row before the row is skipped. */
interface WrittenRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

function asBuffer(bytes: KafkaBytes | null | undefined): Buffer | null {
  if (bytes === null || bytes === undefined) return null;
  return typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
}

function headerText(record: KafkaLogRecord, name: string): string | undefined {
  for (const h of record.headers) if (h.key === name) return h.value === null ? undefined : h.value.toString('utf8');
  return undefined;
}

/** A marker header as a batch or row number, or `undefined` when it is missing or not a non-negative integer. */
function markerNumber(record: KafkaLogRecord, name: string): number | undefined {
  const text = headerText(record, name);
  if (text === undefined || !/^\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}

function isOrigin(value: unknown): value is BatchOrigin {
  if (typeof value !== 'object' || value === null) return false;
  const o = value as Partial<BatchOrigin>;
  return Array.isArray(o.startOffsets) && Array.isArray(o.endOffsets) && Array.isArray(o.plans) && Number.isFinite(o.watermark) && Number.isFinite(o.timestamp);
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** An `rss.origin` header's origin, `undefined` when absent or not one. */
function parseOrigin(text: string | undefined): BatchOrigin | undefined {
  const value = parseJson(text);
  return isOrigin(value) ? value : undefined;
}

/** An `rss.before` header's list of `{ batchId, origin }` (entries of the wrong shape left out). */
function parseBefore(text: string | undefined): Array<{ batchId: number; origin: BatchOrigin }> {
  const value = parseJson(text);
  if (!Array.isArray(value)) return [];
  return value.filter((e): e is { batchId: number; origin: BatchOrigin } => typeof e === 'object' && e !== null && Number.isSafeInteger((e as { batchId?: unknown }).batchId) && isOrigin((e as { origin?: unknown }).origin));
}

function sameBytes(expected: KafkaBytes | null | undefined, actual: Buffer | null): boolean {
  const bytes = asBuffer(expected);
  return bytes === null || actual === null ? bytes === actual : bytes.equals(actual);
}

/**
 * The Kafka sink behind `toKafka`. Idempotent per writer (the query id) and
 * batch id: every record carries its writer, batch id and row index in
 * headers, and before the first batch of a run the sink reads back the tail
 * of the topic to learn which rows of that batch and later ones it already
 * wrote. A row is skipped only when this writer's record for the same batch
 * and row index is there with the same key and value, so a replayed batch
 * writes only what is missing, and a foreign or forged marker never
 * suppresses a row.
 */
export class KafkaSink<R> implements Sink<R> {
  readonly description: string;
  readonly supportedModes: readonly OutputModeName[] = ['append', 'update', 'complete'];
  readonly idempotent: boolean;

  private kafka: Kafka | undefined;
  private producer: Producer | undefined;
  private writer: string | undefined;
  private written: WrittenState | undefined;
  /** Origins of the batches without rows given since the last batch with rows (carried on the next batch's row 0). */
  private emptyOrigins: Array<{ readonly batchId: number; readonly origin: BatchOrigin }> = [];
  /** What the topic says this writer's batches from `from` on read (row 0's `rss.origin`, and `rss.before`), read back once per run. */
  private origins: { readonly from: number; readonly byBatch: Map<number, BatchOrigin> } | undefined;

  constructor(private readonly config: KafkaSinkConfig<R>) {
    this.description = `KafkaSink[${config.topic}]`;
    this.idempotent = config.exactlyOnce;
    this.writer = config.sinkId;
  }

  async start(context: SinkContext): Promise<void> {
    this.writer = this.config.sinkId ?? context.queryId;
    if (this.config.exactlyOnce) {
      // Reading back the batch markers needs kafkajs's private Cluster: checked now (a KafkaClientUnsupportedError), not at the first replay.
      this.kafka ??= createKafka(this.config.connection, this.config.brokers);
      void new KafkaLog(this.kafka);
    }
    await this.connect();
  }

  async addBatch(batchId: number, rows: readonly R[], origin?: BatchOrigin): Promise<void> {
    const producer = await this.connect();
    const before = this.emptyOrigins.filter((e) => e.batchId < batchId);
    let present: Map<number, WrittenRecord[]> | undefined;
    if (this.config.exactlyOnce) {
      if (this.written === undefined || batchId < this.written.from) this.written = await this.recover(batchId);
      present = this.written.batches.get(batchId);
    }
    const all: Message[] = [];
    const messages: Message[] = [];
    for (let i = 0; i < rows.length; i++) {
      const message = this.toMessage(batchId, i, rows[i]!, i === 0 ? origin : undefined, i === 0 ? before : []);
      all.push(message);
      // Skipped only when this writer's record for this batch and row is there with the same key and value.
      if (present?.get(i)?.some((found) => sameBytes(message.key, found.key) && sameBytes(message.value, found.value)) === true) continue;
      messages.push(message);
    }
    // Row 0 carries the batch's origin: it goes first, alone, and the other rows only once it is acknowledged. So
    // any record of the batch in the topic means row 0 is there too, whatever request fails (on whichever broker),
    // and a checkpoint behind this batch can always re-plan it from the topic.
    const alone = this.config.exactlyOnce && origin !== undefined && messages.length > 1 && messages[0] === all[0] ? 1 : 0;
    try {
      if (alone === 1) await producer.send({ topic: this.config.topic, acks: -1, messages: [messages[0]!] });
      for (let from = alone; from < messages.length; from += this.config.maxRecordsPerSend) {
        await producer.send({ topic: this.config.topic, acks: -1, messages: messages.slice(from, from + this.config.maxRecordsPerSend) });
      }
    } catch (error) {
      // What reached the topic is unknown now: read it back before the retry.
      this.written = undefined;
      this.fail(`writing batch ${batchId}`, error);
    }
    if (this.written !== undefined) {
      // This batch is now written (a replay of it in this run writes nothing); older batches are not replayed any more.
      for (const id of this.written.batches.keys()) if (id < batchId) this.written.batches.delete(id);
      this.written.batches.set(batchId, new Map(all.map((m, i) => [i, [{ key: asBuffer(m.key), value: asBuffer(m.value) }]])));
    }
    this.origins = undefined; // read back again if asked: the topic holds more now
    if (this.config.exactlyOnce && origin !== undefined) {
      // A batch without rows writes nothing: its origin goes with the next batch that writes a record.
      if (rows.length === 0) this.emptyOrigins = [...before, { batchId, origin }];
      else this.emptyOrigins = [];
    }
  }

  /**
   * The newest batch id this writer has a record of in the topic, or -1
   * (read back from the end of each partition; -1 without `exactlyOnce`).
   * A batch without rows leaves no record, so it counts only once a later
   * batch wrote one.
   */
  async lastCommittedBatchId(): Promise<number> {
    if (!this.config.exactlyOnce) return -1;
    let newest = -1;
    await this.scan(async (log, wm, writer) => {
      const batch = await new BackwardScanner(log, this.config.topic, wm, writer).newestBatch();
      if (batch !== undefined && batch > newest) newest = batch;
    }, 'reading back the batch markers');
    return newest;
  }

  /**
   * What batch `batchId` of this writer read, from the `rss.origin` header of
   * its row 0 (or, for a batch without rows, the `rss.before` header of the
   * next batch with rows written in the same run); `undefined` when the
   * topic has no such record (row 0 never written, or written before the
   * sink kept origins).
   */
  async committedOrigin(batchId: number): Promise<BatchOrigin | undefined> {
    if (!this.config.exactlyOnce) return undefined;
    if (this.origins === undefined || batchId < this.origins.from) {
      const byBatch = new Map<number, BatchOrigin>();
      await this.scan(async (log, wm, writer) => {
        const batches = new Map<number, Map<number, KafkaLogRecord[]>>();
        await new BackwardScanner(log, this.config.topic, wm, writer).collect(batchId, batches, 0);
        for (const [id, rows] of batches) {
          for (const record of rows.get(0) ?? []) {
            const own = parseOrigin(headerText(record, MARKER_HEADERS.origin));
            if (own !== undefined) byBatch.set(id, own);
            for (const e of parseBefore(headerText(record, MARKER_HEADERS.before))) if (e.batchId < id) byBatch.set(e.batchId, e.origin);
          }
        }
      }, 'reading back the batch origins');
      this.origins = { from: batchId, byBatch };
    }
    return this.origins.byBatch.get(batchId);
  }

  /** Origins of batches without rows of an earlier run (given by the runtime at start): carried on the next batch's row 0, like this run's. */
  holdOrigins(entries: ReadonlyArray<{ readonly batchId: number; readonly origin: BatchOrigin }>): void {
    if (!this.config.exactlyOnce) return;
    const held = new Map<number, BatchOrigin>(entries.map((e) => [e.batchId, e.origin]));
    for (const e of this.emptyOrigins) held.set(e.batchId, e.origin);
    this.emptyOrigins = [...held.entries()].sort(([a], [b]) => a - b).map(([batchId, origin]) => ({ batchId, origin }));
  }

  async stop(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    this.kafka = undefined;
    this.written = undefined;
    this.origins = undefined;
    this.emptyOrigins = [];
    if (producer !== undefined) await producer.disconnect().catch(() => undefined);
  }

  // -------------------------------------------------------------------------

  private fail(action: string, error: unknown): never {
    if (error instanceof StreamingError) throw error;
    throw new SinkError(
      OPERATOR,
      `${action} failed for topic ${this.config.topic} on brokers ${this.config.brokers.join(',')}: ${kafkaErrorMessage(error)}`,
      error,
      isRetriableKafkaError(error),
    );
  }

  private async connect(): Promise<Producer> {
    if (this.producer !== undefined) return this.producer;
    if (this.config.exactlyOnce && this.writer === undefined) {
      throw new SinkError(OPERATOR, `the sink has no writer id for its batch markers (topic ${this.config.topic}): start() was not called. Pass sinkId, or run the sink through startQuery.`);
    }
    let producer: Producer;
    try {
      this.kafka ??= createKafka(this.config.connection, this.config.brokers);
      producer = this.kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
        idempotent: this.config.idempotentProducer,
        ...(this.config.idempotentProducer ? { maxInFlightRequests: 1 } : {}),
      });
      await producer.connect();
    } catch (error) {
      this.fail('connecting', error);
    }
    this.producer = producer;
    return producer;
  }

  /** Runs `each` for every partition of the topic with a connected log and this writer's id; failures become `SinkError`s. */
  private async scan(each: (log: KafkaLog, wm: PartitionWatermarks, writer: string) => Promise<void>, action: string): Promise<void> {
    if (this.writer === undefined) {
      throw new SinkError(OPERATOR, `the sink has no writer id for its batch markers (topic ${this.config.topic}): start() was not called. Pass sinkId, or run the sink through startQuery.`);
    }
    const kafka = (this.kafka ??= createKafka(this.config.connection, this.config.brokers));
    const log = new KafkaLog(kafka);
    try {
      await log.connect();
      for (const wm of await log.watermarks(this.config.topic)) await each(log, wm, this.writer);
    } catch (error) {
      this.fail(action, error);
    } finally {
      await log.disconnect();
    }
  }

  private toMessage(batchId: number, index: number, row: R, origin: BatchOrigin | undefined, before: ReadonlyArray<{ batchId: number; origin: BatchOrigin }>): Message {
    const { key, value, headers, partition } = this.config;
    const out: Array<{ key: string; value: KafkaBytes }> = [];
    const given = headers?.(row);
    if (Array.isArray(given)) {
      for (const h of given as ReadonlyArray<{ key: string; value: KafkaBytes | null }>) if (h.value !== null) out.push({ key: h.key, value: h.value });
    } else if (given !== undefined) {
      for (const [k, v] of Object.entries(given as Record<string, KafkaBytes | undefined>)) if (v !== undefined) out.push({ key: k, value: v });
    }
    const message: { key?: KafkaBytes | null; value: KafkaBytes | null; partition?: number; headers?: Record<string, KafkaBytes | KafkaBytes[]> } = {
      key: key(row) ?? null,
      value: value(row),
    };
    const p = partition?.(row);
    if (p !== undefined) message.partition = p;
    const byKey: Record<string, KafkaBytes | KafkaBytes[]> = {};
    for (const h of out) {
      if (RESERVED_HEADERS.has(h.key)) continue;
      const prev = byKey[h.key];
      byKey[h.key] = prev === undefined ? h.value : Array.isArray(prev) ? [...prev, h.value] : [prev, h.value];
    }
    if (this.config.exactlyOnce) {
      byKey[MARKER_HEADERS.writer] = this.writer!;
      byKey[MARKER_HEADERS.batch] = String(batchId);
      byKey[MARKER_HEADERS.row] = String(index);
      if (origin !== undefined) byKey[MARKER_HEADERS.origin] = JSON.stringify(origin);
      if (before.length > 0) byKey[MARKER_HEADERS.before] = JSON.stringify(before);
    }
    if (Object.keys(byKey).length > 0) message.headers = byKey;
    return message as Message;
  }

  /**
   * Reads back, per partition from the end, every record of this writer for
   * batch `from` or later, stopping in each partition at the first (newest)
   * record of this writer with an older batch id: a run writes its batches in
   * increasing order, so nothing of batch `from` or later is below it. A
   * record of another writer, or with a batch id other than the one being
   * written, never makes the sink skip a row.
   */
  private async recover(from: number): Promise<WrittenState> {
    const writer = this.writer!;
    const kafka = (this.kafka ??= createKafka(this.config.connection, this.config.brokers));
    const log = new KafkaLog(kafka);
    try {
      await log.connect();
      const marks = await log.watermarks(this.config.topic);
      const batches = new Map<number, Map<number, KafkaLogRecord[]>>();
      for (const wm of marks) await new BackwardScanner(log, this.config.topic, wm, writer).collect(from, batches);
      return { from, batches };
    } catch (error) {
      this.fail('reading back the batch markers', error);
    } finally {
      await log.disconnect();
    }
  }
}

/** Walks one partition from its end towards its start in windows, looking at one writer's markers. */
class BackwardScanner {
  /** Records read so far, newest first, and the offset below which nothing is read yet. */
  private readonly seen: KafkaLogRecord[] = [];
  private lowestRead: number;
  private window = SCAN_WINDOW;

  constructor(
    private readonly log: KafkaLog,
    private readonly topic: string,
    private readonly marks: PartitionWatermarks,
    private readonly writer: string,
  ) {
    this.lowestRead = marks.high;
  }

  /** Adds to `batches` every record of this writer with batch id `from` or later, newest first, until an older batch of this writer. */
  async collect(from: number, batches: Map<number, Map<number, KafkaLogRecord[]>>, onlyRow?: number): Promise<void> {
    for (let i = 0; ; i++) {
      while (i >= this.seen.length) if (!(await this.readMore())) return;
      const record = this.seen[i]!;
      if (headerText(record, MARKER_HEADERS.writer) !== this.writer) continue;
      const batch = markerNumber(record, MARKER_HEADERS.batch);
      const row = markerNumber(record, MARKER_HEADERS.row);
      if (batch === undefined || row === undefined) continue;
      if (batch < from) return;
      if (onlyRow !== undefined && row !== onlyRow) continue;
      let rows = batches.get(batch);
      if (rows === undefined) batches.set(batch, (rows = new Map()));
      const found = rows.get(row);
      if (found === undefined) rows.set(row, [record]);
      else found.push(record);
    }
  }

  /** The batch id of this writer's newest record in the partition, `undefined` when it has none. */
  async newestBatch(): Promise<number | undefined> {
    for (let i = 0; ; i++) {
      while (i >= this.seen.length) if (!(await this.readMore())) return undefined;
      const record = this.seen[i]!;
      if (headerText(record, MARKER_HEADERS.writer) !== this.writer) continue;
      const batch = markerNumber(record, MARKER_HEADERS.batch);
      if (batch !== undefined && markerNumber(record, MARKER_HEADERS.row) !== undefined) return batch;
    }
  }

  private async readMore(): Promise<boolean> {
    if (this.lowestRead <= this.marks.low) return false;
    const from = Math.max(this.marks.low, this.lowestRead - this.window);
    const records = await this.log.read([{ topic: this.topic, partition: this.marks.partition, from, until: this.lowestRead }]);
    for (let i = records.length - 1; i >= 0; i--) this.seen.push(records[i]!);
    this.lowestRead = from;
    this.window *= 2;
    return true;
  }
}

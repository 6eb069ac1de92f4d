import { InvalidOptionError, describeValue } from '../errors/index.js';
import { parseBrokers, type KafkaConnectionOptions } from '../kafka/KafkaConnection.js';
import { KafkaSink, type KafkaBytes, type KafkaHeadersInput } from '../kafka/KafkaSink.js';

export type { KafkaSink, KafkaBytes, KafkaHeadersInput } from '../kafka/KafkaSink.js';
export { MARKER_HEADERS } from '../kafka/KafkaSink.js';

/** A column of the row, or a function computing the bytes from the row. */
export type KafkaColumn<R, B> = (keyof R & string) | ((row: R) => B);

/** Options for {@link toKafka}. */
export interface ToKafkaOptions<R> extends KafkaConnectionOptions {
  /** The topic every row is written to (it must exist). */
  readonly topic: string;
  /**
   * The record key: a column name or a function. A string or `Buffer` is
   * written as is, anything else as JSON. @defaultValue the row's `key`
   * column when it is a string or `Buffer` (as in Spark), else no key
   */
  readonly key?: KafkaColumn<R, KafkaBytes | null | undefined>;
  /**
   * The record value: a column name or a function. @defaultValue the row's
   * `value` column when it is a string, a `Buffer` or `null` (as in Spark),
   * else the whole row as JSON
   */
  readonly value?: KafkaColumn<R, KafkaBytes | null>;
  /** Record headers. @defaultValue the row's `headers` column when it is a list of `{ key, value }` (as `fromKafka` gives them) */
  readonly headers?: (row: R) => KafkaHeadersInput | undefined;
  /** The partition to write a row to. @defaultValue kafkajs's default partitioner (murmur2 of the key, as the Java client) */
  readonly partition?: (row: R) => number | undefined;
  /**
   * Mark every record with the writer, batch id and row index (headers
   * `rss.writer`, `rss.batch`, `rss.row`) and, when a run starts, read the
   * topic back to skip the rows of a replayed batch this writer already
   * wrote (same batch, row, key and value). With `false` the sink is
   * at-least-once, like Spark's. @defaultValue `true`
   */
  readonly exactlyOnce?: boolean;
  /** Use Kafka's idempotent producer, so retried sends are not duplicated. @defaultValue `true` */
  readonly idempotentProducer?: boolean;
  /** The writer id in the batch markers. @defaultValue the query id (kept across restarts by the checkpoint) */
  readonly sinkId?: string;
  /** Records per produce request. @defaultValue 10000 */
  readonly maxRecordsPerSend?: number;
}

function invalid(option: string, rule: string, received: unknown, hint: string, expected: string): never {
  throw new InvalidOptionError(`toKafka: ${option} ${rule}; got ${describeValue(received)}. ${hint}`, option, received, expected);
}

function isBytes(value: unknown): value is KafkaBytes {
  return typeof value === 'string' || Buffer.isBuffer(value);
}

function toBytes(value: unknown): KafkaBytes | null {
  if (value === null || value === undefined) return null;
  return isBytes(value) ? value : JSON.stringify(value);
}

function column<R, B>(option: string, spec: KafkaColumn<R, B> | undefined, fallback: (row: R) => KafkaBytes | null): (row: R) => KafkaBytes | null {
  if (spec === undefined) return fallback;
  if (typeof spec === 'function') return (row) => toBytes(spec(row));
  if (typeof spec === 'string' && spec !== '') return (row) => toBytes((row as Record<string, unknown>)[spec]);
  invalid(option, 'must be a column name or a function of the row', spec, `Pass e.g. ${option}: 'id' or ${option}: (row) => row.id.`, 'a column name or (row) => string | Buffer');
}

function isHeaderList(value: unknown): value is ReadonlyArray<{ key: string; value: KafkaBytes | null }> {
  return Array.isArray(value) && value.every((h) => typeof h === 'object' && h !== null && typeof (h as { key?: unknown }).key === 'string');
}

/**
 * Writes each batch's rows to a Kafka topic, one record per row, exactly once
 * per batch id.
 *
 * Spark: `df.writeStream.format("kafka").option("topic", topic).start()`
 * (Spark's Kafka sink is at-least-once; this one adds batch markers).
 *
 * ```text
 * batches  --0-----1-----1'----2--     1' = batch 1 replayed after a crash
 *          toKafka({ topic })
 * topic    --abc---de----------f--     1' writes only the rows of batch 1 that are missing (none here)
 * ```
 *
 * **Exactly once, per query.** Every record carries headers `rss.writer`
 * (the query id, or `sinkId`), `rss.batch` and `rss.row`. When a run
 * starts, the sink reads each partition back from its end, collecting this
 * writer's records of the batch being written and later ones, until it
 * meets an older batch of this writer. A row of a replayed batch is skipped
 * only when this writer's record for *that* batch and row index is there
 * with the same key and value; everything else is written. So a batch cut
 * off half-way gets only its missing rows, a different query (a new
 * checkpoint, so a new query id) writing to the same topic gets all its rows
 * written, and a foreign or forged marker (say one record with
 * `rss.batch=1000000`) never suppresses output. This holds when a replayed
 * batch has the same rows in the same order (a deterministic pipeline over a
 * replayable source, as Spark requires too). Kafka's idempotent producer
 * keeps retried sends from duplicating records. Readers see each row once,
 * without transactions (mokapi, the test broker, has none).
 *
 * **A checkpoint behind the topic.** Row 0 of each batch also carries
 * `rss.origin`, what the batch read (its `offsets/N` and the sources' plans;
 * `rss.before` for batches without rows just before it), sent alone before
 * the batch's other rows (so any record of a batch in the topic means its
 * origin is there too), so a checkpoint
 * restored from an older copy re-plans the batches the topic holds exactly
 * as they ran instead of losing or doubling rows (`lastCommittedBatchId`,
 * `committedOrigin`; see docs/guides/checkpointing.md).
 *
 * **Output modes.** All three: `append` writes new rows, `update` changed
 * rows, `complete` the whole result table each batch.
 *
 * @example
 * ```ts
 * import { fromKafka, startQuery, toKafka } from 'rxjs-structured-streaming';
 *
 * const query = startQuery({
 *   source: fromKafka({ brokers: ['localhost:9092'], topic: 'in', startingOffsets: 'earliest' }),
 *   sink: toKafka({ brokers: ['localhost:9092'], topic: 'out' }),
 *   checkpointLocation: './checkpoints/copy',
 * });
 * // => every record of 'in' appears in 'out' once, with its key, value and headers
 * ```
 *
 * @param options Brokers, topic and how rows become records.
 * @returns A {@link KafkaSink} to pass to `startQuery`.
 * @throws {InvalidOptionError} `brokers` is not a non-empty list of `host:port` addresses.
 * @throws {InvalidOptionError} `topic` is not a valid topic name.
 * @throws {InvalidOptionError} `key` or `value` is neither a column name nor a function; `headers` or `partition` is not a function.
 * @throws {InvalidOptionError} `maxRecordsPerSend` is not a positive integer; `sinkId` is not a non-empty string.
 * @throws {SinkError} (while the query runs; `retriable` copied from kafkajs) connecting, reading back the markers, or writing failed; the message names the topic and brokers, e.g. `toKafka: writing batch 3 failed for topic out on brokers host:9092: …`.
 * @throws {SinkError} `addBatch` was called without `start()` and without `sinkId` (no writer id for the markers).
 * @see fromKafka
 */
export function toKafka<R>(options: ToKafkaOptions<R>): KafkaSink<R> {
  if (typeof options !== 'object' || options === null) invalid('options', 'must be an object', options, 'Pass { brokers, topic }.', 'ToKafkaOptions');
  const brokers = parseBrokers('toKafka', options.brokers);
  if (typeof options.topic !== 'string' || !/^[a-zA-Z0-9._-]{1,249}$/.test(options.topic)) {
    invalid('topic', 'must be a valid Kafka topic name', options.topic, 'Topic names use letters, digits, ".", "_" and "-".', 'a topic name');
  }
  const key = column<R, KafkaBytes | null | undefined>('key', options.key, (row) => {
    const k = (row as { key?: unknown } | null)?.key;
    return isBytes(k) ? k : null;
  });
  const value = column<R, KafkaBytes | null>('value', options.value, (row) => {
    const v = (row as { value?: unknown } | null)?.value;
    return v === null ? null : isBytes(v) ? v : JSON.stringify(row);
  });
  if (options.headers !== undefined && typeof options.headers !== 'function') {
    invalid('headers', 'must be a function of the row', options.headers, 'Pass headers: (row) => ({ source: row.origin }).', '(row) => headers');
  }
  if (options.partition !== undefined && typeof options.partition !== 'function') {
    invalid('partition', 'must be a function of the row', options.partition, 'Pass partition: (row) => row.shard, or leave it out.', '(row) => number');
  }
  const maxRecordsPerSend = options.maxRecordsPerSend ?? 10_000;
  if (!Number.isSafeInteger(maxRecordsPerSend) || maxRecordsPerSend <= 0) {
    invalid('maxRecordsPerSend', 'must be a positive integer', maxRecordsPerSend, 'Leave it out for 10000.', 'a positive integer');
  }
  if (options.sinkId !== undefined && (typeof options.sinkId !== 'string' || options.sinkId === '')) {
    invalid('sinkId', 'must be a non-empty string', options.sinkId, 'Leave it out to use the query id.', 'a non-empty string');
  }
  const headers =
    options.headers ??
    ((row: R) => {
      const h = (row as { headers?: unknown } | null)?.headers;
      return isHeaderList(h) ? h : undefined;
    });
  return new KafkaSink<R>({
    connection: options,
    brokers,
    topic: options.topic,
    key,
    value,
    headers,
    partition: options.partition,
    exactlyOnce: options.exactlyOnce ?? true,
    idempotentProducer: options.idempotentProducer ?? true,
    sinkId: options.sinkId,
    maxRecordsPerSend,
  });
}

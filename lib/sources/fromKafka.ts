import { InvalidOptionError, describeValue } from '../errors/index.js';
import { parseBrokers, type KafkaConnectionOptions } from '../kafka/KafkaConnection.js';
import type { KafkaGroupOptions } from '../kafka/KafkaGroupMember.js';
import type { KafkaOffsets } from '../kafka/KafkaOffsets.js';
import { compileSchema, type RowOf, type Schema } from './parseRecords.js';
import { KafkaSource, type KafkaDecoded, type KafkaFormat, type KafkaRow, type StartingOffsets } from '../kafka/KafkaSource.js';

export type { KafkaRow, KafkaFormat, KafkaDecoded, StartingOffsets } from '../kafka/KafkaSource.js';
export type { KafkaSource } from '../kafka/KafkaSource.js';
export type { KafkaOffsets, TopicPartition } from '../kafka/KafkaOffsets.js';
export type { KafkaHeader } from '../kafka/KafkaLog.js';
export type { KafkaConnectionOptions } from '../kafka/KafkaConnection.js';
export type { KafkaGroupOptions } from '../kafka/KafkaGroupMember.js';

/** Options for {@link fromKafka}. */
export interface FromKafkaOptions<K extends KafkaFormat = 'binary', V extends KafkaFormat = 'binary'> extends KafkaConnectionOptions {
  /** The topic to read (Spark's `subscribe`). Give exactly one of `topic` and `topics`. */
  readonly topic?: string;
  /** Several topics to read as one stream. */
  readonly topics?: readonly string[];
  /**
   * A consumer group to join. Processes with the same `groupId` share the
   * topics' partitions: each reads only the partitions the group assigns it.
   * The group also receives each batch's end offsets after the batch commits
   * (for lag monitoring). Without a group, the source reads every partition.
   */
  readonly groupId?: string;
  /** Session, heartbeat and rebalance timeouts of the group membership. */
  readonly group?: KafkaGroupOptions;
  /**
   * Where the query's first batch starts: `'earliest'`, `'latest'`, or per
   * partition `{ topic: { partition: offset } }` with `-2` = earliest and
   * `-1` = latest (partitions left out start at the latest offset). Only used
   * when the checkpoint has no offsets: a restarted query resumes from its
   * checkpoint. @defaultValue `'latest'` (as in Spark)
   */
  readonly startingOffsets?: StartingOffsets;
  /** At most this many offsets per batch, split across partitions in proportion to their backlog. @defaultValue no limit */
  readonly maxOffsetsPerTrigger?: number;
  /** How the `key` column is decoded. @defaultValue `'binary'` (a `Buffer`) */
  readonly keyFormat?: K;
  /** How the `value` column is decoded. @defaultValue `'binary'` (a `Buffer`) */
  readonly valueFormat?: V;
  /**
   * The columns of the JSON values, as Spark's `from_json(col("value").cast("string"), schema)`:
   * each value becomes a row holding exactly these columns, converted to their
   * types as a file source's `schema` converts them (`string`, `integer`,
   * `long`, `double`, `boolean`, `timestamp` from epoch milliseconds, ISO-8601
   * or `{ type: 'timestamp', format }`), `null` when missing. The `value`
   * column is typed from it. A value that is not a JSON object, or a field that
   * does not fit its column, is a malformed record (see `onMalformed`). Needs
   * `valueFormat: 'json'` (the default when a `valueSchema` is given). A
   * `null` value (a tombstone) stays `null`.
   */
  readonly valueSchema?: [V] extends ['json'] ? Schema : undefined;
  /** A record whose key or value is not valid JSON (with the `'json'` format), or whose value does not fit `valueSchema`: fail the query, or hand it to the query's dead-letter output and skip it. @defaultValue `'fail'` */
  readonly onMalformed?: 'fail' | 'deadLetter';
  /** Fail when offsets a batch needs are no longer in the log (retention, re-created topic); with `false`, read what is left. @defaultValue `true` */
  readonly failOnDataLoss?: boolean;
  /** Commit each committed batch's end offsets to the consumer group (monitoring only; never read back for recovery). @defaultValue `true` */
  readonly commitToGroup?: boolean;
}

const FORMATS: readonly KafkaFormat[] = ['binary', 'string', 'json'];

function invalid(option: string, rule: string, received: unknown, hint: string, expected: string): never {
  throw new InvalidOptionError(`fromKafka: ${option} ${rule}; got ${describeValue(received)}. ${hint}`, option, received, expected);
}

function isTopicName(value: unknown): value is string {
  return typeof value === 'string' && /^[a-zA-Z0-9._-]{1,249}$/.test(value);
}

function validateStartingOffsets(value: unknown, topics: readonly string[]): StartingOffsets {
  if (value === undefined) return 'latest';
  if (value === 'earliest' || value === 'latest') return value;
  const hint = "Use 'earliest', 'latest', or { topic: { partition: offset } } with -2 for earliest and -1 for latest.";
  const expected = "'earliest' | 'latest' | { [topic]: { [partition]: offset } }";
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('startingOffsets', 'is not a starting position', value, hint, expected);
  for (const [topic, partitions] of Object.entries(value as Record<string, unknown>)) {
    if (!topics.includes(topic)) invalid('startingOffsets', `names topic ${JSON.stringify(topic)}, which the source does not read`, value, `Read topics: ${topics.join(', ')}.`, expected);
    if (typeof partitions !== 'object' || partitions === null || Array.isArray(partitions)) invalid('startingOffsets', `for topic ${JSON.stringify(topic)} is not a map of partitions`, value, hint, expected);
    for (const [partition, offset] of Object.entries(partitions as Record<string, unknown>)) {
      if (!/^\d+$/.test(partition)) invalid('startingOffsets', `has partition ${JSON.stringify(partition)} for topic ${JSON.stringify(topic)}, which is not a partition number`, value, hint, expected);
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < -2) invalid('startingOffsets', `has offset ${describeValue(offset)} for ${topic}/${partition}, which is not an offset`, value, hint, expected);
    }
  }
  return value as KafkaOffsets;
}

/**
 * Reads Kafka topics as a replayable streaming source: each batch is the
 * records between two offsets per partition, as rows `{ key, value, topic,
 * partition, offset, timestamp, headers }`.
 *
 * Spark: `spark.readStream.format("kafka").option("subscribe", topic).option("startingOffsets", …).load()`.
 *
 * ```text
 * topic p0   --a--b-----c----     records by offset
 * topic p1   -----d--e-------
 * offsets    {"t":{"0":0,"1":0}}  → batch 0 (start)
 * batches    ------0-----1---     0 = [a b d] up to {"t":{"0":2,"1":1}}   1 = [c e] up to {"t":{"0":3,"1":2}}
 * ```
 *
 * **Offsets.** The checkpoint records, per batch, Spark's JSON
 * `{"topic":{"partition":nextOffset}}`; `getBatch(start, end)` fetches exactly
 * those offsets from the brokers (not from the group's position), so a batch
 * replayed after a crash has the same rows. A restarted query resumes from
 * its checkpoint, never from the group's committed offsets.
 *
 * **Consumer groups.** With `groupId`, processes share the partitions; each
 * batch covers only this process's assigned partitions, and after a batch
 * commits its end offsets are committed to the group for monitoring.
 *
 * **Guarantee.** Exactly-once input with a checkpoint: every offset is in
 * exactly one committed batch. See `docs/sources/fromKafka.md` for the
 * caveats (rebalances, kafkajs internals used for offset fetches).
 *
 * @example
 * ```ts
 * import { fromKafka, startQuery, toConsole } from 'rxjs-structured-streaming';
 *
 * const source = fromKafka({ brokers: ['localhost:9092'], topic: 'trades', startingOffsets: 'earliest', valueFormat: 'json' });
 * const query = startQuery({ source, sink: toConsole(), checkpointLocation: './checkpoints/trades' });
 * // => Batch: 0 … one row per record: { key, value, topic: 'trades', partition, offset, timestamp, headers }
 * ```
 *
 * With `valueSchema`, values are converted and typed as Spark's `from_json` does:
 *
 * ```ts
 * const trades = fromKafka({ brokers: ['localhost:9092'], topic: 'trades', valueSchema: { id: 'string', amount: 'integer', time: { type: 'timestamp', format: 'dd-MM-yyyy-HH-mm' } } });
 * // KafkaSource<KafkaRow<Buffer, { id: string | null; amount: number | null; time: Date | null }>>: '{"id":"apple","amount":"10",…}' gives value.amount 10
 * ```
 *
 * @param options Brokers, topic(s), group, starting offsets, per-trigger limit, formats and value schema.
 * @returns A {@link KafkaSource} to pass to `startQuery`.
 * @throws {InvalidOptionError} `brokers` is not a non-empty list of `host:port` addresses.
 * @throws {InvalidOptionError} Neither or both of `topic` and `topics` are given, or a topic name is not valid.
 * @throws {InvalidOptionError} `startingOffsets` is not `'earliest'`, `'latest'` or a per-partition map of offsets ≥ -2 over the read topics.
 * @throws {InvalidOptionError} `maxOffsetsPerTrigger` is not a positive integer.
 * @throws {InvalidOptionError} `valueSchema` is not a schema (`fromKafka: schema must map column names to …`), or is given with a `valueFormat` other than `'json'`.
 * @throws {InvalidOptionError} `keyFormat`/`valueFormat` is not `'binary'`, `'string'` or `'json'`; `onMalformed` is not `'fail'` or `'deadLetter'`; `groupId` is not a non-empty string.
 * @throws {SourceError} (while the query runs; `retriable` copied from kafkajs) connecting, joining the group, reading offsets or fetching failed; the message names the topics and brokers, e.g. `fromKafka: connecting failed for topics orders on brokers 127.0.0.1:1: …`. When kafkajs gave up after its own retries, `retriable` is that of the underlying error, so an unreachable broker is retriable.
 * @throws {SourceError} (not retriable) a malformed JSON record (`fromKafka: malformed JSON record in orders/0@17: …`), or offsets no longer in the log (`… Pass failOnDataLoss: false to read what is left instead.`).
 * @throws {KafkaOffsetLookupError} (retriable, while the query runs) the group's committed offset for a partition the checkpoint has no offset for could not be looked up: `fromKafka: cannot look up consumer group "g"'s committed offset for orders/1, …`; it has `groupId`, `topic` and `partitions`. Offsets are never guessed.
 * @see toKafka
 */
export function fromKafka<const S extends Schema, K extends KafkaFormat = 'binary'>(
  options: FromKafkaOptions<K, 'json'> & { readonly valueSchema: S },
): KafkaSource<KafkaRow<KafkaDecoded<K>, RowOf<S>>>;
export function fromKafka<K extends KafkaFormat = 'binary', V extends KafkaFormat = 'binary'>(options: FromKafkaOptions<K, V>): KafkaSource<KafkaRow<KafkaDecoded<K>, KafkaDecoded<V>>>;
export function fromKafka<K extends KafkaFormat = 'binary', V extends KafkaFormat = 'binary'>(
  options: FromKafkaOptions<K, V>,
): KafkaSource<KafkaRow<KafkaDecoded<K>, KafkaDecoded<V>>> {
  if (typeof options !== 'object' || options === null) {
    invalid('options', 'must be an object', options, "Pass { brokers, topic, … }.", 'FromKafkaOptions');
  }
  const brokers = parseBrokers('fromKafka', options.brokers);
  const { topic, topics } = options;
  if ((topic === undefined) === (topics === undefined)) {
    invalid('topic', 'and topics: give exactly one', { topic, topics }, "Pass topic: 'name' or topics: ['a', 'b'].", 'exactly one of topic, topics');
  }
  const list = topic !== undefined ? [topic] : topics;
  if (!Array.isArray(list) || list.length === 0 || !list.every(isTopicName) || new Set(list).size !== list.length) {
    invalid(topic !== undefined ? 'topic' : 'topics', 'must name distinct valid Kafka topics', topic ?? topics, 'Topic names use letters, digits, ".", "_" and "-".', 'topic names');
  }
  const groupId = options.groupId;
  if (groupId !== undefined && (typeof groupId !== 'string' || groupId === '')) {
    invalid('groupId', 'must be a non-empty string', groupId, 'Leave it out to read every partition without a group.', 'a non-empty string');
  }
  const max = options.maxOffsetsPerTrigger;
  if (max !== undefined && (typeof max !== 'number' || !Number.isSafeInteger(max) || max <= 0)) {
    invalid('maxOffsetsPerTrigger', 'must be a positive integer', max, 'Leave it out for no limit.', 'a positive integer');
  }
  const keyFormat = options.keyFormat ?? 'binary';
  if (!FORMATS.includes(keyFormat)) invalid('keyFormat', 'is not a format', keyFormat, "Use 'binary', 'string' or 'json'.", "'binary' | 'string' | 'json'");
  const givenSchema: unknown = options.valueSchema;
  const valueSchema = givenSchema === undefined ? undefined : compileSchema('fromKafka', givenSchema);
  const valueFormat = options.valueFormat ?? (valueSchema === undefined ? 'binary' : 'json');
  if (!FORMATS.includes(valueFormat)) invalid('valueFormat', 'is not a format', valueFormat, "Use 'binary', 'string' or 'json'.", "'binary' | 'string' | 'json'");
  if (valueSchema !== undefined && valueFormat !== 'json') {
    invalid('valueFormat', "must be 'json' with a valueSchema", valueFormat, "A valueSchema converts JSON values (from_json); leave valueFormat out or pass 'json'.", "'json'");
  }
  const onMalformed = options.onMalformed ?? 'fail';
  if (onMalformed !== 'fail' && onMalformed !== 'deadLetter') {
    invalid('onMalformed', 'is not a policy', onMalformed, "Use 'fail' or 'deadLetter'.", "'fail' | 'deadLetter'");
  }
  const startingOffsets = validateStartingOffsets(options.startingOffsets, list);
  return new KafkaSource({
    connection: options,
    brokers,
    topics: list,
    groupId,
    group: options.group ?? {},
    startingOffsets,
    maxOffsetsPerTrigger: max,
    keyFormat,
    valueFormat,
    valueSchema,
    onMalformed,
    failOnDataLoss: options.failOnDataLoss ?? true,
    commitToGroup: options.commitToGroup ?? true,
  });
}

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import type { CheckpointStore } from '../checkpoint/CheckpointStore.js';
import { KafkaOffsetLookupError, SourceError, StreamingError, describeValue } from '../errors/index.js';
import type { ReadLimit, Source, SourceContext } from '../sources/Source.js';
import { closeGroupAndLog, createKafka, isRetriableKafkaError, kafkaErrorMessage } from './KafkaConnection.js';
import { KafkaGroupMember } from './KafkaGroupMember.js';
import { KafkaLog, KafkaRangeUnavailable, type KafkaLogRecord, type PartitionWatermarks } from './KafkaLog.js';
import { EARLIEST, LATEST, buildOffsets, offsetOf, sameKafkaOffsets, type KafkaOffsets, type TopicPartition } from './KafkaOffsets.js';
import { MalformedKafkaRecord, decodeKafkaBytes, type KafkaRow, type KafkaSourceConfig } from './KafkaSource.js';

const OPERATOR = 'fromKafka';

/**
 * A stateful operator's key that does not belong to the task's partition:
 * the input is not partitioned the way the tasks need (co-partitioned by the
 * key the state is kept under), so keeping its state in this task would mix
 * state across tasks. Names the record, its partition and the partition the
 * key belongs to.
 */
export class TaskKeyPartitionError extends StreamingError {
  override name = 'TaskKeyPartitionError';
  constructor(
    message: string,
    readonly topic: string,
    /** The partition (task) the record was read from. */
    readonly partition: number,
    readonly offset: number,
    /** The partition its key maps to (`undefined` for a record without key). */
    readonly keyPartition: number | undefined,
  ) {
    super(message, { retriable: false });
  }
}

/**
 * How a row's state key maps to a partition, given the topic's partition
 * count. The default is the Kafka record key hashed as the Java client and
 * kafkajs's `DefaultPartitioner` do (murmur2), i.e. the input topic is
 * partitioned by the same key as the query's state.
 */
export type KeyPartitioner<R> = (row: R, partitions: number) => number;

/**
 * The partition kafkajs's `DefaultPartitioner` (murmur2 of the key, as the
 * Java client) gives `key` among `partitions`: the task whose state a record
 * with this key belongs to.
 *
 * @example
 * ```ts
 * defaultPartitionOfKey('clicks', Buffer.from('user-7'), 4); // => the partition a keyed producer writes 'user-7' to
 * ```
 */
export function defaultPartitionOfKey(topic: string, key: Buffer, partitions: number): number {
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: partitions }, (_, i) => ({ partitionErrorCode: 0, partitionId: i, leader: 0, replicas: [0], isr: [0] }));
  return Partitioners.DefaultPartitioner()({ topic, partitionMetadata, message: { key, value: null } });
}

/**
 * The Kafka side of one process of a per-partition query: one kafkajs client,
 * one consumer-group membership (which partitions this process owns) and one
 * offset-addressed log reader shared by all the process's tasks. Every
 * kafkajs call of the task mode goes through here.
 *
 * The log reader uses kafkajs's private `Cluster` (see `KafkaLog`): it is
 * created, and its methods checked, in {@link KafkaProcessAccess.start}, so a
 * kafkajs upgrade that changes it fails at start, not mid-batch.
 *
 * Reads of the process's tasks are serialized (one fetch at a time on the
 * process's connection): the tasks share the connection, and the test broker
 * (mokapi) is known to garble replies to concurrent fetches.
 */
export class KafkaProcessAccess {
  private log: KafkaLog | undefined;
  private member: KafkaGroupMember | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly partitionCounts = new Map<string, number>();
  /** This process in epoch claims and logs: `host:pid:random`. */
  readonly owner: string;

  constructor(readonly config: KafkaSourceConfig) {
    this.owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  }

  /** The partitions the group gave this process at its last join. */
  get assignment(): readonly TopicPartition[] {
    return this.member?.assignment ?? [];
  }

  /** How many times this process joined the group (a new value after every rebalance it took part in). */
  get generation(): number {
    return this.member?.generation ?? 0;
  }

  async start(): Promise<void> {
    if (this.config.groupId === undefined) {
      throw new SourceError(OPERATOR, `tasks: 'perPartition' needs a consumer group to share partitions between processes; got no groupId (topics ${this.config.topics.join(', ')}). Pass fromKafka({ groupId, … }).`, undefined, false);
    }
    const kafka = createKafka(this.config.connection, this.config.brokers);
    try {
      this.log = new KafkaLog(kafka); // checks kafkajs's private Cluster now
      await this.log.connect();
      for (const topic of this.config.topics) this.partitionCounts.set(topic, (await this.log.watermarks(topic)).length);
      this.member = new KafkaGroupMember(kafka, this.config.groupId, this.config.topics, this.config.group);
      await this.member.start();
    } catch (error) {
      await this.stop();
      this.fail('starting (connect, read topic metadata, join the group)', error);
    }
  }

  async stop(): Promise<void> {
    const member = this.member;
    const log = this.log;
    this.member = undefined;
    this.log = undefined;
    await closeGroupAndLog(member, log);
  }

  /** The partition count of a topic, read at start. */
  partitions(topic: string): number {
    return this.partitionCounts.get(topic) ?? 0;
  }

  async watermarks(tp: TopicPartition): Promise<PartitionWatermarks> {
    const log = this.requireLog();
    const marks = await this.serial(() => log.watermarks(tp.topic)).catch((error: unknown) => this.fail(`reading the offsets of ${tp.topic}`, error));
    const found = marks.find((m) => m.partition === tp.partition);
    if (found === undefined) throw new SourceError(OPERATOR, `topic ${tp.topic} has no partition ${tp.partition} any more; got partitions ${describeValue(marks.map((m) => m.partition))}.`, undefined, false);
    return found;
  }

  /** The group's committed offset for a partition (`undefined` when none); a failed lookup is a retriable `KafkaOffsetLookupError`, never a guess. */
  async committedOffset(tp: TopicPartition): Promise<number | undefined> {
    const log = this.requireLog();
    const groupId = this.config.groupId!;
    let committed: Map<number, number>;
    try {
      committed = await this.serial(() => log.committedOffsets(groupId, tp.topic));
    } catch (error) {
      throw new KafkaOffsetLookupError(
        OPERATOR,
        groupId,
        tp.topic,
        [tp.partition],
        `cannot look up consumer group ${JSON.stringify(groupId)}'s committed offset for ${tp.topic}/${tp.partition}, a task with no checkpoint yet; got ${kafkaErrorMessage(error)}. ` +
          'The task retries this lookup rather than start the partition at a guessed offset',
        error,
      );
    }
    const offset = committed.get(tp.partition);
    return offset === undefined || offset < 0 ? undefined : offset;
  }

  async read(tp: TopicPartition, from: number, until: number): Promise<KafkaLogRecord[]> {
    const log = this.requireLog();
    if (from >= until) return [];
    try {
      return await this.serial(() => log.read([{ ...tp, from, until }]));
    } catch (error) {
      if (error instanceof KafkaRangeUnavailable || (error as { name?: unknown }).name === 'KafkaJSOffsetOutOfRange') {
        throw new SourceError(OPERATOR, `offsets [${from}, ${until}) of ${tp.topic}/${tp.partition} are no longer in the log: ${kafkaErrorMessage(error)}.`, error, false);
      }
      this.fail(`fetching ${tp.topic}/${tp.partition} [${from}, ${until})`, error);
    }
  }

  /** Best effort (monitoring): commits a task's offsets to the group when this process still owns the partition. */
  async commitToGroup(offsets: KafkaOffsets): Promise<void> {
    if (!this.config.commitToGroup || this.member === undefined) return;
    const member = this.member;
    await this.serial(() => member.commit(offsets)).catch(() => undefined);
  }

  private serial<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(operation, operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private requireLog(): KafkaLog {
    if (this.log === undefined) throw new SourceError(OPERATOR, `the task's Kafka access is not started (topics ${this.config.topics.join(', ')}).`, undefined, false);
    return this.log;
  }

  private fail(action: string, error: unknown): never {
    if (error instanceof StreamingError) throw error;
    throw new SourceError(OPERATOR, `${action} failed for topics ${this.config.topics.join(', ')} on brokers ${this.config.brokers.join(',')}: ${kafkaErrorMessage(error)}`, error, isRetriableKafkaError(error));
  }
}

/** The file in a task checkpoint that fixes where the task's first batch starts. */
const INITIAL_PATH = 'sources/0/initial.json';

async function* bytesOf(text: string): AsyncIterable<Uint8Array> {
  yield Buffer.from(text, 'utf8');
}

/**
 * The source of one task: one topic partition of a `fromKafka` source,
 * replayable by offset, in Spark's offset shape (`{"topic":{"p":next}}`). Where
 * the task starts when its checkpoint has no batch yet is fixed once and kept
 * in the task's checkpoint (`sources/0/initial.json`): `startingOffsets` (as
 * Spark starts a new query), or with `initialOffsets: 'group'` the group's
 * committed offset where there is one.
 */
export class KafkaPartitionSource<R> implements Source<R, KafkaOffsets> {
  readonly description: string;
  readonly supportsContinuous = false;
  private initial: number | undefined;
  private cap: number | undefined;
  private context: SourceContext | undefined;

  constructor(
    private readonly access: KafkaProcessAccess,
    readonly tp: TopicPartition,
    private readonly store: CheckpointStore,
    private readonly keyPartition: KeyPartitioner<R> | undefined,
    private readonly initialFrom: 'startingOffsets' | 'group' = 'startingOffsets',
  ) {
    this.description = `KafkaV2[Subscribe[${tp.topic}]]/${tp.partition}`;
  }

  async start(context: SourceContext): Promise<void> {
    this.context = context;
    const kept = await this.store.read(INITIAL_PATH);
    if (kept !== undefined) {
      const value = (JSON.parse(Buffer.from(kept).toString('utf8')) as { offset?: unknown }).offset;
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) this.initial = value;
    }
  }

  private async initialOffset(): Promise<number> {
    if (this.initial !== undefined) return this.initial;
    const wm = await this.access.watermarks(this.tp);
    let offset = this.initialFrom === 'group' ? await this.access.committedOffset(this.tp) : undefined;
    if (offset === undefined) {
      const starting = this.access.config.startingOffsets;
      if (starting === 'earliest') offset = wm.low;
      else if (starting === 'latest') offset = wm.high;
      else {
        const given = offsetOf(starting, this.tp.topic, this.tp.partition) ?? LATEST;
        offset = given === EARLIEST ? wm.low : given === LATEST ? wm.high : given;
      }
    }
    await this.store.write(INITIAL_PATH, bytesOf(JSON.stringify({ offset })));
    this.initial = offset;
    return offset;
  }

  async latestOffset(start: KafkaOffsets | undefined, limit: ReadLimit): Promise<KafkaOffsets | undefined> {
    const from = offsetOf(start, this.tp.topic, this.tp.partition) ?? (await this.initialOffset());
    const wm = await this.access.watermarks(this.tp);
    let until = this.cap === undefined ? wm.high : Math.min(wm.high, this.cap);
    const max = this.access.config.maxOffsetsPerTrigger;
    if (max !== undefined && !limit.all) until = Math.min(until, from + max);
    return buildOffsets([[this.tp, Math.max(from, until)]]);
  }

  async getBatch(start: KafkaOffsets | undefined, end: KafkaOffsets): Promise<readonly R[]> {
    const from = offsetOf(start, this.tp.topic, this.tp.partition) ?? (await this.initialOffset());
    const until = offsetOf(end, this.tp.topic, this.tp.partition) ?? from;
    const records = await this.access.read(this.tp, from, until);
    return this.toRows(records);
  }

  async commit(end: KafkaOffsets): Promise<void> {
    await this.access.commitToGroup(end);
  }

  async stop(): Promise<void> {
    // The process's Kafka access outlives its tasks.
  }

  sameOffset(a: KafkaOffsets | undefined, b: KafkaOffsets | undefined): boolean {
    return sameKafkaOffsets(a, b);
  }

  async prepareForAvailableNow(): Promise<void> {
    this.cap = (await this.access.watermarks(this.tp)).high;
  }

  private toRows(records: readonly KafkaLogRecord[]): R[] {
    const { keyFormat, valueFormat, onMalformed } = this.access.config;
    const partitions = this.access.partitions(this.tp.topic);
    const rows: R[] = [];
    for (const record of records) {
      let key: unknown;
      let value: unknown;
      try {
        key = decodeKafkaBytes(keyFormat, record.key);
        value = decodeKafkaBytes(valueFormat, record.value);
      } catch (error) {
        if (!(error instanceof MalformedKafkaRecord)) throw error;
        const location = `${record.topic}/${record.partition}@${record.offset}`;
        const text = `${record.key === null ? '' : `${record.key.toString('utf8')} `}${record.value === null ? '' : record.value.toString('utf8')}`;
        if (onMalformed === 'deadLetter' && this.context !== undefined) {
          this.context.deadLetter({ source: this.description, location, text, reason: error.message });
          continue;
        }
        throw new SourceError(OPERATOR, `malformed JSON record in ${location}: ${error.message}; got ${describeValue(text)}. Pass onMalformed: 'deadLetter' to route such records to a dead-letter output instead.`, undefined, false);
      }
      const row: KafkaRow<unknown, unknown> = { key, value, topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp, headers: record.headers };
      this.checkKey(row as R, record, partitions);
      rows.push(row as R);
    }
    return rows;
  }

  /** A row whose state key maps to another partition is a {@link TaskKeyPartitionError}: never state mixed across tasks. */
  private checkKey(row: R, record: KafkaLogRecord, partitions: number): void {
    const where = `${record.topic}/${record.partition}@${record.offset}`;
    let expected: number | undefined;
    if (this.keyPartition !== undefined) expected = this.keyPartition(row, partitions);
    else if (record.key !== null) expected = defaultPartitionOfKey(record.topic, record.key, partitions);
    if (expected === this.tp.partition) return;
    const keyText = record.key === null ? 'no key' : `key ${describeValue(record.key.toString('utf8'))}`;
    throw new TaskKeyPartitionError(
      expected === undefined
        ? `tasks: record ${where} has no key, so the task cannot tell that its state key belongs to partition ${record.partition}. Produce keyed records, or declare keyPartition: (row, partitions) => partition.`
        : `tasks: record ${where} (${keyText}) belongs to partition ${describeValue(expected)} by ${this.keyPartition === undefined ? "the default partitioner (murmur2 of the record key)" : 'keyPartition'}, but was read by the task of partition ${record.partition}: its state would live in the wrong task. Partition the input by the state key, or declare keyPartition to match the producer's partitioner.`,
      record.topic,
      record.partition,
      record.offset,
      expected,
    );
  }
}

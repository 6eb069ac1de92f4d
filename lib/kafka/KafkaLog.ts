import type { Admin, Kafka } from 'kafkajs';
import { StreamingError } from '../errors/StreamingError.js';
import type { PartitionRange, TopicPartition } from './KafkaOffsets.js';

/** A record header: Kafka allows repeated keys and null values. */
export interface KafkaHeader {
  readonly key: string;
  readonly value: Buffer | null;
}

/** One record as stored in the log. */
export interface KafkaLogRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Epoch milliseconds (the record's CreateTime, or LogAppendTime when the topic uses it). */
  readonly timestamp: number;
  readonly headers: readonly KafkaHeader[];
}

/** A partition's offsets: `low` is the first offset still stored, `high` the next offset to be written. */
export interface PartitionWatermarks {
  readonly partition: number;
  readonly low: number;
  readonly high: number;
}

/** Raised when part of a requested range is no longer (or not yet) in the log. */
export class KafkaRangeUnavailable extends Error {
  override name = 'KafkaRangeUnavailable';
  constructor(
    message: string,
    readonly range: TopicPartition & { readonly from: number; readonly until: number },
  ) {
    super(message);
  }
}

// kafkajs has no public "fetch this partition from this offset" call (no
// equivalent of the Java consumer's assign()/seek() without a consumer group):
// its consumers always read from the group's position. Replaying an exact
// offset range needs that call, so we use the Cluster object kafkajs's own
// consumers and producers are built on, created through the client's private
// factory. These are the only kafkajs internals used; they are checked when the
// log is created and fail loudly if a kafkajs upgrade changes them.
interface RawFetchMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: string;
  readonly headers?: Record<string, Buffer | Buffer[] | null | undefined>;
  readonly isControlRecord?: boolean;
}
interface RawFetchPartition {
  readonly partition: number;
  readonly errorCode: number;
  readonly highWatermark: string;
  readonly messages: readonly RawFetchMessage[];
}
interface RawFetchResponse {
  readonly responses: ReadonlyArray<{ readonly topicName: string; readonly partitions: readonly RawFetchPartition[] }>;
}
interface RawBroker {
  fetch(request: {
    replicaId: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>;
  }): Promise<RawFetchResponse>;
}
interface RawCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string }): Promise<RawBroker>;
}

const CREATE_CLUSTER = 'private:Kafka:createCluster';
const READ_UNCOMMITTED = 0;
const FETCH_MAX_WAIT_MS = 50;
const PARTITION_MAX_BYTES = 1 << 20;
const MAX_STALLS = 8;
/** Further attempts of a fetch whose reply could not be decoded (see {@link isUndecodableReply}). */
const UNDECODABLE_REPLY_RETRIES = 4;
const CLUSTER_METHODS = ['connect', 'disconnect', 'addTargetTopic', 'refreshMetadata', 'findLeaderForPartitions', 'findBroker'] as const;

/**
 * The installed kafkajs does not have the private `Cluster` shape the
 * offset-range reads of `fromKafka` (replays, tasks) and `toKafka` (reading
 * back its batch markers) are built on: a kafkajs upgrade changed it. Raised
 * when the reader is created (the query's start), never mid-batch; names
 * what is missing. Not retriable.
 */
export class KafkaClientUnsupportedError extends StreamingError {
  override name = 'KafkaClientUnsupportedError';
  constructor(
    /** What is missing: `private:Kafka:createCluster`, `Cluster.<method>()` or `Broker.fetch()`. */
    readonly missing: string,
  ) {
    super(
      `Kafka: the installed kafkajs has no ${missing}, which offset-range reads use (kafkajs has no public call for them; ` +
        'see docs/guides/scaling-out.md, "Where the Kafka client stands"). Install kafkajs 2.x (tested with 2.2.4).',
      { retriable: false },
    );
  }
}

/** Creates kafkajs's private Cluster and checks the methods used on it; a {@link KafkaClientUnsupportedError} otherwise. */
function createRawCluster(kafka: Kafka): RawCluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === CREATE_CLUSTER);
  const factory = symbol === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[symbol];
  if (typeof factory !== 'function') throw new KafkaClientUnsupportedError(CREATE_CLUSTER);
  const cluster = (factory as (options: object) => unknown)({ metadataMaxAge: 300_000, allowAutoTopicCreation: false, isolationLevel: READ_UNCOMMITTED });
  if (typeof cluster !== 'object' || cluster === null) throw new KafkaClientUnsupportedError(`${CREATE_CLUSTER} returning a Cluster object`);
  for (const method of CLUSTER_METHODS) {
    if (typeof (cluster as Record<string, unknown>)[method] !== 'function') throw new KafkaClientUnsupportedError(`Cluster.${method}()`);
  }
  return cluster as RawCluster;
}

function toHeaders(raw: RawFetchMessage['headers']): KafkaHeader[] {
  const headers: KafkaHeader[] = [];
  if (raw === undefined) return headers;
  for (const key of Object.keys(raw)) {
    const value = raw[key];
    if (Array.isArray(value)) for (const v of value) headers.push({ key, value: v ?? null });
    else headers.push({ key, value: value ?? null });
  }
  return headers;
}

/**
 * Whether a fetch failed because its reply could not be decoded: a read past
 * the end of the reply's buffer (Node's `RangeError`) or a malformed varint
 * or long. The framing of the connection is intact (kafkajs cuts replies by
 * their size prefix), and a fetch is an idempotent read, so the fetch is
 * asked again. The test broker (mokapi) is known to garble replies when
 * several clients fetch at once; a real broker's reply fails this way only if
 * corrupted in flight.
 */
function isUndecodableReply(error: unknown): boolean {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    // By name, not `instanceof`: Node's Buffer throws RangeErrors of its own realm.
    const { name, code } = e as { name?: unknown; code?: unknown };
    if (name === 'RangeError' || code === 'ERR_BUFFER_OUT_OF_BOUNDS' || code === 'ERR_OUT_OF_RANGE') return true;
    if (name === 'KafkaJSInvalidVarIntError' || name === 'KafkaJSInvalidLongError') return true;
  }
  return false;
}

/** A fetch whose reply could not be decoded {@link UNDECODABLE_REPLY_RETRIES} + 1 times in a row; names the partitions and the last failure. */
export class KafkaUndecodableReplyError extends StreamingError {
  override name = 'KafkaUndecodableReplyError';
  constructor(
    readonly ranges: readonly string[],
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      `Kafka: the broker's reply to a fetch of ${ranges.join(', ')} could not be decoded ${attempts} times in a row ` +
        `(last: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}); the broker is sending corrupt replies.`,
      { retriable: true, cause },
    );
  }
}

interface Cursor {
  readonly range: PartitionRange;
  next: number;
  maxBytes: number;
  readonly records: KafkaLogRecord[];
}

/**
 * Offset-addressed access to Kafka partitions: watermarks, and the records of
 * exact offset ranges. Used by the Kafka source (replayable reads) and the
 * Kafka sink (finding its own batch markers).
 */
export class KafkaLog {
  private readonly admin: Admin;
  private readonly cluster: RawCluster;
  private readonly targetTopics = new Set<string>();
  /** Fetches asked again because their reply could not be decoded (the last one then decoded). */
  undecodableReplies = 0;

  constructor(kafka: Kafka) {
    this.admin = kafka.admin();
    this.cluster = createRawCluster(kafka);
  }

  async connect(): Promise<void> {
    await this.admin.connect();
    await this.cluster.connect();
  }

  async disconnect(): Promise<void> {
    await Promise.allSettled([this.admin.disconnect(), this.cluster.disconnect()]);
  }

  /** Every partition of `topic` with its low and high watermark. */
  async watermarks(topic: string): Promise<PartitionWatermarks[]> {
    const offsets = await this.admin.fetchTopicOffsets(topic);
    return offsets
      .map((entry) => ({ partition: entry.partition, low: Number(entry.low), high: Number(entry.high) }))
      .sort((a, b) => a.partition - b.partition);
  }

  /** The group's committed offsets for `topic` (`-1` where none). A failed lookup rejects (never a guess). */
  async committedOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
    const result = await this.admin.fetchOffsets({ groupId, topics: [topic] });
    const offsets = new Map<number, number>();
    for (const entry of result[0]?.partitions ?? []) offsets.set(entry.partition, Number(entry.offset));
    return offsets;
  }

  /**
   * The records in `[from, until)` of each range, in the order of `ranges`,
   * each partition's records in offset order. Offsets missing from the log
   * (compacted away, transaction markers) are skipped; a range that reaches
   * past the log's high watermark or below its start raises
   * {@link KafkaRangeUnavailable}.
   */
  async read(ranges: readonly PartitionRange[]): Promise<KafkaLogRecord[]> {
    const cursors: Cursor[] = ranges.map((range) => ({ range, next: range.from, maxBytes: PARTITION_MAX_BYTES, records: [] }));
    for (const cursor of cursors) {
      if (cursor.range.until > cursor.range.from && !this.targetTopics.has(cursor.range.topic)) {
        await this.cluster.addTargetTopic(cursor.range.topic);
        this.targetTopics.add(cursor.range.topic);
      }
    }
    let stalls = 0;
    for (;;) {
      const active = cursors.filter((c) => c.next < c.range.until);
      if (active.length === 0) break;
      const progressed = await this.fetchRound(active);
      if (progressed) stalls = 0;
      else if (++stalls > MAX_STALLS) {
        const c = active[0]!;
        throw new KafkaRangeUnavailable(
          `no progress reading ${c.range.topic}/${c.range.partition} at offset ${c.next} (range [${c.range.from}, ${c.range.until}))`,
          { topic: c.range.topic, partition: c.range.partition, from: c.next, until: c.range.until },
        );
      }
    }
    const result: KafkaLogRecord[] = [];
    for (const cursor of cursors) for (const record of cursor.records) result.push(record);
    return result;
  }

  /** One fetch per leader broker for the active cursors; `true` if any cursor advanced. */
  private async fetchRound(active: readonly Cursor[]): Promise<boolean> {
    const byLeader = new Map<string, Cursor[]>();
    for (const cursor of active) {
      const leaders = this.cluster.findLeaderForPartitions(cursor.range.topic, [cursor.range.partition]);
      const nodeId = Object.keys(leaders)[0];
      if (nodeId === undefined) {
        await this.cluster.refreshMetadata();
        return false;
      }
      let list = byLeader.get(nodeId);
      if (list === undefined) byLeader.set(nodeId, (list = []));
      list.push(cursor);
    }
    let progressed = false;
    for (const [nodeId, cursors] of byLeader) {
      const broker = await this.cluster.findBroker({ nodeId });
      if (typeof (broker as Partial<RawBroker> | undefined)?.fetch !== 'function') throw new KafkaClientUnsupportedError('Broker.fetch()');
      const topics = new Map<string, Array<{ partition: number; fetchOffset: string; maxBytes: number }>>();
      for (const c of cursors) {
        let list = topics.get(c.range.topic);
        if (list === undefined) topics.set(c.range.topic, (list = []));
        list.push({ partition: c.range.partition, fetchOffset: String(c.next), maxBytes: c.maxBytes });
      }
      const response = await this.fetchDecoded(broker, cursors, {
        replicaId: -1,
        isolationLevel: READ_UNCOMMITTED,
        maxWaitTime: FETCH_MAX_WAIT_MS,
        minBytes: 1,
        maxBytes: cursors.reduce((sum, c) => sum + c.maxBytes, 0),
        topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
      });
      for (const topicResponse of response.responses) {
        for (const partitionResponse of topicResponse.partitions) {
          const cursor = cursors.find((c) => c.range.topic === topicResponse.topicName && c.range.partition === partitionResponse.partition);
          if (cursor !== undefined && this.consume(cursor, topicResponse.topicName, partitionResponse)) progressed = true;
        }
      }
    }
    return progressed;
  }

  /** `broker.fetch(request)`, asked again while its reply cannot be decoded (at most {@link UNDECODABLE_REPLY_RETRIES} times). */
  private async fetchDecoded(broker: RawBroker, cursors: readonly Cursor[], request: Parameters<RawBroker['fetch']>[0]): Promise<RawFetchResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await broker.fetch(request);
      } catch (error) {
        if (!isUndecodableReply(error)) throw error;
        if (attempt > UNDECODABLE_REPLY_RETRIES) {
          throw new KafkaUndecodableReplyError(cursors.map((c) => `${c.range.topic}/${c.range.partition}@${c.next}`), attempt, error);
        }
        this.undecodableReplies++;
      }
    }
  }

  private consume(cursor: Cursor, topic: string, response: RawFetchPartition): boolean {
    const { range } = cursor;
    const before = cursor.next;
    for (const message of response.messages) {
      const offset = Number(message.offset);
      if (offset < cursor.next) continue;
      if (offset >= range.until) {
        cursor.next = range.until;
        break;
      }
      cursor.next = offset + 1;
      if (message.isControlRecord === true) continue;
      cursor.records.push({
        topic,
        partition: range.partition,
        offset,
        key: message.key ?? null,
        value: message.value ?? null,
        timestamp: Number(message.timestamp),
        headers: toHeaders(message.headers),
      });
    }
    if (cursor.next > before) return true;
    const high = Number(response.highWatermark);
    if (high <= cursor.next) {
      throw new KafkaRangeUnavailable(
        `offsets [${cursor.next}, ${range.until}) of ${topic}/${range.partition} are not in the log (its high watermark is ${high})`,
        { topic, partition: range.partition, from: cursor.next, until: range.until },
      );
    }
    // Data is there but nothing usable came back: the next record batch is
    // larger than we asked for. Ask for more next round.
    cursor.maxBytes *= 2;
    return false;
  }
}

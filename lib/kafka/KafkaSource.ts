import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { atomicWrite, makeDirectory } from '../checkpoint/atomicWrite.js';
import { corruptContent, frameJson, parseJsonBody, unframeFile } from '../checkpoint/fileFormat.js';
import type { ChecksumFn } from '../checkpoint/checksum.js';
import { CheckpointIOError, KafkaOffsetLookupError, SourceError, StreamingError, describeValue } from '../errors/index.js';
import { convertObject, type CompiledSchema } from '../sources/parseRecords.js';
import type { ReadLimit, Source, SourceContext } from '../sources/Source.js';
import { closeGroupAndLog, createKafka, isRetriableKafkaError, kafkaErrorMessage, type KafkaConnectionOptions } from './KafkaConnection.js';
import { KafkaGroupMember, type KafkaGroupOptions } from './KafkaGroupMember.js';
import { KafkaLog, KafkaRangeUnavailable, type KafkaHeader, type KafkaLogRecord, type PartitionWatermarks } from './KafkaLog.js';
import {
  EARLIEST,
  LATEST,
  buildOffsets,
  limitOffsets,
  offsetEntries,
  offsetOf,
  sameKafkaOffsets,
  type KafkaOffsets,
  type PartitionRange,
  type TopicPartition,
} from './KafkaOffsets.js';

/** One Kafka record as a row: Spark's Kafka source schema. */
export interface KafkaRow<K = Buffer, V = Buffer> {
  readonly key: K | null;
  readonly value: V | null;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly headers: readonly KafkaHeader[];
}

/** How keys and values are handed to you: `'binary'` (a `Buffer`, Spark's default), `'string'` (UTF-8) or `'json'` (parsed). */
export type KafkaFormat = 'binary' | 'string' | 'json';

/** The TypeScript type a {@link KafkaFormat} decodes to. */
export type KafkaDecoded<F extends KafkaFormat> = F extends 'string' ? string : F extends 'json' ? unknown : Buffer;

/** Where a source starts reading partitions it has no checkpointed offset for. */
export type StartingOffsets = 'earliest' | 'latest' | KafkaOffsets;

/** Everything {@link KafkaSource} needs, validated by `fromKafka`. */
export interface KafkaSourceConfig {
  readonly connection: KafkaConnectionOptions;
  readonly brokers: readonly string[];
  readonly topics: readonly string[];
  readonly groupId: string | undefined;
  readonly group: KafkaGroupOptions;
  readonly startingOffsets: StartingOffsets;
  readonly maxOffsetsPerTrigger: number | undefined;
  readonly keyFormat: KafkaFormat;
  readonly valueFormat: KafkaFormat;
  /** The schema JSON values are converted to (`valueSchema`), if any. */
  readonly valueSchema?: CompiledSchema | undefined;
  readonly onMalformed: 'fail' | 'deadLetter';
  readonly failOnDataLoss: boolean;
  readonly commitToGroup: boolean;
}

const OPERATOR = 'fromKafka';

/** The columns of every Kafka row (Spark's Kafka source schema). */
const KAFKA_COLUMNS: readonly string[] = ['key', 'value', 'topic', 'partition', 'offset', 'timestamp', 'headers'];

/**
 * Where a planned partition's start offset came from: the previous batch's
 * end (the checkpoint), `startingOffsets` (the query's first batch), the
 * consumer group's committed offset (a partition that shows up later), or
 * the earliest offset (a later partition the group has no offset for).
 */
type OffsetOrigin = 'checkpoint' | 'startingOffsets' | 'groupOffset' | 'earliest';

/** The file in the source's metadata directory that keeps the first batch's start offsets. */
const INITIAL_OFFSETS_FILE = 'initial';

const checksum: ChecksumFn = (data, previous) => crc32(data, previous);

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** A key or value the chosen format cannot decode. */
export class MalformedKafkaRecord extends Error {}

/**
 * Decodes a key or value. `null` (no bytes at all, e.g. a tombstone) is
 * `null` in every format. Zero bytes are not `null`: `'binary'` gives an
 * empty `Buffer`, `'string'` gives `''`, and `'json'` treats them as
 * malformed (zero bytes are no JSON text), as Spark's `from_json` does.
 */
export function decodeKafkaBytes(format: KafkaFormat, bytes: Buffer | null, schema?: CompiledSchema): unknown {
  if (bytes === null || format === 'binary') return bytes;
  const text = bytes.toString('utf8');
  if (format === 'string') return text;
  if (bytes.length === 0) throw new MalformedKafkaRecord("empty value (zero bytes), which is not JSON; a null value would be a tombstone. Use valueFormat 'string' or 'binary' to read empty values");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (error) {
    throw new MalformedKafkaRecord((error as Error).message);
  }
  if (schema === undefined) return parsed;
  // from_json(value, schema): exactly the schema's columns, converted to their types.
  const converted = convertObject(parsed, schema);
  if ('reason' in converted) throw new MalformedKafkaRecord(converted.reason);
  return converted.row;
}

/**
 * The Kafka source behind `fromKafka`: a replayable {@link Source} whose
 * offsets are Spark's `{"topic":{"partition":nextOffset}}` JSON. See
 * `docs/sources/fromKafka.md` for the delivery guarantees.
 */
export class KafkaSource<R> implements Source<R, KafkaOffsets> {
  readonly description: string;
  /**
   * Spark's Kafka columns, known before any record is read, so that
   * `startQuery` resolves the columns a pipeline names when it builds it;
   * with a `valueSchema`, the value's fields too (`value.id`, …).
   */
  readonly columns: readonly string[];
  /** The last error of a best-effort offset commit to the consumer group (monitoring only), if the last one failed. */
  lastGroupCommitError: unknown = undefined;

  private log: KafkaLog | undefined;
  private member: KafkaGroupMember | undefined;
  private context: SourceContext | undefined;
  /** Where each partition starts at the query's first batch (from `startingOffsets`, resolved once, at start). */
  private readonly starting = new Map<string, number>();
  /**
   * `<checkpoint>/sources/<i>/initial`: where each partition starts at the
   * query's first batch, written before any `offsets/N` can depend on it
   * (Spark's initial partition offsets in the source's metadata log), so that
   * `'latest'` means the end of the log when the query *first* started, also
   * for a batch 0 that runs again after a restart.
   */
  private initialPath: string | undefined;
  /** First-batch start offsets resolved since they were last written. */
  private initialDirty = false;
  /** Where a partition that shows up after the first batch starts (resolved once). */
  private readonly discovered = new Map<string, number>();
  /** Where each resolved start offset came from. */
  private readonly origin = new Map<string, OffsetOrigin>();
  /** `availableNow`: the high watermarks that count as "everything available now". */
  private cap: Map<string, number> | undefined;
  /** Without a group: the partitions the last `latestOffset` saw. */
  private owned: readonly TopicPartition[] = [];
  /** Where each partition the last `latestOffset` planned started, and how far behind the log's end its planned end is. */
  private plan: { origins: Record<OffsetOrigin, number>; behind: number[] } | undefined;
  /** The plans of the last batches, by their end offsets (progress is built after the next batch may be planned). */
  private readonly plans = new Map<string, { origins: Record<OffsetOrigin, number>; behind: number[] }>();

  constructor(private readonly config: KafkaSourceConfig) {
    const mode = config.topics.length === 1 ? `Subscribe[${config.topics[0]}]` : `Subscribe[${config.topics.join(',')}]`;
    this.description = `KafkaV2[${mode}]`;
    this.columns = [...KAFKA_COLUMNS, ...(config.valueSchema?.names.map((name) => `value.${name}`) ?? [])];
  }

  /** The partitions this process reads now: the group's assignment, or every partition of the topics without a group. */
  get assignment(): readonly TopicPartition[] {
    return this.member?.assignment ?? this.owned;
  }

  /** The validated `fromKafka` options (read by `startQuery({ tasks: 'perPartition' })` to build one partition source per task). */
  get settings(): KafkaSourceConfig {
    return this.config;
  }

  /** How many times the source has (re)joined its consumer group (0 without a group). */
  get groupGeneration(): number {
    return this.member?.generation ?? 0;
  }

  async start(context: SourceContext): Promise<void> {
    this.context = context;
    this.initialPath = context.metadataDir === undefined ? undefined : join(context.metadataDir, INITIAL_OFFSETS_FILE);
    await this.loadInitialOffsets();
    const kafka = createKafka(this.config.connection, this.config.brokers);
    try {
      this.log = new KafkaLog(kafka);
      await this.log.connect();
    } catch (error) {
      this.fail('connecting', error);
    }
    if (this.config.groupId !== undefined) {
      this.member = new KafkaGroupMember(kafka, this.config.groupId, this.config.topics, this.config.group);
      try {
        await this.member.start();
      } catch (error) {
        this.fail(`joining consumer group ${JSON.stringify(this.config.groupId)}`, error);
      }
    }
    // 'latest' means the end of the log when the query starts, not when its
    // first trigger happens to run: fix it now for the partitions we own.
    const marks = await this.watermarks(this.log!);
    for (const tp of this.ownedPartitions(marks)) {
      await this.initialOffset(this.log!, true, tp, marks.get(tp.topic)!.find((m) => m.partition === tp.partition)!);
    }
    await this.saveInitialOffsets();
  }

  async latestOffset(start: KafkaOffsets | undefined, limit: ReadLimit): Promise<KafkaOffsets | undefined> {
    const log = this.requireStarted();
    const marks = await this.watermarks(log);
    const owned = this.ownedPartitions(marks);
    if (this.member === undefined) this.owned = owned;
    if (owned.length === 0) return start;
    const ranges: PartitionRange[] = [];
    const origins: Record<OffsetOrigin, number> = { checkpoint: 0, startingOffsets: 0, groupOffset: 0, earliest: 0 };
    for (const tp of owned) {
      const wm = marks.get(tp.topic)!.find((m) => m.partition === tp.partition)!;
      const checkpointed = offsetOf(start, tp.topic, tp.partition);
      let from: number;
      if (checkpointed !== undefined) {
        from = checkpointed;
        origins.checkpoint++;
      } else {
        from = await this.initialOffset(log, start === undefined, tp, wm);
        origins[this.origin.get(`${start === undefined}\u0000${key(tp.topic, tp.partition)}`)!]++;
      }
      const capped = this.cap?.get(key(tp.topic, tp.partition));
      const until = Math.max(from, capped === undefined ? wm.high : Math.min(wm.high, capped));
      ranges.push({ ...tp, from, until });
    }
    const limited = this.config.maxOffsetsPerTrigger !== undefined && !limit.all;
    const ends = limited ? limitOffsets(ranges, this.config.maxOffsetsPerTrigger!) : ranges.map((r) => r.until);
    const highs = ranges.map((r) => marks.get(r.topic)!.find((m) => m.partition === r.partition)!.high);
    this.plan = { origins, behind: ends.map((end, i) => Math.max(0, highs[i]! - end)) };
    const end = buildOffsets(ranges.map((r, i) => [{ topic: r.topic, partition: r.partition }, ends[i]!] as const));
    this.plans.set(JSON.stringify(end), this.plan);
    if (this.plans.size > 64) this.plans.delete(this.plans.keys().next().value!);
    await this.saveInitialOffsets(); // before offsets/N can name a batch that starts there
    return end;
  }

  /**
   * Progress numbers of the batch that ends at `end` (else the last planned one): how many of its partitions
   * started from the checkpoint (`numPartitionsFromCheckpoint`), from
   * `startingOffsets`, from the group's committed offset or from the earliest
   * offset, and how far its end is behind the log's end (Spark's
   * `minOffsetsBehindLatest`, `maxOffsetsBehindLatest`, `avgOffsetsBehindLatest`).
   * There is no prefetch buffer: the backlog stays in Kafka.
   */
  progressMetrics(end?: KafkaOffsets): Readonly<Record<string, number>> {
    const plan = (end === undefined ? undefined : this.plans.get(JSON.stringify(buildOffsets(offsetEntries(end))))) ?? this.plan;
    if (plan === undefined) return {};
    const { origins, behind } = plan;
    const total = behind.reduce((a, b) => a + b, 0);
    return {
      numPartitionsFromCheckpoint: origins.checkpoint,
      numPartitionsFromStartingOffsets: origins.startingOffsets,
      numPartitionsFromGroupOffsets: origins.groupOffset,
      numPartitionsFromEarliest: origins.earliest,
      ...(behind.length === 0
        ? {}
        : { minOffsetsBehindLatest: Math.min(...behind), maxOffsetsBehindLatest: Math.max(...behind), avgOffsetsBehindLatest: total / behind.length }),
    };
  }

  async getBatch(start: KafkaOffsets | undefined, end: KafkaOffsets): Promise<readonly R[]> {
    const log = this.requireStarted();
    const ranges: PartitionRange[] = [];
    let marks: Map<string, PartitionWatermarks[]> | undefined;
    for (const [tp, until] of offsetEntries(end)) {
      let from = offsetOf(start, tp.topic, tp.partition);
      if (from === undefined) {
        marks ??= await this.watermarks(log);
        const wm = marks.get(tp.topic)?.find((m) => m.partition === tp.partition) ?? { partition: tp.partition, low: 0, high: until };
        from = Math.min(await this.initialOffset(log, start === undefined, tp, wm), until);
      }
      if (from < until) ranges.push({ ...tp, from, until });
    }
    await this.saveInitialOffsets();
    const records = await this.readRanges(log, ranges);
    return this.toRows(records);
  }

  /** Reads the first batch's start offsets kept by an earlier run (none on a fresh checkpoint, or without a checkpoint directory). */
  private async loadInitialOffsets(): Promise<void> {
    const path = this.initialPath;
    if (path === undefined) return;
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return;
      throw new CheckpointIOError(`checkpoint: cannot read ${path}; got ${String((error as { code?: unknown }).code ?? error)}. Check the checkpoint location's permissions and disk.`, path, error);
    }
    const body = parseJsonBody(unframeFile(bytes, path, 'source', checksum), path) as { startingOffsets?: unknown } | null;
    const offsets = body?.startingOffsets;
    if (typeof offsets !== 'object' || offsets === null || !offsetEntries(offsets as KafkaOffsets).every(([, o]) => Number.isSafeInteger(o) && o >= 0)) {
      throw corruptContent(path, "the Kafka source's initial offsets of the wrong shape");
    }
    for (const [tp, offset] of offsetEntries(offsets as KafkaOffsets)) {
      const k = key(tp.topic, tp.partition);
      this.starting.set(k, offset);
      this.origin.set(`true\u0000${k}`, 'startingOffsets');
    }
  }

  /** Writes the first batch's start offsets resolved so far, atomically and durably, if any is new. */
  private async saveInitialOffsets(): Promise<void> {
    const path = this.initialPath;
    if (path === undefined || !this.initialDirty) return;
    this.initialDirty = false;
    const startingOffsets = buildOffsets([...this.starting].map(([k, offset]) => {
      const cut = k.lastIndexOf('\u0000');
      return [{ topic: k.slice(0, cut), partition: Number(k.slice(cut + 1)) }, offset] as const;
    }));
    try {
      await makeDirectory(dirname(path));
      await atomicWrite(path, frameJson('source', { startingOffsets }, checksum));
    } catch (error) {
      this.initialDirty = true;
      throw new CheckpointIOError(`checkpoint: cannot write ${path}; got ${String((error as { code?: unknown }).code ?? error)}. Check the checkpoint location's permissions and free space.`, path, error);
    }
  }

  /**
   * Where the partitions of `(start, end]` that `start` has no offset for
   * began (resolved from `startingOffsets`, the group or the earliest
   * offset), `{ from: { topic: { partition: offset } } }`; `null` when every
   * partition of `end` has its start in `start` (the offsets then say it all).
   * Kept by the sink with the batch, so the batch is planned again from the
   * same offsets even when `'latest'` has moved on since.
   */
  async describePlan(start: KafkaOffsets | undefined, end: KafkaOffsets): Promise<unknown> {
    const cache = start === undefined ? this.starting : this.discovered;
    const from: Array<[TopicPartition, number]> = [];
    for (const [tp] of offsetEntries(end)) {
      if (offsetOf(start, tp.topic, tp.partition) !== undefined) continue;
      const resolved = cache.get(key(tp.topic, tp.partition));
      if (resolved !== undefined) from.push([tp, resolved]);
    }
    return from.length === 0 ? null : { from: buildOffsets(from) };
  }

  /** Before a batch is re-run from the sink's record: its partitions without a start in `start` begin where {@link KafkaSource.describePlan} said they did. */
  async restorePlan(start: KafkaOffsets | undefined, _end: KafkaOffsets, plan: unknown): Promise<void> {
    const from = (plan as { from?: unknown } | null)?.from;
    if (typeof from !== 'object' || from === null) return;
    const cache = start === undefined ? this.starting : this.discovered;
    for (const [tp, offset] of offsetEntries(from as KafkaOffsets)) {
      if (!Number.isSafeInteger(offset) || offset < 0) continue;
      cache.set(key(tp.topic, tp.partition), offset);
      if (start === undefined) this.initialDirty = true;
      this.origin.set(`${start === undefined}\u0000${key(tp.topic, tp.partition)}`, start === undefined ? 'startingOffsets' : this.config.groupId !== undefined ? 'groupOffset' : 'earliest');
    }
    await this.saveInitialOffsets();
  }

  async commit(end: KafkaOffsets): Promise<void> {
    if (this.member === undefined || !this.config.commitToGroup) return;
    try {
      await this.member.commit(end);
      this.lastGroupCommitError = undefined;
    } catch (error) {
      // Monitoring only: the checkpoint, not the group, is the source of truth,
      // so a commit refused during a rebalance must not fail the query.
      this.lastGroupCommitError = error;
    }
  }

  async stop(): Promise<void> {
    const member = this.member;
    const log = this.log;
    this.member = undefined;
    this.log = undefined;
    await closeGroupAndLog(member, log);
  }

  sameOffset(a: KafkaOffsets | undefined, b: KafkaOffsets | undefined): boolean {
    return sameKafkaOffsets(a, b);
  }

  async prepareForAvailableNow(): Promise<void> {
    const log = this.requireStarted();
    const marks = await this.watermarks(log);
    const cap = new Map<string, number>();
    for (const [topic, partitions] of marks) for (const wm of partitions) cap.set(key(topic, wm.partition), wm.high);
    this.cap = cap;
  }

  // -------------------------------------------------------------------------

  private requireStarted(): KafkaLog {
    if (this.log === undefined) {
      throw new SourceError(OPERATOR, `the source is not started (topics ${this.config.topics.join(', ')}); startQuery calls start() before reading.`);
    }
    return this.log;
  }

  private fail(action: string, error: unknown): never {
    if (error instanceof StreamingError) throw error;
    throw new SourceError(
      OPERATOR,
      `${action} failed for topics ${this.config.topics.join(', ')} on brokers ${this.config.brokers.join(',')}: ${kafkaErrorMessage(error)}`,
      error,
      isRetriableKafkaError(error),
    );
  }

  private async watermarks(log: KafkaLog): Promise<Map<string, PartitionWatermarks[]>> {
    const marks = new Map<string, PartitionWatermarks[]>();
    for (const topic of this.config.topics) {
      try {
        marks.set(topic, await log.watermarks(topic));
      } catch (error) {
        this.fail(`reading the offsets of topic ${JSON.stringify(topic)}`, error);
      }
    }
    return marks;
  }

  private ownedPartitions(marks: Map<string, PartitionWatermarks[]>): TopicPartition[] {
    if (this.member !== undefined) {
      return this.member.assignment.filter((tp) => marks.get(tp.topic)?.some((m) => m.partition === tp.partition) === true);
    }
    const all: TopicPartition[] = [];
    for (const topic of this.config.topics) for (const wm of marks.get(topic) ?? []) all.push({ topic, partition: wm.partition });
    return all;
  }

  /**
   * Where a partition with no offset in the previous batch starts. Resolved
   * once per partition and remembered, so that `'latest'` does not move
   * between planning and running a batch. At the query's first batch:
   * `startingOffsets`. A partition that shows up later (new partition, or
   * newly assigned by the group): the group's committed offset where the
   * broker reports one, else the earliest offset (Spark's rule for new partitions).
   */
  private async initialOffset(log: KafkaLog, firstBatch: boolean, tp: TopicPartition, wm: PartitionWatermarks): Promise<number> {
    const k = key(tp.topic, tp.partition);
    const cache = firstBatch ? this.starting : this.discovered;
    const known = cache.get(k);
    if (known !== undefined) return known;
    let offset: number;
    let origin: OffsetOrigin;
    if (firstBatch) {
      const starting = this.config.startingOffsets;
      if (starting === 'earliest') offset = wm.low;
      else if (starting === 'latest') offset = wm.high;
      else {
        const given = offsetOf(starting, tp.topic, tp.partition) ?? LATEST;
        offset = given === EARLIEST ? wm.low : given === LATEST ? wm.high : given;
      }
      origin = 'startingOffsets';
    } else {
      let groupOffset: number | undefined;
      if (this.config.groupId !== undefined) {
        let committed: Map<number, number>;
        try {
          committed = await log.committedOffsets(this.config.groupId, tp.topic);
        } catch (error) {
          // Never a guess: starting from the earliest offset here would read again what another member already processed.
          throw new KafkaOffsetLookupError(
            OPERATOR,
            this.config.groupId,
            tp.topic,
            [tp.partition],
            `cannot look up consumer group ${JSON.stringify(this.config.groupId)}'s committed offset for ${tp.topic}/${tp.partition}, a partition the checkpoint has no offset for (newly assigned or new); got ${kafkaErrorMessage(error)}. ` +
              'The query retries this lookup and stops if it keeps failing, rather than start the partition at a guessed offset; check the brokers and the group coordinator, then restart',
            error,
          );
        }
        groupOffset = committed.get(tp.partition);
      }
      if (groupOffset !== undefined && groupOffset >= 0) {
        offset = groupOffset;
        origin = 'groupOffset';
      } else {
        offset = wm.low;
        origin = 'earliest';
      }
    }
    cache.set(k, offset);
    this.origin.set(`${firstBatch}\u0000${k}`, origin);
    if (firstBatch) this.initialDirty = true;
    return offset;
  }

  private async readRanges(log: KafkaLog, ranges: PartitionRange[]): Promise<KafkaLogRecord[]> {
    try {
      return await log.read(ranges);
    } catch (error) {
      const lost = error instanceof KafkaRangeUnavailable || (error as { name?: unknown }).name === 'KafkaJSOffsetOutOfRange';
      if (!lost) this.fail('fetching records', error);
      if (this.config.failOnDataLoss) {
        throw new SourceError(
          OPERATOR,
          `some offsets of the batch are no longer in the log (deleted by retention, or the topic was re-created): ${kafkaErrorMessage(error)}; ` +
            `asked for ${describeValue(ranges.map((r) => `${r.topic}/${r.partition}[${r.from},${r.until})`))}. Pass failOnDataLoss: false to read what is left instead.`,
          error,
          false,
        );
      }
      const marks = await this.watermarks(log);
      const clamped = ranges
        .map((r) => {
          const wm = marks.get(r.topic)?.find((m) => m.partition === r.partition);
          return wm === undefined ? { ...r, until: r.from } : { ...r, from: Math.max(r.from, wm.low), until: Math.min(r.until, wm.high) };
        })
        .filter((r) => r.from < r.until);
      try {
        return await log.read(clamped);
      } catch (retryError) {
        this.fail('fetching records', retryError);
      }
    }
  }

  private toRows(records: readonly KafkaLogRecord[]): R[] {
    const { keyFormat, valueFormat, valueSchema } = this.config;
    const rows: R[] = [];
    for (const record of records) {
      let decodedKey: unknown;
      let decodedValue: unknown;
      try {
        decodedKey = decodeKafkaBytes(keyFormat, record.key);
        decodedValue = decodeKafkaBytes(valueFormat, record.value, valueSchema);
      } catch (error) {
        if (!(error instanceof MalformedKafkaRecord)) throw error;
        const location = `${record.topic}/${record.partition}@${record.offset}`;
        const text = `${record.key === null ? '' : `${record.key.toString('utf8')} `}${record.value === null ? '' : record.value.toString('utf8')}`;
        if (this.config.onMalformed === 'deadLetter' && this.context !== undefined) {
          this.context.deadLetter({ source: this.description, location, text, reason: error.message });
          continue;
        }
        throw new SourceError(
          OPERATOR,
          `malformed JSON record in ${location}: ${error.message}; got ${describeValue(text)}. Pass onMalformed: 'deadLetter' to route such records to a dead-letter output instead.`,
          undefined,
          false,
        );
      }
      rows.push({
        key: decodedKey,
        value: decodedValue,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        timestamp: record.timestamp,
        headers: record.headers,
      } as R);
    }
    return rows;
  }
}

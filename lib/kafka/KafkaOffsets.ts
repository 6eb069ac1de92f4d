/**
 * Kafka offsets in Spark's JSON shape: per topic, per partition (as a string
 * key), the offset of the **next** record to read, i.e. the exclusive end of
 * what was read so far. `{"orders":{"0":23,"1":-1}}`.
 *
 * In `startingOffsets`, `-2` stands for the earliest and `-1` for the latest
 * offset, as in Spark.
 */
export type KafkaOffsets = { readonly [topic: string]: { readonly [partition: string]: number } };

/** One topic-partition. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** `earliest` in a per-partition `startingOffsets` entry (Spark's `-2`). */
export const EARLIEST = -2;
/** `latest` in a per-partition `startingOffsets` entry (Spark's `-1`). */
export const LATEST = -1;

/** The offset recorded for a topic-partition, if any. */
export function offsetOf(offsets: KafkaOffsets | undefined, topic: string, partition: number): number | undefined {
  return offsets?.[topic]?.[String(partition)];
}

/** Builds a {@link KafkaOffsets} value with topics and partitions in a stable (sorted) order. */
export function buildOffsets(entries: Iterable<readonly [TopicPartition, number]>): KafkaOffsets {
  const byTopic = new Map<string, Map<number, number>>();
  for (const [{ topic, partition }, offset] of entries) {
    let partitions = byTopic.get(topic);
    if (partitions === undefined) byTopic.set(topic, (partitions = new Map()));
    partitions.set(partition, offset);
  }
  const result: Record<string, Record<string, number>> = {};
  for (const topic of [...byTopic.keys()].sort()) {
    const partitions = byTopic.get(topic)!;
    const entry: Record<string, number> = {};
    for (const partition of [...partitions.keys()].sort((a, b) => a - b)) entry[String(partition)] = partitions.get(partition)!;
    result[topic] = entry;
  }
  return result;
}

/** Every topic-partition with its offset, in the value's order. */
export function offsetEntries(offsets: KafkaOffsets | undefined): Array<[TopicPartition, number]> {
  const result: Array<[TopicPartition, number]> = [];
  if (offsets === undefined) return result;
  for (const topic of Object.keys(offsets)) {
    const partitions = offsets[topic]!;
    for (const partition of Object.keys(partitions)) result.push([{ topic, partition: Number(partition) }, partitions[partition]!]);
  }
  return result;
}

/** `true` when both name the same partitions at the same offsets (key order does not matter). */
export function sameKafkaOffsets(a: KafkaOffsets | undefined, b: KafkaOffsets | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const left = offsetEntries(a);
  if (left.length !== offsetEntries(b).length) return false;
  return left.every(([{ topic, partition }, offset]) => offsetOf(b, topic, partition) === offset);
}

/** A partition's backlog for one trigger: read `[from, until)`. */
export interface PartitionRange extends TopicPartition {
  readonly from: number;
  readonly until: number;
}

/**
 * Caps the total number of offsets one trigger reads at `limit`, splitting it
 * across partitions in proportion to each partition's backlog (Spark's
 * `maxOffsetsPerTrigger`): a partition with share `limit * backlog / total`
 * advances by that share rounded down, or rounded up when below one, so that
 * no partition with data starves. Returns the end offset per partition.
 */
export function limitOffsets(ranges: readonly PartitionRange[], limit: number): number[] {
  let total = 0;
  for (const range of ranges) total += Math.max(0, range.until - range.from);
  if (total <= limit) return ranges.map((range) => Math.max(range.from, range.until));
  return ranges.map((range) => {
    const backlog = Math.max(0, range.until - range.from);
    if (backlog === 0) return range.from;
    const share = (limit * backlog) / total;
    const step = share < 1 ? Math.ceil(share) : Math.floor(share);
    return Math.min(range.until, range.from + step);
  });
}

// Where a task with no checkpoint yet starts (KafkaPartitionSource, the source
// of one task of startQuery({ tasks: 'perPartition' })): the group's committed
// offset with initialOffsets: 'group', else the configured startingOffsets;
// never the earliest offset by accident, and never the process's own earlier
// view. Kafka is replaced by a stand-in for the process's Kafka access.
import { asyncScheduler } from 'rxjs';
import { MemoryCheckpointStore } from '../../../lib/checkpoint/MemoryCheckpointStore.js';
import { KafkaOffsetLookupError } from '../../../lib/errors/index.js';
import type { KafkaOffsets, TopicPartition } from '../../../lib/kafka/KafkaOffsets.js';
import { KafkaPartitionSource, type KafkaProcessAccess } from '../../../lib/kafka/partitionTasks.js';
import type { StartingOffsets } from '../../../lib/sources/fromKafka.js';

const tp: TopicPartition = { topic: 'clicks', partition: 1 };
const context = { queryId: 'q', runId: 'r', scheduler: asyncScheduler, deadLetter: () => undefined };

interface FakeAccess {
  committed: number | undefined | Error;
  lookups: number;
  reads: Array<[number, number]>;
}

/** The process's Kafka access with a partition holding offsets [10, 50) and a group that committed `committed`. */
function access(startingOffsets: StartingOffsets, committed: FakeAccess['committed']): { access: KafkaProcessAccess; fake: FakeAccess } {
  const fake: FakeAccess = { committed, lookups: 0, reads: [] };
  const stand = {
    config: { startingOffsets, maxOffsetsPerTrigger: undefined, keyFormat: 'string', valueFormat: 'string', onMalformed: 'fail', topics: [tp.topic], groupId: 'g' },
    watermarks: async () => ({ partition: tp.partition, low: 10, high: 50 }),
    committedOffset: async () => {
      fake.lookups++;
      if (fake.committed instanceof Error) throw fake.committed;
      return fake.committed;
    },
    read: async (_tp: TopicPartition, from: number, until: number) => {
      if (from < until) fake.reads.push([from, until]); // the real access reads nothing for an empty range too
      return [];
    },
    partitions: () => 2,
    commitToGroup: async () => undefined,
  };
  return { access: stand as unknown as KafkaProcessAccess, fake };
}

async function firstBatchStart(source: KafkaPartitionSource<unknown>): Promise<number> {
  await source.start(context);
  const end = (await source.latestOffset(undefined, { all: false })) as KafkaOffsets;
  await source.getBatch(undefined, end);
  return end.clicks!['1']!;
}

function initial(store: MemoryCheckpointStore): Promise<unknown> {
  return store.read('sources/0/initial.json').then((b) => (b === undefined ? undefined : JSON.parse(Buffer.from(b).toString('utf8'))));
}

describe('KafkaPartitionSource: where a task without a checkpoint starts', () => {
  it("initialOffsets 'group': at the group's committed offset, fixed in the task checkpoint before the first batch", async () => {
    const store = new MemoryCheckpointStore();
    const { access: a, fake } = access('earliest', 37);
    const source = new KafkaPartitionSource(a, tp, store, () => 1, 'group');
    expect(await firstBatchStart(source)).toBe(50);
    expect(fake.reads).toEqual([[37, 50]]);
    expect(await initial(store)).toEqual({ offset: 37 });
  });

  it("initialOffsets 'group' where the group has no offset: the configured startingOffsets ('latest', or a partition's explicit offset), not the earliest", async () => {
    const latest = access('latest', undefined);
    await firstBatchStart(new KafkaPartitionSource(latest.access, tp, new MemoryCheckpointStore(), () => 1, 'group'));
    expect(latest.fake.reads).toEqual([]); // starts at the high watermark: nothing to read
    const explicit = access({ clicks: { '1': 22 } }, undefined);
    await firstBatchStart(new KafkaPartitionSource(explicit.access, tp, new MemoryCheckpointStore(), () => 1, 'group'));
    expect(explicit.fake.reads).toEqual([[22, 50]]);
  });

  it("a failed group lookup is a typed retriable error, and nothing is started or fixed: never the earliest offset as a guess", async () => {
    const store = new MemoryCheckpointStore();
    const refused = new KafkaOffsetLookupError('fromKafka', 'g', 'clicks', [1], 'cannot look up (UNKNOWN_MEMBER_ID)', undefined);
    const { access: a, fake } = access('earliest', refused);
    const source = new KafkaPartitionSource(a, tp, store, () => 1, 'group');
    await source.start(context);
    const error = await source.latestOffset(undefined, { all: false }).catch((e: unknown) => e);
    expect(error).toBe(refused);
    expect((error as KafkaOffsetLookupError).retriable).toBe(true);
    expect(fake.reads).toEqual([]);
    expect(await initial(store)).toBeUndefined();
    // The runtime retries; once the lookup answers, the task starts at the group's offset.
    fake.committed = 44;
    expect((await source.latestOffset(undefined, { all: false }))?.clicks?.['1']).toBe(50);
    await source.getBatch(undefined, { clicks: { '1': 50 } });
    expect(fake.reads).toEqual([[44, 50]]);
  });

  it("initialOffsets 'startingOffsets' (the default) never asks the group", async () => {
    const { access: a, fake } = access('latest', 5);
    await firstBatchStart(new KafkaPartitionSource(a, tp, new MemoryCheckpointStore(), () => 1));
    expect(fake.lookups).toBe(0);
    expect(fake.reads).toEqual([]);
  });

  it("a task that started once keeps its start: a new owner (or the restarted process) reads the task checkpoint, not the group's offset since, nor its own earlier view", async () => {
    const store = new MemoryCheckpointStore();
    const first = access('earliest', 30);
    await firstBatchStart(new KafkaPartitionSource(first.access, tp, store, () => 1, 'group'));
    // Batch 0 is re-run by another process after the group's committed offset moved on (another owner committed 48).
    const second = access('earliest', 48);
    const again = new KafkaPartitionSource(second.access, tp, store, () => 1, 'group');
    await again.start(context);
    await again.getBatch(undefined, { clicks: { '1': 50 } });
    expect(second.fake.reads).toEqual([[30, 50]]);
    expect(second.fake.lookups).toBe(0);
    // With a checkpoint (a batch's start offset), neither the group nor the initial offset is consulted.
    await again.getBatch({ clicks: { '1': 45 } }, { clicks: { '1': 50 } });
    expect(second.fake.reads[1]).toEqual([45, 50]);
  });
});

// startQuery({ tasks: 'perPartition' }) in one process: one task per
// partition with its own offsets and checkpoint, typed refusals of bad
// options, and a key from the wrong partition as a typed error.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidOptionError, KafkaOffsetLookupError } from '../../../lib/errors/index.js';
import { TaskKeyPartitionError, defaultPartitionOfKey } from '../../../lib/kafka/partitionTasks.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { toMemory, memoryTable } from '../../../lib/sinks/toMemory.js';
import { fromKafka, type KafkaRow } from '../../../lib/sources/fromKafka.js';
import { claimTopic, closeTestKafka, kafkaBroker, produce } from '../kafka/kafkaTestKit.js';

afterAll(closeTestKafka);
const group = { heartbeatInterval: 200, sessionTimeout: 6000, rebalanceTimeout: 6000 };
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function shared(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'rss-tasks-'));
  dirs.push(d);
  return d;
}

describe("startQuery({ tasks: 'perPartition' })", () => {
  it('runs one task per partition, each with its own offsets and checkpoint directory', async () => {
    const topic = await claimTopic(2);
    const dir = shared();
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    await produce(topic, keys.map((k) => ({ partition: defaultPartitionOfKey(topic, Buffer.from(k), 2), key: k, value: k })));
    const query = startQuery<KafkaRow<string, string>, KafkaRow<string, string>>({
      tasks: 'perPartition',
      source: fromKafka({ brokers: kafkaBroker(), topic, groupId: `g-${topic}`, group, startingOffsets: 'earliest', keyFormat: 'string', valueFormat: 'string' }),
      sink: (task) => toMemory(`tasks-${topic}-${task.partition}`),
      checkpointLocation: dir,
    });
    await query.ready;
    expect(query.tasks.map((t) => t.id)).toEqual([`${topic}-0`, `${topic}-1`]);
    await query.processAllAvailable();
    await query.stop();
    for (const p of [0, 1]) {
      const rows = memoryTable(`tasks-${topic}-${p}`) as KafkaRow<string, string>[];
      expect(rows.map((r) => r.key).sort()).toEqual(keys.filter((k) => defaultPartitionOfKey(topic, Buffer.from(k), 2) === p).sort());
      expect(rows.every((r) => r.partition === p)).toBe(true);
      expect(fs.readdirSync(path.join(dir, 'tasks', `${topic}-${p}`)).sort()).toEqual(expect.arrayContaining(['commits', 'epochs', 'metadata', 'offsets']));
    }
  });

  it('fails with a TaskKeyPartitionError naming the record when a key belongs to another partition', async () => {
    const topic = await claimTopic(2);
    const wrong = 1 - defaultPartitionOfKey(topic, Buffer.from('k1'), 2);
    await produce(topic, [{ partition: wrong, key: 'k1', value: 'v' }]);
    const query = startQuery<KafkaRow<string, string>, KafkaRow<string, string>>({
      tasks: 'perPartition',
      source: fromKafka({ brokers: kafkaBroker(), topic, groupId: `g-${topic}`, group, startingOffsets: 'earliest', keyFormat: 'string', valueFormat: 'string' }),
      sink: (task) => toMemory(`wrong-${topic}-${task.partition}`),
      checkpointLocation: shared(),
    });
    const error = await query.awaitTermination().catch((e: unknown) => e);
    expect((error as Error).message).toContain("belongs to partition"); // shows the message when another error ended the query
    expect(error).toBeInstanceOf(TaskKeyPartitionError);
    expect(error).toMatchObject({ topic, partition: wrong, offset: 0, keyPartition: 1 - wrong });
    expect((error as Error).message).toContain(`record ${topic}/${wrong}@0 (key "k1") belongs to partition ${1 - wrong}`);
  });

  it("a task with no checkpoint starts at startingOffsets ('latest': what the topic held before is not read, never earliest by accident)", async () => {
    const topic = await claimTopic(2);
    const dir = shared();
    const before = ['a', 'b', 'c', 'd'];
    await produce(topic, before.map((k) => ({ partition: defaultPartitionOfKey(topic, Buffer.from(k), 2), key: k, value: `old-${k}` })));
    const query = startQuery<KafkaRow<string, string>, KafkaRow<string, string>>({
      tasks: 'perPartition',
      source: fromKafka({ brokers: kafkaBroker(), topic, groupId: `g-${topic}`, group, startingOffsets: 'latest', keyFormat: 'string', valueFormat: 'string' }),
      sink: (task) => toMemory(`latest-${topic}-${task.partition}`),
      checkpointLocation: dir,
    });
    await query.ready;
    await query.processAllAvailable(); // fixes each task's start (the end of its partition now) in its checkpoint
    await produce(topic, before.map((k) => ({ partition: defaultPartitionOfKey(topic, Buffer.from(k), 2), key: k, value: `new-${k}` })));
    await query.processAllAvailable();
    await query.stop();
    const values = [0, 1].flatMap((p) => (memoryTable(`latest-${topic}-${p}`) as KafkaRow<string, string>[]).map((r) => r.value)).sort();
    expect(values).toEqual(before.map((k) => `new-${k}`).sort());
    for (const p of [0, 1]) {
      const initial = JSON.parse(fs.readFileSync(path.join(dir, 'tasks', `${topic}-${p}`, 'sources', '0', 'initial.json'), 'utf8')) as { offset: number };
      expect(initial.offset).toBe(before.filter((k) => defaultPartitionOfKey(topic, Buffer.from(k), 2) === p).length);
    }
  });

  it("initialOffsets 'group' where the group's offset cannot be looked up (the test broker refuses the admin's OffsetFetch): a typed KafkaOffsetLookupError after the retries, no row read, no start fixed", async () => {
    const topic = await claimTopic(2);
    const dir = shared();
    await produce(topic, ['a', 'b', 'c', 'd'].map((k) => ({ partition: defaultPartitionOfKey(topic, Buffer.from(k), 2), key: k, value: k })));
    const query = startQuery<KafkaRow<string, string>, KafkaRow<string, string>>({
      tasks: 'perPartition',
      initialOffsets: 'group',
      source: fromKafka({ brokers: kafkaBroker(), topic, groupId: `g-${topic}`, group, startingOffsets: 'earliest', keyFormat: 'string', valueFormat: 'string' }),
      sink: (task) => toMemory(`group-${topic}-${task.partition}`),
      checkpointLocation: dir,
      retry: { retries: 2, initialRetryTimeMs: 10, maxRetryTimeMs: 20 },
    });
    const error = await query.awaitTermination().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaOffsetLookupError);
    expect(error).toMatchObject({ groupId: `g-${topic}`, topic, retriable: true });
    expect((error as Error).message).toContain('rather than start the partition at a guessed offset');
    for (const p of [0, 1]) {
      expect(memoryTable(`group-${topic}-${p}`)).toEqual([]);
      expect(fs.existsSync(path.join(dir, 'tasks', `${topic}-${p}`, 'sources', '0', 'initial.json'))).toBe(false);
    }
  });

  it('refuses a source without groupId, a sink that is not a function, and no checkpointLocation', () => {
    const brokers = kafkaBroker();
    const base = { tasks: 'perPartition' as const, checkpointLocation: '/tmp/x', sink: () => toMemory('x') };
    expect(() => startQuery({ ...base, source: fromKafka({ brokers, topic: 't' }) })).toThrow("tasks: 'perPartition' needs fromKafka({ groupId })");
    expect(() => startQuery({ ...base, source: fromKafka({ brokers, topic: 't', groupId: 'g' }), sink: toMemory('y') as never })).toThrow(InvalidOptionError);
    expect(() => startQuery({ ...base, source: fromKafka({ brokers, topic: 't', groupId: 'g' }), checkpointLocation: '' })).toThrow('needs checkpointLocation, a directory every process shares');
    expect(() => startQuery({ source: fromKafka({ brokers, topic: 't' }), sink: toMemory('z'), tasks: 'all' } as never)).toThrow("tasks must be 'perPartition' or left out");
  });
});

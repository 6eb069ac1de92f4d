// Per-partition tasks whose checkpoints are in S3 (s3rver on 127.0.0.1, in
// front of it the test proxy that adds conditional writes, see
// ../checkpoint/s3TestKit.ts), against the test broker: each task's
// checkpoint, epochs included, is in the bucket under its own prefix; on a
// server without conditional writes the claim is refused with a typed error.
import { S3ConditionalWriteUnsupportedError, S3CheckpointStore } from '../../../lib/s3/index.js';
import { defaultPartitionOfKey } from '../../../lib/kafka/partitionTasks.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { memoryTable, toMemory } from '../../../lib/sinks/toMemory.js';
import { fromKafka, type KafkaRow } from '../../../lib/sources/fromKafka.js';
import { claimTopic, closeTestKafka, kafkaBroker, produce } from '../kafka/kafkaTestKit.js';
import { startConditionalProxy, startS3Server, type S3TestServer } from '../checkpoint/s3TestKit.js';

const BUCKET = 'tasks';
const group = { heartbeatInterval: 200, sessionTimeout: 6000, rebalanceTimeout: 6000 };
let server: S3TestServer;
let proxy: Awaited<ReturnType<typeof startConditionalProxy>>;

beforeAll(async () => {
  server = await startS3Server([BUCKET]);
  proxy = await startConditionalProxy(server.port);
});
afterAll(async () => {
  await closeTestKafka();
  await proxy?.stop();
  await server?.stop();
});

describe("startQuery({ tasks: 'perPartition' }) with task checkpoints in S3", () => {
  it('runs one task per partition, each checkpointed (epochs, offsets, commits) under its own prefix, and a restart goes on from there', async () => {
    const topic = await claimTopic(2);
    const client = server.client(proxy.endpoint);
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    const partitionOf = (k: string): number => defaultPartitionOfKey(topic, Buffer.from(k), 2);
    await produce(topic, keys.map((k) => ({ partition: partitionOf(k), key: k, value: k })));
    const run = async (table: string) => {
      const query = startQuery<KafkaRow<string, string>, KafkaRow<string, string>>({
        tasks: 'perPartition',
        source: fromKafka({ brokers: kafkaBroker(), topic, groupId: `g-${topic}`, group, startingOffsets: 'earliest', keyFormat: 'string', valueFormat: 'string' }),
        sink: (task) => toMemory(`${table}-${task.partition}`),
        checkpointLocation: (id) => new S3CheckpointStore({ client, bucket: BUCKET, prefix: `cp/${topic}/tasks/${id}` }),
      });
      await query.ready;
      await query.processAllAvailable();
      await query.stop();
    };
    await run(`s3-first-${topic}`);
    for (const p of [0, 1]) {
      const rows = memoryTable(`s3-first-${topic}-${p}`) as KafkaRow<string, string>[];
      expect(rows.map((r) => r.key).sort()).toEqual(keys.filter((k) => partitionOf(k) === p).sort());
      const store = new S3CheckpointStore({ client, bucket: BUCKET, prefix: `cp/${topic}/tasks/${topic}-${p}` });
      expect(await store.list('epochs')).toEqual(['0']);
      expect((await store.list('commits')).length).toBeGreaterThan(0);
      expect((await store.list('offsets')).length).toBeGreaterThan(0);
    }
    // A second run (a restarted process) claims the next epoch and reads nothing again: its offsets come from the task checkpoints in S3.
    await produce(topic, [{ partition: partitionOf('g'), key: 'g', value: 'g' }]);
    await run(`s3-second-${topic}`);
    const second = [0, 1].flatMap((p) => (memoryTable(`s3-second-${topic}-${p}`) as KafkaRow<string, string>[]).map((r) => r.key));
    expect(second).toEqual(['g']);
    const store = new S3CheckpointStore({ client, bucket: BUCKET, prefix: `cp/${topic}/tasks/${topic}-0` });
    expect(await store.list('epochs')).toEqual(['0', '1']);
    expect(proxy.conditionalPuts()).toBeGreaterThan(0);
  });

  it('fails the query with S3ConditionalWriteUnsupportedError on a server without conditional writes, writing no claim', async () => {
    const topic = await claimTopic(1);
    await produce(topic, [{ partition: 0, key: 'a', value: 'a' }]);
    const client = server.client();
    const query = startQuery<KafkaRow<string, string>, KafkaRow<string, string>>({
      tasks: 'perPartition',
      source: fromKafka({ brokers: kafkaBroker(), topic, groupId: `g-${topic}`, group, startingOffsets: 'earliest', keyFormat: 'string', valueFormat: 'string' }),
      sink: (task) => toMemory(`s3-refused-${topic}-${task.partition}`),
      checkpointLocation: (id) => new S3CheckpointStore({ client, bucket: BUCKET, prefix: `cp/${topic}/tasks/${id}` }),
    });
    const error = await query.awaitTermination().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3ConditionalWriteUnsupportedError);
    expect(await new S3CheckpointStore({ client, bucket: BUCKET, prefix: `cp/${topic}/tasks/${topic}-0` }).list('epochs')).toEqual([]);
  });
});

// What the test broker (mokapi, go-mokapi 0.52) answers for the parts of the
// Kafka protocol that scale-out would use beyond plain produce/fetch/groups:
// transactions and the admin's committed-offset lookup. docs/guides/scaling-out.md
// ("What the test broker lacks") quotes these results; against another broker
// (RSS_KAFKA_BROKER set by you) the answers are printed, not asserted.
import { connect } from 'node:net';
import { claimTopic, kafkaBroker, testKafka } from '../kafka/kafkaTestKit.js';

/** Kafka protocol API keys (the Kafka protocol guide's numbering). */
const API = {
  Produce: 0, Fetch: 1, ListOffsets: 2, Metadata: 3, OffsetCommit: 8, OffsetFetch: 9, FindCoordinator: 10, JoinGroup: 11, Heartbeat: 12, LeaveGroup: 13,
  SyncGroup: 14, DescribeGroups: 15, ListGroups: 16, ApiVersions: 18, CreateTopics: 19, InitProducerId: 22, AddPartitionsToTxn: 24, AddOffsetsToTxn: 25, EndTxn: 26,
  TxnOffsetCommit: 28,
} as const;
const TRANSACTION_APIS = ['AddPartitionsToTxn', 'AddOffsetsToTxn', 'EndTxn', 'TxnOffsetCommit'] as const;
const isMokapi = (process.env.RSS_KAFKA_TOPIC_POOL ?? '') !== '';

/** One ApiVersions v0 request on a raw connection: the API keys the broker says it serves, with their version ranges. */
function apiVersions(address: string): Promise<Map<number, [number, number]>> {
  const [host, port] = address.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port) });
    const clientId = Buffer.from('rss-probe');
    const header = Buffer.alloc(10);
    header.writeInt16BE(API.ApiVersions, 0); // api key
    header.writeInt16BE(0, 2); // api version
    header.writeInt32BE(1, 4); // correlation id
    header.writeInt16BE(clientId.length, 8);
    const body = Buffer.concat([header, clientId]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length, 0);
    socket.write(Buffer.concat([size, body]));
    let reply = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk]);
      if (reply.length < 4 || reply.length < 4 + reply.readInt32BE(0)) return;
      socket.destroy();
      const errorCode = reply.readInt16BE(8);
      if (errorCode !== 0) return reject(new Error(`ApiVersions answered error code ${errorCode}`));
      const keys = new Map<number, [number, number]>();
      const n = reply.readInt32BE(10);
      for (let i = 0, at = 14; i < n; i++, at += 6) keys.set(reply.readInt16BE(at), [reply.readInt16BE(at + 2), reply.readInt16BE(at + 4)]);
      resolve(keys);
    });
    socket.on('error', reject);
  });
}

describe('what the test broker supports (for scale-out)', () => {
  it('ApiVersions: no transaction APIs (AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit); InitProducerId (idempotent producer) is there', async () => {
    const keys = await apiVersions(kafkaBroker());
    const names = Object.fromEntries(Object.entries(API).map(([name, key]) => [key, name]));
    const served = [...keys].sort(([a], [b]) => a - b).map(([key, [min, max]]) => `${names[key] ?? key} (${key}) v${min}-${max}`);
    const lacking = Object.entries(API).filter(([, key]) => !keys.has(key)).map(([name, key]) => `${name} (${key})`);
    console.log(`broker ApiVersions: serves ${served.join(', ')}; lacks ${lacking.join(', ')}`);
    if (!isMokapi) return;
    for (const name of TRANSACTION_APIS) expect(keys.has(API[name])).toBe(false);
    expect(keys.has(API.InitProducerId)).toBe(true);
  });

  it('a kafkajs transactional producer cannot start a transaction there', async () => {
    const topic = await claimTopic(1);
    const producer = testKafka().producer({ transactionalId: `rss-probe-${topic}`, idempotent: true, maxInFlightRequests: 1 });
    let outcome: string;
    try {
      await producer.connect();
      const tx = await producer.transaction();
      await tx.send({ topic, messages: [{ value: 'x' }] });
      await tx.sendOffsets({ consumerGroupId: `g-${topic}`, topics: [{ topic, partitions: [{ partition: 0, offset: '1' }] }] });
      await tx.commit();
      outcome = 'committed';
    } catch (error) {
      outcome = `${(error as Error).name}: ${(error as Error).message}`;
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
    console.log(`transactional producer: ${outcome}`);
    if (isMokapi) expect(outcome).toBe('KafkaJSGroupCoordinatorNotFound: Failed to find group coordinator');
  });

  it("kafkajs's idempotent producer: a batch of several records after the producer's first batch is refused (OUT_OF_ORDER_SEQUENCE_NUMBER)", async () => {
    const topic = await claimTopic(1);
    const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const outcomes: string[] = [];
    try {
      for (const n of [1, 1, 3]) {
        outcomes.push(
          await producer.send({ topic, acks: -1, messages: Array.from({ length: n }, (_, i) => ({ value: `v${i}` })) }).then(
            () => `${n}: ok`,
            (error: unknown) => `${n}: ${(error as { type?: string }).type ?? (error as Error).name}`,
          ),
        );
      }
    } finally {
      await producer.disconnect();
    }
    console.log(`idempotent producer, batches of 1, 1, 3 records: ${outcomes.join(', ')}`);
    if (isMokapi) expect(outcomes).toEqual(['1: ok', '1: ok', '3: OUT_OF_ORDER_SEQUENCE_NUMBER']);
  });

  it("the admin's committed-offset lookup (OffsetFetch) is refused with UNKNOWN_MEMBER_ID, even for a group nobody joined", async () => {
    const topic = await claimTopic(1);
    const admin = testKafka().admin();
    await admin.connect();
    const outcome = await admin.fetchOffsets({ groupId: `nobody-${topic}`, topics: [topic] }).then(
      (offsets) => `answered ${JSON.stringify(offsets)}`,
      (error: unknown) => `${(error as { type?: string }).type ?? (error as Error).name}: ${(error as Error).message}`,
    );
    await admin.disconnect();
    console.log(`admin.fetchOffsets: ${outcome}`);
    if (isMokapi) expect(outcome).toBe('UNKNOWN_MEMBER_ID: The coordinator is not aware of this member');
  });
});

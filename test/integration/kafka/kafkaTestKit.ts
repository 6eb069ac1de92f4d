// Helpers for the Kafka integration tests: the broker address, one fresh topic
// per test, producing records, reading a topic back, and waiting for a
// condition (never a fixed sleep).
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createConnection } from 'node:net';
import { Kafka, Partitioners, logLevel, type IHeaders, type ISocketFactory, type Producer } from 'kafkajs';
import { asyncScheduler } from 'rxjs';
import { KafkaLog, type KafkaLogRecord } from '../../../lib/kafka/KafkaLog.js';
import type { DeadLetterRecord, SourceContext } from '../../../lib/sources/Source.js';

/** The broker globalSetup started (or the one RSS_KAFKA_BROKER names). Never skips: no broker is a failure. */
export function kafkaBroker(): string {
  const broker = process.env.RSS_KAFKA_BROKER;
  if (broker === undefined || broker === '') {
    throw new Error('RSS_KAFKA_BROKER is not set: the integration globalSetup starts the broker; run these tests through the jest "integration" project');
  }
  return broker;
}

interface PoolTopic {
  readonly name: string;
  readonly partitions: number;
}

/**
 * A topic no other test uses, with `partitions` partitions. From the broker's
 * pool (mokapi serves only declared topics), claimed atomically across jest
 * workers; against an external broker (RSS_KAFKA_BROKER set by you), a new
 * random topic.
 */
export async function claimTopic(partitions: number): Promise<string> {
  const poolFile = process.env.RSS_KAFKA_TOPIC_POOL;
  if (poolFile !== undefined && poolFile !== '') {
    const pool = (JSON.parse(fs.readFileSync(poolFile, 'utf8')) as { topics: PoolTopic[] }).topics.filter((t) => t.partitions === partitions);
    const claims = path.join(path.dirname(poolFile), 'claims');
    for (const { name } of pool.sort(() => Math.random() - 0.5)) {
      try {
        fs.closeSync(fs.openSync(path.join(claims, name), 'wx'));
        return name;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    throw new Error(`the broker's topic pool has no unused topic with ${partitions} partitions left; enlarge it in test/integration/mokapi/spec.cjs`);
  }
  const name = `rss-it-${randomUUID()}`;
  const admin = testKafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  return name;
}

/** A kafkajs client for the test broker (quiet: failures surface as errors). */
export function testKafka(): Kafka {
  return new Kafka({ brokers: [kafkaBroker()], clientId: 'rss-test', logLevel: logLevel.NOTHING });
}

export interface TestMessage {
  readonly partition: number;
  readonly key?: string | null;
  readonly value: string | Buffer | null;
  readonly headers?: IHeaders;
  readonly timestamp?: string;
}

let producer: Producer | undefined;

/** Writes `messages` (each to its partition) and resolves once the broker acknowledged them. */
export async function produce(topic: string, messages: readonly TestMessage[]): Promise<void> {
  if (producer === undefined) {
    producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
  }
  await producer.send({ topic, messages: messages.map((m) => ({ ...m })) });
}

/** Closes the shared producer; call from afterAll. */
export async function closeTestKafka(): Promise<void> {
  const p = producer;
  producer = undefined;
  if (p !== undefined) await p.disconnect();
}

/** Every record now in `topic`, partition by partition, in offset order. */
export async function readTopic(topic: string): Promise<KafkaLogRecord[]> {
  const log = new KafkaLog(testKafka());
  await log.connect();
  try {
    const marks = await log.watermarks(topic);
    return await log.read(marks.map((m) => ({ topic, partition: m.partition, from: m.low, until: m.high })));
  } finally {
    await log.disconnect();
  }
}

/** A SourceContext as startQuery builds it, collecting dead letters. */
export function sourceContext(deadLetters: DeadLetterRecord[] = []): SourceContext {
  return { queryId: randomUUID(), runId: randomUUID(), scheduler: asyncScheduler, deadLetter: (record) => deadLetters.push(record) };
}

/**
 * Polls `condition` every 25 ms until it holds. No wall-clock limit by default (a rebalance on a
 * loaded machine can be very slow; jest's backstop stops a real hang); a caller may pass `timeoutMs`
 * to fail with `what` sooner.
 */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** `n` messages `${prefix}-${i}` spread round-robin over `partitions` partitions. */
export function messages(prefix: string, n: number, partitions: number): TestMessage[] {
  return Array.from({ length: n }, (_, i) => ({ partition: i % partitions, key: `k${i}`, value: `${prefix}-${i}` }));
}

/** Kafka protocol API keys the fault injection below can refuse. */
export const API_KEY = { produce: 0, offsetFetch: 9, findCoordinator: 10 } as const;

/** A kafkajs `socketFactory` (public client option) whose connections fail while a request of a listed API key is sent. */
export interface FaultyNetwork {
  readonly socketFactory: ISocketFactory;
  /** API keys whose requests reset the connection instead of being sent. */
  readonly failing: Set<number>;
  /** API keys whose first N requests are sent and every later one resets its connection (N = the value). */
  readonly failAfter: Map<number, number>;
  /** How many requests were sent, per API key. */
  readonly sent: Map<number, number>;
  /** How many requests were refused, per API key. */
  readonly refused: Map<number, number>;
}

/**
 * Real TCP connections to the broker, except that a request whose API key is
 * in `failing` resets its connection (the client sees a connection error, as
 * when a broker or the network drops mid-request). No kafkajs internals are
 * touched: `socketFactory` is a documented client option.
 */
export function faultyNetwork(): FaultyNetwork {
  const failing = new Set<number>();
  const refused = new Map<number, number>();
  const failAfter = new Map<number, number>();
  const sent = new Map<number, number>();
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = createConnection({ host, port }, onConnect);
    const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (Buffer.isBuffer(chunk) && chunk.length >= 6) {
        const apiKey = chunk.readInt16BE(4);
        const allowed = failAfter.get(apiKey);
        if (failing.has(apiKey) || (allowed !== undefined && (sent.get(apiKey) ?? 0) >= allowed)) {
          refused.set(apiKey, (refused.get(apiKey) ?? 0) + 1);
          socket.destroy(new Error(`injected: connection reset while sending a request with API key ${apiKey}`));
          return false;
        }
        sent.set(apiKey, (sent.get(apiKey) ?? 0) + 1);
      }
      return write(chunk, ...rest);
    }) as typeof socket.write;
    return socket;
  };
  return { socketFactory, failing, failAfter, sent, refused };
}

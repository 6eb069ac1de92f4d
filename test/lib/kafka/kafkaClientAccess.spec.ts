// What kafkajs cannot do through its public API (offset-range reads, through
// its private Cluster object) lives in lib/kafka/KafkaLog.ts only, is checked
// when a reader is created, and fails with a typed error naming what is missing.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Kafka, logLevel, type Kafka as KafkaClient } from 'kafkajs';
import { KafkaClientUnsupportedError, KafkaLog, KafkaUndecodableReplyError } from '../../../lib/kafka/KafkaLog.js';
import { KafkaClientUnsupportedError as Exported } from '../../../lib/index.js';
import { StreamingError } from '../../../lib/errors/index.js';

const root = join(__dirname, '..', '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    if (statSync(file).isDirectory()) out.push(...sources(file));
    else if (name.endsWith('.ts')) out.push(file);
  }
  return out;
}

/** A stand-in for a kafkajs client whose private factory is `factory` (or missing). */
function fakeKafka(factory?: (options: object) => unknown): KafkaClient {
  const client: Record<string | symbol, unknown> = { admin: () => ({}) };
  if (factory !== undefined) client[Symbol('private:Kafka:createCluster')] = factory;
  return client as unknown as KafkaClient;
}

const fullCluster = (): Record<string, () => undefined> =>
  Object.fromEntries(['connect', 'disconnect', 'addTargetTopic', 'refreshMetadata', 'findLeaderForPartitions', 'findBroker'].map((m) => [m, () => undefined]));

describe('kafkajs private access (lib/kafka/KafkaLog.ts)', () => {
  it('the installed kafkajs has the private Cluster shape: a reader is created without connecting', () => {
    expect(() => new KafkaLog(new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING }))).not.toThrow();
  });

  it('a client without the private factory fails with a typed KafkaClientUnsupportedError naming it', () => {
    const error = (() => {
      try {
        new KafkaLog(fakeKafka());
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(KafkaClientUnsupportedError);
    expect(error).toBeInstanceOf(StreamingError);
    expect(error).toMatchObject({ name: 'KafkaClientUnsupportedError', missing: 'private:Kafka:createCluster', retriable: false });
    expect((error as Error).message).toContain('the installed kafkajs has no private:Kafka:createCluster');
    expect(Exported).toBe(KafkaClientUnsupportedError);
  });

  it.each(['connect', 'disconnect', 'addTargetTopic', 'refreshMetadata', 'findLeaderForPartitions', 'findBroker'])('a Cluster without %s() fails with a typed error naming the method', (method) => {
    const cluster = fullCluster();
    delete cluster[method];
    expect(() => new KafkaLog(fakeKafka(() => cluster))).toThrow(expect.objectContaining({ name: 'KafkaClientUnsupportedError', missing: `Cluster.${method}()` }) as Error);
  });

  it('a Broker without fetch() fails the read with a typed error, not a TypeError', async () => {
    const cluster = { ...fullCluster(), findLeaderForPartitions: () => ({ '0': [0] }), findBroker: async () => ({}) };
    const log = new KafkaLog(fakeKafka(() => cluster));
    await expect(log.read([{ topic: 't', partition: 0, from: 0, until: 1 }])).rejects.toMatchObject({ name: 'KafkaClientUnsupportedError', missing: 'Broker.fetch()' });
  });

  it('no file outside lib/kafka/ imports kafkajs or reaches into its private objects', () => {
    const offenders: string[] = [];
    for (const file of [...sources(join(root, 'lib')), ...sources(join(root, 'operators'))]) {
      const rel = relative(root, file);
      if (rel.startsWith(join('lib', 'kafka'))) continue;
      const text = readFileSync(file, 'utf8');
      if (/from 'kafkajs'|require\('kafkajs'\)|kafkajs\/src|private:Kafka|createCluster/.test(text)) offenders.push(rel);
    }
    expect(offenders).toEqual([]);
  });

  it('inside lib/kafka/, only KafkaLog.ts touches the private factory', () => {
    const users = sources(join(root, 'lib', 'kafka'))
      .filter((f) => /private:Kafka|getOwnPropertySymbols/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(root, f));
    expect(users).toEqual([join('lib', 'kafka', 'KafkaLog.ts')]);
  });

  describe('a fetch reply that cannot be decoded (mokapi garbles replies to concurrent fetches)', () => {
    const record = (offset: number) => ({ offset: String(offset), key: null, value: Buffer.from(`v${offset}`), timestamp: '1000', headers: {} });
    /** A cluster whose broker fails its first `failures` fetches with `failure()`, then answers offsets [fetchOffset, 3). */
    function flakyCluster(failures: number, failure: () => Error) {
      const calls: string[] = [];
      const broker = {
        fetch: async (request: { topics: Array<{ partitions: Array<{ partition: number; fetchOffset: string }> }> }) => {
          const from = Number(request.topics[0]!.partitions[0]!.fetchOffset);
          calls.push(`fetch@${from}`);
          if (calls.length <= failures) throw failure();
          const messages = [];
          for (let o = from; o < 3; o++) messages.push(record(o));
          return { responses: [{ topicName: 't', partitions: [{ partition: 0, errorCode: 0, highWatermark: '3', messages }] }] };
        },
      };
      const cluster = { ...fullCluster(), findLeaderForPartitions: () => ({ '0': [0] }), findBroker: async () => broker };
      return { cluster, calls };
    }
    const outOfBounds = () => {
      try {
        Buffer.alloc(2).readInt32BE(0);
      } catch (e) {
        return e as Error;
      }
      throw new Error('unreachable');
    };

    it('is asked again; the records are exactly those of the range, each once, and the retry is counted', async () => {
      const { cluster, calls } = flakyCluster(2, outOfBounds);
      const log = new KafkaLog(fakeKafka(() => cluster));
      const records = await log.read([{ topic: 't', partition: 0, from: 0, until: 3 }]);
      expect(records.map((r) => r.offset)).toEqual([0, 1, 2]);
      expect(records.map((r) => r.value?.toString())).toEqual(['v0', 'v1', 'v2']);
      expect(calls).toEqual(['fetch@0', 'fetch@0', 'fetch@0']);
      expect(log.undecodableReplies).toBe(2);
    });

    it('a malformed varint in the reply is retried the same way', async () => {
      const varint = () => Object.assign(new Error('Invalid VarInt, must contain 5 bytes or less'), { name: 'KafkaJSInvalidVarIntError' });
      const { cluster } = flakyCluster(1, varint);
      const log = new KafkaLog(fakeKafka(() => cluster));
      await expect(log.read([{ topic: 't', partition: 0, from: 1, until: 3 }])).resolves.toHaveLength(2);
      expect(log.undecodableReplies).toBe(1);
    });

    it('a broker that keeps sending undecodable replies fails the read with a typed, retriable error naming the partition and offset', async () => {
      const { cluster, calls } = flakyCluster(Infinity, outOfBounds);
      const log = new KafkaLog(fakeKafka(() => cluster));
      const error = await log.read([{ topic: 't', partition: 0, from: 1, until: 3 }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KafkaUndecodableReplyError);
      expect(error).toMatchObject({ retriable: true, ranges: ['t/0@1'], attempts: 5 });
      expect((error as Error).message).toContain('could not be decoded 5 times in a row');
      expect((error as Error).message).toContain('outside buffer bounds');
      expect(calls).toHaveLength(5);
    });

    it('any other fetch failure is not retried here (it keeps its own type)', async () => {
      const { cluster, calls } = flakyCluster(1, () => Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError', retriable: true }));
      const log = new KafkaLog(fakeKafka(() => cluster));
      await expect(log.read([{ topic: 't', partition: 0, from: 0, until: 3 }])).rejects.toMatchObject({ name: 'KafkaJSConnectionError' });
      expect(calls).toHaveLength(1);
    });
  });
});

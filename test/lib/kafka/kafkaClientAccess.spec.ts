// What kafkajs cannot do through its public API (offset-range reads, through
// its private Cluster object) lives in lib/kafka/KafkaLog.ts only, is checked
// when a reader is created, and fails with a typed error naming what is missing.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Kafka, logLevel, type Kafka as KafkaClient } from 'kafkajs';
import { KafkaClientUnsupportedError, KafkaLog } from '../../../lib/kafka/KafkaLog.js';
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
});

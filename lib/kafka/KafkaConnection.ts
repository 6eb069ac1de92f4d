import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { InvalidOptionError, describeValue } from '../errors/index.js';

/** How to reach the cluster; shared by `fromKafka` and `toKafka`. */
export interface KafkaConnectionOptions {
  /** Bootstrap brokers, as `host:port` strings or one comma-separated string (Spark's `kafka.bootstrap.servers`). */
  readonly brokers: readonly string[] | string;
  /** The Kafka client id. @defaultValue `rxjs-structured-streaming` */
  readonly clientId?: string;
  /**
   * Further kafkajs client settings (`ssl`, `sasl`, `connectionTimeout`,
   * `requestTimeout`, `retry`, `logLevel`, `logCreator`, …).
   * @defaultValue `{ logLevel: logLevel.NOTHING }`: failures reach you as errors, not log lines
   */
  readonly kafka?: Omit<KafkaConfig, 'brokers' | 'clientId'>;
}

/** The broker list of the options, validated (`<operator>: brokers …` on a bad value). */
export function parseBrokers(operator: string, brokers: unknown): string[] {
  const list = typeof brokers === 'string' ? brokers.split(',').map((b) => b.trim()).filter((b) => b !== '') : brokers;
  const ok = Array.isArray(list) && list.length > 0 && list.every((b) => typeof b === 'string' && /^[^\s:]+:\d+$/.test(b));
  if (!ok) {
    throw new InvalidOptionError(
      `${operator}: brokers must be a non-empty list of host:port addresses; got ${describeValue(brokers)}. Pass e.g. ['localhost:9092'] or 'host1:9092,host2:9092'.`,
      'brokers',
      brokers,
      'a non-empty list of host:port strings',
    );
  }
  return list as string[];
}

/** A kafkajs client for the options. */
export function createKafka(options: KafkaConnectionOptions, brokers: readonly string[]): Kafka {
  return new Kafka({
    logLevel: logLevel.NOTHING,
    ...options.kafka,
    brokers: [...brokers],
    clientId: options.clientId ?? 'rxjs-structured-streaming',
  });
}

/**
 * Whether a failure is worth retrying: a KafkaJS error's own `retriable`;
 * when kafkajs gave up after its own retries (`KafkaJSNumberOfRetriesExceeded`,
 * never retriable itself) the retriable flag of the error it gave up on, since
 * a broker that was unreachable for a few seconds may be back later.
 */
export function isRetriableKafkaError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, retriable, cause } = error as { name?: unknown; retriable?: unknown; cause?: unknown };
  if (name === 'KafkaJSNumberOfRetriesExceeded' && cause !== undefined) return isRetriableKafkaError(cause);
  return retriable === true;
}

/** The message of a failure, with kafkajs's "caused by" chain flattened. */
export function kafkaErrorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message !== error.message && !error.message.includes(cause.message)) {
    return `${error.message} (caused by ${cause.name}: ${cause.message})`;
  }
  return error.message;
}

/** Leaves the consumer group (a failure to leave is not an error: the group expires the member) and disconnects the log reader. */
export async function closeGroupAndLog(member: { stop(): Promise<void> } | undefined, log: { disconnect(): Promise<void> } | undefined): Promise<void> {
  if (member !== undefined) await member.stop().catch(() => undefined);
  if (log !== undefined) await log.disconnect();
}

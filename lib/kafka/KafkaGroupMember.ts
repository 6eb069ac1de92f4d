import type { Consumer, Kafka } from 'kafkajs';
import { offsetEntries, type KafkaOffsets, type TopicPartition } from './KafkaOffsets.js';

/** Consumer-group settings of the Kafka source. */
export interface KafkaGroupOptions {
  /** @defaultValue 30000 (kafkajs's default) */
  readonly sessionTimeout?: number;
  /** @defaultValue 3000 */
  readonly heartbeatInterval?: number;
  /** @defaultValue 60000 */
  readonly rebalanceTimeout?: number;
}

/**
 * Membership in a consumer group, used only for what the group is good at
 * here: deciding which partitions this process reads, and recording progress
 * for monitoring tools. Records are never read through the group (the
 * consumer is paused as soon as it runs); the source reads exact offset
 * ranges through {@link KafkaLog}, so replays do not depend on the group's
 * position.
 */
export class KafkaGroupMember {
  private readonly consumer: Consumer;
  private current: readonly TopicPartition[] = [];
  private joins = 0;
  private crash: Error | undefined;

  constructor(
    kafka: Kafka,
    readonly groupId: string,
    private readonly topics: readonly string[],
    options: KafkaGroupOptions = {},
  ) {
    this.consumer = kafka.consumer({
      groupId,
      sessionTimeout: options.sessionTimeout ?? 30_000,
      heartbeatInterval: options.heartbeatInterval ?? 3_000,
      rebalanceTimeout: options.rebalanceTimeout ?? 60_000,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 500,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      const assignment: TopicPartition[] = [];
      const byTopic = event.payload.memberAssignment;
      for (const topic of Object.keys(byTopic).sort()) {
        for (const partition of [...(byTopic[topic] ?? [])].sort((a, b) => a - b)) assignment.push({ topic, partition });
      }
      this.current = assignment;
      this.joins += 1;
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      this.crash = event.payload.error;
    });
  }

  /** The partitions assigned to this member by the last rebalance. */
  get assignment(): readonly TopicPartition[] {
    return this.current;
  }

  /** How many times this member has (re)joined the group. */
  get generation(): number {
    return this.joins;
  }

  /** The last error the kafkajs consumer crashed with (it restarts itself on retriable ones). */
  get lastCrash(): Error | undefined {
    return this.crash;
  }

  /** Joins the group; resolves once the first assignment is known. */
  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.topics], fromBeginning: false });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Never used for data: the consumer is paused right away, and a batch
      // fetched before that is dropped without resolving or committing anything.
      eachBatch: async ({ pause }) => {
        pause();
      },
    });
    this.consumer.pause(this.topics.map((topic) => ({ topic })));
  }

  /** Commits `offsets` (next offset to read) for the partitions this member owns now. */
  async commit(offsets: KafkaOffsets): Promise<void> {
    const owned = new Set(this.current.map((tp) => `${tp.topic}\u0000${tp.partition}`));
    const entries = offsetEntries(offsets).filter(([tp]) => owned.has(`${tp.topic}\u0000${tp.partition}`));
    if (entries.length === 0) return;
    await this.consumer.commitOffsets(entries.map(([tp, offset]) => ({ topic: tp.topic, partition: tp.partition, offset: String(offset) })));
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

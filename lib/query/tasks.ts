import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Subject, Subscription, asyncScheduler, type Observable, type SchedulerAction, type SchedulerLike } from 'rxjs';
import type { Batch } from '../batch/Batch.js';
import type { CheckpointStore } from '../checkpoint/CheckpointStore.js';
import { FencedCheckpointStore, TaskFencedError } from '../checkpoint/FencedCheckpointStore.js';
import { openCheckpoint } from '../checkpoint/openCheckpoint.js';
import type { CheckpointStateOptions } from '../checkpoint/StoreCheckpoint.js';
import { InvalidOptionError, describeValue } from '../errors/index.js';
import type { EventListener, EventType } from '../instrumentation/events.js';
import { KafkaProcessAccess, KafkaPartitionSource, type KeyPartitioner } from '../kafka/partitionTasks.js';
import { KafkaSource } from '../kafka/KafkaSource.js';
import type { TopicPartition } from '../kafka/KafkaOffsets.js';
import type { Sink } from '../sinks/Sink.js';
import { parseDuration } from '../time/parseDuration.js';
import type { Duration } from '../types.js';
import type { StreamingQueryProgress, StreamingQueryStatus } from './progress.js';
import type { StreamingQuery } from './StreamingQuery.js';
import { startQuery, type StartQueryOptions } from './startQuery.js';

/** One task of a per-partition query: the state, offsets and watermark of one input partition. */
export interface PartitionTask {
  /** `<topic>-<partition>`: the task's directory under `<checkpointLocation>/tasks/`. */
  readonly id: string;
  readonly topic: string;
  readonly partition: number;
  /** The ownership epoch this process claimed for the task (fencing). */
  readonly epoch: number;
}

/** Options for `startQuery({ tasks: 'perPartition', … })`. */
export interface StartPartitionedQueryOptions<T, R> extends Omit<StartQueryOptions<T, R>, 'sink' | 'checkpoint' | 'checkpointLocation' | 'source'> {
  /** One task per topic partition assigned to this process by the source's consumer group. */
  readonly tasks: 'perPartition';
  /** A `fromKafka({ groupId, … })` source: its group decides which process runs which task. */
  readonly source: KafkaSource<T>;
  /** A sink per task, e.g. `(task) => toFiles(join(out, task.id))`: each task's output and idempotence records are its own. */
  readonly sink: (task: PartitionTask) => Sink<R>;
  /**
   * The shared checkpoint directory (every process of the query names the
   * same one); task `t` checkpoints under `tasks/<t.id>`. Or a function giving
   * the store of a task's checkpoint, e.g. `(id) => new S3CheckpointStore({
   * client, bucket, prefix: 'cp/clicks/tasks/' + id })`: it is fenced the
   * same way, through the store's `createIfAbsent` (a store without it is
   * refused, and an S3 server without conditional writes fails the claim with
   * `S3ConditionalWriteUnsupportedError`).
   */
  readonly checkpointLocation: string | ((taskId: string) => CheckpointStore);
  /** Snapshot and retention settings of every task's checkpoint. */
  readonly checkpointOptions?: CheckpointStateOptions & { readonly fsync?: boolean };
  /**
   * Which partition a row's state key belongs to, given the partition count;
   * a row read by another partition's task fails the task with a
   * `TaskKeyPartitionError`. @defaultValue the record key hashed as kafkajs's
   * and the Java client's default partitioner do; a record without key is refused
   */
  readonly keyPartition?: KeyPartitioner<T>;
  /**
   * Where a task with no checkpoint yet starts: the source's `startingOffsets`
   * (as a new Spark query), or `'group'`: the consumer group's committed
   * offset where it has one (to take over from a query that committed to the
   * group), else `startingOffsets`. A failed group lookup is retried, never
   * replaced by a guess. @defaultValue `'startingOffsets'`
   */
  readonly initialOffsets?: 'startingOffsets' | 'group';
  /** How often the process compares its group assignment with its running tasks. @defaultValue `pollInterval`, else 100 ms */
  readonly assignmentInterval?: Duration;
}

/** What happened to a task in this process, for monitoring and tests. */
export interface TaskEvent {
  readonly type: 'started' | 'revoked' | 'fenced' | 'failed';
  readonly task: PartitionTask;
  readonly error?: Error;
}

interface RunningTask {
  readonly task: PartitionTask;
  readonly query: StreamingQuery;
  readonly store: FencedCheckpointStore;
  stopping: boolean;
}

function keyOf(tp: TopicPartition): string {
  return `${tp.topic}-${tp.partition}`;
}

function isFenced(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof TaskFencedError || (e as { name?: unknown }).name === 'TaskFencedError') return true;
  }
  return false;
}

/**
 * One process of a per-partition query. It joins the source's consumer
 * group; for every partition the group assigns it, it runs a task — an
 * ordinary query (the same runtime as a single-process one) over that
 * partition only, with its own offsets, its own watermark, its own operator
 * state and its own checkpoint under `<checkpointLocation>/tasks/<topic>-<p>`.
 * A task that the group moves away is stopped after its batch in flight; a
 * task another process took over (a higher epoch) is dropped at its next
 * checkpoint write. See docs/guides/scaling-out.md.
 *
 * @example
 * ```ts
 * const query = startQuery({
 *   tasks: 'perPartition',
 *   source: fromKafka({ brokers: 'kafka:9092', topic: 'clicks', groupId: 'clicks-query' }),
 *   sink: (task) => toFiles(`/shared/out/${task.id}`),
 *   checkpointLocation: '/shared/cp',
 * });
 * query.events$.subscribe((e) => console.log(e.type, e.task.id)); // => started clicks-0 …
 * ```
 */
export class PartitionedQuery<T, R> implements StreamingQuery {
  readonly id: string;
  readonly runId = randomUUID();
  readonly name: string | null;
  readonly ready: Promise<void>;
  private readonly access: KafkaProcessAccess;
  private readonly running = new Map<string, RunningTask>();
  /** Tasks fenced at a group generation: not taken again before the group changes (the other owner has them). */
  private readonly fencedAt = new Map<string, number>();
  private readonly progressSubject = new Subject<StreamingQueryProgress>();
  private readonly taskEvents = new Subject<TaskEvent>();
  private readonly listeners: Array<{ type: EventType; listener: EventListener<EventType> }> = [];
  private readonly recent: StreamingQueryProgress[] = [];
  private active = true;
  private failure: Error | undefined;
  private timer: Subscription | undefined;
  private readonly scheduler: SchedulerLike;
  private reconciling: Promise<void> = Promise.resolve();
  private readonly terminated: Promise<void>;
  private resolveTerminated!: () => void;
  private readonly intervalMs: number;

  constructor(private readonly options: StartPartitionedQueryOptions<T, R>) {
    this.access = new KafkaProcessAccess(options.source.settings);
    this.id = `tasks:${options.source.settings.groupId ?? ''}`;
    this.name = options.name ?? null;
    this.intervalMs = parseDuration(options.assignmentInterval ?? options.pollInterval ?? 100, { option: 'startQuery: assignmentInterval' });
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.terminated = new Promise((resolve) => (this.resolveTerminated = resolve));
    this.ready = this.start();
    this.ready.catch((error: unknown) => void this.terminate(error as Error));
  }

  /** Task starts, revocations and fencings in this process. */
  get events$(): Observable<TaskEvent> {
    return this.taskEvents.asObservable();
  }

  /** The tasks this process runs now. */
  get tasks(): readonly PartitionTask[] {
    return [...this.running.values()].filter((r) => !r.stopping).map((r) => r.task);
  }

  /** This process's identity in epoch claims (`host:pid:random`). */
  get owner(): string {
    return this.access.owner;
  }

  get isActive(): boolean {
    return this.active;
  }

  get exception(): Error | undefined {
    return this.failure;
  }

  get status(): StreamingQueryStatus {
    const statuses = [...this.running.values()].map((r) => r.query.status);
    if (!this.active) return { message: this.failure === undefined ? 'Stopped' : `Terminated with exception: ${this.failure.message}`, isDataAvailable: false, isTriggerActive: false };
    return {
      message: `Running ${statuses.length} task(s)`,
      isDataAvailable: statuses.some((s) => s.isDataAvailable),
      isTriggerActive: statuses.some((s) => s.isTriggerActive),
    };
  }

  get lastProgress(): StreamingQueryProgress | undefined {
    return this.recent[this.recent.length - 1];
  }

  get recentProgress(): readonly StreamingQueryProgress[] {
    return [...this.recent];
  }

  get progress$(): Observable<StreamingQueryProgress> {
    return this.progressSubject.asObservable();
  }

  on<E extends EventType>(type: E, listener: EventListener<E>): () => void {
    const entry = { type, listener: listener as EventListener<EventType> };
    this.listeners.push(entry);
    const removers = [...this.running.values()].map((r) => r.query.on(type, listener));
    return () => {
      const i = this.listeners.indexOf(entry);
      if (i >= 0) this.listeners.splice(i, 1);
      for (const remove of removers) remove();
    };
  }

  async stop(): Promise<void> {
    await this.terminate(undefined);
  }

  async awaitTermination(timeout?: Duration): Promise<boolean> {
    const wait = this.terminated.then(() => {
      if (this.failure !== undefined) throw this.failure;
      return true;
    });
    if (timeout === undefined) return wait;
    const ms = parseDuration(timeout, { option: 'awaitTermination: timeout' });
    return Promise.race([wait, new Promise<boolean>((resolve) => this.scheduler.schedule(() => resolve(false), ms))]);
  }

  /** Every task this process runs now processed everything its partition had when it was called. */
  async processAllAvailable(): Promise<void> {
    await this.ready;
    await this.reconciling;
    await Promise.all([...this.running.values()].map((r) => r.query.processAllAvailable().catch((error: unknown) => (isFenced(error) ? undefined : Promise.reject(error)))));
    if (this.failure !== undefined) throw this.failure;
  }

  private async start(): Promise<void> {
    await this.access.start();
    this.reconcile();
    await this.reconciling;
    const self = this;
    const ms = this.intervalMs;
    this.timer = this.scheduler.schedule(function (this: SchedulerAction<unknown>) {
      self.reconcile();
      if (self.active) this.schedule(undefined, ms);
    }, ms);
  }

  private reconcile(): void {
    if (!this.active) return;
    this.reconciling = this.reconciling.then(() => this.reconcileOnce()).catch((error: unknown) => void this.terminate(error as Error));
  }

  private async reconcileOnce(): Promise<void> {
    if (!this.active) return;
    const generation = this.access.generation;
    const assigned = new Map(this.access.assignment.map((tp) => [keyOf(tp), tp]));
    for (const [id, run] of this.running) {
      if (!assigned.has(id) && !run.stopping) {
        run.stopping = true;
        this.taskEvents.next({ type: 'revoked', task: run.task });
        // Revoked: finish the batch in flight (its commit may be fenced if the new owner was faster), then release.
        void run.query.stop().catch(() => undefined).then(() => {
          if (this.running.get(id) === run) this.running.delete(id);
        });
      }
    }
    for (const [id, tp] of assigned) {
      if (this.running.has(id)) continue;
      const fenced = this.fencedAt.get(id);
      if (fenced !== undefined && fenced === generation) continue;
      await this.startTask(tp);
    }
  }

  private async startTask(tp: TopicPartition): Promise<void> {
    const options = this.options;
    const id = keyOf(tp);
    const checkpointOptions = options.checkpointOptions ?? {};
    const location = typeof options.checkpointLocation === 'string' ? join(options.checkpointLocation, 'tasks', id) : options.checkpointLocation(id);
    const store = new FencedCheckpointStore(location, {
      owner: this.access.owner,
      generation: () => this.access.generation,
      ...(checkpointOptions.fsync === undefined ? {} : { fsync: checkpointOptions.fsync }),
    });
    const epoch = await store.claim();
    const task: PartitionTask = { id, topic: tp.topic, partition: tp.partition, epoch };
    const { fsync: _fsync, ...stateOptions } = checkpointOptions;
    const checkpoint = openCheckpoint(store, stateOptions);
    const source = new KafkaPartitionSource<T>(this.access, tp, store, options.keyPartition, options.initialOffsets ?? 'startingOffsets');
    const query = startQuery<T, R>({
      ...(options.pipeline === undefined ? {} : { pipeline: options.pipeline as (b: Observable<Batch<T>>) => Observable<Batch<R>> }),
      source,
      sink: options.sink(task),
      checkpoint,
      scheduler: this.scheduler,
      ...(options.name === undefined ? {} : { name: `${options.name}/${id}` }),
      ...(options.trigger === undefined ? {} : { trigger: options.trigger }),
      ...(options.outputMode === undefined ? {} : { outputMode: options.outputMode }),
      ...(options.pollInterval === undefined ? {} : { pollInterval: options.pollInterval }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      ...(options.deadLetter === undefined ? {} : { deadLetter: options.deadLetter }),
      ...(options.manager === undefined ? {} : { manager: options.manager }),
      ...(options.onListenerError === undefined ? {} : { onListenerError: options.onListenerError }),
      onQueryError: () => undefined, // the task's end is handled below
    });
    const run: RunningTask = { task, query, store, stopping: false };
    this.running.set(id, run);
    for (const { type, listener } of this.listeners) query.on(type, listener);
    query.progress$.subscribe((progress) => {
      this.recent.push(progress);
      if (this.recent.length > 100) this.recent.shift();
      this.progressSubject.next(progress);
    });
    this.taskEvents.next({ type: 'started', task });
    void query.awaitTermination().then(
      () => {
        if (this.running.get(id) === run) this.running.delete(id);
      },
      (error: unknown) => {
        if (this.running.get(id) === run) this.running.delete(id);
        if (isFenced(error) || store.fenced) {
          this.fencedAt.set(id, this.access.generation);
          this.taskEvents.next({ type: 'fenced', task, error: error as Error });
          return;
        }
        if (run.stopping) return;
        this.taskEvents.next({ type: 'failed', task, error: error as Error });
        void this.terminate(error as Error);
      },
    );
  }

  private async terminate(error: Error | undefined): Promise<void> {
    if (!this.active) return this.terminated;
    this.active = false;
    if (error !== undefined) this.failure ??= error;
    this.timer?.unsubscribe();
    await this.reconciling.catch(() => undefined);
    await Promise.allSettled([...this.running.values()].map((r) => r.query.stop()));
    this.running.clear();
    await this.access.stop().catch(() => undefined);
    this.progressSubject.complete();
    this.taskEvents.complete();
    this.resolveTerminated();
    return this.terminated;
  }
}

/**
 * Validates the options of a per-partition query and starts its process
 * side; `startQuery({ tasks: 'perPartition', … })` calls it.
 *
 * @example
 * ```ts
 * const query = startPartitionedQuery({
 *   tasks: 'perPartition',
 *   source: fromKafka({ brokers: 'kafka:9092', topic: 'clicks', groupId: 'clicks-query' }),
 *   sink: (task) => toFiles(`/shared/out/${task.id}`),
 *   checkpointLocation: '/shared/checkpoints/clicks',
 * });
 * ```
 */
export function startPartitionedQuery<T, R>(options: StartPartitionedQueryOptions<T, R>): PartitionedQuery<T, R> {
  if (!(options.source instanceof KafkaSource)) {
    throw new InvalidOptionError(`startQuery: tasks: 'perPartition' needs a fromKafka source; got ${describeValue((options.source as { description?: unknown } | undefined)?.description ?? options.source)}.`, 'source', options.source, 'fromKafka({ groupId, … })');
  }
  if (options.source.settings.groupId === undefined) {
    throw new InvalidOptionError(`startQuery: tasks: 'perPartition' needs fromKafka({ groupId }) so that processes share partitions; got no groupId.`, 'source', options.source.description, 'fromKafka({ groupId, … })');
  }
  if (typeof options.sink !== 'function') {
    throw new InvalidOptionError(`startQuery: with tasks: 'perPartition', sink must be a function of the task returning a Sink (one per task); got ${describeValue(options.sink)}. Use (task) => toFiles(join(dir, task.id)).`, 'sink', options.sink, '(task) => Sink');
  }
  if ((typeof options.checkpointLocation !== 'string' || options.checkpointLocation.length === 0) && typeof options.checkpointLocation !== 'function') {
    throw new InvalidOptionError(`startQuery: tasks: 'perPartition' needs checkpointLocation, a directory every process shares (or a function of the task id giving its CheckpointStore); got ${describeValue(options.checkpointLocation)}.`, 'checkpointLocation', options.checkpointLocation, 'a shared directory');
  }
  if ((options as { checkpoint?: unknown }).checkpoint !== undefined) {
    throw new InvalidOptionError(`startQuery: tasks: 'perPartition' takes checkpointLocation (one checkpoint per task under it), not checkpoint; got a checkpoint object.`, 'checkpoint', 'a Checkpoint', 'checkpointLocation');
  }
  return new PartitionedQuery(options);
}

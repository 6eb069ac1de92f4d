import { Observable, Subject, Subscription, defer, from, type SchedulerLike } from 'rxjs';
import type { Batch, BatchMetrics, EventTimeMarker } from '../batch/Batch.js';
import type { Checkpoint, CheckpointCommitStats, CheckpointRecovery, OffsetLogEntry } from '../checkpoint/Checkpoint.js';
import { StreamingError, UnsupportedOperationError } from '../errors/index.js';
import { InstrumentationEmitter } from '../instrumentation/emitter.js';
import { EVENTS, type EventListener, type EventType, type QueryRef } from '../instrumentation/events.js';
import type { OutputModeName } from '../internal/pipeline.js';
import type { BatchOrigin, Sink } from '../sinks/Sink.js';
import type { DeadLetterRecord, Source } from '../sources/Source.js';
import type { QueryContext } from '../state/StateStore.js';
import { freezeInfo, prepareRestoredState, stamp, type PipelineInfo } from '../internal/pipeline.js';
import { isMultiSource, type MultiOffset, type MultiSource } from './multiSource.js';
import { isResultBatch, type ResultBatch } from '../batch/ResultBatch.js';
import { parseDuration } from '../time/parseDuration.js';
import type { Duration } from '../types.js';
import { UNSUPPORTED } from './unsupportedOperations.js';
import { memoryQueryContext } from './memoryQueryContext.js';
import { checkpointPhases, checkpointProgress, writeAheadAfter } from './checkpointPhases.js';
import { QueryStatusTracker } from './QueryStatusTracker.js';
import { callQueryErrorHandler, logQueryError, type QueryErrorHandler } from './queryErrors.js';
import { buildProgress, type DurationMs, type StreamingQueryProgress, type StreamingQueryStatus } from './progress.js';
import { BatchClock } from './batchClock.js';
import { checkReplan } from './replanGuard.js';
import { withRetry, type RetryOptions } from './retry.js';
import { triggerLoop, type ResolvedTrigger, type TriggerStep } from './triggers.js';

/**
 * A running streaming query, as returned by `startQuery`: Spark's
 * `StreamingQuery`. Methods that wait return promises; every wait uses the
 * query's scheduler.
 */
export interface StreamingQuery {
  /** The query id; kept across restarts from the same checkpoint (final once {@link StreamingQuery.ready} resolved). */
  readonly id: string;
  /** This run's id, new at every start. */
  readonly runId: string;
  readonly name: string | null;
  /** `true` from the start until the query stops (by `stop()`, the end of a `once`/`availableNow` trigger, or an error). */
  readonly isActive: boolean;
  readonly status: StreamingQueryStatus;
  /** The report of the last batch, `undefined` before the first. */
  readonly lastProgress: StreamingQueryProgress | undefined;
  /** The reports of the last 100 batches, oldest first. */
  readonly recentProgress: readonly StreamingQueryProgress[];
  /** Emits each batch's report; completes when the query stops. */
  readonly progress$: Observable<StreamingQueryProgress>;
  /** The error that stopped the query, if one did. */
  readonly exception: Error | undefined;
  /** Resolves once the query runs (checkpoint opened, pipeline subscribed, source and sink started); rejects if it failed to start. */
  readonly ready: Promise<void>;
  /** Stops the query after the batch in progress (if any) finished; resolves when it is stopped. */
  stop(): Promise<void>;
  /**
   * Resolves when the query stopped: `true`; or, with a `timeout`, `false`
   * when it is still running after that long. Rejects with the query's
   * exception if it stopped with one.
   */
  awaitTermination(timeout?: Duration): Promise<boolean>;
  /** Resolves once everything the source had when it was called (and since) is processed: a trigger started after the call found no new data. Rejects if the query fails. */
  processAllAvailable(): Promise<void>;
  /** Listens to one of the query's instrumentation events; returns a remover. */
  on<E extends EventType>(type: E, listener: EventListener<E>): () => void;
}

/** What the query runtime needs, validated by `startQuery`. */
export interface QueryRuntimeConfig<T, R> {
  readonly source: Source<T, unknown>;
  readonly output$: Observable<Batch<R>>;
  readonly input$: Subject<Batch<T>>;
  /** The pipeline info of the input batches (without the query context, added when the query starts). */
  readonly inputInfo: PipelineInfo;
  /** Resolves once the pipeline subscribed every input (later than the pipeline behind a `subscribeOn`). */
  readonly inputsSubscribed?: Promise<void>;
  /** A multi-source query's inputs, in the order of the {@link MultiSource}'s offsets; `input$` is then unused. */
  readonly inputs?: readonly { readonly subject: Subject<Batch<unknown>>; readonly info: PipelineInfo }[];
  readonly sink: Sink<R>;
  readonly outputMode: OutputModeName;
  readonly trigger: ResolvedTrigger;
  readonly checkpoint: Checkpoint | undefined;
  readonly name: string | undefined;
  readonly scheduler: SchedulerLike;
  readonly pollIntervalMs: number;
  readonly retry: RetryOptions;
  readonly deadLetter: ((record: DeadLetterRecord) => void) | undefined;
  readonly queryId: string;
  readonly runId: string;
  readonly emitterErrors?: (error: unknown, type: EventType) => void;
  /** This query's own handler of an exception nobody waits for; else the manager's. */
  readonly onQueryError?: QueryErrorHandler;
}

/** How a query tells its manager about its life. */
export interface QueryManagerHooks {
  /** Called once the checkpoint told the final query id; throws to refuse a duplicate. */
  started(query: StreamingQuery): void;
  terminated(query: StreamingQuery): void;
  /** The query stopped with `error` and nobody waited for it: report it (`own` is the query's own handler, if it has one). */
  unobservedFailure(query: StreamingQuery, error: Error, own: QueryErrorHandler | undefined): void;
  /** Forwards every event of the query to the manager's listeners. */
  event<E extends EventType>(type: E, timestamp: number, payload: Parameters<EventListener<E>>[0]['payload']): void;
}

interface PendingOutput<R> {
  readonly batchId: number;
  readonly parts: Batch<R>[];
  sync: boolean;
  resolve(output: PipelineOutput<R>): void;
  reject(error: unknown): void;
}

interface PipelineOutput<R> {
  readonly rows: readonly R[];
  readonly watermark: number;
  readonly eventTime: EventTimeMarker | undefined;
  readonly metrics: BatchMetrics | undefined;
}

interface ProcessWaiter {
  readonly afterStep: number;
  resolve(): void;
  reject(error: unknown): void;
}

const MAX_RECENT_PROGRESS = 100;

const CONTINUOUS_KIND_NAMES: Readonly<Record<string, string>> = {
  windowTumbling: 'Aggregate',
  windowSliding: 'Aggregate',
  windowSession: 'Aggregate',
  groupAggregate: 'Aggregate',
  dropDuplicates: 'Deduplicate',
  dropDuplicatesWithinWatermark: 'Deduplicate',
  streamJoin: 'Join',
  mapGroupsWithState: 'FlatMapGroupsWithState',
  flatMapGroupsWithState: 'FlatMapGroupsWithState',
};

/** Spark's node name for a stateful operator kind, as continuous processing names it when it refuses it. */
export function continuousNodeName(kind: string): string {
  return CONTINUOUS_KIND_NAMES[kind] ?? kind;
}

/** The query runtime behind {@link StreamingQuery}: the micro-batch loop, recovery, progress and lifecycle. */
export class QueryRuntime<T, R> implements StreamingQuery {
  readonly runId: string;
  readonly name: string | null;
  readonly progress$: Observable<StreamingQueryProgress>;

  private readyPromise: Promise<void> = Promise.resolve();
  private hooks: QueryManagerHooks = {
    started: () => undefined,
    terminated: () => undefined,
    unobservedFailure: (query, error, own) => callQueryErrorHandler(own ?? logQueryError, error, query),
    event: () => undefined,
  };
  /** Pending `awaitTermination()` calls, `ready` read, start failed: who would see a failure (see {@link QueryErrorHandler}). */
  private terminationAwaiters = 0;
  private readyRead = false;
  private failedToStart = false;
  private queryId: string;
  private active = true;
  private readonly statusTracker: QueryStatusTracker;
  private readonly recent: StreamingQueryProgress[] = [];
  private readonly progressSubject = new Subject<StreamingQueryProgress>();
  private failure: Error | undefined;
  private readonly emitter: InstrumentationEmitter;
  private readonly wake$ = new Subject<void>();

  private pipelineSubscription: Subscription | undefined;
  private loopSubscription: Subscription | undefined;
  private pending: PendingOutput<R> | undefined;
  private pipelineCompleted = false;
  private inFlight: Promise<unknown> = Promise.resolve();
  private stopRequested = false;
  private terminated = false;
  private terminating: Promise<void> | undefined;
  private termination!: { promise: Promise<void>; resolve(): void };

  /**
   * With a checkpoint: the commit of the last batch run (checkpoint commit,
   * source commit, progress report), still in flight while the next batch is
   * planned and processed. The next batch's `offsets/N` is written only after
   * it, and the next batch's output reaches the sink only after that.
   */
  private committing: Promise<void> | undefined;
  private committedOffset: unknown = undefined;
  /** The pipeline info of the query's input batches (with the query context once started). */
  private inputInfo: PipelineInfo | undefined;
  /** The same, per input of a multi-source query. */
  private inputInfos: PipelineInfo[] | undefined;
  /** Resolved by stop(), to end waits of the start sequence. */
  private readonly stopSignal: { readonly promise: Promise<void>; resolve(): void } = (() => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve: () => resolve() };
  })();
  private nextBatchId = 0;
  private watermark = 0;
  private previousTriggerStartMs: number | undefined;
  private stepCount = 0;
  private deadLetters = 0;
  private waiters: ProcessWaiter[] = [];
  private epochStart: { readonly startMs: number; readonly startOffset: unknown; inputRows: number; outputRows: number; deadLetters?: number } | undefined;
  private continuousSeq = 0;
  private epochDeadlineMs = 0;
  private checkedContinuousOutput = false;
  /** The stateful operators' clock: the current batch's logged timestamp (see {@link BatchClock}). */
  private readonly batchClock: BatchClock;

  constructor(private readonly config: QueryRuntimeConfig<T, R>) {
    this.batchClock = new BatchClock(config.scheduler);
    this.queryId = config.queryId;
    this.runId = config.runId;
    this.name = config.name ?? null;
    this.emitter = new InstrumentationEmitter(config.emitterErrors);
    this.statusTracker = new QueryStatusTracker(config.trigger);
    this.progress$ = this.progressSubject.asObservable();
    let resolveTermination!: () => void;
    const promise = new Promise<void>((resolve) => {
      resolveTermination = resolve;
    });
    this.termination = { promise, resolve: resolveTermination };
  }

  /** Starts the query, reporting to a manager through `hooks`. Called once, by `startQuery`. */
  begin(hooks: QueryManagerHooks): void {
    this.hooks = hooks;
    this.readyPromise = this.start();
    this.readyPromise.catch(() => undefined);
  }

  get ready(): Promise<void> {
    this.readyRead = true;
    return this.readyPromise;
  }

  get id(): string {
    return this.queryId;
  }

  get isActive(): boolean {
    return this.active;
  }

  get status(): StreamingQueryStatus {
    return this.statusTracker.current;
  }

  get lastProgress(): StreamingQueryProgress | undefined {
    return this.recent[this.recent.length - 1];
  }

  get recentProgress(): readonly StreamingQueryProgress[] {
    return [...this.recent];
  }

  get exception(): Error | undefined {
    return this.failure;
  }

  on<E extends EventType>(type: E, listener: EventListener<E>): () => void {
    return this.emitter.on(type, listener);
  }

  private ref(): QueryRef {
    return { id: this.queryId, runId: this.runId, name: this.name };
  }

  private emit<E extends EventType>(type: E, payload: Parameters<EventListener<E>>[0]['payload']): void {
    const now = this.config.scheduler.now();
    this.emitter.emit(type, now, payload);
    this.hooks.event(type, now, payload);
  }

  private retry<V>(operation: () => Promise<V>, what: string): Promise<V> {
    return withRetry(operation, this.config.scheduler, this.config.retry, (attempt, delayMs, error) =>
      this.emit(EVENTS.QUERY_RETRY, { ...this.ref(), operation: what, attempt, delayMs, error }),
    );
  }

  // ---------------------------------------------------------------- start

  private async start(): Promise<void> {
    const { checkpoint, source, sink, scheduler } = this.config;
    try {
      let recovery: CheckpointRecovery | undefined;
      let context: QueryContext;
      if (checkpoint !== undefined) {
        recovery = await this.retry(() => checkpoint.open(), 'checkpoint.open');
        this.queryId = recovery.queryId;
        context = checkpoint.createContext(this.runId, this.batchClock, this.config.inputInfo.inputs, this.config.scheduler);
        // Recovery is done before the query is ready: the operators' restored state is decoded now, not in the first batch.
        if (!recovery.fresh) prepareRestoredState(this.config.output$, context);
      } else {
        context = memoryQueryContext(this.queryId, this.runId, this.batchClock, this.config.inputInfo.inputs);
      }
      this.hooks.started(this);
      if (this.stopRequested) throw new StopBeforeStart();

      this.statusTracker.initializingSources();
      // Every input batch carries the query context to the pipeline's stateful operators (lib/internal/pipeline.ts).
      this.inputInfo = freezeInfo({ ...this.config.inputInfo, query: context });
      this.pipelineSubscription = this.config.output$.subscribe({
        next: (batch) => this.onOutput(batch),
        error: (error: unknown) => this.onPipelineError(error),
        complete: () => this.onPipelineComplete(),
      });
      if (this.failure !== undefined) throw this.failure;
      // Behind a subscribeOn the pipeline subscribes its inputs later: push no batch before (a stop meanwhile ends the start).
      if (this.config.inputsSubscribed !== undefined) await Promise.race([this.config.inputsSubscribed, this.stopSignal.promise]);
      if (this.failure !== undefined) throw this.failure;
      if (this.stopRequested) throw new StopBeforeStart();

      // A single source is source 0 (`<checkpoint>/sources/0`); a multi-source query's input i is `sources/<i>`.
      const sourceMetadataDir = checkpoint?.sourceMetadataDir?.(0);
      const metadataDirFor = checkpoint?.sourceMetadataDir === undefined ? undefined : (index: number): string | undefined => checkpoint.sourceMetadataDir!(index);
      await this.retry(
        () =>
          source.start({
            queryId: this.queryId,
            runId: this.runId,
            scheduler,
            deadLetter: (record) => this.onDeadLetter(record),
            ...(sourceMetadataDir === undefined ? {} : { metadataDir: sourceMetadataDir }),
            ...(metadataDirFor === undefined ? {} : { metadataDirFor }),
          }),
        'source.start',
      );
      if (sink.start !== undefined) await this.retry(() => sink.start!({ queryId: this.queryId, runId: this.runId, outputMode: this.config.outputMode }), 'sink.start');
      if (this.config.trigger.kind === 'availableNow' && source.prepareForAvailableNow !== undefined) {
        await this.retry(() => source.prepareForAvailableNow!(), 'source.prepareForAvailableNow');
      }

      // Started before a recovered batch runs again, as Spark posts QueryStartedEvent before its first batch:
      // a listener sees the start, then that batch's progress.
      this.emit(EVENTS.QUERY_STARTED, this.ref());
      if (recovery !== undefined && !recovery.fresh) {
        // Batches the sink holds beyond the checkpoint (an older copy restored, offsets deleted): re-run below with the offsets it recorded.
        // Per source, in the order of the offsets in offsets/N: a multi-source query's inputs.
        const replay = await checkReplan({ location: checkpoint!.location, queryId: this.queryId, recovery, sources: isMultiSource(source) ? (source as MultiSource).sources : [source], sink: sink as Sink<unknown> });
        if (replay.length === 0) await this.holdOrigins(recovery);
        this.committedOffset = this.loggedOffset(recovery.lastCommitted?.offsets);
        this.nextBatchId = recovery.lastCommittedBatchId + 1;
        this.watermark = recovery.watermark ?? recovery.pending?.watermark ?? recovery.lastCommitted?.watermark ?? 0;
        const pending = recovery.pending;
        if (pending !== undefined) {
          // Re-run the batch the write-ahead log names, with exactly its offsets.
          const t0 = scheduler.now();
          this.stepCount++;
          if (this.config.trigger.kind === 'continuous') {
            this.epochStart = { startMs: t0, startOffset: this.committedOffset, inputRows: 0, outputRows: 0 };
            await this.continuousRead(this.committedOffset, this.loggedOffset(pending.offsets));
            await this.commitEpoch(pending.batchId, false);
          } else {
            this.batchClock.setBatchTimestamp(pending.timestamp); // the time of its first run
            const logged = this.loggedOffset(pending.offsets);
            await this.runBatch(pending.batchId, this.committedOffset, logged, t0, 0, undefined, logged);
            this.statusTracker.batchFinished();
          }
        }
        for (const entry of replay) {
          if (this.stopRequested) break; // the next start re-plans the rest from the sink again
          await this.replayBatch(entry);
        }
      }
      this.epochDeadlineMs = scheduler.now() + (this.config.trigger.kind === 'continuous' ? this.config.trigger.intervalMs : 0);
      if (this.stopRequested) return;
      this.startLoop();
    } catch (error) {
      if (error instanceof StopBeforeStart) {
        await this.terminate(undefined);
        return;
      }
      this.failedToStart = true;
      await this.terminate(error);
      throw error;
    }
  }

  /**
   * Runs again a batch the sink already holds but the checkpoint lost, with
   * the write-ahead entry rebuilt from the sink's record of it (see
   * {@link checkReplan}): writes `offsets/N`, runs the batch (the operators
   * rebuild their state; the sink skips it) and commits it.
   */
  private async replayBatch(entry: OffsetLogEntry): Promise<void> {
    const { checkpoint, scheduler } = this.config;
    const t0 = scheduler.now();
    this.stepCount++;
    const wal = writeAheadAfter(this.committing, scheduler, () => this.retry(() => checkpoint!.writeOffsets(entry), 'checkpoint.writeOffsets'));
    this.batchClock.setBatchTimestamp(entry.timestamp); // the time of its first run
    const logged = this.loggedOffset(entry.offsets);
    await this.runBatch(entry.batchId, this.committedOffset, logged, t0, 0, wal, logged);
    this.statusTracker.batchFinished();
  }

  private startLoop(): void {
    const { trigger, scheduler, pollIntervalMs, source } = this.config;
    const wake$ = source.dataAvailable$ === undefined ? this.wake$.asObservable() : new Observable<void>((subscriber) => {
      const subscription = this.wake$.subscribe(subscriber);
      subscription.add(source.dataAvailable$!.subscribe({ next: () => subscriber.next(), error: () => undefined }));
      return subscription;
    });
    const step = (): Observable<TriggerStep> =>
      defer(() => {
        const promise = this.runTrigger();
        this.inFlight = promise.catch(() => undefined);
        return from(promise);
      });
    this.loopSubscription = triggerLoop(trigger, step, { scheduler, pollIntervalMs, wake$ }).subscribe({
      error: (error: unknown) => {
        void this.terminate(error);
      },
      complete: () => {
        void this.terminate(undefined);
      },
    });
  }

  // ---------------------------------------------------------------- pipeline plumbing

  private onOutput(batch: Batch<R>): void {
    const pending = this.pending;
    if (pending === undefined || batch.batchId !== pending.batchId) {
      const running = pending === undefined ? 'while no batch was running' : `while batch ${pending.batchId} was running`;
      this.onPipelineError(
        new UnsupportedOperationError(
          'startQuery',
          `the pipeline emitted batch ${batch.batchId} ${running}. A query's pipeline must emit one output batch per input batch, with the same batchId (the operators of this library do; an empty batch is still a batch).`,
        ),
      );
      return;
    }
    pending.parts.push(batch);
    if (!pending.sync) this.resolvePending();
  }

  private resolvePending(): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    const parts = pending.parts;
    const last = parts[parts.length - 1];
    // A pipeline ending in an aggregation (no outputMode operator) is written in the query's output mode.
    const mode = this.config.outputMode;
    const rowsOf = (p: Batch<R>): readonly R[] => {
      if (!isResultBatch(p)) return p.rows;
      const result = p as unknown as ResultBatch<R>;
      return mode === 'append' ? result.finalized : mode === 'update' ? result.updated : result.table.toArray();
    };
    const rows = parts.length === 1 ? rowsOf(parts[0]!) : parts.flatMap(rowsOf);
    pending.resolve({ rows, watermark: last?.watermark ?? this.watermark, eventTime: last?.eventTime, metrics: last?.metrics });
  }

  private onPipelineError(error: unknown): void {
    const err = error instanceof Error ? error : new StreamingError(String(error));
    if (this.failure === undefined) this.failure = err;
    const pending = this.pending;
    if (pending !== undefined) {
      this.pending = undefined;
      pending.reject(err);
      return;
    }
    // An error between batches: stop the query now.
    if (this.loopSubscription !== undefined) void this.terminate(err);
  }

  private onPipelineComplete(): void {
    this.pipelineCompleted = true;
    if (this.pending !== undefined) this.resolvePending();
  }

  private pushBatch(batch: Batch<T>): Promise<PipelineOutput<R>> {
    if (this.pipelineCompleted) return Promise.resolve({ rows: [], watermark: this.watermark, eventTime: undefined, metrics: undefined });
    return new Promise<PipelineOutput<R>>((resolve, reject) => {
      const pending: PendingOutput<R> = { batchId: batch.batchId, parts: [], sync: true, resolve, reject };
      this.pending = pending;
      this.feed(batch);
      pending.sync = false;
      if (this.pending === pending && (pending.parts.length > 0 || this.pipelineCompleted)) this.resolvePending();
    });
  }

  /** Pushes batch N to the pipeline: to its one input, or (multi-source) each input's rows to that input, every one stamped with the query. */
  private feed(batch: Batch<T>): void {
    const inputs = this.config.inputs;
    if (inputs === undefined) {
      this.config.input$.next(stamp({ ...batch }, this.inputInfo ?? this.config.inputInfo));
      return;
    }
    const parts = batch.rows as unknown as readonly (readonly unknown[])[];
    this.inputInfos ??= inputs.map((input) => freezeInfo({ ...input.info, ...(this.inputInfo?.query === undefined ? {} : { query: this.inputInfo.query }) }));
    inputs.forEach((input, i) => input.subject.next(stamp({ batchId: batch.batchId, rows: parts[i] ?? [], watermark: batch.watermark }, this.inputInfos![i]!)));
  }

  /** The source offset in a write-ahead log entry: `offsets[0]`, or (multi-source) the whole list, one per input. */
  private loggedOffset(offsets: readonly unknown[] | undefined): unknown {
    if (offsets === undefined) return undefined;
    return this.config.inputs === undefined ? offsets[0] : offsets;
  }

  /** What batch `(start, end]` read, as a sink records it ({@link BatchOrigin}). */
  private async originOf(start: unknown, end: unknown, watermark: number, timestamp: number): Promise<BatchOrigin> {
    const { source } = this.config;
    return {
      startOffsets: this.config.inputs === undefined ? [start ?? null] : [...((start as readonly unknown[] | undefined) ?? this.config.inputs.map(() => null))],
      endOffsets: this.offsetsToLog(end),
      watermark,
      timestamp,
      // Per source, like the offsets: a multi-source query's inputs each describe their part.
      plans: isMultiSource(source) ? [...(await (source as MultiSource).describePlan(start as MultiOffset | undefined, end as MultiOffset))] : [(await source.describePlan?.(start, end)) ?? null],
    };
  }

  /**
   * At start, for a sink that keeps the origins of batches without output
   * with a later batch ({@link Sink.holdOrigins}: `toKafka`): the committed
   * batches after the newest one the sink holds produced no output in an
   * earlier run that ended before a later batch could carry their origins.
   * Rebuilt from `offsets/N` and given to the sink, so a checkpoint restored
   * behind them later still re-plans them from the sink's records. Nothing
   * when an entry of that stretch is gone (retention).
   */
  private async holdOrigins(recovery: CheckpointRecovery): Promise<void> {
    const { sink, checkpoint } = this.config;
    if (sink.holdOrigins === undefined || sink.lastCommittedBatchId === undefined || checkpoint?.readOffsetEntry === undefined) return;
    const last = recovery.lastCommittedBatchId;
    const held = await this.retry(() => sink.lastCommittedBatchId!(), 'sink.lastCommittedBatchId');
    if (held >= last) return;
    let previous = held < 0 ? undefined : await checkpoint.readOffsetEntry(held);
    if (held >= 0 && previous === undefined) return;
    const entries: Array<{ batchId: number; origin: BatchOrigin }> = [];
    for (let batchId = held + 1; batchId <= last; batchId++) {
      const entry = await checkpoint.readOffsetEntry(batchId);
      if (entry === undefined) return;
      entries.push({ batchId, origin: await this.originOf(this.loggedOffset(previous?.offsets), this.loggedOffset(entry.offsets), entry.watermark, entry.timestamp) });
      previous = entry;
    }
    sink.holdOrigins(entries);
  }

  private offsetsToLog(offset: unknown): unknown[] {
    return this.config.inputs === undefined ? [offset] : [...(offset as readonly unknown[])];
  }

  private countRows(rows: readonly unknown[]): number {
    if (this.config.inputs === undefined) return rows.length;
    let n = 0;
    for (const part of rows as readonly (readonly unknown[])[]) n += part.length;
    return n;
  }

  private onDeadLetter(record: DeadLetterRecord): void {
    this.deadLetters++;
    this.emit(EVENTS.SOURCE_DEAD_LETTER, { ...this.ref(), record });
    this.config.deadLetter?.(record);
  }

  // ---------------------------------------------------------------- the micro-batch loop

  private sameOffset(a: unknown, b: unknown): boolean {
    const same = this.config.source.sameOffset;
    if (same !== undefined) return same.call(this.config.source, a, b);
    return JSON.stringify(a) === JSON.stringify(b);
  }

  private async runTrigger(): Promise<TriggerStep> {
    const { source, scheduler, trigger, checkpoint } = this.config;
    if (this.stopRequested || this.terminated) return { ranBatch: false, exhausted: true };
    const step = ++this.stepCount;
    const t0 = scheduler.now();
    this.statusTracker.triggerStarted(source.description);
    const start = this.committedOffset;
    const latest = await this.retry(() => source.latestOffset(start, { all: trigger.kind === 'once' }), 'source.latestOffset');
    const latestOffsetMs = scheduler.now() - t0;
    const hasData = latest !== undefined && !this.sameOffset(start, latest);
    this.statusTracker.offsetsFetched(hasData && !this.stopRequested);
    if (!hasData || this.stopRequested) {
      await this.settleCommit();
      await this.commitEpochIfDue(false);
      this.emit(EVENTS.QUERY_IDLE, { ...this.ref(), batchId: this.nextBatchId });
      this.resolveWaiters(step);
      return { ranBatch: false, exhausted: true };
    }
    if (trigger.kind === 'continuous') {
      await this.continuousRead(start, latest);
      await this.commitEpochIfDue(false);
      this.statusTracker.batchFinished();
      return { ranBatch: true, exhausted: this.pipelineCompleted };
    }
    const batchId = this.nextBatchId;
    // The write-ahead entry is written after the previous batch's commit and
    // while this batch is processed; the sink gets the batch only once it is durable.
    const wal = checkpoint === undefined ? undefined : writeAheadAfter(this.committing, scheduler, () => this.retry(() => checkpoint.writeOffsets({ batchId, offsets: this.offsetsToLog(latest), watermark: this.watermark, timestamp: t0 }), 'checkpoint.writeOffsets'));
    this.batchClock.setBatchTimestamp(t0); // = the timestamp of offsets/N
    await this.runBatch(batchId, start, latest, t0, latestOffsetMs, wal, latest);
    // A pipeline that completed (e.g. a take(n) in it) can produce nothing more: stop after this batch.
    if (this.pipelineCompleted) void this.stop();
    this.statusTracker.batchFinished();
    return { ranBatch: true, exhausted: this.pipelineCompleted };
  }

  private async runBatch(batchId: number, start: unknown, end: unknown, t0: number, latestOffsetMs: number, wal: Promise<number> | undefined, latestOffset: unknown): Promise<void> {
    const { source, sink, scheduler, checkpoint } = this.config;
    this.statusTracker.processing();
    this.deadLetters = 0;
    const g0 = scheduler.now();
    const rows = await this.retry(() => source.getBatch(start, end), 'source.getBatch');
    const getBatchMs = scheduler.now() - g0;
    const deadLetters = this.deadLetters;

    const a0 = scheduler.now();
    let output: PipelineOutput<R>;
    let walCommitMs = 0;
    let walWaitMs = 0;
    try {
      output = await this.pushBatch({ batchId, rows, watermark: this.watermark });
    } finally {
      // A failed batch still waits for its write-ahead entry (and the commit before it) to settle.
      if (wal !== undefined) {
        const w0 = scheduler.now();
        walCommitMs = await wal;
        walWaitMs = scheduler.now() - w0;
      }
    }
    // What the batch read, for a sink that records it (a checkpoint behind the output re-plans from it).
    const origin: BatchOrigin | undefined = sink.committedOrigin === undefined ? undefined : await this.originOf(start, end, this.watermark, this.batchClock.now());
    await this.retry(() => sink.addBatch(batchId, output.rows, origin), 'sink.addBatch');
    const addBatchMs = scheduler.now() - a0 - walWaitMs;

    // The next batch is planned from here on; this one's commit goes on meanwhile (with a checkpoint).
    this.committedOffset = end;
    this.nextBatchId = batchId + 1;
    this.watermark = output.watermark;
    const commit = async (): Promise<void> => {
      const c0 = scheduler.now();
      const stats = checkpoint === undefined ? undefined : await this.retry(() => checkpoint.commit(batchId, { watermark: output.watermark }), 'checkpoint.commit');
      await this.retry(() => source.commit(end), 'source.commit');
      const commitOffsetsMs = scheduler.now() - c0;
      const finished = scheduler.now();
      const durationMs: DurationMs = {
        latestOffset: latestOffsetMs,
        getBatch: getBatchMs,
        addBatch: addBatchMs,
        walCommit: walCommitMs,
        commitOffsets: commitOffsetsMs,
        triggerExecution: finished - t0,
        ...(checkpoint === undefined ? {} : checkpointPhases(stats, walWaitMs)),
      };
      this.reportBatch(batchId, t0, durationMs, this.countRows(rows), output, start, end, latestOffset, deadLetters, stats);
    };
    if (checkpoint === undefined) {
      await commit();
      return;
    }
    const committing = commit();
    this.committing = committing;
    committing.then(
      () => {
        if (this.committing === committing) this.committing = undefined;
      },
      () => {
        // Fails the query: the next trigger rethrows it (an idle one too; wake it), and the next
        // batch's write-ahead entry, chained on this commit, fails with it before the sink sees the batch.
        this.wake$.next();
      },
    );
  }

  /** Waits for the commit of the last batch run, if it is still in flight; rethrows its failure. */
  private async settleCommit(): Promise<void> {
    const committing = this.committing;
    if (committing !== undefined) await committing;
  }

  private reportBatch(
    batchId: number,
    t0: number,
    durationMs: DurationMs,
    numInputRows: number,
    output: PipelineOutput<R>,
    start: unknown,
    end: unknown,
    latestOffset: unknown,
    deadLetters: number,
    stats: CheckpointCommitStats | void,
  ): void {
    const { source, sink } = this.config;
    const progress = buildProgress({
      id: this.queryId,
      runId: this.runId,
      name: this.config.name,
      batchId,
      triggerStartMs: t0,
      previousTriggerStartMs: this.previousTriggerStartMs,
      durationMs,
      numInputRows,
      numOutputRows: output.rows.length,
      watermark: output.watermark,
      watermarked: output.eventTime !== undefined,
      metrics: output.metrics,
      source: { description: source.description, startOffset: start, endOffset: end, latestOffset, metrics: { ...source.progressMetrics?.(end), numDeadLetterRecords: deadLetters } },
      ...(isMultiSource(source) ? { inputs: source.progressParts(start as MultiOffset | undefined, end as MultiOffset, latestOffset as MultiOffset | undefined, deadLetters) } : {}),
      sinkDescription: sink.description,
      ...(stats === undefined || stats === null ? {} : { checkpoint: checkpointProgress(stats) }),
    });
    this.publishProgress(progress, t0);
  }

  /**
   * Continuous processing: reads `(start, end]`, runs the rows through the
   * (stateless) pipeline at once and hands the output to the sink's
   * `addRows` under the current epoch. Nothing is checkpointed until the
   * epoch is committed.
   */
  private async continuousRead(start: unknown, end: unknown): Promise<void> {
    const { source, sink } = this.config;
    const epoch = this.epochStart ?? (this.epochStart = { startMs: this.config.scheduler.now(), startOffset: start, inputRows: 0, outputRows: 0 });
    this.statusTracker.processing();
    const rows = await this.retry(() => source.getBatch(start, end), 'source.getBatch');
    const output = await this.pushBatch({ batchId: this.continuousSeq++, rows, watermark: this.watermark });
    if (!this.checkedContinuousOutput) {
      this.checkedContinuousOutput = true;
      const stateful = output.metrics?.stateOperators?.[0];
      if (stateful !== undefined) throw new UnsupportedOperationError('startQuery', UNSUPPORTED.continuousWithAggregation(continuousNodeName(stateful.operatorName)));
    }
    if (output.rows.length > 0) await this.retry(() => sink.addRows!(this.nextBatchId, output.rows), 'sink.addRows');
    epoch.inputRows += rows.length;
    epoch.outputRows += output.rows.length;
    epoch.deadLetters = (epoch.deadLetters ?? 0) + this.deadLetters;
    this.deadLetters = 0;
    this.committedOffset = end;
  }

  /** Continuous processing: commits the current epoch once its interval is over (or at once when `force`). */
  private async commitEpochIfDue(force: boolean): Promise<void> {
    const { trigger, scheduler } = this.config;
    if (trigger.kind !== 'continuous') return;
    if (!force && scheduler.now() < this.epochDeadlineMs) return;
    if (force && this.epochStart === undefined) return;
    if (this.epochStart === undefined) this.epochStart = { startMs: this.epochDeadlineMs - trigger.intervalMs, startOffset: this.committedOffset, inputRows: 0, outputRows: 0 };
    await this.commitEpoch(this.nextBatchId, true);
    this.epochDeadlineMs = Math.max(this.epochDeadlineMs + trigger.intervalMs, scheduler.now());
  }

  /** Writes `offsets/E` and `commits/E` for epoch `E`, tells the sink and the source, reports progress. */
  private async commitEpoch(epochId: number, writeOffsets: boolean): Promise<void> {
    const { checkpoint, source, sink, scheduler } = this.config;
    const t0 = scheduler.now();
    const epoch = this.epochStart ?? { startMs: t0, startOffset: this.committedOffset, inputRows: 0, outputRows: 0 };
    const end = this.committedOffset;
    if (checkpoint !== undefined && writeOffsets) {
      await this.retry(() => checkpoint.writeOffsets({ batchId: epochId, offsets: [end], watermark: this.watermark, timestamp: epoch.startMs }), 'checkpoint.writeOffsets');
    }
    const walCommitMs = scheduler.now() - t0;
    const a0 = scheduler.now();
    if (sink.commitEpoch !== undefined) await this.retry(() => sink.commitEpoch!(epochId), 'sink.commitEpoch');
    const addBatchMs = scheduler.now() - a0;
    const c0 = scheduler.now();
    if (checkpoint !== undefined) await this.retry(() => checkpoint.commit(epochId, { watermark: this.watermark }), 'checkpoint.commit');
    if (end !== undefined) await this.retry(() => source.commit(end), 'source.commit');
    const commitOffsetsMs = scheduler.now() - c0;
    this.nextBatchId = epochId + 1;
    this.epochStart = undefined;
    const finished = scheduler.now();
    const progress = buildProgress({
      id: this.queryId,
      runId: this.runId,
      name: this.config.name,
      batchId: epochId,
      triggerStartMs: epoch.startMs,
      previousTriggerStartMs: this.previousTriggerStartMs,
      durationMs: { latestOffset: 0, getBatch: 0, addBatch: addBatchMs, walCommit: walCommitMs, commitOffsets: commitOffsetsMs, triggerExecution: finished - epoch.startMs },
      numInputRows: epoch.inputRows,
      numOutputRows: epoch.outputRows,
      watermark: this.watermark,
      watermarked: false,
      metrics: undefined,
      source: { description: source.description, startOffset: epoch.startOffset, endOffset: end, latestOffset: end, metrics: { ...source.progressMetrics?.(end), numDeadLetterRecords: epoch.deadLetters ?? 0 } },
      sinkDescription: sink.description,
    });
    this.publishProgress(progress, epoch.startMs);
  }

  private publishProgress(progress: StreamingQueryProgress, triggerStartMs: number): void {
    this.previousTriggerStartMs = triggerStartMs;
    this.recent.push(progress);
    if (this.recent.length > MAX_RECENT_PROGRESS) this.recent.shift();
    this.progressSubject.next(progress);
    this.emit(EVENTS.QUERY_PROGRESS, progress);
  }

  private resolveWaiters(step: number): void {
    if (this.waiters.length === 0) return;
    const done = this.waiters.filter((w) => step > w.afterStep);
    this.waiters = this.waiters.filter((w) => step <= w.afterStep);
    for (const w of done) w.resolve();
  }

  // ---------------------------------------------------------------- lifecycle

  private terminate(error: unknown): Promise<void> {
    if (this.terminating !== undefined) return this.terminating;
    this.terminating = this.doTerminate(error);
    return this.terminating;
  }

  private async doTerminate(error: unknown): Promise<void> {
    const { source, sink, checkpoint } = this.config;
    if (error !== undefined && this.failure === undefined) this.failure = error instanceof Error ? error : new StreamingError(String(error));
    this.stopRequested = true;
    this.loopSubscription?.unsubscribe();
    if (error === undefined) {
      await this.inFlight;
      try {
        await this.settleCommit();
        await this.commitEpochIfDue(true);
      } catch (commitError) {
        if (this.failure === undefined) this.failure = commitError as Error;
      }
    }
    await this.committing?.catch(() => undefined);
    this.pipelineSubscription?.unsubscribe();
    const closeErrors: unknown[] = [];
    for (const close of [() => source.stop(), () => sink.stop?.(), () => checkpoint?.close()]) {
      try {
        await close();
      } catch (closeError) {
        closeErrors.push(closeError);
      }
    }
    if (this.failure === undefined && closeErrors.length > 0) this.failure = closeErrors[0] as Error;
    this.terminated = true;
    this.active = false;
    this.statusTracker.stopped(this.failure);
    const failure = this.failure;
    if (failure !== undefined && this.waiters.length === 0 && this.terminationAwaiters === 0 && !(this.failedToStart && this.readyRead)) {
      this.hooks.unobservedFailure(this, failure, this.config.onQueryError);
    }
    for (const w of this.waiters) {
      if (failure === undefined) w.resolve();
      else w.reject(failure);
    }
    this.waiters = [];
    this.progressSubject.complete();
    this.emit(EVENTS.QUERY_TERMINATED, { ...this.ref(), exception: failure });
    this.hooks.terminated(this);
    this.termination.resolve();
  }

  async stop(): Promise<void> {
    this.stopRequested = true;
    this.stopSignal.resolve();
    this.loopSubscription?.unsubscribe();
    if (this.loopSubscription === undefined && !this.terminated && this.terminating === undefined) {
      // Still starting: the start sequence stops once it sees the request.
      await this.readyPromise.catch(() => undefined);
    }
    await this.terminate(undefined);
  }

  async awaitTermination(timeout?: Duration): Promise<boolean> {
    this.terminationAwaiters++;
    try {
      return await this.waitForTermination(timeout);
    } finally {
      this.terminationAwaiters--;
    }
  }

  private async waitForTermination(timeout: Duration | undefined): Promise<boolean> {
    if (timeout === undefined) {
      await this.termination.promise;
    } else {
      const timeoutMs = parseDuration(timeout, { option: 'awaitTermination: timeout' });
      let timer: Subscription | undefined;
      const timedOut = await Promise.race([
        this.termination.promise.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = this.config.scheduler.schedule(() => resolve(true), timeoutMs);
        }),
      ]);
      timer?.unsubscribe();
      if (timedOut) return false;
    }
    if (this.failure !== undefined) throw this.failure;
    return true;
  }

  processAllAvailable(): Promise<void> {
    if (this.terminated) return this.failure === undefined ? Promise.resolve() : Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ afterStep: this.stepCount, resolve, reject });
      this.wake$.next();
    });
  }
}

/** Internal signal: `stop()` was called before the query finished starting. */
class StopBeforeStart extends Error {}

import { randomUUID } from 'node:crypto';
import { Observable, Subject, asyncScheduler, type SchedulerLike } from 'rxjs';
import type { Batch } from '../batch/Batch.js';
import type { Checkpoint } from '../checkpoint/Checkpoint.js';
import type { CheckpointStore } from '../checkpoint/CheckpointStore.js';
import { openCheckpoint } from '../checkpoint/openCheckpoint.js';
import { InvalidOptionError, UnsupportedOperationError, describeValue } from '../errors/index.js';
import type { EventType } from '../instrumentation/events.js';
import { SOURCE_INFO, aggregationFeeding, assignOperatorIds, attachNode, findNode, freezeInfo, requestMode, staticInfoOf, type OutputModeName, type PipelineInfo } from '../internal/pipeline.js';
import type { Sink } from '../sinks/Sink.js';
import type { DeadLetterRecord, Source } from '../sources/Source.js';
import { parseDuration } from '../time/parseDuration.js';
import type { Duration } from '../types.js';
import { UNSUPPORTED, isAggregationKind, queryModeRefusal } from './unsupportedOperations.js';
import { requireQueryErrorHandler, type QueryErrorHandler } from './queryErrors.js';
import type { RetryOptions } from './retry.js';
import { QueryRuntime, continuousNodeName, type StreamingQuery } from './StreamingQuery.js';
import { MultiSource } from './multiSource.js';
import { streams, type StreamingQueryManager } from './StreamingQueryManager.js';
import { resolveTrigger, type Trigger } from './triggers.js';
import { startPartitionedQuery, type PartitionedQuery, type StartPartitionedQueryOptions } from './tasks.js';

/** The rows a source gives. */
export type RowOfSource<S> = S extends Source<infer T, unknown> ? T : never;

/** The input streams a multi-source pipeline receives: one per entry of `sources`. */
export type QueryInputs<S extends Readonly<Record<string, Source<unknown, unknown>>>> = { readonly [K in keyof S]: Observable<Batch<RowOfSource<S[K]>>> };

/** Options for a {@link startQuery} over several sources: a stream-stream join or a union of the query's inputs. */
export interface StartMultiSourceQueryOptions<S extends Readonly<Record<string, Source<unknown, unknown>>>, R> extends Omit<StartQueryOptions<never, R>, 'source' | 'pipeline'> {
  /**
   * The query's inputs by name, e.g. `{ left: fromKafka(…), right: fromDirectory(…) }`.
   * One trigger plans every input; batch N of each input carries the same
   * batch id and is one micro-batch for a join or union of them; the
   * write-ahead log entry of batch N holds every input's offsets.
   */
  readonly sources: S;
  /** The query over the inputs, e.g. `({ left, right }) => left.pipe(streamJoin(right, { … }))`. */
  readonly pipeline: (inputs: QueryInputs<S>) => Observable<Batch<R>>;
}

/** Options for {@link startQuery}. */
export interface StartQueryOptions<T, R> {
  /** Where rows come from: `fromDirectory`, `fromSocket`, `rateSource`, `fromObservable`, `fromKafka`, or any {@link Source}. */
  readonly source: Source<T, unknown>;
  /**
   * The query: a function of the input batches, e.g.
   * `(batches$) => batches$.pipe(withWatermark('ts', '10 minutes'), windowTumbling(…), outputMode('update'))`.
   * It must emit one output batch per input batch, with the same id (every
   * operator of this library does). @defaultValue the identity (rows go to the sink unchanged)
   */
  readonly pipeline?: (batches$: Observable<Batch<T>>) => Observable<Batch<R>>;
  /** Where each batch's output goes: `toConsole`, `toFiles`, `toMemory`, `forEach`, `forEachBatch`, `toKafka`, or any {@link Sink}. */
  readonly sink: Sink<R>;
  /** When batches run. @defaultValue the default trigger: the next batch as soon as the previous finished and new data is there */
  readonly trigger?: Trigger;
  /**
   * A directory for the query's checkpoint (offsets write-ahead log, commits,
   * operator state), or a {@link CheckpointStore} to keep it in (e.g. an
   * `S3CheckpointStore` from `rxjs-structured-streaming/s3`); the query
   * recovers from it on restart.
   */
  readonly checkpointLocation?: string | CheckpointStore;
  /** A checkpoint object instead of a location (e.g. an in-memory one). */
  readonly checkpoint?: Checkpoint;
  /** A name shown in progress reports, unique among active queries. */
  readonly name?: string;
  /** Every timer and clock reading of the query. @defaultValue `asyncScheduler` */
  readonly scheduler?: SchedulerLike;
  /**
   * The output mode, when the pipeline's own cannot be read (a foreign RxJS
   * operator after `outputMode(…)` hides it). @defaultValue the pipeline's `outputMode(…)`, else `'append'`
   */
  readonly outputMode?: OutputModeName;
  /** How long an idle default or continuous trigger waits before asking a source without `dataAvailable$` again. @defaultValue `100 ms` */
  readonly pollInterval?: Duration;
  /** Retries of retriable source, sink and checkpoint failures. */
  readonly retry?: RetryOptions;
  /** Receives the records a source could not parse (sources asked to route them, e.g. `onMalformed: 'deadLetter'`); counted in progress either way. */
  readonly deadLetter?: ((record: DeadLetterRecord) => void) | { readonly next: (record: DeadLetterRecord) => void };
  /** The manager the query registers with. @defaultValue {@link streams} */
  readonly manager?: StreamingQueryManager;
  /** Called when an instrumentation listener throws. @defaultValue logs with `console.error` */
  readonly onListenerError?: (error: unknown, type: EventType) => void;
  /**
   * Reports this query's exception when it fails while nobody waits for it
   * (no pending `awaitTermination()` or `processAllAvailable()`); called
   * once. @defaultValue the manager's {@link StreamingQueryManager.onQueryError}, which logs it with {@link logQueryError}
   */
  readonly onQueryError?: QueryErrorHandler;
}

const MODE_NAMES: Readonly<Record<OutputModeName, string>> = { append: 'Append', update: 'Update', complete: 'Complete' };

function requireObject(option: string, value: unknown, methods: readonly string[], expected: string): void {
  const ok = typeof value === 'object' && value !== null && methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
  if (!ok) throw new InvalidOptionError(`startQuery: ${option} must be ${expected}; got ${describeValue(value)}.`, option, value, expected);
}

/**
 * Starts a streaming query: reads the source batch by batch on the trigger's
 * timetable, runs each batch through the pipeline and writes the output to
 * the sink, exactly once when the source replays and the sink is idempotent
 * and a checkpoint is given.
 *
 * Spark: `df.writeStream.format(…).outputMode(…).trigger(…).option("checkpointLocation", …).start()`.
 *
 * ```text
 * source   --a-----b--c------|     a, b, c = new data (offsets advance)
 * batches  --0-----1--2-------     one batch per trigger that found new data (default trigger)
 * sink     --0-----1--2-------     batch N's output, then commits/N
 * ```
 *
 * Each batch N: ask the source for its latest offset; if there is new data,
 * write `offsets/N` (with a checkpoint), read `(previous end, latest]`, push
 * the batch through the pipeline (subscribed once, in the query's context so
 * that stateful operators register their state), give the output to the
 * sink, write `commits/N`, commit the source, then publish a progress
 * report. On restart from a checkpoint the query keeps its id, gets a new run
 * id, re-runs an uncommitted batch with exactly its logged offsets, and
 * continues the numbering. An error stops this query only, kept in
 * `exception`; retriable source, sink and checkpoint errors are retried first.
 *
 * **Several sources** (`sources: { left, right }` and a `pipeline` of the
 * named inputs): one trigger plans every input, batch N of every input has
 * the same id and a join or union of them treats it as one micro-batch, the
 * write-ahead entry `offsets/N` holds every input's offset, recovery restores
 * all of them, and progress lists each input as a source. `sources` with one
 * entry is the same query as `source`.
 *
 * **One task per Kafka partition** (`tasks: 'perPartition'`, with a
 * `fromKafka({ groupId })` source, a `sink` that is a function of the task
 * and a `checkpointLocation` every process shares): the process runs one
 * query per partition its consumer group assigns it, each with its own
 * offsets, watermark, state, fenced checkpoint under `tasks/<topic>-<p>` and
 * sink; start more processes with the same options to scale out. Returns a
 * {@link PartitionedQuery}. See docs/guides/scaling-out.md.
 *
 * ```ts
 * const query = startQuery({
 *   tasks: 'perPartition',
 *   source: fromKafka({ brokers: 'kafka:9092', topic: 'clicks', groupId: 'clicks-query' }),
 *   sink: (task) => toFiles(`/shared/out/${task.id}`),
 *   checkpointLocation: '/shared/checkpoints/clicks',
 * });
 * await query.ready;
 * query.tasks; // => [{ id: 'clicks-0', topic: 'clicks', partition: 0, epoch: 0 }, …]
 * ```
 *
 * **Output mode**, set in one place as Spark's `writeStream.outputMode`: the
 * pipeline's own `outputMode(…)`, else the `outputMode` option (which sets the
 * mode of an aggregation the pipeline leaves without one), else append —
 * with Spark's rules for it (no watermark on an append aggregation, joins only
 * in append mode, the `(flat)MapGroupsWithState` mode rules). The option and
 * a different `outputMode(…)` in the pipeline are refused together.
 *
 * ```ts
 * const joined = startQuery({
 *   sources: { clicks: fromDirectory('/data/clicks', { format: 'json' }), views: fromDirectory('/data/views', { format: 'json' }) },
 *   pipeline: ({ clicks, views }) =>
 *     clicks.pipe(
 *       withWatermark('ts', '10 seconds'),
 *       streamJoin(views.pipe(withWatermark('ts', '10 seconds')), { on: 'ad', timeRange: { leftTime: 'ts', rightTime: 'ts', lower: '-1 minute', upper: 0 } }),
 *     ),
 *   sink: toConsole(),
 *   checkpointLocation: '/checkpoints/clicks-views',
 * });
 * await joined.stop();
 * ```
 *
 * @example
 * ```ts
 * const query = startQuery({
 *   source: fromObservable(of({ word: 'a' }, { word: 'b' })),
 *   sink: toMemory('words'),
 * });
 * await query.processAllAvailable();
 * memoryTable('words'); // => [{ word: 'a' }, { word: 'b' }]
 * await query.stop();
 * ```
 *
 * @throws {InvalidOptionError} `startQuery: tasks: 'perPartition' needs fromKafka({ groupId }) …`, `… sink must be a function of the task …`, `… needs checkpointLocation …`; `tasks must be 'perPartition' or left out`.
 * @throws {InvalidOptionError} `startQuery: source must be a Source …` / `sink must be a Sink …` / bad trigger, name, pollInterval; `sources` empty, not sources, or given with `source`.
 * @throws {InvalidOptionError} `startQuery: outputMode is <mode> but the pipeline already emits in <mode> mode …` when the option contradicts the pipeline's `outputMode(…)`.
 * @throws {UnsupportedOperationError} Spark's refusals of the query's output mode, e.g. `startQuery: Append output mode not supported when there are streaming aggregations on streaming DataFrames/DataSets without watermark`, `Join between two streaming DataFrames/Datasets is not supported in Update output mode, only in Append output mode`.
 * @throws {UnsupportedOperationError} `startQuery: Data source <sink> does not support <Mode> output mode …` when the sink does not support the pipeline's output mode.
 * @throws {UnsupportedOperationError} `startQuery: Continuous processing does not support <Operator> operations.` for a stateful pipeline, a source or a sink that cannot run continuously.
 */
export function startQuery<T, R = T>(options: StartPartitionedQueryOptions<T, R>): PartitionedQuery<T, R>;
export function startQuery<const S extends Readonly<Record<string, Source<unknown, unknown>>>, R>(options: StartMultiSourceQueryOptions<S, R>): StreamingQuery;
export function startQuery<T, R = T>(options: StartQueryOptions<T, R>): StreamingQuery;
export function startQuery<T, R = T>(given: StartQueryOptions<T, R> | StartMultiSourceQueryOptions<Readonly<Record<string, Source<unknown, unknown>>>, R> | StartPartitionedQueryOptions<T, R>): StreamingQuery {
  const tasks = (given as { tasks?: unknown }).tasks;
  if (tasks === 'perPartition') return startPartitionedQuery(given as StartPartitionedQueryOptions<T, R>);
  if (tasks !== undefined) throw new InvalidOptionError(`startQuery: tasks must be 'perPartition' or left out; got ${describeValue(tasks)}.`, 'tasks', tasks, "'perPartition'");
  const multi = multiSourceOf(given);
  const options = (multi?.single ?? given) as StartQueryOptions<T, R>;
  if (multi === undefined) requireObject('source', options.source, ['start', 'latestOffset', 'getBatch', 'commit', 'stop'], 'a Source (fromDirectory, fromSocket, rateSource, fromObservable, fromKafka…)');
  requireObject('sink', options.sink, ['addBatch'], 'a Sink (toConsole, toFiles, toMemory, forEach, forEachBatch, toKafka…)');
  const sink = options.sink;
  const source = (multi?.source ?? options.source) as Source<T, unknown>;
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name.length === 0)) {
    throw new InvalidOptionError(`startQuery: name must be a non-empty string; got ${describeValue(options.name)}.`, 'name', options.name, 'a non-empty string');
  }
  if (options.pipeline !== undefined && typeof options.pipeline !== 'function') {
    throw new InvalidOptionError(`startQuery: pipeline must be a function of the input batches; got ${describeValue(options.pipeline)}. Use (batches$) => batches$.pipe(…).`, 'pipeline', options.pipeline, 'a function');
  }
  if (options.checkpoint !== undefined && options.checkpointLocation !== undefined) {
    throw new InvalidOptionError(
      `startQuery: checkpoint and checkpointLocation must not both be given; got checkpointLocation ${describeValue(options.checkpointLocation)}. Pass one of them.`,
      'checkpointLocation',
      options.checkpointLocation,
      'either checkpoint or checkpointLocation',
    );
  }
  const onQueryError = options.onQueryError === undefined ? undefined : requireQueryErrorHandler('startQuery', options.onQueryError);
  const trigger = resolveTrigger(options.trigger);
  const pollIntervalMs = parseDuration(options.pollInterval ?? 100, { option: 'startQuery: pollInterval' });
  const scheduler = options.scheduler ?? asyncScheduler;

  // Build the pipeline now, so that misconfigured operators and refused shapes fail here, synchronously.
  const input$ = new Subject<Batch<T>>();
  // The input is a fresh stream of this query's one input; its batches will carry the query context (lib/internal/pipeline.ts).
  const inputInfo = queryInputInfo(multi?.names ?? [multi?.singleName ?? '0'], multi === undefined || multi.single !== undefined ? source.columns : undefined);
  const multiInputs = multi?.source === undefined ? undefined : multi.names.map((name, i) => ({ subject: new Subject<Batch<unknown>>(), info: queryInputInfo([name], multi.sources[i]!.columns) }));
  const subscriptions = inputSubscriptions(multiInputs?.length ?? 1);
  const batches$ = queryInput(input$, inputInfo, subscriptions.onSubscribed(0));
  const output$ =
    multiInputs !== undefined
      ? (given as StartMultiSourceQueryOptions<Readonly<Record<string, Source<unknown, unknown>>>, R>).pipeline(Object.fromEntries(multi!.names.map((name, i) => [name, queryInput(multiInputs[i]!.subject, multiInputs[i]!.info, subscriptions.onSubscribed(i))])) as never)
      : options.pipeline === undefined
        ? (batches$ as unknown as Observable<Batch<R>>)
        : options.pipeline(batches$);
  // Operator ids from the pipeline's shape, unique within the query (parallel branches told apart by their place).
  assignOperatorIds(output$, inputInfo.inputs);
  const outputMode = resolveOutputMode(options.outputMode, output$);
  if (!sink.supportedModes.includes(outputMode)) {
    throw new UnsupportedOperationError(
      'startQuery',
      `Data source ${sink.description} does not support ${MODE_NAMES[outputMode]} output mode; it supports ${sink.supportedModes.map((m) => MODE_NAMES[m]).join(', ')}. Choose another sink or output mode.`,
    );
  }
  checkQueryMode(output$, outputMode);
  const plan = staticInfoOf(output$);
  if (trigger.kind === 'continuous') {
    if (source.supportsContinuous === false) throw new UnsupportedOperationError('startQuery', UNSUPPORTED.continuousWithAggregation('StreamingRelation'));
    if (plan?.aggregation !== undefined || plan?.stateful.some((s) => isAggregationKind(s.kind)) === true) throw new UnsupportedOperationError('startQuery', UNSUPPORTED.continuousWithAggregation('Aggregate'));
    const stateful = plan?.stateful.find((s) => s.kind !== 'watermark');
    if (stateful !== undefined) throw new UnsupportedOperationError('startQuery', UNSUPPORTED.continuousWithAggregation(continuousNodeName(stateful.kind)));
    if (plan?.watermarked === true) throw new UnsupportedOperationError('startQuery', UNSUPPORTED.continuousWithAggregation('EventTimeWatermark'));
    if (typeof sink.addRows !== 'function') {
      throw new UnsupportedOperationError('startQuery', `Data source ${sink.description} does not support continuous processing. Use a micro-batch trigger, or toConsole, toMemory or forEach.`);
    }
  }

  const queryId = randomUUID();
  const checkpoint = options.checkpoint ?? (options.checkpointLocation === undefined ? undefined : openCheckpoint(options.checkpointLocation, { queryId }));
  const deadLetter = options.deadLetter;
  const runtime = new QueryRuntime<T, R>({
    source,
    output$,
    input$,
    inputInfo,
    inputsSubscribed: options.pipeline === undefined && multiInputs === undefined ? Promise.resolve() : subscriptions.ready,
    ...(multiInputs === undefined ? {} : { inputs: multiInputs }),
    sink,
    outputMode,
    trigger,
    checkpoint,
    name: options.name,
    scheduler,
    pollIntervalMs,
    retry: options.retry ?? {},
    deadLetter: deadLetter === undefined ? undefined : typeof deadLetter === 'function' ? deadLetter : (record) => deadLetter.next(record),
    queryId,
    runId: randomUUID(),
    ...(options.onListenerError === undefined ? {} : { emitterErrors: options.onListenerError }),
    ...(onQueryError === undefined ? {} : { onQueryError }),
  });
  const hooks = (options.manager ?? streams).register(runtime);
  runtime.begin(hooks);
  return runtime;
}

/**
 * The query's output mode, set in one place (Spark's `writeStream.outputMode`):
 * the pipeline's own (`outputMode(…)`, a join's append, a
 * `flatMapGroupsWithState`'s mode), else `startQuery`'s option, else append.
 * The option sets the mode of an aggregation the pipeline leaves without one,
 * and is refused when the pipeline already says otherwise. Spark's rules for
 * the mode are checked here, before any batch.
 */
function resolveOutputMode(option: OutputModeName | undefined, output$: Observable<unknown>): OutputModeName {
  if (option !== undefined && option !== 'append' && option !== 'update' && option !== 'complete') {
    throw new InvalidOptionError(`startQuery: outputMode must be 'append', 'update' or 'complete'; got ${describeValue(option)}.`, 'outputMode', option, "'append' | 'update' | 'complete'");
  }
  const info = staticInfoOf(output$);
  const feeding = aggregationFeeding(output$);
  // The mode the pipeline declares (outputMode(…)); a join's append or a flatMapGroupsWithState's mode is only a default, Spark's rules judge a different one.
  const terminal = findNode(output$)?.node;
  const own = terminal?.op === 'outputMode' ? terminal.info?.outputMode : feeding?.requestedMode;
  if (option !== undefined && own !== undefined && own !== option) {
    throw new InvalidOptionError(
      `startQuery: outputMode is ${describeValue(option)} but the pipeline already emits in ${own} mode (outputMode(…) in the pipeline). Set the output mode once: remove the option or change the pipeline.`,
      'outputMode',
      option,
      `'${own}'`,
    );
  }
  const mode = own ?? option ?? info?.outputMode ?? 'append';
  // An aggregation the pipeline leaves without a mode runs in the query's (Spark's default: append, with its rules).
  if (feeding !== undefined && feeding.requestedMode === undefined) requestMode(feeding, mode, 'startQuery');
  return mode;
}

/** Spark's rules for the query's output mode, checked on the pipeline before any batch (on the first output batch when a foreign Observable hides it). */
function checkQueryMode(output$: Observable<unknown>, mode: OutputModeName): void {
  const found = findNode(output$);
  const info = staticInfoOf(output$);
  if (info === undefined || found?.node.guessed === true) return;
  const feeding = aggregationFeeding(output$);
  const refused = queryModeRefusal(info.aggregation === undefined && feeding?.info?.aggregation !== undefined ? { ...info, aggregation: feeding.info.aggregation } : info, mode);
  if (refused !== undefined) throw new UnsupportedOperationError('startQuery', refused);
}

/** The info of a query input stream: a fresh stream of these query inputs, aligned with the query's other inputs (one trigger plans all). */
function queryInputInfo(names: readonly string[], columns: readonly string[] | undefined): PipelineInfo {
  return freezeInfo({ ...SOURCE_INFO, inputs: [...names], aligned: true, ...(columns === undefined ? {} : { columns }) });
}

/**
 * A query input's Observable, with its node (so the pipeline's refusals and
 * output mode are settled when it is built). `onSubscribed` runs when the
 * pipeline subscribes it — later than the pipeline itself behind a
 * `subscribeOn` — so that the runtime pushes no batch before.
 */
function queryInput<T>(subject: Subject<Batch<T>>, info: PipelineInfo, onSubscribed: () => void): Observable<Batch<T>> {
  const input = new Observable<Batch<T>>((subscriber) => {
    const subscription = subject.subscribe(subscriber);
    onSubscribed();
    return subscription;
  });
  return attachNode(input, { op: 'startQuery', inputs: [], info, refusal: undefined, aggregation: false, requestedMode: undefined, requestedBy: undefined, binding: undefined });
}

/** Counts the inputs the pipeline subscribed; `ready` resolves once every one is. */
function inputSubscriptions(count: number): { readonly ready: Promise<void>; readonly onSubscribed: (index: number) => () => void } {
  const seen = new Set<number>();
  let resolve!: () => void;
  const ready = new Promise<void>((r) => (resolve = r));
  return {
    ready,
    onSubscribed: (index) => () => {
      seen.add(index);
      if (seen.size === count) resolve();
    },
  };
}

interface MultiSourcePlan {
  readonly names: readonly string[];
  readonly sources: readonly Source<unknown, unknown>[];
  /** Several inputs: the composite source. */
  readonly source?: MultiSource;
  /** `sources` with one entry: the same as `source`. */
  readonly single?: StartQueryOptions<unknown, unknown>;
  readonly singleName?: string;
}

/** Validates `sources` (when given): a non-empty object of Sources, not together with `source`. */
function multiSourceOf(options: object): MultiSourcePlan | undefined {
  const o = options as { sources?: unknown; source?: unknown; pipeline?: unknown };
  if (o.sources === undefined) return undefined;
  if (o.source !== undefined) {
    throw new InvalidOptionError(`startQuery: source and sources must not both be given; got both. Pass sources: { name: source, … } for several inputs, or source for one.`, 'sources', o.sources, 'either source or sources');
  }
  if (typeof o.sources !== 'object' || o.sources === null || Object.keys(o.sources).length === 0) {
    throw new InvalidOptionError(`startQuery: sources must be a non-empty object of named sources; got ${describeValue(o.sources)}.`, 'sources', o.sources, '{ name: Source, … }');
  }
  if (typeof o.pipeline !== 'function') {
    throw new InvalidOptionError(`startQuery: pipeline must be a function of the inputs with sources; got ${describeValue(o.pipeline)}. Use ({ left, right }) => left.pipe(…).`, 'pipeline', o.pipeline, 'a function');
  }
  // Sorted by name, so that reordering the object's keys keeps the checkpoint's offsets in place.
  const names = Object.keys(o.sources).sort();
  const sources = names.map((name) => {
    const source = (o.sources as Record<string, unknown>)[name];
    requireObject(`sources.${name}`, source, ['start', 'latestOffset', 'getBatch', 'commit', 'stop'], 'a Source (fromDirectory, fromSocket, rateSource, fromObservable, fromKafka…)');
    return source as Source<unknown, unknown>;
  });
  if (names.length === 1) {
    const name = names[0]!;
    const pipeline = o.pipeline as (inputs: Record<string, Observable<Batch<unknown>>>) => Observable<Batch<unknown>>;
    return { names, sources, singleName: name, single: { ...(options as StartQueryOptions<unknown, unknown>), source: sources[0]!, pipeline: (b$) => pipeline({ [name]: b$ }), sources: undefined } as StartQueryOptions<unknown, unknown> };
  }
  return { names, sources, source: new MultiSource(names, sources) };
}

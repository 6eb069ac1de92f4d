import type { Observable, SchedulerLike } from 'rxjs';

/** Per-trigger limits a trigger passes to a source (`maxFilesPerTrigger`, `maxOffsetsPerTrigger` are the source's own options). */
export interface ReadLimit {
  /** Ignore the source's per-trigger limit (Trigger.Once reads everything available in one batch). */
  readonly all: boolean;
}

/** What the runtime gives a source when the query starts. */
export interface SourceContext {
  readonly queryId: string;
  readonly runId: string;
  readonly scheduler: SchedulerLike;
  /** A dead-letter output for records the source could not parse (when the source was asked to route them there). */
  readonly deadLetter: (record: DeadLetterRecord) => void;
  /**
   * A directory of the query's checkpoint reserved for this source's own
   * metadata log (`<checkpointLocation>/sources/<index>`), when the query has
   * a checkpoint in a directory; `undefined` otherwise (the source then keeps
   * its log in memory). Spark: the `metadataPath` a `Source` is created with.
   */
  readonly metadataDir?: string;
  /** For the sources of a multi-source query: the metadata directory of input `index` (`<checkpointLocation>/sources/<index>`). */
  readonly metadataDirFor?: (index: number) => string | undefined;
}

/** A record a source could not parse. */
export interface DeadLetterRecord {
  readonly source: string;
  /** Where it came from, e.g. a file path and line, or a topic/partition/offset. */
  readonly location: string;
  readonly text: string;
  readonly reason: string;
}

/**
 * A replayable streaming source, in the spirit of Spark's `Source`: the runtime
 * asks for the latest offset, writes the range `(start, end]` to the
 * write-ahead log, then reads exactly that range with {@link Source.getBatch}.
 * On recovery it calls `getBatch` again with the logged range, so the same
 * offsets must always give the same rows. Offsets are JSON values.
 */
export interface Source<T, O = unknown> {
  /** Shown in progress reports, e.g. `FileStreamSource[/data/in]`. */
  readonly description: string;
  /** Opens the source (connect, list, start watching). */
  start(context: SourceContext): Promise<void>;
  /**
   * The offset up to which data is available now, no further than the source's
   * per-trigger limit past `start` (unless `limit.all`); `start` when nothing
   * is new. `undefined` when the source has never had data.
   */
  latestOffset(start: O | undefined, limit: ReadLimit): Promise<O | undefined>;
  /** The rows in `(start, end]`; the same range always gives the same rows. */
  getBatch(start: O | undefined, end: O): Promise<readonly T[]>;
  /** Everything up to `end` is committed by the query; the source may forget it. */
  commit(end: O): Promise<void>;
  /** Closes the source. */
  stop(): Promise<void>;
  /** Emits when new data may be available (wakes the default trigger); without it the runtime polls. */
  readonly dataAvailable$?: Observable<void>;
  /**
   * For `{ availableNow: true }`: fix the offset that counts as "everything
   * available now"; later `latestOffset` calls never go past it.
   */
  prepareForAvailableNow?(): Promise<void>;
  /**
   * How many batches after `start` this source will plan again exactly as it
   * planned them before (e.g. entries of its own log that no `offsets/N`
   * names any more, after a crash or a deleted offsets file); 0 when it
   * cannot. Optional (no such batches).
   */
  replannableBatches?(start: O | undefined): Promise<number>;
  /**
   * What this source needs, beyond the offsets, to plan `(start, end]` again
   * exactly as now once its own metadata for the batch is lost (the
   * checkpoint restored from an older copy): JSON, or `null` when the offsets
   * say everything (a Kafka or rate offset). `fromDirectory` gives the
   * file-log entries of the batch. Called after `getBatch(start, end)`; the
   * runtime hands it to the sink with the batch (`BatchOrigin.plans`).
   * Optional (`null`).
   */
  describePlan?(start: O | undefined, end: O): Promise<unknown>;
  /**
   * Before a batch the sink holds but the checkpoint lost is run again with
   * the offsets the sink recorded: make `(start, end]` plan as `plan` (what
   * {@link Source.describePlan} gave) says, e.g. write the file-log entries
   * back. Throws when what the source has contradicts it. Optional (needed
   * only by a source whose `describePlan` gives something).
   */
  restorePlan?(start: O | undefined, end: O, plan: unknown): Promise<void>;
  /** `false` for a source that cannot feed a continuous trigger (Spark's file source); others may. Optional. */
  readonly supportsContinuous?: boolean;
  /**
   * Numbers about the source to show in progress (`sources[i].metrics`) for
   * the batch that ended at `end`: buffer fill, dropped rows, reconnects,
   * where partitions started. Called after the batch commits, possibly while
   * the next batch is already planned, so a per-batch number is looked up by
   * `end`. Optional.
   */
  progressMetrics?(end: O | undefined): Readonly<Record<string, number>>;
  /**
   * The columns every row has, when the source knows them before reading
   * (a schema); `startQuery` resolves the columns the pipeline names against
   * them when it builds the pipeline (Spark's analysis). Optional.
   */
  readonly columns?: readonly string[] | undefined;
  /** Compare two offsets (negative when a < b); used to detect "nothing new". Default: JSON equality. */
  sameOffset?(a: O | undefined, b: O | undefined): boolean;
}

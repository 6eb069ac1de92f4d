import type { OutputModeName } from '../internal/pipeline.js';

/** What the runtime gives a sink when the query starts. */
export interface SinkContext {
  readonly queryId: string;
  readonly runId: string;
  readonly outputMode: OutputModeName;
}

/**
 * Where a batch's input came from, as the runtime hands it to the sink with
 * the batch ({@link Sink.addBatch}'s third argument): the batch's
 * write-ahead entry (`offsets/N`) and what each source needs beyond the
 * offsets to plan the batch again. A sink that keeps it with the batch's
 * output (`toFiles` does, in its manifest) and gives it back
 * ({@link Sink.committedOrigin}) lets a checkpoint that is behind the output
 * (restored from an older copy, offsets files deleted) re-plan the batches
 * the sink holds exactly as they ran. JSON throughout.
 */
export interface BatchOrigin {
  /** Per source, the offset the batch read after (the previous batch's end); `null` for a source's first batch. */
  readonly startOffsets: readonly unknown[];
  /** Per source, the offset the batch read to (`offsets/N`). */
  readonly endOffsets: readonly unknown[];
  /** The watermark the batch started with (`offsets/N`). */
  readonly watermark: number;
  /** The batch's processing time, epoch ms (`offsets/N`; what processing-time timeouts read). */
  readonly timestamp: number;
  /** Per source, what it needs beyond the offsets to plan the batch again (`Source.describePlan`; `fromDirectory`: its file-log entries), `null` when nothing. */
  readonly plans: readonly unknown[];
}

/**
 * Where a query writes each batch's output. A sink that promises exactly-once
 * output must be idempotent by `batchId`: after a crash the runtime may give
 * it the same batch (same id, same rows) again.
 */
export interface Sink<R> {
  /** Shown in progress reports. */
  readonly description: string;
  /** Output modes this sink supports; another is rejected at start. */
  readonly supportedModes: readonly OutputModeName[];
  /** `true` when a replayed batch id is written once (file sink manifest, Kafka markers). */
  readonly idempotent: boolean;
  start?(context: SinkContext): Promise<void>;
  /**
   * Writes one batch. Resolves once the batch is durably written (for
   * durable sinks). `origin` says what input the batch covered; a sink that
   * implements {@link Sink.committedOrigin} records it with the batch.
   */
  addBatch(batchId: number, rows: readonly R[], origin?: BatchOrigin): Promise<void>;
  stop?(): Promise<void>;
  /**
   * The highest batch id this sink already holds for the query (after
   * `start`), or -1. Optional: with it the runtime detects a checkpoint that
   * is older than the output, and re-plans the batches the sink holds beyond
   * it from {@link Sink.committedOrigin} (or refuses to start with a
   * `CheckpointBehindOutputError` when it cannot).
   */
  lastCommittedBatchId?(): Promise<number>;
  /**
   * The {@link BatchOrigin} this sink recorded with batch `batchId` of the
   * query (after `start`), or `undefined` when it does not hold the batch or
   * holds it without one. Optional: with it (and `lastCommittedBatchId`) a
   * checkpoint behind the output re-plans the batches the sink holds with
   * exactly their recorded offsets, instead of refusing to start.
   */
  committedOrigin?(batchId: number): Promise<BatchOrigin | undefined>;
  /**
   * Before the first batch of a run: the origins of the batches the
   * checkpoint commits after the newest one this sink holds
   * ({@link Sink.lastCommittedBatchId}): batches without output, of an
   * earlier run that ended before any later batch could carry their origins.
   * A sink that records the origins of batches without output with a later
   * batch (`toKafka` does, in `rss.before`) keeps these with its next write
   * too, so that a checkpoint restored behind them can re-plan them.
   * Optional.
   */
  holdOrigins?(entries: ReadonlyArray<{ readonly batchId: number; readonly origin: BatchOrigin }>): void;
  /**
   * Continuous processing (`trigger: { continuous }`): rows of epoch
   * `epochId`, given as soon as they are produced (many calls per epoch). A
   * sink without it cannot run under a continuous trigger. Optional.
   */
  addRows?(epochId: number, rows: readonly R[]): Promise<void>;
  /** Continuous processing: every row of epoch `epochId` has been given to `addRows`. Optional. */
  commitEpoch?(epochId: number): Promise<void>;
}

import type { OutputModeName } from '../internal/pipeline.js';

/** What the runtime gives a sink when the query starts. */
export interface SinkContext {
  readonly queryId: string;
  readonly runId: string;
  readonly outputMode: OutputModeName;
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
  /** Writes one batch. Resolves once the batch is durably written (for durable sinks). */
  addBatch(batchId: number, rows: readonly R[]): Promise<void>;
  stop?(): Promise<void>;
  /**
   * The highest batch id this sink already holds for the query (after
   * `start`), or -1. Optional: with it the runtime detects a checkpoint that
   * is older than the output (see `CheckpointBehindOutputError`).
   */
  lastCommittedBatchId?(): Promise<number>;
  /**
   * Continuous processing (`trigger: { continuous }`): rows of epoch
   * `epochId`, given as soon as they are produced (many calls per epoch). A
   * sink without it cannot run under a continuous trigger. Optional.
   */
  addRows?(epochId: number, rows: readonly R[]): Promise<void>;
  /** Continuous processing: every row of epoch `epochId` has been given to `addRows`. Optional. */
  commitEpoch?(epochId: number): Promise<void>;
}

import type { SchedulerLike } from 'rxjs';
import type { QueryContext } from '../state/StateStore.js';

/** One write-ahead entry (`offsets/N`): written before batch N runs. */
export interface OffsetLogEntry {
  readonly batchId: number;
  /** Per source, the end offset batch N reads to (JSON); the start is the previous entry's end. */
  readonly offsets: readonly unknown[];
  /** The global watermark batch N starts with. */
  readonly watermark: number;
  /** Processing time (epoch ms, from the query's scheduler) when the batch was planned. */
  readonly timestamp: number;
}

/** What a checkpoint says about where a restarted query stands. */
export interface CheckpointRecovery {
  /** Kept across restarts (from `metadata`). */
  readonly queryId: string;
  /** `true` when the checkpoint was just created. */
  readonly fresh: boolean;
  /** The last batch with a `commits/N` entry, or -1. */
  readonly lastCommittedBatchId: number;
  /** `offsets/N` of the last committed batch (the sources resume after its offsets), if any. */
  readonly lastCommitted: OffsetLogEntry | undefined;
  /** `offsets/N+1` written but never committed: re-run it with exactly these offsets. */
  readonly pending: OffsetLogEntry | undefined;
  /** The watermark after the last committed batch, when its commit recorded one (see {@link CommitInfo}). */
  readonly watermark?: number;
}

/** What a checkpoint did to commit a batch, for the batch's progress report. Times are on the query's scheduler clock. */
export interface CheckpointCommitStats {
  /** The longest delta write of the batch (encoding `state/<op>/N.delta` and writing it durably; it overlaps the sink). */
  readonly stateDeltaMs: number;
  /** Writing `commits/N`. */
  readonly commitMs: number;
  /** Bytes of `offsets/N`, the deltas and `commits/N`. */
  readonly bytesWritten: number;
  readonly snapshot: {
    /** A snapshot is being built or written now. */
    readonly inFlight: boolean;
    /** Time with a snapshot in flight since the previous commit. */
    readonly inFlightMs: number;
    /** The newest durable snapshot version, the oldest one over the operators (-1: none). */
    readonly lastVersion: number;
    /** How many versions the newest durable snapshot is behind the committed state, the most over the operators. */
    readonly lag: number;
    /** Due snapshots replaced by a newer due one before they started, so far. */
    readonly coalesced: number;
  };
}

/** Optional facts about a finished batch that `commits/N` records. */
export interface CommitInfo {
  /** The watermark after the batch (the one the next batch starts with; Spark's `nextBatchWatermarkMs`). */
  readonly watermark?: number;
}

/**
 * A query's checkpoint: the metadata, the offsets write-ahead log, the commit
 * log and the state of every stateful operator. Implemented over a directory
 * (`FileCheckpointStore`) and in memory (`MemoryCheckpointStore`, for tests
 * and browsers). The query runtime drives it:
 *
 * 1. `open()` once, then `createContext()` and subscribe the pipeline inside it
 *    (stateful operators register and get their restored state);
 * 2. per batch: `writeOffsets(entry)`, durable before any of the batch's
 *    output reaches the sink (it may be written while the batch is
 *    processed, but only after the previous batch's `commit` finished); after
 *    the pipeline emitted the batch and the sink finished it,
 *    `commit(batchId)`, which first makes the operators' published state for
 *    that batch durable, then writes `commits/N`.
 */
export interface Checkpoint {
  /** A directory path, or a name for in-memory checkpoints. */
  readonly location: string;
  open(): Promise<CheckpointRecovery>;
  createContext(runId: string, scheduler: SchedulerLike, inputs?: readonly string[], clock?: SchedulerLike): QueryContext;
  writeOffsets(entry: OffsetLogEntry): Promise<void>;
  /** Resolves once `commits/N` is durable; an implementation may report what it did ({@link CheckpointCommitStats}). */
  commit(batchId: number, info?: CommitInfo): Promise<CheckpointCommitStats | void>;
  /**
   * Optional: throws `CheckpointIncompatibleError` when a stateful operator of
   * the checkpoint did not register again (it was removed from the pipeline).
   * Call it once the pipeline is subscribed; `writeOffsets` checks it too.
   */
  verifyOperators?(): void;
  /**
   * Optional: the local directory where source number `index` keeps its own
   * metadata log (`<location>/sources/<index>`), or `undefined` when the
   * checkpoint is not a local directory (in memory).
   */
  sourceMetadataDir?(index: number): string | undefined;
  /**
   * Optional: the write-ahead entry `offsets/N` of batch `batchId` (after
   * `open()`), or `undefined` when retention deleted it or it was never
   * written. Throws `CheckpointCorruptError` for a damaged one.
   */
  readOffsetEntry?(batchId: number): Promise<OffsetLogEntry | undefined>;
  close(): Promise<void>;
}

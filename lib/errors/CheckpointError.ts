import { StreamingError } from './StreamingError.js';

/** Something is wrong with a checkpoint. */
export class CheckpointError extends StreamingError {
  override name = 'CheckpointError';
  /** The checkpoint file or directory concerned. */
  readonly path: string;

  constructor(message: string, path: string, options: { readonly retriable?: boolean; readonly cause?: unknown } = {}) {
    super(message, options);
    this.path = path;
  }
}

/** A checkpoint file that is torn, truncated or fails its checksum. It is never half-read. */
export class CheckpointCorruptError extends CheckpointError {
  override name = 'CheckpointCorruptError';
  readonly expectedChecksum: string | undefined;
  readonly actualChecksum: string | undefined;

  constructor(message: string, path: string, expectedChecksum?: string, actualChecksum?: string) {
    super(message, path);
    this.expectedChecksum = expectedChecksum;
    this.actualChecksum = actualChecksum;
  }
}

/** A checkpoint written by a pipeline this one cannot continue (a stateful operator added, removed or re-keyed). */
export class CheckpointIncompatibleError extends CheckpointError {
  override name = 'CheckpointIncompatibleError';
  readonly operatorId: string;

  constructor(message: string, path: string, operatorId: string) {
    super(message, path);
    this.operatorId = operatorId;
  }
}

/**
 * A storage failure while reading or writing a checkpoint (the file system, or
 * an object store's request); the only retriable checkpoint error. Retriable
 * unless the store knows that retrying cannot help (an object store's access
 * denied or missing bucket).
 */
export class CheckpointIOError extends CheckpointError {
  override name = 'CheckpointIOError';

  constructor(message: string, path: string, cause: unknown, options: { readonly retriable?: boolean } = {}) {
    super(message, path, { retriable: options.retriable ?? true, cause });
  }
}

/** Who holds a checkpoint's lock (`<checkpoint>/lock`). */
export interface CheckpointLockHolder {
  /** The holder's process id. */
  readonly pid: number;
  /** The host name of the holder's machine. */
  readonly host: string;
  /** When the holder took the lock (ISO-8601, from the lock file's modification time). */
  readonly startedAt: string;
  /** The run id of the holder's query, when it was started by `startQuery`. */
  readonly runId?: string;
}

/**
 * Another live process (or another query of this process) holds the
 * checkpoint: one writer per checkpoint. Not retriable: stop the other query
 * first.
 */
export class CheckpointLockedError extends CheckpointError {
  override name = 'CheckpointLockedError';
  readonly holder: CheckpointLockHolder;

  constructor(message: string, path: string, holder: CheckpointLockHolder) {
    super(message, path);
    this.holder = holder;
  }
}

/**
 * The sink already holds batches of this query that the checkpoint does not
 * commit (the checkpoint was restored from an older copy, or offsets were
 * deleted), and they cannot be re-planned exactly as they ran: the sink keeps
 * no record of what each batch read (`Sink.committedOrigin`; `toFiles` keeps
 * one) and the source cannot re-plan them by itself either, so running on
 * would make the sink skip re-planned batches with other rows under the same
 * ids. Also thrown when the checkpoint's pending `offsets/N` contradicts the
 * sink's record of batch N (checkpoint and output from different runs).
 * Not retriable.
 */
export class CheckpointBehindOutputError extends CheckpointError {
  override name = 'CheckpointBehindOutputError';
  /** The last batch the checkpoint commits (or re-runs from its write-ahead log). */
  readonly checkpointBatchId: number;
  /** The last batch the sink holds. */
  readonly outputBatchId: number;

  constructor(message: string, path: string, checkpointBatchId: number, outputBatchId: number) {
    super(message, path);
    this.checkpointBatchId = checkpointBatchId;
    this.outputBatchId = outputBatchId;
  }
}

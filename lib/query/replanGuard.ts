import type { CheckpointRecovery } from '../checkpoint/Checkpoint.js';
import { CheckpointBehindOutputError } from '../errors/CheckpointError.js';
import type { Sink } from '../sinks/Sink.js';
import type { Source } from '../sources/Source.js';

/** What {@link checkReplan} compares. */
export interface ReplanCheck {
  readonly location: string;
  readonly queryId: string;
  readonly recovery: CheckpointRecovery;
  readonly source: Source<unknown, unknown>;
  readonly sink: Sink<unknown>;
}

/**
 * Before a recovered query runs: the batches the sink already holds beyond
 * what the checkpoint commits (or re-runs from its write-ahead log) will be
 * planned again, and the sink skips them by batch id. That is exactly once
 * only if the source plans each of them exactly as it ran; otherwise the rows
 * of the re-planned batches would be skipped silently. So the query refuses
 * to start unless the source can re-plan every such batch
 * (`Source.replannableBatches`). Sinks that cannot tell what they hold
 * (no `lastCommittedBatchId`) and fresh checkpoints are not checked here.
 *
 * @throws {CheckpointBehindOutputError} naming the checkpoint, the sink, the query and both batch ids.
 */
export async function checkReplan(check: ReplanCheck): Promise<void> {
  const { recovery, source, sink } = check;
  if (recovery.fresh || sink.lastCommittedBatchId === undefined) return;
  const outputBatchId = await sink.lastCommittedBatchId();
  const pending = recovery.pending;
  const checkpointBatchId = pending?.batchId ?? recovery.lastCommittedBatchId;
  if (outputBatchId <= checkpointBatchId) return;
  const resumeOffset = pending === undefined ? recovery.lastCommitted?.offsets[0] : pending.offsets[0];
  const replannable = source.replannableBatches === undefined ? 0 : await source.replannableBatches(resumeOffset);
  if (checkpointBatchId + replannable >= outputBatchId) return;
  const range = checkpointBatchId + 1 === outputBatchId ? `batch ${outputBatchId}` : `batches ${checkpointBatchId + 1}–${outputBatchId}`;
  throw new CheckpointBehindOutputError(
    `checkpoint: ${check.location} commits batches up to ${checkpointBatchId}, but the sink ${sink.description} already holds batches up to ${outputBatchId} of query ${check.queryId}; got a checkpoint older than the output (restored from an older copy, or offsets files deleted), and ${source.description} can plan ${replannable === 0 ? 'none' : `only ${replannable}`} of ${range} again as ${replannable === 1 ? 'it' : 'they'} ran, so the sink would skip other rows under those batch ids. Restore the newest copy of the checkpoint, or start the query with a new checkpoint location and a new output.`,
    check.location,
    checkpointBatchId,
    outputBatchId,
  );
}

import type { CheckpointRecovery, OffsetLogEntry } from '../checkpoint/Checkpoint.js';
import { CheckpointBehindOutputError } from '../errors/CheckpointError.js';
import type { BatchOrigin, Sink } from '../sinks/Sink.js';
import type { Source } from '../sources/Source.js';

/** What {@link checkReplan} compares. */
export interface ReplanCheck {
  readonly location: string;
  readonly queryId: string;
  readonly recovery: CheckpointRecovery;
  /** The query's sources, in the order of the offsets in `offsets/N`. */
  readonly sources: readonly Source<unknown, unknown>[];
  readonly sink: Sink<unknown>;
}

/** JSON with object keys sorted, so that two offsets written in different key orders compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/** Per source, an offset list as JSON compares it: `undefined` (a source's first batch starts nowhere) is `null`. */
function offsetsText(offsets: readonly unknown[] | undefined, count: number): string {
  const list = offsets ?? Array.from({ length: count }, () => null);
  return canonical(list.map((o) => (o === undefined ? null : o)));
}

const fromJson = (offset: unknown): unknown => (offset === null ? undefined : offset);

/** Gives each source the plan the sink recorded for it with a batch (`Source.restorePlan`). */
async function restorePlans(sources: readonly Source<unknown, unknown>[], origin: BatchOrigin): Promise<void> {
  for (const [s, source] of sources.entries()) {
    const plan = origin.plans[s];
    if (plan === null || plan === undefined || source.restorePlan === undefined) continue;
    await source.restorePlan(fromJson(origin.startOffsets[s]), origin.endOffsets[s], plan);
  }
}

type SinkReplay = { readonly ok: true; readonly entries: OffsetLogEntry[] } | { readonly ok: false; readonly reason: string };

/**
 * The batches the sink holds after `after` (the checkpoint's last batch),
 * up to `last`, from the origins the sink recorded with them: each must be
 * there and start where the one before ended. Restores the sources' plans
 * (e.g. `fromDirectory`'s file-log entries) once the whole chain is known.
 */
async function replayFromSink(check: ReplanCheck, after: number, last: number, previousEnd: readonly unknown[] | undefined): Promise<SinkReplay> {
  const { sink, sources } = check;
  if (sink.committedOrigin === undefined) return { ok: false, reason: 'the sink keeps no record of the offsets its batches read (it has no committedOrigin)' };
  const origins: BatchOrigin[] = [];
  let end = offsetsText(previousEnd, sources.length);
  for (let batchId = after + 1; batchId <= last; batchId++) {
    const origin = await sink.committedOrigin(batchId);
    if (origin === undefined) return { ok: false, reason: `the sink holds batch ${batchId} without a record of the offsets it read (written before sinks kept them, or by a sink that does not)` };
    if (origin.endOffsets.length !== sources.length || origin.startOffsets.length !== sources.length || origin.plans.length !== sources.length) {
      return { ok: false, reason: `the sink's record of batch ${batchId} names ${origin.endOffsets.length} source(s), the query has ${sources.length}` };
    }
    if (offsetsText(origin.startOffsets, sources.length) !== end) {
      return { ok: false, reason: `the sink's record of batch ${batchId} starts at ${canonical(origin.startOffsets)}, not where batch ${batchId - 1} ended (${end})` };
    }
    end = offsetsText(origin.endOffsets, sources.length);
    origins.push(origin);
  }
  for (const [i, origin] of origins.entries()) {
    const unable = sources.find((source, s) => origin.plans[s] !== null && origin.plans[s] !== undefined && source.restorePlan === undefined);
    if (unable !== undefined) return { ok: false, reason: `the sink's record of batch ${after + 1 + i} has a plan for ${unable.description}, which cannot restore one` };
  }
  for (const origin of origins) await restorePlans(sources, origin);
  return {
    ok: true,
    entries: origins.map((origin, i) => ({ batchId: after + 1 + i, offsets: origin.endOffsets, watermark: origin.watermark, timestamp: origin.timestamp })),
  };
}

/**
 * Before a recovered query runs: the batches the sink already holds beyond
 * what the checkpoint commits (or re-runs from its write-ahead log) — the
 * checkpoint was restored from an older copy, or offsets files were deleted.
 * They must be planned again exactly as they ran: the sink skips them by
 * batch id, so a batch planned with other input would lose those rows
 * silently.
 *
 * - When the sink recorded each such batch's origin
 *   ({@link Sink.committedOrigin}: `toFiles` does), the sources' plans are
 *   restored from it ({@link Source.restorePlan}) and the batches are
 *   returned, in order, as write-ahead entries to run again after the
 *   checkpoint's pending batch (if any): the runtime writes each
 *   `offsets/N`, runs the batch (rebuilding operator state; the sink skips
 *   it, it holds it) and commits it, then goes on normally.
 * - Otherwise, when the source plans them again by itself exactly as they
 *   ran (`Source.replannableBatches`: `fromDirectory`'s own log), nothing is
 *   returned and the normal loop re-plans them.
 * - Otherwise the query refuses to start.
 *
 * Sinks that cannot tell what they hold (no `lastCommittedBatchId`) and fresh
 * checkpoints are not checked here.
 *
 * @returns The batches to run again after the pending one, with the offsets the sink recorded (empty when there are none).
 * @throws {CheckpointBehindOutputError} naming the checkpoint, the sink, the query, both batch ids and why the batches cannot be re-planned.
 */
export async function checkReplan(check: ReplanCheck): Promise<readonly OffsetLogEntry[]> {
  const { recovery, sources, sink } = check;
  if (recovery.fresh || sink.lastCommittedBatchId === undefined) return [];
  const outputBatchId = await sink.lastCommittedBatchId();
  const pending = recovery.pending;
  const checkpointBatchId = pending?.batchId ?? recovery.lastCommittedBatchId;
  const range = checkpointBatchId + 1 === outputBatchId ? `batch ${outputBatchId}` : `batches ${checkpointBatchId + 1}–${outputBatchId}`;
  const behind = `checkpoint: ${check.location} commits batches up to ${checkpointBatchId}, but the sink ${sink.description} already holds batches up to ${outputBatchId} of query ${check.queryId}; got a checkpoint older than the output (restored from an older copy, or offsets files deleted)`;
  if (pending !== undefined && outputBatchId >= pending.batchId && sink.committedOrigin !== undefined) {
    const held = await sink.committedOrigin(pending.batchId);
    // Without a record the pending batch simply runs again from its own entry.
    if (held !== undefined && offsetsText(held.endOffsets, sources.length) === offsetsText(pending.offsets, sources.length)) {
      // The pending batch is in the output: it must start where it started (e.g. where 'latest' was for fromKafka's batch 0).
      if (offsetsText(held.startOffsets, sources.length) === offsetsText(recovery.lastCommitted?.offsets, sources.length)) await restorePlans(sources, held);
    } else if (held !== undefined) {
      throw new CheckpointBehindOutputError(
        `checkpoint: ${check.location} has a pending offsets/${pending.batchId} that ends at ${canonical(pending.offsets)}, but the sink ${sink.description} already holds batch ${pending.batchId} of query ${check.queryId}, which ended at ${canonical(held.endOffsets)}; got a checkpoint and an output from different runs (a checkpoint file replaced or edited by hand). Restore the newest copy of the checkpoint, or start the query with a new checkpoint location and a new output.`,
        check.location,
        checkpointBatchId,
        outputBatchId,
      );
    }
  }
  if (outputBatchId <= checkpointBatchId) return [];
  const previousEnd = pending?.offsets ?? recovery.lastCommitted?.offsets;
  const replay = await replayFromSink(check, checkpointBatchId, outputBatchId, previousEnd);
  if (replay.ok) return replay.entries;
  const source = sources[0]!;
  const resumeOffset = previousEnd?.[0];
  const replannable = sources.length !== 1 || source.replannableBatches === undefined ? 0 : await source.replannableBatches(resumeOffset);
  if (checkpointBatchId + replannable >= outputBatchId) return [];
  const who = sources.length === 1 ? source.description : `the query's ${sources.length} sources`;
  throw new CheckpointBehindOutputError(
    `${behind}; ${replay.reason}, and ${who} can plan ${replannable === 0 ? 'none' : `only ${replannable}`} of ${range} again as ${replannable === 1 ? 'it' : 'they'} ran, so the sink would skip other rows under those batch ids. Restore the newest copy of the checkpoint, or start the query with a new checkpoint location and a new output (a sink that records each batch's origin, as toFiles does, lets such a checkpoint re-plan instead).`,
    check.location,
    checkpointBatchId,
    outputBatchId,
  );
}

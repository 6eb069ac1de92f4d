import { Subject, asyncScheduler, type OperatorFunction } from 'rxjs';
import type { Batch } from '../../../lib/batch/Batch.js';
import type { CheckpointRecovery } from '../../../lib/checkpoint/Checkpoint.js';
import type { CheckpointStore } from '../../../lib/checkpoint/CheckpointStore.js';
import { openCheckpoint, type OpenCheckpointOptions } from '../../../lib/checkpoint/openCheckpoint.js';
import { crc32 } from '../../../lib/checkpoint/checksum.js';
import { checkStateFrame, readStateColumns, stateColumnKeys, stateColumnValues } from '../../../lib/checkpoint/stateColumns.js';
import { inQueryContext } from '../../../lib/internal/pipeline.js';
import { countByKey, type Row } from './fixtures.js';

/** What one simulated run did. */
export interface RunResult<R> {
  readonly recovery: CheckpointRecovery;
  /** Output batches, by batch id. */
  readonly output: Map<number, readonly R[]>;
}

/**
 * Drives a pipeline the way the query runtime does: open the checkpoint,
 * subscribe the pipeline in its context, then per batch write offsets, run it,
 * commit. `crashAfterOffsetsOf` stops (like a crash) after batch N ran but
 * before its commit; the checkpoint is not closed.
 */
export async function drive<R = { k: string; count: number }>(
  store: CheckpointStore,
  inputs: ReadonlyArray<readonly Row[]>,
  options: OpenCheckpointOptions & { readonly crashAfterOffsetsOf?: number; readonly pipeline?: OperatorFunction<Batch<Row>, Batch<R>>; readonly watermarkOf?: (batchId: number) => number } = {},
): Promise<RunResult<R>> {
  const { crashAfterOffsetsOf, pipeline = countByKey() as unknown as OperatorFunction<Batch<Row>, Batch<R>>, watermarkOf = () => 0, ...checkpointOptions } = options;
  const checkpoint = openCheckpoint(store, checkpointOptions);
  const recovery = await checkpoint.open();
  const input = new Subject<Batch<Row>>();
  const output = new Map<number, readonly R[]>();
  const failure: { failed: boolean; error?: unknown } = { failed: false };
  input.pipe(inQueryContext(checkpoint.createContext('run', asyncScheduler)), pipeline).subscribe({
      next: (b) => output.set(b.batchId, b.rows),
      error: (error: unknown) => {
        failure.failed = true;
        failure.error = error;
      },
    });
  if (failure.failed) throw failure.error;
  // Operators register when their first batch arrives: verify the pipeline against the checkpoint after it.
  let verified = false;
  for (let batchId = recovery.lastCommittedBatchId + 1; batchId < inputs.length; batchId++) {
    if (recovery.pending !== undefined && batchId === recovery.pending.batchId) expect(recovery.pending.offsets).toEqual([batchId]);
    await checkpoint.writeOffsets({ batchId, offsets: [batchId], watermark: batchId === 0 ? 0 : watermarkOf(batchId - 1), timestamp: 1000 + batchId });
    input.next({ batchId, rows: inputs[batchId]!, watermark: watermarkOf(batchId) });
    if (failure.failed) throw failure.error;
    if (!verified) {
      checkpoint.verifyOperators();
      verified = true;
    }
    if (batchId === crashAfterOffsetsOf) return { recovery, output };
    await checkpoint.commit(batchId, { watermark: watermarkOf(batchId) });
  }
  await checkpoint.flush();
  await checkpoint.close();
  return { recovery, output };
}

/** The body of a framed file in a memory store, for assertions. */
export function text(bytes: Uint8Array | undefined): string {
  return bytes === undefined ? '' : new TextDecoder().decode(bytes);
}

/** A columnar state file in a memory store, decoded for assertions: its format line, header and entries (`[key]` = removed). */
export function stateFile(bytes: Uint8Array | undefined, kind: 'delta' | 'snapshot'): { formatLine: string; header: unknown; entries: Array<[string] | [string, unknown]> } {
  if (bytes === undefined) throw new Error('no such file');
  const frame = checkStateFrame(bytes, kind, crc32);
  const view = readStateColumns(bytes, frame.bodyStart, frame.bodyEnd);
  const keys = stateColumnKeys(view);
  const values = stateColumnValues(view);
  let j = 0;
  const entries = keys.map((key, i): [string] | [string, unknown] => (view.valueLengths[i] === 0 ? [key] : [key, values[j++]]));
  return { formatLine: new TextDecoder().decode(bytes.subarray(0, frame.bodyStart - 1)), header: JSON.parse(view.headerJson) as unknown, entries };
}

/** The rows of a few batches: keys k0..k(n-1), batch i touching keys i % n and (i + 1) % n. */
export function rotatingInputs(batches: number, keys = 5): Row[][] {
  const out: Row[][] = [];
  for (let i = 0; i < batches; i++) out.push([{ k: `k${i % keys}`, ts: i * 1000 }, { k: `k${(i + 1) % keys}`, ts: i * 1000 }]);
  return out;
}

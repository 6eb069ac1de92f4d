import type { SchedulerLike } from 'rxjs';
import type { CheckpointCommitStats } from '../checkpoint/Checkpoint.js';
import type { CheckpointProgress, DurationMs } from './progress.js';

/**
 * Starts writing a batch's write-ahead entry once `previous` (the commit of
 * the batch before, if still in flight) has finished, so that `offsets/N` is
 * never durable before `commits/N-1`. Resolves to the milliseconds the write
 * itself took; rejects with the previous commit's failure or the write's.
 */
export function writeAheadAfter(previous: Promise<void> | undefined, scheduler: SchedulerLike, write: () => Promise<void>): Promise<number> {
  const run = async (): Promise<number> => {
    const w0 = scheduler.now();
    await write();
    return scheduler.now() - w0;
  };
  const wal = previous === undefined ? run() : previous.then(run);
  wal.catch(() => undefined); // awaited by the batch; this only keeps an early failure from being reported as unhandled
  return wal;
}

/** The checkpoint phases of a batch's `durationMs`. */
export function checkpointPhases(stats: CheckpointCommitStats | void, walWaitMs: number): Pick<DurationMs, 'walWait' | 'stateDelta' | 'commit' | 'snapshot'> {
  return {
    walWait: walWaitMs,
    stateDelta: stats?.stateDeltaMs ?? 0,
    commit: stats?.commitMs ?? 0,
    snapshot: stats?.snapshot.inFlightMs ?? 0,
  };
}

/** The `checkpoint` section of a progress report. */
export function checkpointProgress(stats: CheckpointCommitStats): CheckpointProgress {
  return {
    bytesWritten: stats.bytesWritten,
    snapshotInFlight: stats.snapshot.inFlight,
    lastSnapshotVersion: stats.snapshot.lastVersion,
    snapshotLag: stats.snapshot.lag,
    snapshotsCoalesced: stats.snapshot.coalesced,
  };
}

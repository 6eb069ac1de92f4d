import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';

/**
 * The scheduler a query hands its stateful operators (through the query
 * context): timers go to the query's scheduler, but `now()` reads the
 * current batch's timestamp — the one its `offsets/N` entry records — once a
 * batch is set. A batch run again after a crash therefore sees the same
 * processing time as its first run, so processing-time timeouts
 * (`GroupState.setTimeoutDuration`) fire in the same batches: Spark's batch
 * timestamp (`OffsetSeqMetadata.batchTimestampMs`).
 */
export class BatchClock implements SchedulerLike {
  private batchTimestampMs: number | undefined;

  constructor(private readonly scheduler: SchedulerLike) {}

  /** The batch about to run started (or, re-run, was logged as starting) at `timestampMs`. */
  setBatchTimestamp(timestampMs: number): void {
    this.batchTimestampMs = timestampMs;
  }

  now(): number {
    return this.batchTimestampMs ?? this.scheduler.now();
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay?: number, state?: T): Subscription {
    return this.scheduler.schedule(work, delay, state);
  }
}

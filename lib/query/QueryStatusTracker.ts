import type { StreamingQueryStatus } from './progress.js';
import type { ResolvedTrigger } from './triggers.js';

/**
 * The status messages of a query, as Spark's `StreamExecution` and
 * `MicroBatchExecution` word them.
 */
export const STATUS_MESSAGES = Object.freeze({
  initializing: 'Initializing StreamExecution',
  initializingSources: 'Initializing sources',
  gettingOffsets: (source: string): string => `Getting offsets from ${source}`,
  processing: 'Processing new data',
  waitingForData: 'Waiting for data to arrive',
  waitingForTrigger: 'Waiting for next trigger',
  stopped: 'Stopped',
  terminated: (error: Error): string => `Terminated with exception: ${error.message}`,
});

/**
 * Keeps a query's {@link StreamingQueryStatus} with Spark's meanings
 * (`StreamingQuerySuite` "query statuses and progresses"):
 *
 * - `isTriggerActive` is `true` from the start of a trigger until it
 *   finished (asked the source, and ran a batch if there was new data), and
 *   `false` while the query waits for data or for the next trigger time.
 * - `isDataAvailable` is what the last trigger found: set when the source
 *   answered, kept while the query waits, so it is `false` once a trigger
 *   found nothing new (an idle query) and `true` after a trigger that ran a
 *   batch, until the next trigger asks again.
 * - `message`: `Initializing sources`, then per trigger `Getting offsets from
 *   <source>`, then `Processing new data` or (nothing new) `Waiting for data
 *   to arrive`; after a batch, and after an idle processing-time trigger,
 *   `Waiting for next trigger`; at the end `Stopped` or `Terminated with
 *   exception: <message>`.
 * - Both flags stay `false` under a continuous trigger (Spark:
 *   "Doesn't apply to ContinuousExecution where it is always false"), and
 *   after the query stopped.
 */
export class QueryStatusTracker {
  private status: StreamingQueryStatus = { message: STATUS_MESSAGES.initializing, isDataAvailable: false, isTriggerActive: false };
  private readonly continuous: boolean;

  constructor(private readonly trigger: ResolvedTrigger) {
    this.continuous = trigger.kind === 'continuous';
  }

  /** The status now (a new object at every change, never mutated). */
  get current(): StreamingQueryStatus {
    return this.status;
  }

  private set(message: string, isDataAvailable: boolean, isTriggerActive: boolean): void {
    this.status = { message, isDataAvailable: isDataAvailable && !this.continuous, isTriggerActive: isTriggerActive && !this.continuous };
  }

  /** The checkpoint is open; the pipeline, source and sink start. */
  initializingSources(): void {
    this.set(STATUS_MESSAGES.initializingSources, false, false);
  }

  /** A trigger started and asks the source for its latest offset. */
  triggerStarted(sourceDescription: string): void {
    this.set(STATUS_MESSAGES.gettingOffsets(sourceDescription), this.status.isDataAvailable, true);
  }

  /** The source answered: new data or not. A trigger that found none finishes here. */
  offsetsFetched(hasNewData: boolean): void {
    if (hasNewData) {
      this.set(STATUS_MESSAGES.processing, true, true);
      return;
    }
    const idleMessage = this.trigger.kind === 'processingTime' ? STATUS_MESSAGES.waitingForTrigger : STATUS_MESSAGES.waitingForData;
    this.set(idleMessage, false, false);
  }

  /** A batch runs (also a batch re-run on recovery). */
  processing(): void {
    this.set(STATUS_MESSAGES.processing, true, true);
  }

  /** The batch of this trigger finished; the next trigger is due. */
  batchFinished(): void {
    this.set(this.continuous ? STATUS_MESSAGES.waitingForData : STATUS_MESSAGES.waitingForTrigger, this.status.isDataAvailable, false);
  }

  /** The query stopped, with the exception that stopped it if any. */
  stopped(failure: Error | undefined): void {
    this.set(failure === undefined ? STATUS_MESSAGES.stopped : STATUS_MESSAGES.terminated(failure), false, false);
  }
}

import type { BatchMetrics } from '../batch/Batch.js';

/** Time spent in each phase of a trigger, in milliseconds (Spark's `durationMs`). */
export interface DurationMs {
  /** Asking the source for its latest offset. */
  readonly latestOffset: number;
  /** Reading the batch's rows from the source. */
  readonly getBatch: number;
  /** Running the pipeline and the sink. */
  readonly addBatch: number;
  /** Writing `offsets/N` (the write-ahead log). */
  readonly walCommit: number;
  /** Writing `commits/N` (with the operators' state) and committing the source. */
  readonly commitOffsets: number;
  /** The whole trigger. */
  readonly triggerExecution: number;
  /**
   * With a checkpoint: how long the batch's output waited for `offsets/N` to
   * be durable before it went to the sink (the write-ahead entry is written
   * while the batch is processed; 0 when processing took longer).
   */
  readonly walWait?: number;
  /** With a checkpoint: writing the operators' state deltas `state/<op>/N.delta` (encoding and the durable write, while the sink runs). */
  readonly stateDelta?: number;
  /** With a checkpoint: writing `commits/N` (part of `commitOffsets`). */
  readonly commit?: number;
  /** With a checkpoint: how long a background snapshot was in flight since the previous batch's commit (off the main thread; 0 when none ran). */
  readonly snapshot?: number;
}

/** The checkpoint's side of a batch (in progress reports of queries with a checkpoint). */
export interface CheckpointProgress {
  /** Bytes of `offsets/N`, the state deltas and `commits/N` of this batch. */
  readonly bytesWritten: number;
  /** A snapshot was being written when the batch committed. */
  readonly snapshotInFlight: boolean;
  /** The newest durable snapshot version, over all stateful operators the oldest one (-1: none yet). */
  readonly lastSnapshotVersion: number;
  /**
   * Versions the newest durable snapshot is behind the committed state (the
   * largest over the stateful operators): what recovery would replay as
   * deltas. While snapshots keep up it stays below about twice the versions
   * between two snapshots: `snapshotInterval`, or more for a large state
   * whose deltas take longer to reach `snapshotDeltaRatio` of its size.
   */
  readonly snapshotLag: number;
  /** Due snapshots replaced by a newer due one before they started (so far in this run). */
  readonly snapshotsCoalesced: number;
}

/** Event-time statistics of a batch (Spark's progress `eventTime`), as ISO-8601 UTC strings. */
export interface EventTimeProgress {
  /** The watermark after the batch (the eviction watermark it finalised windows with). */
  readonly watermark: string;
  /** Smallest, largest and mean event time seen by `withWatermark` in the batch, when it had rows. */
  readonly min?: string;
  readonly max?: string;
  readonly avg?: string;
}

/** One stateful operator's report for a batch (Spark's `stateOperators[i]`). */
export interface StateOperatorProgress {
  readonly operatorName: string;
  readonly operatorId: string;
  readonly numRowsTotal: number;
  readonly numRowsUpdated: number;
  readonly numRowsRemoved: number;
  readonly numRowsDroppedByWatermark: number;
  readonly memoryUsedBytes: number;
  /** Aggregated values not taken (uncastable text, or wrong-typed values dropped); see `StateOperatorMetrics.numRowsInvalidValue`. */
  readonly numRowsInvalidValue: number;
  readonly customMetrics: Readonly<Record<string, number>>;
}

/** What the source did in a batch (Spark's `sources[i]`). */
export interface SourceProgress {
  readonly description: string;
  /** The offset the batch started after (`null` for the first batch). */
  readonly startOffset: unknown;
  /** The offset the batch read up to. */
  readonly endOffset: unknown;
  /** The latest offset the source reported in this trigger (may be past `endOffset` when a per-trigger limit applied). */
  readonly latestOffset: unknown;
  readonly numInputRows: number;
  readonly inputRowsPerSecond: number;
  readonly processedRowsPerSecond: number;
  /** Source-specific counters, e.g. `numDeadLetterRecords`. */
  readonly metrics: Readonly<Record<string, number>>;
}

/** What the sink did in a batch (Spark's `sink`). */
export interface SinkProgress {
  readonly description: string;
  readonly numOutputRows: number;
}

/**
 * A progress report, one per batch: Spark's `StreamingQueryProgress`, with
 * every duration measured on the query's scheduler clock.
 */
export interface StreamingQueryProgress {
  /** The query id, kept across restarts from a checkpoint. */
  readonly id: string;
  /** This run's id, new at every start. */
  readonly runId: string;
  readonly name: string | null;
  /** When the trigger started, ISO-8601 UTC. */
  readonly timestamp: string;
  readonly batchId: number;
  /** Wall time of the whole batch in milliseconds (equals `durationMs.triggerExecution`). */
  readonly batchDuration: number;
  readonly numInputRows: number;
  /** Input rows divided by the time since the previous trigger started (0 for the first). */
  readonly inputRowsPerSecond: number;
  /** Input rows divided by the time this trigger took. */
  readonly processedRowsPerSecond: number;
  readonly durationMs: DurationMs;
  /** Present when a `withWatermark` is in the pipeline. */
  readonly eventTime: EventTimeProgress | Record<string, never>;
  readonly stateOperators: readonly StateOperatorProgress[];
  readonly sources: readonly SourceProgress[];
  readonly sink: SinkProgress;
  /** Rows dropped because their event time was missing or invalid (`onInvalidEventTime: 'drop'`). */
  readonly numRowsDroppedInvalidEventTime: number;
  /** With a checkpoint: what the checkpoint wrote for the batch and how far behind its snapshots are. */
  readonly checkpoint?: CheckpointProgress;
}

/**
 * The status of a query right now (Spark's `StreamingQueryStatus`, with
 * Spark's meanings: see `QueryStatusTracker` and docs/guides/monitoring.md).
 */
export interface StreamingQueryStatus {
  /** What the query is doing: `Getting offsets from <source>`, `Processing new data`, `Waiting for data to arrive`, `Waiting for next trigger`, `Stopped`, `Terminated with exception: <message>`. */
  readonly message: string;
  /** The last trigger found new data (kept while the query waits; `false` once a trigger found nothing; always `false` under a continuous trigger). */
  readonly isDataAvailable: boolean;
  /** A trigger is running (asking the source or running its batch); `false` while waiting, and always under a continuous trigger. */
  readonly isTriggerActive: boolean;
}

/** What the runtime measured for one batch, turned into a report by {@link buildProgress}. */
export interface BatchMeasurements {
  readonly id: string;
  readonly runId: string;
  readonly name: string | undefined;
  readonly batchId: number;
  readonly triggerStartMs: number;
  /** Start of the previous trigger that ran a batch, if any. */
  readonly previousTriggerStartMs: number | undefined;
  readonly durationMs: DurationMs;
  readonly numInputRows: number;
  readonly numOutputRows: number;
  readonly watermark: number;
  /** The output batch carried an event-time marker (a `withWatermark` is upstream). */
  readonly watermarked: boolean;
  readonly metrics: BatchMetrics | undefined;
  readonly source: { readonly description: string; readonly startOffset: unknown; readonly endOffset: unknown; readonly latestOffset: unknown; readonly metrics: Readonly<Record<string, number>> };
  /** A multi-source query's inputs, each reported as a source of its own. */
  readonly inputs?: readonly { readonly description: string; readonly startOffset: unknown; readonly endOffset: unknown; readonly latestOffset: unknown; readonly numInputRows: number; readonly metrics: Readonly<Record<string, number>> }[];
  readonly sinkDescription: string;
  readonly checkpoint?: CheckpointProgress;
}

/** ISO-8601 text of a time; a number that is not a time (event times are checked where they enter, so only a damaged value can be one) is written as the number instead of throwing a RangeError. */
function iso(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}

/** Rows per second over `ms` (at least 1 ms, as Spark); 0 when there is no interval (the first trigger). */
function rate(rows: number, ms: number | undefined): number {
  if (ms === undefined) return 0;
  return (rows * 1000) / Math.max(1, ms);
}

/** Builds a {@link StreamingQueryProgress} from one batch's measurements. */
export function buildProgress(m: BatchMeasurements): StreamingQueryProgress {
  const sinceLast = m.previousTriggerStartMs === undefined ? undefined : m.triggerStartMs - m.previousTriggerStartMs;
  const inputRowsPerSecond = rate(m.numInputRows, sinceLast);
  const processedRowsPerSecond = rate(m.numInputRows, m.durationMs.triggerExecution);
  const stats = m.metrics?.eventTime;
  const eventTime: EventTimeProgress | Record<string, never> = m.watermarked || stats !== undefined
    ? {
        watermark: iso(m.watermark),
        ...(stats !== undefined && stats.count > 0 ? { min: iso(stats.min), max: iso(stats.max), avg: iso(Math.round(stats.avg)) } : {}),
      }
    : {};
  return {
    id: m.id,
    runId: m.runId,
    name: m.name ?? null,
    timestamp: iso(m.triggerStartMs),
    batchId: m.batchId,
    batchDuration: m.durationMs.triggerExecution,
    numInputRows: m.numInputRows,
    inputRowsPerSecond,
    processedRowsPerSecond,
    durationMs: m.durationMs,
    eventTime,
    stateOperators: (m.metrics?.stateOperators ?? []).map((s) => ({
      operatorName: s.operatorName,
      operatorId: s.operatorId,
      numRowsTotal: s.numRowsTotal,
      numRowsUpdated: s.numRowsUpdated,
      numRowsRemoved: s.numRowsRemoved,
      numRowsDroppedByWatermark: s.numRowsDroppedByWatermark,
      memoryUsedBytes: s.memoryUsedBytes,
      numRowsInvalidValue: s.numRowsInvalidValue ?? 0,
      customMetrics: s.customMetrics ?? {},
    })),
    sources:
      m.inputs === undefined
        ? [
            {
              description: m.source.description,
              startOffset: m.source.startOffset ?? null,
              endOffset: m.source.endOffset ?? null,
              latestOffset: m.source.latestOffset ?? null,
              numInputRows: m.numInputRows,
              inputRowsPerSecond,
              processedRowsPerSecond,
              metrics: m.source.metrics,
            },
          ]
        : m.inputs.map((input) => ({
            description: input.description,
            startOffset: input.startOffset ?? null,
            endOffset: input.endOffset ?? null,
            latestOffset: input.latestOffset ?? null,
            numInputRows: input.numInputRows,
            inputRowsPerSecond: rate(input.numInputRows, sinceLast),
            processedRowsPerSecond: rate(input.numInputRows, m.durationMs.triggerExecution),
            metrics: input.metrics,
          })),
    sink: { description: m.sinkDescription, numOutputRows: m.numOutputRows },
    numRowsDroppedInvalidEventTime: m.metrics?.numRowsDroppedInvalidEventTime ?? 0,
    ...(m.checkpoint === undefined ? {} : { checkpoint: m.checkpoint }),
  };
}

/**
 * A one-line summary of a progress report, for logs:
 * `batch 3: 4 rows in 12 ms (333.3 rows/s), watermark 2018-03-02T10:00:00.000Z, state rows 6`.
 */
export function formatProgressLine(p: StreamingQueryProgress): string {
  const parts = [`batch ${p.batchId}: ${p.numInputRows} input rows, ${p.sink.numOutputRows} output rows in ${p.durationMs.triggerExecution} ms (${p.processedRowsPerSecond.toFixed(1)} rows/s)`];
  if ('watermark' in p.eventTime) parts.push(`watermark ${p.eventTime.watermark}`);
  if (p.stateOperators.length > 0) {
    parts.push(`state rows ${p.stateOperators.reduce((n, s) => n + s.numRowsTotal, 0)}`);
    const dropped = p.stateOperators.reduce((n, s) => n + s.numRowsDroppedByWatermark, 0);
    if (dropped > 0) parts.push(`late rows dropped ${dropped}`);
    const invalid = p.stateOperators.reduce((n, s) => n + s.numRowsInvalidValue, 0);
    if (invalid > 0) parts.push(`invalid values ${invalid}`);
  }
  const deadLetters = p.sources.reduce((n, s) => n + (s.metrics['numDeadLetterRecords'] ?? 0), 0);
  if (deadLetters > 0) parts.push(`dead letters ${deadLetters}`);
  return parts.join(', ');
}

import { Subject, type SchedulerLike, type Subscription } from 'rxjs';
import { InvalidOptionError, describeValue } from '../errors/index.js';
import { parseDuration } from '../time/parseDuration.js';
import type { Duration } from '../types.js';
import type { Source } from './Source.js';

/** Options for {@link rateSource}. */
export interface RateSourceOptions {
  /** Rows generated per second once ramped up. @defaultValue `1` */
  readonly rowsPerSecond?: number;
  /** Time to ramp up from 0 to `rowsPerSecond` (whole seconds). @defaultValue `0` */
  readonly rampUpTime?: Duration;
  /** Rows are spread over this many partitions (batch rows are ordered partition by partition, as Spark collects them). @defaultValue `1` */
  readonly numPartitions?: number;
  /** The clock; by default the query's scheduler. */
  readonly scheduler?: SchedulerLike;
}

/** A row of {@link rateSource}. */
export interface RateRow {
  readonly timestamp: Date;
  readonly value: number;
}

/** The offset of a {@link rateSource}: whole seconds since its start time (kept in the offset so that replays and restarts use the same clock origin). */
export interface RateOffset {
  readonly seconds: number;
  readonly startTimeMs: number;
}

/**
 * The number of rows a rate source has generated after `seconds` seconds
 * (Spark's `valueAtSecond`): the rate grows linearly to `rowsPerSecond`
 * during the ramp-up, then stays there.
 */
export function rateValueAtSecond(seconds: number, rowsPerSecond: number, rampUpTimeSeconds: number): number {
  const speedDeltaPerSecond = Math.floor(rowsPerSecond / (rampUpTimeSeconds + 1));
  if (seconds <= rampUpTimeSeconds) return (speedDeltaPerSecond * seconds * (seconds + 1)) / 2;
  const rampUpPart = rateValueAtSecond(rampUpTimeSeconds, rowsPerSecond, rampUpTimeSeconds);
  return rampUpPart + (seconds - rampUpTimeSeconds) * rowsPerSecond;
}

/**
 * Generates rows `{ timestamp, value }` at a fixed rate, for load tests and
 * demos: `value` counts from 0, `timestamp` spreads the rows of each second
 * evenly over it. Everything is computed from the scheduler's clock, so in
 * virtual time the rows are exactly determined.
 *
 * Spark: `spark.readStream.format("rate").option("rowsPerSecond", …).option("rampUpTime", …).option("numPartitions", …)`.
 *
 * ```text
 * clock    0s------1s------2s------     rowsPerSecond 2
 * batches  --------0(0,1)--1(2,3)--     timestamps 0s, 0.5s | 1s, 1.5s
 * ```
 *
 * **Offsets**: `{ seconds, startTimeMs }`; a batch covers whole seconds, and
 * the same offsets always give the same rows. Works with every trigger,
 * continuous included.
 *
 * @example
 * ```ts
 * const query = startQuery({ source: rateSource({ rowsPerSecond: 2 }), sink: toConsole(), trigger: { processingTime: '1 second' } });
 * // => Batch: 0 with values 0 and 1, Batch: 1 with 2 and 3, …
 * ```
 *
 * @throws {InvalidOptionError} `rateSource: rowsPerSecond must be a positive integer; got …`, the same for `numPartitions`; `rampUpTime must be whole seconds …`.
 */
export function rateSource(options: RateSourceOptions = {}): Source<RateRow, RateOffset> {
  const op = 'rateSource';
  const { rowsPerSecond = 1, numPartitions = 1 } = options;
  if (!Number.isSafeInteger(rowsPerSecond) || rowsPerSecond < 1) {
    throw new InvalidOptionError(`${op}: rowsPerSecond must be a positive integer; got ${describeValue(rowsPerSecond)}.`, 'rowsPerSecond', rowsPerSecond, 'a positive integer');
  }
  if (!Number.isSafeInteger(numPartitions) || numPartitions < 1) {
    throw new InvalidOptionError(`${op}: numPartitions must be a positive integer; got ${describeValue(numPartitions)}.`, 'numPartitions', numPartitions, 'a positive integer');
  }
  const rampUpMs = parseDuration(options.rampUpTime ?? 0, { option: `${op}: rampUpTime` });
  if (rampUpMs < 0 || rampUpMs % 1000 !== 0) {
    throw new InvalidOptionError(`${op}: rampUpTime must be whole seconds, not negative; got ${describeValue(options.rampUpTime)}. Use e.g. '5 seconds'.`, 'rampUpTime', options.rampUpTime, 'whole seconds');
  }
  const rampUpSeconds = rampUpMs / 1000;
  const description = `RateStreamV2[rowsPerSecond=${rowsPerSecond}, rampUpTimeSeconds=${rampUpSeconds}, numPartitions=${numPartitions}]`;
  const available = new Subject<void>();
  let scheduler: SchedulerLike | undefined = options.scheduler;
  let startTimeMs = 0;
  let cap: number | undefined;
  let ticks: Subscription | undefined;

  const secondsNow = (origin: number): number => Math.max(0, Math.floor((scheduler!.now() - origin) / 1000));

  return {
    description,
    columns: ['timestamp', 'value'],
    dataAvailable$: available.asObservable(),
    async start(context) {
      scheduler ??= context.scheduler;
      startTimeMs = scheduler.now();
      const s = scheduler;
      ticks = s.schedule(function tick() {
        available.next();
        const next = startTimeMs + (Math.floor((s.now() - startTimeMs) / 1000) + 1) * 1000;
        this.schedule(undefined, Math.max(1, next - s.now()));
      }, 1000);
    },
    async prepareForAvailableNow() {
      cap = secondsNow(startTimeMs);
    },
    async latestOffset(start) {
      const origin = start?.startTimeMs ?? startTimeMs;
      let seconds = secondsNow(origin);
      if (cap !== undefined) seconds = Math.min(seconds, cap);
      const from = start?.seconds ?? 0;
      if (seconds <= from) return start;
      return { seconds, startTimeMs: origin };
    },
    async getBatch(start, end) {
      const startSeconds = start?.seconds ?? 0;
      const rangeStart = rateValueAtSecond(startSeconds, rowsPerSecond, rampUpSeconds);
      const rangeEnd = rateValueAtSecond(end.seconds, rowsPerSecond, rampUpSeconds);
      const localStartMs = end.startTimeMs + startSeconds * 1000;
      const msPerValue = rangeEnd > rangeStart ? ((end.seconds - startSeconds) * 1000) / (rangeEnd - rangeStart) : 0;
      const rows: RateRow[] = [];
      for (let p = 0; p < numPartitions; p++) {
        for (let value = rangeStart + p; value < rangeEnd; value += numPartitions) {
          rows.push({ timestamp: new Date(localStartMs + Math.round((value - rangeStart) * msPerValue)), value });
        }
      }
      return rows;
    },
    async commit() {
      // Rows are computed from offsets; nothing is kept.
    },
    async stop() {
      ticks?.unsubscribe();
      ticks = undefined;
    },
  };
}

import type { MonoTypeOperatorFunction } from 'rxjs';
import type { Batch, EventTimeMarker } from '../lib/batch/Batch.js';
import { InvalidDurationError, UnsupportedOperationError } from '../lib/errors/index.js';
import { resolveColumns } from '../lib/internal/knownColumns.js';
import { freezeInfo, infoOfBatch, markerOf, type PipelineInfo, type WatermarkColumn } from '../lib/internal/pipeline.js';
import { statefulOperator, type Step } from '../lib/internal/statefulOperator.js';
import { UNSUPPORTED } from '../lib/query/unsupportedOperations.js';
import { checkOperatorName, type StateCodec } from '../lib/state/StateStore.js';
import { eventTimeReader, invalidEventTime, invalidEventTimePolicy } from '../lib/time/eventTime.js';
import { parseDuration } from '../lib/time/parseDuration.js';
import type { Duration, EventTimeSpec, InvalidEventTimePolicy } from '../lib/types.js';

/** Options for {@link withWatermark}. */
export interface WithWatermarkOptions {
  /** What to do with a row whose event time is missing or unparsable. @defaultValue `'error'` */
  readonly onInvalidEventTime?: InvalidEventTimePolicy;
  /** Stable operator id for checkpoints. @defaultValue `watermark#<n>` */
  readonly name?: string;
}

const codec: StateCodec<number> = {
  // The watermark is -Infinity until the first row; JSON has no -Infinity, so it is written as null.
  entries: (watermarkMs) => [['watermark', Number.isFinite(watermarkMs) ? watermarkMs : null]],
  get: (watermarkMs, key) => (key === 'watermark' ? (Number.isFinite(watermarkMs) ? watermarkMs : null) : undefined),
  fromEntries: (entries) => {
    for (const [key, value] of entries) if (key === 'watermark' && typeof value === 'number') return value;
    return Number.NEGATIVE_INFINITY;
  },
};

/**
 * Marks `eventTime` as the event-time column and sets each batch's
 * `watermark` to the maximum event time seen so far minus `delay`.
 *
 * Spark: `Dataset.withWatermark(eventTime, delayThreshold)`.
 *
 * ```text
 * input    a---b---c---|     a = #0 [ts 10s]   b = #1 [ts 25s]   c = #2 [ts 9s]
 *          withWatermark('ts', '10 seconds')
 * output   a---b---c---|     watermark after: a 0, b 15s, c 15s (never moves back)
 * ```
 *
 * The watermark starts at 0, never moves back, and advances at the end of a
 * batch: `Batch.watermark` is the value after the batch, and the stateful
 * operators downstream drop as late only what is at or below the previous
 * batch's value. Every row that reaches this operator counts, late or not (the
 * stateful operator downstream drops the late ones). Rows are passed through
 * unchanged; a batch also carries the event-time statistics of its rows.
 *
 * **State**: one number (the watermark), restored on recovery.
 *
 * **Types**: over a typed source (`source$.pipe(withWatermark('ts', …))`)
 * `eventTime` is checked against the rows. As the first operator of a
 * fragment, `withWatermark<Row>(…)` gives the fragment its row type; without
 * it the rows are `unknown` (a field name never gives the row type), every
 * field name downstream is accepted and what it reads is typed `unknown`
 * (see docs/guides/types-and-schemas.md).
 *
 * @example
 * ```ts
 * fromBatches([[{ ts: 10_000 }], [{ ts: 25_000 }], [{ ts: 9_000 }]])
 *   .pipe(withWatermark('ts', '10 seconds'))
 *   .subscribe((b) => console.log(b.batchId, b.watermark));
 * // => 0 0
 * // => 1 15000
 * // => 2 15000
 * ```
 *
 * @param eventTime The event-time column (epoch ms, `Date` or ISO-8601 string), or a function of the row.
 * @param delay How late data may be: a {@link Duration}; months count as 31 days, as in Spark.
 * @throws {InvalidDurationError} `withWatermark: delay threshold (<delay>) should not be negative.` for a negative delay.
 * @throws {InvalidOptionError} `eventTime` is neither a field name nor a function of the row.
 * @throws {UnsupportedOperationError} (as an error notification on subscribe) `Redefining watermark is disallowed. …` when a watermark is already defined upstream.
 * @throws {EventTimeError} (as an error notification) when a row's event time is missing or unparsable, unless `onInvalidEventTime: 'drop'`.
 * @see union
 */
export function withWatermark<T>(eventTime: EventTimeSpec<T>, delay: Duration, options: WithWatermarkOptions = {}): MonoTypeOperatorFunction<Batch<T>> {
  const op = 'withWatermark';
  const reader = eventTimeReader(op, eventTime);
  const delayMs = parseDuration(delay, { option: `${op}: delay`, allowMonths: true });
  if (delayMs < 0) throw new InvalidDurationError(`${op}: ${UNSUPPORTED.negativeDelay(String(typeof delay === 'object' ? JSON.stringify(delay) : delay))}`, 'delay', delay);
  const policy = invalidEventTimePolicy(op, options.onInvalidEventTime);
  const read = reader.markerRead;
  checkOperatorName(op, options.name);

  const derive = (input: PipelineInfo): PipelineInfo => {
    if (input.watermarked) throw new UnsupportedOperationError(op, UNSUPPORTED.redefiningWatermark);
    resolveColumns(op, reader.isField ? [{ option: 'eventTime', column: reader.field }] : [], input.columns);
    return { ...input, watermarked: true, watermarks: [{ column: reader.field, isWindow: false, delayMs, ...(read === undefined ? {} : { read: read as (row: never) => unknown }) }] };
  };
  return (source) =>
    statefulOperator<Step, Batch<T>, number>({
      op,
      inputs: [source],
      stateful: { kind: 'watermark', name: options.name, codec },
      derive: ([input]) => derive(input!),
      state: () => ({ kind: 'watermark', name: options.name, descriptor: { field: reader.field, delayMs }, codec }),
      open: ({ restored }) => {
        let operatorWatermarkMs = restored ?? Number.NEGATIVE_INFINITY;
        // Whether the column holds windows is known from its first value; the output info and marker follow it.
        let isWindow: boolean | undefined;
        let lastInput: PipelineInfo | undefined;
        let outInfo: PipelineInfo | undefined;
        let marker: EventTimeMarker | undefined;
        // What the last pass found (see `scan`).
        let kept: T[] | undefined;
        let max = Number.NEGATIVE_INFINITY;
        let min = Number.POSITIVE_INFINITY;
        let sum = 0;
        let count = 0;
        /**
         * The pass over a batch's rows: their event times' statistics, the rows
         * kept (when some have an invalid time) and whether the column holds
         * windows, left in the variables above. A function of its own whose
         * code after the row loop only writes those variables (no property
         * access, call or allocation that needs type feedback), so that the
         * loop's optimised code, entered mid-loop on the first batches, does
         * not deoptimise at the loop's exit on every batch.
         */
        const scan = (rows: readonly T[], batchId: number): void => {
          let k: T[] | undefined;
          let hi = Number.NEGATIVE_INFINITY;
          let lo = Number.POSITIVE_INFINITY;
          let total = 0;
          let n = 0;
          for (let i = 0; i < rows.length; i++) {
            const row = rows[i]!;
            const t = reader.ms(row);
            if (t !== t) {
              invalidEventTime(op, reader, row, batchId, i, policy);
              if (k === undefined) k = rows.slice(0, i) as T[];
              continue;
            }
            if (isWindow === undefined) {
              const raw = reader.raw(row);
              isWindow = typeof raw === 'object' && raw !== null && !(raw instanceof Date);
            }
            if (t > hi) hi = t;
            if (t < lo) lo = t;
            total += t;
            n++;
            if (k !== undefined) k.push(row);
          }
          kept = k;
          max = hi;
          min = lo;
          sum = total;
          count = n;
        };
        return {
          step: ({ batches: [input] }) => {
            const batch = input as Batch<T>;
            const rows = batch.rows;
            scan(rows, batch.batchId);
            const kept_ = kept;
            const min_ = min;
            const max_ = max;
            const sum_ = sum;
            const count_ = count;
            if (count_ > 0 && max_ - delayMs > operatorWatermarkMs) operatorWatermarkMs = max_ - delayMs;
            const watermark = Math.max(batch.watermark, operatorWatermarkMs, 0);
            const info = infoOfBatch(batch);
            if (outInfo === undefined || info !== lastInput || marker!.isWindow !== (isWindow ?? false)) {
              const derived = derive(info);
              const column: WatermarkColumn = { ...derived.watermarks[0]!, isWindow: isWindow ?? false };
              outInfo = freezeInfo({ ...derived, watermarks: [column] });
              marker = markerOf(outInfo)!;
              lastInput = info;
            }
            const dropped = kept_ === undefined ? 0 : rows.length - kept_.length;
            return {
              publish: { state: operatorWatermarkMs, changedKeys: ['watermark'] },
              info: outInfo,
              numRowsDroppedInvalidEventTime: dropped,
              output: (metrics) => ({ ...batch, rows: kept_ ?? rows, watermark, eventTime: marker!, metrics: { ...metrics, ...(count_ > 0 ? { eventTime: { min: min_, max: max_, avg: sum_ / count_, count: count_ } } : {}) } }),
            };
          },
        };
      },
    });
}

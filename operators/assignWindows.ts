import { Observable, type OperatorFunction } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import { InvalidOptionError, describeValue } from '../lib/errors/index.js';
import { batchSubscriber } from '../lib/internal/batchSubscriber.js';
import { Stage, infoOfBatch, markerOf, stamp } from '../lib/internal/pipeline.js';
import { eventTimeReader, invalidEventTime, invalidEventTimePolicy } from '../lib/time/eventTime.js';
import type { Duration, EventTimeSpec, InvalidEventTimePolicy } from '../lib/types.js';
import { namedWatermark } from '../lib/aggregate/windowAggregation.js';
import { windowSpec, type WindowBounds } from '../lib/window/WindowBounds.js';
import type { RowTypeArgumentOnly } from '../lib/aggregate/rowTypes.js';

/** Options for {@link assignWindows}. */
export interface AssignWindowsOptions<T, A extends string = 'window'> {
  /** The event-time column (epoch ms, `Date`, ISO-8601 string or a window struct), or a function of the row. */
  readonly eventTime: EventTimeSpec<T>;
  /** Window length; no months or years. */
  readonly size: Duration;
  /** Distance between window starts, `0 < slide <= size`. @defaultValue `size` (tumbling) */
  readonly slide?: Duration;
  /** Offset of the window grid (Spark's `startTime`), `|startTime| < slide`. @defaultValue `0` */
  readonly startTime?: Duration;
  /** Name of the window column. @defaultValue `'window'` */
  readonly as?: A;
  /** What to do with a row whose event time is missing or unparsable. @defaultValue `'error'` */
  readonly onInvalidEventTime?: InvalidEventTimePolicy;
}

/** {@link assignWindows} for rows `T`, as `assignWindows<Row>()` returns it: still generic in the column name `as`. */
export type AssignWindowsFor<T> = <const A extends string = 'window'>(options: AssignWindowsOptions<T, A>) => OperatorFunction<Batch<T>, Batch<WithWindow<T, A>>>;

/** A row with its window column added. */
export type WithWindow<T, A extends string> = T & { readonly [P in A]: WindowBounds };

/**
 * Emits one row per window each row falls in, with the window added as a
 * `{ start, end }` column: Spark's `window()` in a `select`. Stateless.
 *
 * Spark: `df.select(window(col("ts"), size, slide, startTime), ...)`.
 *
 * ```text
 * input    a---b---|     a = #0 [ts 12s]   b = #1 []
 *          assignWindows({ eventTime: 'ts', size: '10 seconds', slide: '5 seconds' })
 * output   a---b---|     a = #0 [ts 12s window [5s,15s), ts 12s window [10s,20s)]   b = #1 []
 * ```
 *
 * When `eventTime` is the watermarked column, the window column takes over
 * the watermark: downstream stateful operators compare the window's `end`
 * with the watermark, as Spark does, so grouping by it (with
 * `groupAggregate({ keyBy: ['window', …] })`) allows append mode.
 *
 * @example
 * ```ts
 * fromBatches([[{ ts: 12_000 }]])
 *   .pipe(assignWindows({ eventTime: 'ts', size: '10 seconds' }))
 *   .subscribe((b) => console.log(b.rows));
 * // => [{ ts: 12000, window: { start: 10000, end: 20000 } }]
 * ```
 *
 * @param options The event time, window size, slide, offset and column name.
 * @returns An operator adding the window column (one output row per window).
 * @throws {InvalidOptionError} `assignWindows: slide must not exceed size; got …` and the other window rules of {@link windowSliding}.
 * @throws {InvalidOptionError} `assignWindows: as must be a non-empty string; got …`
 * @throws {InvalidDurationError} `size`, `slide` or `startTime` is not a duration, or uses months or years.
 * @throws {EventTimeError} (as an error notification) a row's event time is missing or invalid, unless `onInvalidEventTime: 'drop'`.
 * @see windowSliding
 * @see groupAggregate
 */
export function assignWindows<T, const A extends string = 'window'>(options: AssignWindowsOptions<T, A>): OperatorFunction<Batch<T>, Batch<WithWindow<T, A>>>;
/**
 * `assignWindows<Row>()` fixes the row type and returns `assignWindows` for
 * rows `Row`, still generic in the column name: use it to start a fragment
 * with a column named by `as`, `pipe(assignWindows<Row>()({ …, as: 'bucket' }), …)`.
 */
export function assignWindows<T>(): AssignWindowsFor<T>;
/** Refused: `assignWindows<Row>({ as })` with a column other than `'window'` would not type the column; write `assignWindows<Row>()(options)`. */
export function assignWindows<T>(options: AssignWindowsOptions<T, string> & RowTypeArgumentOnly<'assignWindows', 'options', 'the window column name in as'>): never;
export function assignWindows<T, const A extends string = 'window'>(
  // Optional only for `assignWindows<Row>()`; a call with options (or with `undefined`) goes on to validate them.
  options: AssignWindowsOptions<T, A> = undefined as never,
): OperatorFunction<Batch<T>, Batch<WithWindow<T, A>>> | AssignWindowsFor<T> {
  if (arguments.length === 0) return assignWindows as AssignWindowsFor<T>;
  const op = 'assignWindows';
  const spec = windowSpec(op, {
    size: options?.size,
    ...(options?.slide === undefined ? {} : { slide: options.slide }),
    ...(options?.startTime === undefined ? {} : { startTime: options.startTime }),
  });
  const as = (options.as ?? 'window') as A;
  if (typeof as !== 'string' || as.length === 0) {
    throw new InvalidOptionError(`${op}: as must be a non-empty string; got ${describeValue(as)}. Use a column name such as 'window'.`, 'as', as, 'a column name');
  }
  const reader = eventTimeReader(op, options.eventTime);
  const policy = invalidEventTimePolicy(op, options.onInvalidEventTime);
  const { sizeMs, slideMs, startMs } = spec;
  const candidates = Math.ceil(sizeMs / slideMs);
  return (source: Observable<Batch<T>>): Observable<Batch<WithWindow<T, A>>> => {
    // The window column of a watermarked event time is watermarked (Spark: window() keeps the column's watermark metadata).
    const stage = new Stage(op, [source], ([input]) => {
      const grouping = namedWatermark(input!, reader);
      if (grouping === undefined) return input!;
      const { columns: _columns, ...rest } = input!;
      return { ...rest, watermarks: [{ column: as, isWindow: true, delayMs: grouping.column.delayMs }, ...input!.watermarks.filter((w) => w !== grouping.column)] };
    });
    const output = new Observable<Batch<WithWindow<T, A>>>((subscriber) =>
      source.subscribe(
        batchSubscriber<T>(subscriber, op, (batch) => {
          const info = stage.derive([infoOfBatch(batch)]);
          const rows = batch.rows;
          const out: WithWindow<T, A>[] = [];
          let invalid = 0;
          for (let i = 0; i < rows.length; i++) {
            const row = rows[i]!;
            const t = reader.ms(row);
            if (t !== t) {
              invalidEventTime(op, reader, row, batch.batchId, i, policy);
              invalid++;
              continue;
            }
            const r = (t - startMs) % slideMs;
            const lastStart = r < 0 ? t - r - slideMs : t - r;
            // Earliest window first, as Spark lists them.
            for (let c = candidates - 1; c >= 0; c--) {
              const start = lastStart - c * slideMs;
              if (start + sizeMs <= t) continue;
              out.push({ ...row, [as]: { start, end: start + sizeMs } } as WithWindow<T, A>);
            }
          }
          const marker = markerOf(info);
          const metrics = invalid === 0 ? batch.metrics : { ...batch.metrics, numRowsDroppedInvalidEventTime: (batch.metrics?.numRowsDroppedInvalidEventTime ?? 0) + invalid };
          subscriber.next(
            stamp(
              {
                batchId: batch.batchId,
                rows: out,
                watermark: batch.watermark,
                ...(marker === undefined ? {} : { eventTime: marker }),
                ...(metrics === undefined ? {} : { metrics }),
              },
              info,
            ),
          );
        }),
      ),
    );
    return stage.attach(output);
  };
}

import { Observable, type OperatorFunction } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import { InvalidOptionError, describeValue } from '../lib/errors/index.js';
import { batchSubscriber } from '../lib/internal/batchSubscriber.js';
import { Stage, freezeInfo, infoOfBatch, markerOf, stamp, type PipelineInfo } from '../lib/internal/pipeline.js';

/**
 * Transforms every row of each batch with `fn`, keeping the batch's id,
 * watermark, metrics and pipeline information (watermarked columns, query,
 * stateful operators upstream), so that a projection between two stateful
 * operators never loses the watermark.
 *
 * Spark: `Dataset.select(…)` / `Dataset.map(…)` on a streaming Dataset.
 *
 * ```text
 * input    a-------b-------|     a = #0 [{ left: { ts: 1s }, right: … }]   (join output, watermark 0)
 *          mapRows((r) => ({ ts: r.left.ts, k: r.left.k }))
 * output   a'------b'------|     a' = #0 [{ ts: 1s, k }]   same id and watermark; 'ts' stays watermarked
 * ```
 *
 * As in Spark, a watermarked column stays watermarked while the output rows
 * keep it under its name (or `left.<c>` / `right.<c>` after a join flattened
 * to `<c>`); a column that the function drops or renames is no longer
 * watermarked, and one that it recomputes under the same name is detected in
 * the batch (its values differ from the input's) and stops being watermarked
 * from that batch on.
 *
 * @example
 * ```ts
 * fromBatches([[{ ts: 1_000, n: 2 }]])
 *   .pipe(withWatermark('ts', '1 second'), mapRows((r) => ({ ts: r.ts, doubled: r.n * 2 })))
 *   .subscribe((b) => console.log(b.rows));
 * // => [{ ts: 1000, doubled: 4 }]
 * ```
 *
 * @param fn The row transformation; it must not throw for valid rows (a throw fails the stream with a `UserFunctionError` naming the batch).
 * @throws {InvalidOptionError} `mapRows: fn must be a function of the row; got <value>.`
 * @see filterRows
 */
export function mapRows<T, R>(fn: (row: T, index: number) => R): OperatorFunction<Batch<T>, Batch<R>> {
  const op = 'mapRows';
  if (typeof fn !== 'function') throw new InvalidOptionError(`${op}: fn must be a function of the row; got ${describeValue(fn)}.`, 'fn', fn, 'a function');
  return (source) => {
    // Known columns are not known after an arbitrary function; the watermarked columns are checked on the rows.
    const stage = new Stage(op, [source], ([input]) => {
      const { columns: _columns, ...rest } = input!;
      return rest;
    });
    const output = new Observable<Batch<R>>((subscriber) => {
      let lastInput: PipelineInfo | undefined;
      let info: PipelineInfo | undefined;
      return source.subscribe(
        batchSubscriber<T>(subscriber, op, (batch) => {
          const input = infoOfBatch(batch);
          if (input !== lastInput) {
            info = stage.derive([input]);
            lastInput = input;
          }
          const rows = batch.rows;
          const out = new Array<R>(rows.length);
          for (let i = 0; i < rows.length; i++) out[i] = fn(rows[i]!, i);
          // A watermarked column the function dropped, renamed or recomputed is no longer watermarked.
          if (info!.watermarks.length > 0 && out.length > 0) {
            const kept = info!.watermarks.filter((w) => w.read !== undefined || keepsColumn(rows, out, w.column, w.side));
            if (kept.length !== info!.watermarks.length) info = freezeInfo({ ...info!, watermarks: kept });
          }
          const marker = markerOf(info!);
          const { eventTime: _eventTime, ...rest } = batch;
          subscriber.next(stamp({ ...rest, rows: out, ...(marker === undefined ? {} : { eventTime: markerAsRead(marker, info!, out[0]) }) } as Batch<R>, info!));
        }),
      );
    });
    return stage.attach(output);
  };
}

/** The output's marker names the column as it is in the output rows (`ts`, no longer `left.ts`, after a flattening map). */
function markerAsRead(marker: NonNullable<ReturnType<typeof markerOf>>, info: PipelineInfo, first: unknown): NonNullable<ReturnType<typeof markerOf>> {
  const w = info.watermarks[0]!;
  if (w.read !== undefined || w.side === undefined) return marker;
  return own(first, w.column) !== undefined ? { ...marker, field: w.column } : marker;
}

function own(row: unknown, name: string): unknown {
  return typeof row === 'object' && row !== null && Object.prototype.hasOwnProperty.call(row, name) ? (row as Record<string, unknown>)[name] : undefined;
}

function sameTime(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) return (a as { end?: unknown }).end === (b as { end?: unknown }).end && (a as { start?: unknown }).start === (b as { start?: unknown }).start;
  return false;
}

/**
 * `true` when every output row keeps column `name` with the value the input
 * row had there (under `name`, or `side.name` for a join's `{ left, right }`
 * row, in the input and in the output): the column was carried through, not
 * recomputed. One comparison per row.
 */
function keepsColumn(input: readonly unknown[], output: readonly unknown[], name: string, side: 'left' | 'right' | undefined): boolean {
  const read = (row: unknown): unknown => own(row, name) ?? (side === undefined ? undefined : own(own(row, side), name));
  const has = (row: unknown): boolean =>
    typeof row === 'object' && row !== null && (Object.prototype.hasOwnProperty.call(row, name) || (side !== undefined && Object.prototype.hasOwnProperty.call(row, side)));
  if (input.length !== output.length) return output.every(has);
  for (let i = 0; i < output.length; i++) {
    const out = output[i];
    if (!has(out)) return false;
    const before = read(input[i]);
    const after = read(out);
    if (before === undefined && after === undefined) continue;
    if (!sameTime(before, after)) return false;
  }
  return true;
}

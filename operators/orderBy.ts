import { Observable, type OperatorFunction } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import { compareValues } from '../lib/aggregate/compareValues.js';
import { InvalidOptionError, InvalidValueError, UnsupportedOperationError, describeValue } from '../lib/errors/index.js';
import { kindOf, mixedTypes } from '../lib/aggregate/valueKinds.js';
import { batchSubscriber } from '../lib/internal/batchSubscriber.js';
import { Stage, infoOfBatch, stamp, type PipelineInfo } from '../lib/internal/pipeline.js';
import { UNSUPPORTED } from '../lib/query/unsupportedOperations.js';

/** One sort key: a field name (ascending), `{ by, desc? }` with a field name or a function of the row, or a comparator. */
export type OrderSpec<R> =
  | (keyof R & string)
  | { readonly by: (keyof R & string) | ((row: R) => unknown); readonly desc?: boolean }
  | ((a: R, b: R) => number);

/** A batch of a complete-mode result table (what `outputMode('complete')` emits). */
export interface CompleteBatch<R> extends Batch<R> {
  readonly outputMode: 'complete';
}

function compileComparator<R>(op: string, specs: readonly OrderSpec<R>[]): (a: R, b: R) => number {
  if (specs.length === 0) {
    throw new InvalidOptionError(`${op}: at least one sort key is required; got none. Use e.g. orderBy('count') or orderBy({ by: 'count', desc: true }).`, 'specs', specs, 'one or more sort keys');
  }
  const comparators = specs.map((spec): ((a: R, b: R) => number) => {
    if (typeof spec === 'function') return spec as (a: R, b: R) => number;
    let by: unknown = spec;
    let desc = false;
    if (typeof spec === 'object' && spec !== null) {
      by = spec.by;
      desc = spec.desc === true;
    }
    let read: (row: R) => unknown;
    const label = typeof by === 'string' ? by : '<function>';
    if (typeof by === 'string' && by.length > 0) {
      const field = by;
      read = (row) => (row as Record<string, unknown>)[field];
    } else if (typeof by === 'function') read = by as (row: R) => unknown;
    else throw new InvalidOptionError(`${op}: a sort key must be a field name, { by, desc? } or a comparator; got ${describeValue(spec)}.`, 'specs', spec, 'a sort key');
    // Spark: ascending puts nulls first, descending puts them last.
    return (a, b) => {
      const x = read(a);
      const y = read(b);
      const xn = x === null || x === undefined;
      const yn = y === null || y === undefined;
      if (xn || yn) return xn && yn ? 0 : xn ? (desc ? 1 : -1) : desc ? -1 : 1;
      // A column has one type, as in Spark: never order numbers against strings by type name.
      if (typeof x !== typeof y || (typeof x === 'object' && kindOf(x) !== kindOf(y))) throw mixedTypes(op, label, x, y, 'one column');
      const c = compareValues(x, y);
      return desc ? -c : c;
    };
  });
  return (a, b) => {
    for (const c of comparators) {
      const r = c(a, b);
      if (r !== 0) return r;
    }
    return 0;
  };
}

/**
 * Sorts the rows of each complete-mode result table; ties keep their order.
 *
 * Spark: `df.orderBy(...)` on an aggregation written in complete output mode.
 *
 * ```text
 * input    a---b---|     a = #0 [open 3, close 1]   b = #1 [open 4, close 5]   (outputMode('complete'))
 *          orderBy({ by: 'count', desc: true })
 * output   a---b---|     a = #0 [open 3, close 1]   b = #1 [close 5, open 4]
 * ```
 *
 * Spark allows sorting a streaming result only after an aggregation in
 * complete mode (each batch is then a whole table); anywhere else it is
 * rejected, here too (on subscribe, or at the first batch when the pipeline
 * shape is unknown), and it does not compile on a batch type that is not a
 * complete-mode result.
 *
 * @example
 * ```ts
 * fromBatches([[{ action: 'open' }, { action: 'close' }, { action: 'open' }]])
 *   .pipe(groupAggregate({ keyBy: 'action', aggregate: { count: count() } }), outputMode('complete'), orderBy('count'))
 *   .subscribe((b) => console.log(b.rows));
 * // => [{ action: 'close', count: 1 }, { action: 'open', count: 2 }]
 * ```
 *
 * @param specs Sort keys, most significant first.
 * @returns An operator sorting each batch's rows.
 * @throws {InvalidOptionError} `orderBy: at least one sort key is required; got none. …`
 * @throws {UnsupportedOperationError} (on subscribe or first batch) `orderBy: Sorting is not supported on streaming DataFrames/Datasets, unless it is on aggregated DataFrame/Dataset in Complete output mode`
 * @throws {InvalidValueError} (as an error notification) `orderBy("<field>"): values of two types in one column: … in batch <n>. …` when a sort column holds values of two types (a number and a string, say).
 * @see outputMode
 * @see limit
 */
export function orderBy<R>(...specs: OrderSpec<R>[]): OperatorFunction<CompleteBatch<R>, CompleteBatch<R>> {
  const op = 'orderBy';
  const compare = compileComparator(op, specs);
  return (source) => {
    const stage = new Stage(op, [source], ([input]) => {
      if (!(input!.outputMode === 'complete' && input!.aggregation !== undefined)) throw new UnsupportedOperationError(op, UNSUPPORTED.sortNotAfterCompleteAggregation);
      return input!;
    });
    const output = new Observable<CompleteBatch<R>>((subscriber) => {
      if (stage.refuse(subscriber)) return undefined;
      let outInfo: PipelineInfo | undefined;
      return source.subscribe(
        batchSubscriber<R>(subscriber, op, (input) => {
          const batch = input as CompleteBatch<R>;
          if (outInfo === undefined) {
            const info = infoOfBatch(batch);
            // A batch from outputMode('complete') says so itself, also when a foreign operator rebuilt it.
            outInfo = batch.outputMode === 'complete' && info.outputMode === undefined ? info : stage.derive([info]);
          }
          let rows: R[];
          try {
            rows = batch.rows.slice().sort(compare);
          } catch (error) {
            throw error instanceof InvalidValueError && error.batchId === undefined ? error.inBatch(batch.batchId) : error;
          }
          subscriber.next(stamp({ ...batch, rows }, outInfo));
        }),
      );
    });
    return stage.attach(output);
  };
}

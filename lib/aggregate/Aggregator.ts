import { InvalidOptionError, describeValue } from '../errors/index.js';
import { columnReader } from '../internal/columns.js';
import type { NumericString } from '../types.js';

/**
 * A user-defined aggregate function, built from four pure-ish functions:
 *
 * - `init()` returns a fresh, empty accumulator (a new value on every call);
 * - `add(acc, row)` folds one row in and returns the accumulator. It may
 *   mutate `acc`: the engine only ever passes an accumulator that `init`
 *   created during the current batch (batch-local scratch);
 * - `merge(a, b)` combines two accumulators, `a` holding the earlier rows,
 *   and must **not** mutate either (the state before the batch is a persistent
 *   snapshot that a checkpoint may still be writing). It must be associative
 *   with `init()` as identity;
 * - `result(acc)` turns an accumulator into the output value.
 *
 * Accumulators are stored in checkpoints as JSON; give `encode`/`decode` when
 * the accumulator is not plain JSON (a `Set`, a `Map`, a class instance).
 *
 * Spark: `org.apache.spark.sql.expressions.Aggregator` (`zero`, `reduce`, `merge`, `finish`).
 *
 * @example
 * ```ts
 * const product: Aggregator<{ x: number }, number, number> = {
 *   init: () => 1,
 *   add: (acc, row) => acc * row.x,
 *   merge: (a, b) => a * b,
 *   result: (acc) => acc,
 * };
 * windowTumbling({ eventTime: 'ts', size: '1 minute', aggregate: { product } });
 * ```
 */
export interface Aggregator<T, A, R> {
  init(): A;
  add(acc: A, row: T): A;
  merge(a: A, b: A): A;
  result(acc: A): R;
  /** Turns an accumulator into a JSON value for checkpoints. @defaultValue identity */
  encode?(acc: A): unknown;
  /** Reads an accumulator back from {@link Aggregator.encode}'s JSON value. @defaultValue identity */
  decode?(json: unknown): A;
  /**
   * `true` when the result does not depend on the order of the rows: `merge`
   * is commutative as well as associative (a sum, a count, a maximum; not a
   * first value or a list). `windowSliding` then keeps one partial aggregate
   * per slide-sized pane and merges a window's panes when it emits it,
   * instead of folding every row into each of its `size / slide` windows.
   * The built-ins `count`, `sum`, `avg`, `min`, `max` and `countDistinct`
   * are order-insensitive already.
   * @defaultValue `false`
   */
  readonly commutative?: boolean;
}

/** Any aggregator over rows `T` (the accumulator type is private to each aggregator). */
export type AnyAggregator<T> = Aggregator<T, unknown, unknown>;

/** A record of named aggregators: the `aggregate` option of the aggregation operators. */
export type AggregateSpec<T> = Readonly<Record<string, AnyAggregator<T>>>;

/** The output fields an {@link AggregateSpec} produces: one per aggregator, typed by its result. */
export type AggregateResults<S> = { -readonly [K in keyof S]: S[K] extends { result(acc: never): infer R } ? R : never };

/** A field of `T`, or any string when `T` is not known where the aggregator is built. */
export type FieldOf<T> = unknown extends T ? string : keyof T & string;

/**
 * The refusal of a built-in aggregator called with only the row type
 * argument, such as `max<Row>('price')`: TypeScript infers no type argument
 * once one is given, so the field (and with it the result type) would be
 * lost. The call does not compile, and the error names the forms that keep
 * the type.
 */
export type FieldTypeArgumentOnly<Fn extends string> =
  `${Fn}<Row>(field) would lose the field's type (TypeScript infers nothing once a type argument is given): write ${Fn}<Row, 'field'>('field') or ${Fn}((row: Row) => …), or call ${Fn}('field') inside the operator's aggregate option, where the row type is known`;

/**
 * The field a built-in aggregator called with only the row type argument may
 * read: any field of a record row type (`Record<string, V>`, where every
 * field has type `V` and no type is lost); for any other row type a
 * {@link FieldTypeArgumentOnly} refusal.
 */
export type RecordFieldOf<T, Fn extends string> = string extends keyof T ? string : FieldTypeArgumentOnly<Fn>;

/** Where an aggregator reads its input: a field of the row, or a function of the row. */
export type ValueSpec<T, V = unknown> = FieldOf<T> | ((row: T) => V);

/** The values `sum` and `avg` take: numbers (and bigints), numeric text, and nulls. */
export type NumericValue = number | bigint | NumericString | null | undefined;

/**
 * A field of `T` that `sum`/`avg` may read: one typed as numbers (or
 * {@link NumericString}, or `unknown`), never one typed `string` or
 * `boolean`. Any string when `T` is not known where the aggregator is built.
 */
export type NumericFieldOf<T> = unknown extends T
  ? string
  : { [K in keyof T & string]-?: unknown extends T[K] ? K : [T[K]] extends [NumericValue] ? K : never }[keyof T & string];

/** The type of field `F` of `T` without null and undefined (`unknown` when `T` is not known). */
export type FieldValue<T, F> = unknown extends T ? unknown : F extends keyof T ? Exclude<T[F], null | undefined> : unknown;

/** The value type a {@link ValueSpec} reads, without null and undefined: the field's type, or the function's result type. */
export type ValueOf<T, F> = F extends (row: never) => infer V ? Exclude<V, null | undefined> : FieldValue<T, F>;

/** Options of `sum` and `avg`. */
export interface NumericAggregateOptions {
  /**
   * What to do with a value of a type the aggregate cannot take (a boolean,
   * an object, an array): `'error'` fails the batch with an
   * `InvalidValueError`; `'drop'` skips the value and counts it in the
   * operator's `numRowsInvalidValue` metric. Text that is not a number
   * (`'abc'`, `''`) is always `null` and counted, as Spark's cast makes it null.
   * @defaultValue `'error'`
   */
  readonly onInvalidValue?: 'error' | 'drop';
}

/** Counters an aggregator keeps; the operator reads them around each batch for its metrics. */
export interface ValueCounts {
  /** Values that were not taken: uncastable text (null) or dropped values of a wrong type. */
  invalid: number;
}

/** The key under which a built-in aggregator exposes its {@link ValueCounts}. */
export const VALUE_COUNTS: unique symbol = Symbol.for('rxjs-structured-streaming.valueCounts') as never;

/** The key under which a built-in aggregator records the field it reads (for column checks). */
export const VALUE_FIELD: unique symbol = Symbol.for('rxjs-structured-streaming.valueField') as never;

/**
 * The key under which a built-in aggregator says what its `add` does when it
 * is one of the shapes the row folder inlines: `{ kind: 'count' }` (`count()`:
 * `acc + 1`) or `{ kind: 'sum', field }` (`sum(field)` on a number: `acc ===
 * null ? v : acc + v`; anything else goes through its `add`).
 */
export const INLINE_ADD: unique symbol = Symbol.for('rxjs-structured-streaming.inlineAdd') as never;

/** See {@link INLINE_ADD}. */
export type InlineAdd = { readonly kind: 'count' } | { readonly kind: 'sum'; readonly field: string };

/** Marks a built-in aggregator's `add` as an {@link InlineAdd} shape; returns the aggregator. */
export function inlineAdd<A extends object>(aggregator: A, shape: InlineAdd): A {
  Object.defineProperty(aggregator, INLINE_ADD, { value: shape, enumerable: false });
  return aggregator;
}

/** Records on a built-in aggregator the field it reads, when `spec` is a field name; returns the aggregator. */
export function readsField<A extends object>(aggregator: A, spec: unknown): A {
  if (typeof spec === 'string') Object.defineProperty(aggregator, VALUE_FIELD, { value: spec, enumerable: false });
  return aggregator;
}

/** Reads an aggregator's {@link ValueCounts}, if it keeps any. */
export function valueCountsOf(aggregator: object): ValueCounts | undefined {
  return (aggregator as { [VALUE_COUNTS]?: ValueCounts })[VALUE_COUNTS];
}

/** The field an aggregator reads as its errors name it: the field, or `'<function>'`. */
export function fieldLabel(spec: unknown): string {
  return typeof spec === 'string' ? spec : '<function>';
}

/** The compiled form the engine loops over: parallel arrays, one slot per aggregate. */
export interface CompiledAggregates<T> {
  readonly names: readonly string[];
  readonly aggregators: readonly Aggregator<T, unknown, unknown>[];
  /** The counters of the aggregators that keep any (see {@link ValueCounts}). */
  readonly counts: readonly ValueCounts[];
  /** The fields the built-in aggregators read by name, for column checks. */
  readonly fields: readonly { readonly option: string; readonly column: string }[];
}

/** The total of the `invalid` counters of compiled aggregates (read before and after a batch: the difference is the batch's count). */
export function invalidValueTotal(counts: readonly ValueCounts[]): number {
  let n = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i]!.invalid;
  return n;
}

/** Builds a reader for a {@link ValueSpec}. */
export function valueReader<T>(fn: string, spec: unknown): (row: T) => unknown {
  if (typeof spec === 'function') return spec as (row: T) => unknown;
  if (typeof spec === 'string' && spec.length > 0) {
    return columnReader(spec) as (row: T) => unknown;
  }
  throw new InvalidOptionError(`${fn}: field must be a field name or a function of the row; got ${describeValue(spec)}.`, 'field', spec, 'a field name or a function');
}

/**
 * Validates the `aggregate` option: a non-empty record of aggregators, each
 * with `init`, `add`, `merge` and `result` functions.
 *
 * @throws {InvalidOptionError} `<op>: aggregate must be a non-empty record of aggregators; got …`
 * @throws {InvalidOptionError} `<op>: aggregate.<name> must be an aggregator { init, add, merge, result }; got …`
 */
export function compileAggregates<T>(op: string, spec: unknown, reserved: readonly string[]): CompiledAggregates<T> {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec) || Object.keys(spec).length === 0) {
    throw new InvalidOptionError(
      `${op}: aggregate must be a non-empty record of aggregators; got ${describeValue(spec)}. Use e.g. { n: count(), total: sum('amount') }.`,
      'aggregate',
      spec,
      'a record of aggregators',
    );
  }
  const names: string[] = [];
  const aggregators: Aggregator<T, unknown, unknown>[] = [];
  const counts: ValueCounts[] = [];
  const fields: { option: string; column: string }[] = [];
  for (const [name, agg] of Object.entries(spec)) {
    const a = agg as Partial<Aggregator<T, unknown, unknown>> | null;
    if (
      typeof a !== 'object' || a === null ||
      typeof a.init !== 'function' || typeof a.add !== 'function' || typeof a.merge !== 'function' || typeof a.result !== 'function'
    ) {
      throw new InvalidOptionError(
        `${op}: aggregate.${name} must be an aggregator { init, add, merge, result }; got ${describeValue(agg)}. Use a built-in such as count() or write one.`,
        `aggregate.${name}`,
        agg,
        'an aggregator',
      );
    }
    if (reserved.includes(name)) {
      throw new InvalidOptionError(
        `${op}: aggregate.${name} clashes with a column of the result row; got ${describeValue(name)}. Rename the aggregate.`,
        `aggregate.${name}`,
        name,
        'a name not used by the window or key columns',
      );
    }
    names.push(name);
    aggregators.push(a as Aggregator<T, unknown, unknown>);
    const c = valueCountsOf(a);
    if (c !== undefined && !counts.includes(c)) counts.push(c);
    const field = (a as { [VALUE_FIELD]?: string })[VALUE_FIELD];
    if (field !== undefined) fields.push({ option: `aggregate.${name}`, column: field });
  }
  return { names, aggregators, counts, fields };
}

import { EventTimeError, InvalidOptionError, InvalidValueError, UnsupportedOperationError, describeType, describeValue } from '../errors/index.js';
import { kindOf, mixedTypes } from '../aggregate/valueKinds.js';
import { columnReader } from '../internal/columns.js';
import { resolveKeySpec, stableKeyOf, type StableKey } from '../internal/keySpec.js';
import { UNSUPPORTED } from '../query/unsupportedOperations.js';
import { eventTimeReader, type EventTimeReader } from '../time/eventTime.js';
import { parseDuration } from '../time/parseDuration.js';
import type { Duration, EventTimeSpec, FieldName, KeySpec } from '../types.js';

/** The join types a streaming join supports (Spark has no stream-stream left anti join). */
export type JoinType = 'inner' | 'leftOuter' | 'rightOuter' | 'fullOuter' | 'leftSemi';

/** Spark's name of a join type, as it appears in its messages. */
export type SparkJoinTypeName = 'Inner' | 'LeftOuter' | 'RightOuter' | 'FullOuter' | 'LeftSemi';

const JOIN_TYPES: readonly JoinType[] = ['inner', 'leftOuter', 'rightOuter', 'fullOuter', 'leftSemi'];

/**
 * The equi-join key: a field name or a list of field names present on both
 * sides, or a key spec per side (`{ left, right }`), compared by value.
 */
export type JoinKeys<TLeft, TRight> =
  | (FieldName<TLeft> & FieldName<TRight>)
  | readonly (FieldName<TLeft> & FieldName<TRight>)[]
  | { readonly left: KeySpec<TLeft>; readonly right: KeySpec<TRight> };

/**
 * A time-range condition: `leftTime + lower <= rightTime <= leftTime + upper`
 * (each comparison strict when its inclusive flag is `false`; either bound may
 * be left out). `lower` and `upper` may be negative.
 */
export interface JoinTimeRange<TLeft, TRight> {
  /** The left row's time: a field name or a function of the row. */
  readonly leftTime: EventTimeSpec<TLeft>;
  /** The right row's time: a field name or a function of the row. */
  readonly rightTime: EventTimeSpec<TRight>;
  /** `rightTime >= leftTime + lower`. */
  readonly lower?: Duration;
  /** `rightTime <= leftTime + upper`. */
  readonly upper?: Duration;
  /** @defaultValue `true` */
  readonly lowerInclusive?: boolean;
  /** @defaultValue `true` */
  readonly upperInclusive?: boolean;
}

/**
 * A further join condition: a function of both rows, or side-only conditions
 * `left(l)` / `right(r)` (with Spark's meaning in outer joins: a row of a
 * preserved side that fails its own side's condition is emitted with nulls at
 * once and never buffered) and a condition on both rows.
 */
export type JoinWhere<TLeft, TRight> =
  | ((left: TLeft, right: TRight) => boolean)
  | {
      readonly left?: (left: TLeft) => boolean;
      readonly right?: (right: TRight) => boolean;
      readonly both?: (left: TLeft, right: TRight) => boolean;
    };

/** A resolved time-range condition (bounds in milliseconds). */
export interface ResolvedTimeRange<TLeft, TRight> {
  readonly leftTime: EventTimeReader<TLeft>;
  readonly rightTime: EventTimeReader<TRight>;
  readonly lowerMs: number | undefined;
  readonly upperMs: number | undefined;
  readonly lowerInclusive: boolean;
  readonly upperInclusive: boolean;
}

/** Everything about a join's condition, validated and turned into fast functions. */
export interface ResolvedJoinCondition<TLeft, TRight> {
  readonly type: JoinType;
  readonly leftKey: (row: TLeft) => StableKey;
  readonly rightKey: (row: TRight) => StableKey;
  /** `true` when the row's key holds a null/undefined part: it can never match (SQL equality). */
  readonly leftKeyIsNull: (row: TLeft) => boolean;
  readonly rightKeyIsNull: (row: TRight) => boolean;
  /**
   * When defined, a row's key is null exactly when `leftKey(row)` is this
   * value (a single-field or function key), so that a step computing the key
   * anyway need not call `leftKeyIsNull` (which computes it again).
   */
  readonly leftNullKey: StableKey | undefined;
  readonly rightNullKey: StableKey | undefined;
  /** The values of a row's key: one per key field, or the function's result. */
  readonly leftKeyParts: (row: TLeft) => readonly unknown[];
  readonly rightKeyParts: (row: TRight) => readonly unknown[];
  /** The key field names per side (aligned by position), `undefined` for a function key. */
  readonly leftKeyFields: readonly string[] | undefined;
  readonly rightKeyFields: readonly string[] | undefined;
  readonly range: ResolvedTimeRange<TLeft, TRight> | undefined;
  readonly whereLeft: ((row: TLeft) => boolean) | undefined;
  readonly whereRight: ((row: TRight) => boolean) | undefined;
  readonly whereBoth: ((left: TLeft, right: TRight) => boolean) | undefined;
  /** The left side's rows are preserved (emitted with nulls when unmatched). */
  readonly leftPreserved: boolean;
  readonly rightPreserved: boolean;
  readonly semi: boolean;
  /** `false` turns off the column checks without a schema (`checkColumns: false`). */
  readonly checkColumns: boolean;
  /** A JSON-able description for checkpoint descriptors. */
  readonly descriptor: unknown;
}

/** Spark's spelling of a join type. */
export function sparkJoinTypeName(type: JoinType): SparkJoinTypeName {
  return (type.charAt(0).toUpperCase() + type.slice(1)) as SparkJoinTypeName;
}

/** Validates the `type` option. */
export function resolveJoinType(operator: string, type: unknown): JoinType {
  if (type === undefined) return 'inner';
  if (typeof type === 'string' && (JOIN_TYPES as readonly string[]).includes(type)) return type as JoinType;
  throw new InvalidOptionError(
    `${operator}: type must be one of 'inner', 'leftOuter', 'rightOuter', 'fullOuter', 'leftSemi'; got ${describeValue(type)}. Spark supports no other join type between streams (no left anti join).`,
    'type',
    type,
    "'inner' | 'leftOuter' | 'rightOuter' | 'fullOuter' | 'leftSemi'",
  );
}

/** The stable key of a null (or missing) single key: SQL null, which equals nothing. */
const NULL_KEY = stableKeyOf(null);

/**
 * `true` when a row's join key is null: for one field or a function, the
 * value is `null`/`undefined`; for a list of fields, any of them is (SQL
 * equality is null when a part is null, so the row matches nothing). A
 * function returning an array or object is one value compared as a whole
 * (like a struct in Spark), so only a null result counts.
 */
function nullCheck<T>(fields: readonly string[] | undefined, keyOf: (row: T) => StableKey): (row: T) => boolean {
  if (fields === undefined || fields.length === 1) return (row) => keyOf(row) === NULL_KEY;
  const readers = fields.map(columnReader);
  const n = readers.length;
  return (row) => {
    for (let i = 0; i < n; i++) {
      const v = readers[i]!(row);
      if (v === null || v === undefined) return true;
    }
    return false;
  };
}

function isPlainFunction(value: unknown): value is (...args: never[]) => unknown {
  return typeof value === 'function';
}

/** The key a null-keyed row has, when a null key is recognised by its key alone (see {@link nullCheck}). */
function nullKeyOf(fields: readonly string[] | undefined): StableKey | undefined {
  return fields === undefined || fields.length === 1 ? NULL_KEY : undefined;
}

/** The key values of a row, one per field (or the function's result). */
function keyParts<T>(fields: readonly string[] | undefined, valueOf: (row: T) => unknown): (row: T) => readonly unknown[] {
  if (fields === undefined) return (row) => [valueOf(row)];
  const readers = fields.map(columnReader);
  return (row) => readers.map((read) => read(row));
}

type ResolvedKeys<TLeft, TRight> = Pick<
  ResolvedJoinCondition<TLeft, TRight>,
  'leftKey' | 'rightKey' | 'leftKeyIsNull' | 'rightKeyIsNull' | 'leftNullKey' | 'rightNullKey' | 'leftKeyParts' | 'rightKeyParts' | 'leftKeyFields' | 'rightKeyFields'
> & { descriptor: unknown };

function resolveKeys<TLeft, TRight>(operator: string, on: unknown, requireKey: boolean): ResolvedKeys<TLeft, TRight> {
  const emptyList = Array.isArray(on) && on.length === 0;
  if (on === undefined || on === null || emptyList) {
    if (requireKey) throw new UnsupportedOperationError(operator, `${UNSUPPORTED.joinWithoutEquality}. Give the equi-join key with on: a field name, a list of field names or { left, right }.`);
    const constant = (): StableKey => 0;
    const never = (): boolean => false;
    const none = (): readonly unknown[] => [];
    return { leftKey: constant, rightKey: constant, leftKeyIsNull: never, rightKeyIsNull: never, leftNullKey: undefined, rightNullKey: undefined, leftKeyParts: none, rightKeyParts: none, leftKeyFields: undefined, rightKeyFields: undefined, descriptor: null };
  }
  let leftSpec: unknown;
  let rightSpec: unknown;
  if (typeof on === 'string' || Array.isArray(on)) {
    leftSpec = on;
    rightSpec = on;
  } else if (typeof on === 'object' && 'left' in on && 'right' in on) {
    leftSpec = (on as { left: unknown }).left;
    rightSpec = (on as { right: unknown }).right;
  } else {
    throw new InvalidOptionError(
      `${operator}: on must be a field name, a non-empty list of field names, or { left, right } key specs; got ${describeValue(on)}.`,
      'on',
      on,
      'a field name, a list of field names or { left, right }',
    );
  }
  const left = resolveKeySpec<TLeft>(operator, leftSpec as KeySpec<TLeft>, 'on.left', false);
  const right = resolveKeySpec<TRight>(operator, rightSpec as KeySpec<TRight>, 'on.right', false);
  const arity = (fields: readonly string[] | undefined): number => fields?.length ?? 1;
  const composite = (fields: readonly string[] | undefined): boolean => fields !== undefined && fields.length > 1;
  if (arity(left.fields) !== arity(right.fields) || composite(left.fields) !== composite(right.fields)) {
    throw new InvalidOptionError(
      `${operator}: on.left and on.right must have the same shape; got ${describeValue(left.descriptor)} and ${describeValue(right.descriptor)}. Use field lists of the same length on both sides, or a function on both sides.`,
      'on',
      on,
      'key specs of the same shape on both sides',
    );
  }
  return {
    leftKey: left.keyOf,
    rightKey: right.keyOf,
    leftKeyIsNull: nullCheck(left.fields, left.keyOf),
    rightKeyIsNull: nullCheck(right.fields, right.keyOf),
    leftNullKey: nullKeyOf(left.fields),
    rightNullKey: nullKeyOf(right.fields),
    leftKeyParts: keyParts(left.fields, left.valueOf),
    rightKeyParts: keyParts(right.fields, right.valueOf),
    leftKeyFields: left.fields,
    rightKeyFields: right.fields,
    descriptor: { left: left.descriptor, right: right.descriptor },
  };
}

function resolveRange<TLeft, TRight>(operator: string, range: unknown): ResolvedTimeRange<TLeft, TRight> | undefined {
  if (range === undefined) return undefined;
  if (typeof range !== 'object' || range === null) {
    throw new InvalidOptionError(`${operator}: timeRange must be { leftTime, rightTime, lower?, upper? }; got ${describeValue(range)}.`, 'timeRange', range, '{ leftTime, rightTime, lower?, upper? }');
  }
  const r = range as JoinTimeRange<TLeft, TRight>;
  const leftTime = eventTimeReader<TLeft>(operator, r.leftTime, 'timeRange.leftTime');
  const rightTime = eventTimeReader<TRight>(operator, r.rightTime, 'timeRange.rightTime');
  if (r.lower === undefined && r.upper === undefined) {
    throw new InvalidOptionError(
      `${operator}: timeRange needs lower, upper or both; got ${describeValue(range)}. For rightTime within 10 minutes after leftTime use { lower: 0, upper: '10 minutes' }.`,
      'timeRange',
      range,
      'at least one bound',
    );
  }
  const lowerMs = r.lower === undefined ? undefined : parseDuration(r.lower, { option: `${operator}: timeRange.lower` });
  const upperMs = r.upper === undefined ? undefined : parseDuration(r.upper, { option: `${operator}: timeRange.upper` });
  for (const flag of ['lowerInclusive', 'upperInclusive'] as const) {
    if (r[flag] !== undefined && typeof r[flag] !== 'boolean') {
      throw new InvalidOptionError(`${operator}: timeRange.${flag} must be a boolean; got ${describeValue(r[flag])}.`, `timeRange.${flag}`, r[flag], 'a boolean');
    }
  }
  if (lowerMs !== undefined && upperMs !== undefined && lowerMs > upperMs) {
    throw new InvalidOptionError(
      `${operator}: timeRange.lower must not exceed timeRange.upper; got lower ${describeValue(r.lower)} (${lowerMs} ms), upper ${describeValue(r.upper)} (${upperMs} ms). No pair of rows could ever match.`,
      'timeRange',
      range,
      'lower <= upper',
    );
  }
  return {
    leftTime,
    rightTime,
    lowerMs,
    upperMs,
    lowerInclusive: r.lowerInclusive ?? true,
    upperInclusive: r.upperInclusive ?? true,
  };
}

function resolveWhere<TLeft, TRight>(operator: string, where: unknown): Pick<ResolvedJoinCondition<TLeft, TRight>, 'whereLeft' | 'whereRight' | 'whereBoth'> {
  if (where === undefined) return { whereLeft: undefined, whereRight: undefined, whereBoth: undefined };
  if (isPlainFunction(where)) return { whereLeft: undefined, whereRight: undefined, whereBoth: where as (l: TLeft, r: TRight) => boolean };
  const bad = (): never => {
    throw new InvalidOptionError(
      `${operator}: where must be a function (left, right) => boolean or { left?, right?, both? } of functions; got ${describeValue(where)}.`,
      'where',
      where,
      'a function or { left?, right?, both? }',
    );
  };
  if (typeof where !== 'object' || where === null) return bad();
  const w = where as Record<string, unknown>;
  for (const k of Object.keys(w)) if (!['left', 'right', 'both'].includes(k) || (w[k] !== undefined && !isPlainFunction(w[k]))) bad();
  return {
    whereLeft: w['left'] as ((row: TLeft) => boolean) | undefined,
    whereRight: w['right'] as ((row: TRight) => boolean) | undefined,
    whereBoth: w['both'] as ((l: TLeft, r: TRight) => boolean) | undefined,
  };
}

/** The parts of the join options {@link resolveJoinCondition} reads. */
export interface JoinConditionOptions {
  readonly on?: unknown;
  readonly type?: unknown;
  readonly timeRange?: unknown;
  readonly where?: unknown;
  readonly checkColumns?: unknown;
}

/**
 * Validates a join's `on`, `type`, `timeRange`, `where` and `checkColumns` options and turns
 * them into fast functions. `requireKey` (stream-stream joins) makes a missing
 * key Spark's "without equality predicate" error.
 *
 * @throws {UnsupportedOperationError} `<operator>: Stream-stream join without equality predicate is not supported. …` without a key when one is required.
 * @throws {InvalidOptionError} for a malformed option (the message names it).
 */
export function resolveJoinCondition<TLeft, TRight>(operator: string, options: JoinConditionOptions, requireKey: boolean): ResolvedJoinCondition<TLeft, TRight> {
  const type = resolveJoinType(operator, options.type);
  const keys = resolveKeys<TLeft, TRight>(operator, options.on, requireKey);
  const range = resolveRange<TLeft, TRight>(operator, options.timeRange);
  const where = resolveWhere<TLeft, TRight>(operator, options.where);
  if (options.checkColumns !== undefined && typeof options.checkColumns !== 'boolean') {
    throw new InvalidOptionError(`${operator}: checkColumns must be a boolean; got ${describeValue(options.checkColumns)}.`, 'checkColumns', options.checkColumns, 'a boolean');
  }
  return {
    type,
    ...keys,
    range,
    ...where,
    leftPreserved: type === 'leftOuter' || type === 'fullOuter',
    rightPreserved: type === 'rightOuter' || type === 'fullOuter',
    semi: type === 'leftSemi',
    checkColumns: options.checkColumns !== false,
    descriptor: {
      type,
      on: keys.descriptor,
      timeRange:
        range === undefined
          ? null
          : { leftTime: range.leftTime.field, rightTime: range.rightTime.field, lowerMs: range.lowerMs ?? null, upperMs: range.upperMs ?? null, lowerInclusive: range.lowerInclusive, upperInclusive: range.upperInclusive },
    },
  };
}

/**
 * `true` when a pair of times satisfies the range: `lt + lower <= rt <= lt +
 * upper` (strict where not inclusive). A missing time (`NaN`) never matches.
 */
export function inTimeRange(range: ResolvedTimeRange<unknown, unknown>, leftMs: number, rightMs: number): boolean {
  const { lowerMs, upperMs } = range;
  if (lowerMs !== undefined) {
    const bound = leftMs + lowerMs;
    if (range.lowerInclusive ? !(rightMs >= bound) : !(rightMs > bound)) return false;
  }
  if (upperMs !== undefined) {
    const bound = leftMs + upperMs;
    if (range.upperInclusive ? !(rightMs <= bound) : !(rightMs < bound)) return false;
  }
  return true;
}

/**
 * The range time of a row, checked: `NaN` for a null or missing time (SQL
 * null: the row matches nothing and, on a preserved side, comes out with
 * nulls), an {@link EventTimeError} for a value that is not a time (text in
 * another format, a boolean, a number beyond the `Date` range), which would
 * otherwise never match without a word.
 *
 * @param table The row is a static table's (the message names its row, not a batch).
 */
export function rangeTimeOf<T>(reader: EventTimeReader<T>, option: string, row: T, batchId: number, rowIndex: number, table = false): number {
  const ms = reader.ms(row);
  if (ms === ms) return ms;
  const raw = reader.raw(row);
  if (raw === null || raw === undefined) return ms;
  throw new EventTimeError('streamJoin', `${reader.field} (${option})`, table ? -1 : batchId, rowIndex, raw, {
    ...(table ? { where: `in static table row ${rowIndex}` } : {}),
    hint: 'Use epoch milliseconds, a Date or an ISO-8601 string, or give the time as { field, format } or { field, unit }; null or missing times match nothing.',
  });
}

/** The kinds of value (see `kindOf`) a join side's key parts were seen to hold, with a value of each, for messages. */
export interface KeySample {
  readonly kinds: (string | undefined)[];
  readonly values: unknown[];
}

/**
 * Checks the key of one row of a side (called for the first row with a
 * non-null key of each batch, and for a static table) against the kinds seen
 * on the other side: keys of two types (a number on one side, numeric text on
 * the other, as from a JSON source and a CSV source without a schema) could
 * never be equal, so every row would silently match nothing. Records the
 * row's kinds in `own`; a kind that differs from the one recorded for the
 * same side is an error too (a column has one type).
 *
 * @throws {InvalidValueError} `streamJoin("<field>"): join keys of two types: left <value> (<type>) and right <value> (<type>) in batch <n>. …`
 */
export function checkKeyKinds<TLeft, TRight>(
  cond: ResolvedJoinCondition<TLeft, TRight>,
  side: 'left' | 'right',
  row: unknown,
  own: { keySample: KeySample | undefined },
  other: KeySample | undefined,
  batchId: number | undefined,
): void {
  const parts = side === 'left' ? cond.leftKeyParts(row as TLeft) : cond.rightKeyParts(row as TRight);
  const sample = (own.keySample ??= { kinds: [], values: [] });
  for (let i = 0; i < parts.length; i++) {
    const v = parts[i];
    if (v === null || v === undefined) continue;
    const kind = kindOf(v);
    const mine = sample.kinds[i];
    if (mine !== undefined && mine !== kind) {
      const fields = side === 'left' ? cond.leftKeyFields : cond.rightKeyFields;
      const error = mixedTypes('streamJoin', fields?.[i] ?? '<function>', sample.values[i], v, `one key column (on ${side})`);
      throw batchId === undefined ? error : error.inBatch(batchId);
    }
    const theirs = other?.kinds[i];
    if (theirs !== undefined && theirs !== kind) {
      const fields = side === 'left' ? cond.leftKeyFields : cond.rightKeyFields;
      const [l, r] = side === 'left' ? [v, other!.values[i]] : [other!.values[i], v];
      throw new InvalidValueError(
        'streamJoin',
        fields?.[i] ?? '<function>',
        v,
        `join keys of two types: left ${describeValue(l)} (${describeType(l)}) and right ${describeValue(r)} (${describeType(r)})`,
        'Keys of two types are never equal, so no row would match. Give the sources a schema or convert the key (mapRows) so that both sides hold the same type.',
        batchId,
      );
    }
    if (sample.kinds[i] === undefined) {
      sample.kinds[i] = kind;
      sample.values[i] = v;
    }
  }
}

import { InvalidOptionError, describeValue } from '../errors/index.js';
import { assignColumns, columnReader, isInheritedName, setColumn } from '../internal/columns.js';
import { keyPart } from '../internal/keySpec.js';
import type { KeySpec } from '../types.js';
import { decodeValue, encodeValue } from './valueKinds.js';

/**
 * The fields a grouping key puts in a result row:
 * - a field name `'k'` or a list `['a', 'b']`: those fields, with the row's types;
 * - a function returning a plain object: that object's fields
 *   (`keyBy: (r) => ({ user: r.user.toLowerCase() })` gives a `user` column);
 * - a function returning anything else (a string, a number, a `Date`, an array):
 *   a single `key` field;
 * - no key: nothing.
 *
 * When the row type is not known (`unknown`, a fragment written without a row
 * type argument), named key fields are typed `unknown`.
 */
export type KeyFields<T, K> = [K] extends [undefined]
  ? {}
  : K extends (row: never) => infer V
    ? [V] extends [Date | readonly unknown[] | null | undefined]
      ? { key: V }
      : [V] extends [object]
        ? V
        : { key: V }
    : unknown extends T
      ? K extends string
        ? { -readonly [F in K]: unknown }
        : K extends readonly (infer F extends string)[]
          ? { -readonly [P in F]: unknown }
          : {}
      : K extends string
        ? KeyColumn<T, K>
        : K extends readonly (infer F)[]
          ? UnionToIntersection<F extends string ? KeyColumn<T, F> : never>
          : {};

/**
 * The result column of one key field: the field itself, or for a nested name
 * (`left.k` on a join's rows) a column named by its last part (`k`), as
 * Spark names a struct field it groups by; `null` where the outer field may
 * be null (an outer join's missing side).
 */
type KeyColumn<T, F extends string> = F extends keyof T
  ? { -readonly [P in F]: T[F] }
  : F extends `${infer A}.${infer B}`
    ? A extends keyof T
      ? { -readonly [P in B]: B extends keyof NonNullable<T[A]> ? NonNullable<T[A]>[B] | (null extends T[A] ? null : never) : unknown }
      : {}
    : {};

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** How the engine reads and writes a grouping key. */
export interface CompiledKey<T> {
  /** `'none'` (a single global group), one field, several fields, or a function. */
  readonly kind: 'none' | 'field' | 'fields' | 'function';
  /** The key fields for `'field'` and `'fields'`. */
  readonly fields: readonly string[];
  /** The raw key of a row: the field value, the array of field values, or the function's result. */
  raw(row: T): unknown;
  /** A primitive that is equal for equal raw keys, used as the map key. */
  canonical(raw: unknown): unknown;
  /** Copies the key's output fields into a result row. */
  write(target: Record<string, unknown>, raw: unknown): void;
  /** The names of the output fields when they are known in advance (not for functions returning objects). */
  readonly outputFields: readonly string[];
}

/**
 * A primitive stand-in for a key value, equal for equal values as Spark's
 * grouping compares them: a primitive is itself (`NaN` is one group, as a
 * `Map` finds `NaN` as itself; `-0` is `0`); a `Date` (by time), an array or
 * an object (by value, keys in any order) is a string starting with `\u0000`
 * (a string that itself starts with `\u0000` is quoted, so no string stands
 * for anything else). Engines may skip the call for primitives that
 * {@link needsCanonical} says are their own stand-in.
 */
export function canonicalValue(v: unknown): unknown {
  if (typeof v === 'string') return v.charCodeAt(0) === 0 ? `\u0000${JSON.stringify(v)}` : v;
  if (typeof v !== 'object' || v === null) return v === 0 ? 0 : v;
  return `\u0000${keyPart(v)}`;
}

/** `false` when a raw single-field key is its own {@link canonicalValue} (the engines' per-row fast path). */
export function needsCanonical(v: unknown): boolean {
  return typeof v === 'object' ? v !== null : typeof v === 'string' && v.charCodeAt(0) === 0;
}

/** `-0` as `0`, as Spark normalises floating-point grouping keys; any other value as it is. */
export function normaliseKeyValue(v: unknown): unknown {
  return v === 0 ? 0 : v;
}

/**
 * The text of a raw key in a checkpoint entry key: JSON, with the values JSON
 * loses (`NaN`, `±Infinity`, `Date`s, bigints) tagged as the aggregators'
 * accumulators are (see `encodeValue`), so that a restored key is the key
 * that was saved. Plain JSON values are written as before.
 */
export function keyToJson(raw: unknown): string {
  return JSON.stringify(encodeKeyValue(raw));
}

/** Reads {@link keyToJson}'s text back into the raw key. */
export function keyFromJson(text: string): unknown {
  return decodeKeyValue(JSON.parse(text));
}

/** A JSON-safe form of a raw key (deep: the values of a list key, the fields of an object key); see `encodeValue`. */
export function encodeKeyValue(raw: unknown): unknown {
  return encodeValue(raw);
}

/** Reads {@link encodeKeyValue}'s output back. */
export function decodeKeyValue(json: unknown): unknown {
  return decodeValue(json);
}

/**
 * A group's raw key as a checkpoint value stores it: {@link encodeKeyValue}
 * (a `Date`, `NaN`, `±Infinity`, `-0`, a bigint tagged so that the restored
 * key is the same group). Undone by {@link decodeRawKey}.
 */
export function encodeRawKey(raw: unknown): unknown {
  return encodeKeyValue(raw);
}

/** Reads a raw key back from {@link encodeRawKey}'s JSON value. */
export function decodeRawKey(json: unknown): unknown {
  return decodeKeyValue(json);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Date) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A dotted name (`left.k`) read from a nested column. */
function isNested(field: string): boolean {
  const dot = field.indexOf('.');
  return dot > 0 && dot < field.length - 1;
}

/**
 * The result columns of key fields: a nested field is named by its last part
 * (`left.k` → `k`, as Spark names a struct field it groups by), unless that
 * would give two key columns one name.
 */
function outputNames(fields: readonly string[]): string[] {
  const short = fields.map((f) => (isNested(f) ? f.slice(f.lastIndexOf('.') + 1) : f));
  return short.map((name, i) => (short.indexOf(name) !== short.lastIndexOf(name) ? fields[i]! : name));
}

/**
 * Compiles a `keyBy` option.
 *
 * @throws {InvalidOptionError} `<op>: keyBy must be a field name, a list of field names or a function of the row; got …`
 */
export function compileKey<T>(op: string, spec: KeySpec<T> | undefined): CompiledKey<T> {
  if (spec === undefined) {
    return { kind: 'none', fields: [], outputFields: [], raw: () => null, canonical: () => null, write: () => undefined };
  }
  // A name Object.prototype has (`__proto__`, `constructor`, …) takes the list path: the engines read a single key field inline.
  if (typeof spec === 'string' && spec.length > 0 && !isInheritedName(spec) && !isNested(spec)) {
    const field = spec;
    return {
      kind: 'field',
      fields: [field],
      outputFields: [field],
      // A missing key (undefined) is the SQL null: one group with null; -0 is 0.
      raw: (row) => normaliseKeyValue((row as Record<string, unknown>)[field] ?? null),
      canonical: canonicalValue,
      write: (target, raw) => {
        target[field] = raw;
      },
    };
  }
  const list = typeof spec === 'string' && spec.length > 0 ? [spec] : spec;
  if (Array.isArray(list) && list.length > 0 && list.every((f) => typeof f === 'string' && f.length > 0)) {
    const fields = [...(list as readonly string[])];
    if (fields.length === 1 && !isInheritedName(fields[0]!) && !isNested(fields[0]!)) return compileKey<T>(op, fields[0] as KeySpec<T>);
    const readers = fields.map(columnReader);
    const outputFields = outputNames(fields);
    return {
      kind: 'fields',
      fields,
      outputFields,
      raw: (row) => {
        const values = new Array<unknown>(fields.length);
        for (let i = 0; i < fields.length; i++) values[i] = normaliseKeyValue(readers[i]!(row) ?? null);
        return values;
      },
      // Each value encoded by keyPart: NaN stays apart from null, a Date from its ISO text, objects compare by value.
      canonical: (raw) => {
        const values = raw as readonly unknown[];
        let out = keyPart(values[0]);
        for (let i = 1; i < values.length; i++) out += `,${keyPart(values[i])}`;
        return out;
      },
      write: (target, raw) => {
        const values = raw as readonly unknown[];
        for (let i = 0; i < fields.length; i++) setColumn(target, outputFields[i]!, values[i]);
      },
    };
  }
  if (typeof spec === 'function') {
    const fn = spec as (row: T) => unknown;
    return {
      kind: 'function',
      fields: [],
      outputFields: [],
      raw: (row) => normaliseKeyValue(fn(row) ?? null),
      canonical: canonicalValue,
      write: (target, raw) => {
        if (isPlainObject(raw)) assignColumns(target, raw);
        else target.key = raw;
      },
    };
  }
  throw new InvalidOptionError(
    `${op}: keyBy must be a field name, a list of field names or a function of the row; got ${describeValue(spec)}. Use e.g. 'user', ['user', 'device'] or (row) => row.user.`,
    'keyBy',
    spec,
    'a field name, a list of field names or a function',
  );
}

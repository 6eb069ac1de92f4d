import { InvalidOptionError, describeValue } from '../errors/index.js';
import type { KeySpec } from '../types.js';
import { columnReader, isInheritedName, setColumn } from './columns.js';

/**
 * A grouping key reduced to something a hash map compares by value: a number
 * (for a single numeric field) or a string (everything else). Two rows have
 * the same key exactly when their key columns hold equal values.
 */
export type StableKey = string | number;

/** A {@link KeySpec} resolved into fast functions of the row. */
export interface ResolvedKey<T> {
  /** The stable key of a row (see {@link StableKey}). */
  readonly keyOf: (row: T) => StableKey;
  /**
   * The key as a user sees it: the field's value for one field name, an
   * object of the named fields for a list, the function's result for a
   * function, the row itself for a whole-row key.
   */
  readonly valueOf: (row: T) => unknown;
  /** The named key fields, or `undefined` for a function key; `[]` stands for the whole row. */
  readonly fields: readonly string[] | undefined;
  /** A JSON-able description of the key, for checkpoint descriptors. */
  readonly descriptor: string | readonly string[];
}

/**
 * Encodes one value of a key column so that different values never give the
 * same text: numbers as digits, strings JSON-quoted, `Date`s by their time,
 * objects as canonical JSON (keys sorted).
 */
export function keyPart(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return Object.is(value, -0) ? '0' : String(value);
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return 'null'; // a missing value is the SQL null: equal to null
    case 'bigint':
      return `${value}n`;
    case 'object':
      if (value === null) return 'null';
      if (value instanceof Date) return `D${value.getTime()}`;
      return canonicalJson(value);
    default:
      return `?${String(value)}`;
  }
}

function canonicalJson(value: object): string {
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + keyPart(value[i]);
    return `${out}]`;
  }
  if (value instanceof Map) return `M${canonicalJson([...value.entries()])}`;
  if (value instanceof Set) return `S${canonicalJson([...value])}`;
  const keys = Object.keys(value).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    out += `${i === 0 ? '' : ','}${JSON.stringify(k)}:${keyPart((value as Record<string, unknown>)[k])}`;
  }
  return `${out}}`;
}

/**
 * The stable key of a single value: a number stays a number (`-0` becomes
 * `0`, `NaN` stays `NaN`, which a `Map` finds as itself), a string stays a
 * string, anything else becomes its encoded text prefixed with `\u0000` so
 * that it cannot equal a plain string key (a string starting with `\u0000`
 * is tagged and quoted too).
 */
export function stableKeyOf(value: unknown): StableKey {
  if (typeof value === 'number') return value === 0 ? 0 : value;
  // A string that itself starts with the tag is tagged too (JSON-quoted), so that no string equals the key of a null, a Date or an object.
  if (typeof value === 'string') return value.charCodeAt(0) === 0 ? `\u0000${JSON.stringify(value)}` : value;
  return `\u0000${keyPart(value)}`;
}

/** `true` for a field name written as is in a whole-row key: one without `:`, `,` or `"` (any other is JSON-quoted). */
const PLAIN_NAME = /^[^:,"]*$/;

/**
 * Builds the key of a whole row: every field, in sorted order, encoded with
 * {@link keyPart} after its name (JSON-quoted when it holds `:`, `,` or `"`,
 * so that no two rows share a key); a field holding `null` or `undefined` is
 * left out, as the SQL null a missing field is. Rows are usually of one shape, so the sorted field order of
 * the previous row is reused while the next row's fields come in the same
 * order (checked without allocating).
 */
function wholeRowKey(): (row: unknown) => StableKey {
  let order: string[] = [];
  let sorted: string[] = [];
  let names: string[] = [];
  return (row) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row) || row instanceof Date) return stableKeyOf(row);
    let i = 0;
    let same = true;
    for (const k in row) {
      if (!Object.prototype.hasOwnProperty.call(row, k)) continue;
      if (order[i] !== k) {
        same = false;
        break;
      }
      i++;
    }
    if (!same || i !== order.length) {
      order = Object.keys(row);
      sorted = [...order].sort();
      names = sorted.map((k) => (PLAIN_NAME.test(k) ? k : JSON.stringify(k)));
    }
    let out = '\u0001';
    let first = true;
    for (let j = 0; j < sorted.length; j++) {
      const v = (row as Record<string, unknown>)[sorted[j]!];
      // A null or undefined field is the SQL null, as a missing one is: {a: 1} and {a: 1, b: null} are one row.
      if (v === null || v === undefined) continue;
      out += `${first ? '' : ','}${names[j]!}:${keyPart(v)}`;
      first = false;
    }
    return out;
  };
}

/**
 * Resolves a {@link KeySpec} (a field name, a list of field names, or a
 * function of the row) into a fast key function. `spec` `undefined` means the
 * whole row when `allowWholeRow` is set.
 *
 * @throws {InvalidOptionError} `<operator>: <option> must be a field name, a non-empty list of field names or a function of the row; got <value>.`
 */
export function resolveKeySpec<T>(operator: string, spec: KeySpec<T> | undefined, option: string, allowWholeRow: boolean): ResolvedKey<T> {
  const fail = (): never => {
    throw new InvalidOptionError(
      `${operator}: ${option} must be a field name, a non-empty list of field names or a function of the row; got ${describeValue(spec)}.${allowWholeRow ? ' Leave it out to use the whole row.' : ''}`,
      option,
      spec,
      'a field name, a list of field names or a function',
    );
  };
  if (spec === undefined) {
    if (!allowWholeRow) fail();
    const keyOf = wholeRowKey() as (row: T) => StableKey;
    return { keyOf, valueOf: (row) => row, fields: [], descriptor: '<row>' };
  }
  if (typeof spec === 'function') {
    const fn = spec as (row: T) => unknown;
    return { keyOf: (row) => stableKeyOf(fn(row)), valueOf: (row) => fn(row), fields: undefined, descriptor: '<function>' };
  }
  if (typeof spec === 'string') {
    if (spec.length === 0) fail();
    const field = spec;
    if (isInheritedName(field)) {
      const read = columnReader(field) as (row: T) => unknown;
      return { keyOf: (row) => stableKeyOf(read(row) ?? null), valueOf: (row) => read(row) ?? null, fields: [field], descriptor: field };
    }
    return {
      keyOf: (row) => stableKeyOf((row as Record<string, unknown>)[field] ?? null),
      valueOf: (row) => (row as Record<string, unknown>)[field] ?? null,
      fields: [field],
      descriptor: field,
    };
  }
  if (!Array.isArray(spec) || spec.length === 0 || !spec.every((f) => typeof f === 'string' && f.length > 0)) return fail();
  const fields = [...(spec as readonly string[])];
  const n = fields.length;
  const readers = fields.map(columnReader);
  return {
    keyOf: (row) => {
      let out = keyPart(readers[0]!(row));
      for (let i = 1; i < n; i++) out += `,${keyPart(readers[i]!(row))}`;
      return out;
    },
    valueOf: (row) => {
      const key: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) setColumn(key, fields[i]!, readers[i]!(row) ?? null);
      return key;
    },
    fields,
    descriptor: fields,
  };
}

/** Encodes a {@link StableKey} as a checkpoint entry key (`n…` for numbers, `s…` for strings). */
export function encodeStableKey(key: StableKey): string {
  return typeof key === 'number' ? `n${key}` : `s${key}`;
}

/** Decodes {@link encodeStableKey}'s output; `undefined` for any other text. */
export function decodeStableKey(text: string): StableKey | undefined {
  if (text.startsWith('n')) return Number(text.slice(1));
  if (text.startsWith('s')) return text.slice(1);
  return undefined;
}

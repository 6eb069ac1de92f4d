import { InvalidValueError, describeType, describeValue } from '../errors/index.js';
import { setColumn } from '../internal/columns.js';

/**
 * The kind of a non-null value, as one Spark column type: `typeof` for
 * primitives, and `date`, `array` or `object` (a struct) for objects. Two
 * values of one group of `min`/`max`/`first`/`last` must share it.
 */
export function kindOf(v: unknown): string {
  const t = typeof v;
  if (t !== 'object') return t;
  if (v instanceof Date) return 'date';
  return Array.isArray(v) ? 'array' : 'object';
}

/** `true` when non-null `v` is of kind `kind` (one `typeof` for primitives). */
export function isOfKind(v: unknown, kind: string): boolean {
  const t = typeof v;
  return t !== 'object' ? t === kind : kindOf(v) === kind;
}

/** The error for two kinds of value in one group (or, for `orderBy`, in one sort column: `where` `'one column'`). */
export function mixedTypes(aggregate: string, field: string, seen: unknown, v: unknown, where = 'one group'): InvalidValueError {
  return new InvalidValueError(
    aggregate,
    field,
    v,
    `values of two types in ${where}: ${describeValue(seen)} (${describeType(seen)}) and ${describeValue(v)} (${describeType(v)})`,
    `A column has one type, as in Spark; give the source a schema or convert the field (mapRows) so that every row holds the same type.`,
  );
}

/**
 * A JSON-safe form of one value for checkpoints: `NaN`/`±Infinity`/`-0`, `Date`s
 * and bigints (which JSON loses or refuses) as tagged objects, also inside
 * arrays and plain objects (a struct's `Date` field stays a `Date`); an
 * object that looks like a tag is wrapped so it reads back as itself. Other
 * values (primitives, class instances) are as they are.
 */
export function encodeValue(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0) ? v : { $double: Object.is(v, -0) ? '-0' : String(v) };
  if (typeof v !== 'object' || v === null) return typeof v === 'bigint' ? { $bigint: String(v) } : v;
  if (v instanceof Date) return { $date: v.getTime() };
  // The common case, a row or list of plain JSON values, is returned as it is (no copy).
  if (isJsonSafe(v)) return v;
  if (Array.isArray(v)) return v.map(encodeValue);
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(v)) setColumn(out, name, encodeValue(v[name]));
  return looksTagged(out) ? { $object: out } : out;
}

/** Reads {@link encodeValue}'s output back. */
export function decodeValue(json: unknown): unknown {
  if (typeof json !== 'object' || json === null) return json;
  // The common case, plain JSON without a tag anywhere, is returned as it is (no copy).
  if (!hasTag(json)) return json;
  if (Array.isArray(json)) return json.map(decodeValue);
  const o = json as { $double?: unknown; $bigint?: unknown; $date?: unknown; $object?: unknown };
  if (typeof o.$double === 'string') return Number(o.$double);
  if (typeof o.$bigint === 'string') return BigInt(o.$bigint);
  if (typeof o.$date === 'number') return new Date(o.$date);
  const fields = '$object' in o && typeof o.$object === 'object' && o.$object !== null && !Array.isArray(o.$object) ? (o.$object as Record<string, unknown>) : (json as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(fields)) setColumn(out, name, decodeValue(fields[name]));
  return out;
}

/** `true` when JSON writes `v` so that it reads back equal (and not as a tag): nothing for {@link encodeValue} to do. */
function isJsonSafe(v: unknown): boolean {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'string':
    case 'boolean':
    case 'undefined':
      return true;
    case 'object': {
      if (v === null) return true;
      if (v instanceof Date) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!isJsonSafe(v[i])) return false;
        return true;
      }
      if (!isPlainObject(v)) return true; // left as it is anyway
      if (looksTagged(v)) return false;
      for (const name in v) if (Object.prototype.hasOwnProperty.call(v, name) && !isJsonSafe(v[name])) return false;
      return true;
    }
    default:
      return false;
  }
}

/** `true` when parsed JSON holds a tagged value (see {@link encodeValue}) anywhere. */
function hasTag(json: object): boolean {
  if (Array.isArray(json)) {
    for (let i = 0; i < json.length; i++) {
      const v: unknown = json[i];
      if (typeof v === 'object' && v !== null && hasTag(v)) return true;
    }
    return false;
  }
  if (looksTagged(json as Record<string, unknown>)) return true;
  for (const name in json) {
    const v: unknown = (json as Record<string, unknown>)[name];
    if (typeof v === 'object' && v !== null && hasTag(v)) return true;
  }
  return false;
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function looksTagged(o: Record<string, unknown>): boolean {
  return '$double' in o || '$bigint' in o || '$date' in o || '$object' in o;
}

import { InvalidValueError, describeType, describeValue } from '../errors/index.js';

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
 * A JSON-safe form of one value for checkpoints: `NaN`/`±Infinity`, `Date`s
 * and bigints (which JSON loses or refuses) as tagged objects; an object that
 * looks like a tag is wrapped so it reads back as itself.
 */
export function encodeValue(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : { $double: String(v) };
  if (typeof v === 'bigint') return { $bigint: String(v) };
  if (v instanceof Date) return { $date: v.getTime() };
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && ('$double' in v || '$bigint' in v || '$date' in v || '$object' in v)) return { $object: v };
  return v;
}

/** Reads {@link encodeValue}'s output back. */
export function decodeValue(json: unknown): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return json;
  const o = json as { $double?: unknown; $bigint?: unknown; $date?: unknown; $object?: unknown };
  if (typeof o.$double === 'string') return Number(o.$double);
  if (typeof o.$bigint === 'string') return BigInt(o.$bigint);
  if (typeof o.$date === 'number') return new Date(o.$date);
  if ('$object' in o) return o.$object;
  return json;
}

/**
 * Orders two non-null values the way Spark orders a column of one type:
 * numbers naturally with `NaN` above every other number and equal to itself
 * (Spark's `NaN` semantics), strings by code unit, `Date`s by time, booleans
 * false first, window structs by start then end, arrays element by element
 * (a prefix first), and other objects (structs) field by field in the first
 * one's field order; inside arrays and structs `null` comes first. Values of
 * different types order by type name, so the order is total (the operators
 * refuse two types in one column before it matters).
 */
export function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a < b) return -1;
    if (a > b) return 1;
    if (a === b) return 0;
    // At least one NaN: NaN is the largest number, equal to itself.
    return a !== a ? (b !== b ? 0 : 1) : -1;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Date && b instanceof Date) return compareValues(a.getTime(), b.getTime());
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = compareNullsFirst(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
  }
  if (isStruct(a) && isStruct(b)) {
    const wa = a as { start?: unknown; end?: unknown };
    const wb = b as { start?: unknown; end?: unknown };
    if (typeof wa.start === 'number' && typeof wb.start === 'number') {
      return compareValues(wa.start, wb.start) || compareValues(wa.end, wb.end);
    }
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    for (const k of Object.keys(ra)) {
      const c = compareNullsFirst(ra[k], Object.prototype.hasOwnProperty.call(rb, k) ? rb[k] : undefined);
      if (c !== 0) return c;
    }
    for (const k of Object.keys(rb)) {
      if (Object.prototype.hasOwnProperty.call(ra, k)) continue;
      const c = compareNullsFirst(undefined, rb[k]);
      if (c !== 0) return c;
    }
    return 0;
  }
  const ta = typeName(a);
  const tb = typeName(b);
  return ta < tb ? -1 : ta > tb ? 1 : 0;
}

/** {@link compareValues} with `null`/`undefined` below every value (Spark's order inside arrays and structs). */
function compareNullsFirst(a: unknown, b: unknown): number {
  const an = a === null || a === undefined;
  const bn = b === null || b === undefined;
  if (an || bn) return an && bn ? 0 : an ? -1 : 1;
  return compareValues(a, b);
}

function isStruct(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  return typeof v;
}

/**
 * Orders two non-null values the way Spark orders a column of one type:
 * numbers naturally with `NaN` above every other number and equal to itself
 * (Spark's `NaN` semantics), strings by code unit, `Date`s by time, booleans
 * false first, and window structs by start then end. Values of different
 * types order by type name, so the order is total.
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
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const wa = a as { start?: unknown; end?: unknown };
    const wb = b as { start?: unknown; end?: unknown };
    if (typeof wa.start === 'number' && typeof wb.start === 'number') {
      return compareValues(wa.start, wb.start) || compareValues(wa.end, wb.end);
    }
    return compareValues(JSON.stringify(a), JSON.stringify(b));
  }
  const ta = typeof a;
  const tb = typeof b;
  return ta < tb ? -1 : ta > tb ? 1 : 0;
}

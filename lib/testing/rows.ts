/** A canonical string for a row: object keys sorted, so that rows compare by value whatever their key order. */
export function canonicalRow(row: unknown): string {
  return JSON.stringify(row, (_key, value: unknown) => {
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(value).sort()) sorted[k] = (value as Record<string, unknown>)[k];
      return sorted;
    }
    return value;
  });
}

/** `true` when the two row lists hold the same rows as multisets (order ignored), like Spark's `CheckAnswer`. */
export function sameRows(actual: readonly unknown[], expected: readonly unknown[]): boolean {
  if (actual.length !== expected.length) return false;
  const a = actual.map(canonicalRow).sort();
  const e = expected.map(canonicalRow).sort();
  return a.every((row, i) => row === e[i]);
}

/**
 * Reading and writing columns of plain row objects by name, safely for every
 * name: `__proto__`, `constructor`, `toString` … are ordinary columns.
 *
 * A plain `row[name]` read finds `Object.prototype`'s members for those names
 * when the row lacks the column (`row.constructor` is `Object`), and a plain
 * `row.__proto__ = v` write sets the prototype instead of a column. Readers
 * built here check own properties for exactly those names (every other name
 * is one property read), and {@link setColumn} defines `__proto__` as an own
 * property.
 */

const INHERITED: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));
const hasOwn = Object.prototype.hasOwnProperty;

/** `true` for a name `Object.prototype` has (`__proto__`, `constructor`, `toString`, …). */
export function isInheritedName(name: string): boolean {
  return INHERITED.has(name);
}

/**
 * A function reading column `field` of a row: `undefined` when the row has no
 * such own column. A dotted name (`left.ts`) that is not itself a column reads
 * the nested column (`row.left.ts`), as Spark resolves `left.ts` on a struct
 * column — the way a downstream operator names a column of the default
 * `{ left, right }` rows of a join.
 */
export function columnReader(field: string): (row: unknown) => unknown {
  const dot = field.indexOf('.');
  if (dot > 0 && dot < field.length - 1) {
    const readHead = columnReader(field.slice(0, dot));
    const readRest = columnReader(field.slice(dot + 1));
    return (row) => {
      if (typeof row === 'object' && row !== null && hasOwn.call(row, field)) return (row as Record<string, unknown>)[field];
      const head = readHead(row);
      return typeof head === 'object' && head !== null ? readRest(head) : undefined;
    };
  }
  if (INHERITED.has(field)) {
    return (row) => (typeof row === 'object' && row !== null && hasOwn.call(row, field) ? (row as Record<string, unknown>)[field] : undefined);
  }
  return (row) => (row as Record<string, unknown>)[field];
}

/** Reads one column of a row (see {@link columnReader}); for one-off reads outside a per-row loop. */
export function readColumn(row: unknown, field: string): unknown {
  if (typeof row !== 'object' || row === null) return undefined;
  if (INHERITED.has(field) && !hasOwn.call(row, field)) return undefined;
  return (row as Record<string, unknown>)[field];
}

/** `true` when the row has column `field` as an own property (or, for a dotted name, the nested column, see {@link columnReader}). */
export function hasColumn(row: unknown, field: string): boolean {
  if (typeof row !== 'object' || row === null) return false;
  if (hasOwn.call(row, field)) return true;
  const dot = field.indexOf('.');
  if (dot <= 0 || dot >= field.length - 1) return false;
  const head = (row as Record<string, unknown>)[field.slice(0, dot)];
  // A null side of an outer join's row still has the column (its value is null).
  if (head === null && hasOwn.call(row, field.slice(0, dot))) return true;
  return hasColumn(head, field.slice(dot + 1));
}

/** Sets column `name` of `target` as an own, enumerable, writable property (also for `__proto__`). */
export function setColumn(target: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  else target[name] = value;
}

/** Copies the own enumerable columns of `source` into `target` with {@link setColumn} (an `Object.assign` that never sets a prototype). */
export function assignColumns(target: Record<string, unknown>, source: object): void {
  for (const name of Object.keys(source)) setColumn(target, name, (source as Record<string, unknown>)[name]);
}

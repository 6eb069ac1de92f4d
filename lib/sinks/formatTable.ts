import { readColumn } from '../internal/columns.js';

/** How nested values (structs) are printed: Spark 2.x `[a, b]` (as in the notes) or Spark 3.x `{a, b}`. */
export type StructFormat = 'spark2' | 'spark3';

/** Options for {@link formatTable} (Spark's `Dataset.show(numRows, truncate)`). */
export interface FormatTableOptions {
  /** Rows to print; a footer says when there were more. @defaultValue `20` */
  readonly numRows?: number;
  /** Cut cells longer than 20 characters (`true`), or than this many (a number); `false` or `0` prints them whole. Right-aligns cells when cutting, left-aligns otherwise, as Spark does. @defaultValue `true` */
  readonly truncate?: boolean | number;
  /** @defaultValue `'spark2'` */
  readonly structFormat?: StructFormat;
  /** The columns, in order; by default the fields of the rows in order of first appearance. */
  readonly columns?: readonly string[];
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** A timestamp as Spark prints it: `yyyy-MM-dd HH:mm:ss` in UTC, with the milliseconds when there are any (trailing zeros dropped). */
export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return 'null';
  const base = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  const millis = d.getUTCMilliseconds();
  if (millis === 0) return base;
  return `${base}.${String(millis).padStart(3, '0').replace(/0+$/, '')}`;
}

function isWindow(value: object): value is { start: number; end: number } {
  const w = value as { start?: unknown; end?: unknown };
  return typeof w.start === 'number' && typeof w.end === 'number' && Object.keys(value).length === 2;
}

/**
 * A cell as Spark's `show` prints it: `null`, strings as they are, timestamps
 * (`Date`s and window bounds) in UTC, arrays as `[a, b]`, structs as
 * `[a, b]` (Spark 2.x) or `{a, b}` (Spark 3.x).
 */
export function formatCell(value: unknown, structFormat: StructFormat = 'spark2'): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return formatTimestamp(value.getTime());
  if (Array.isArray(value)) return `[${value.map((v) => formatCell(v, structFormat)).join(', ')}]`;
  if (value instanceof Map) return `{${[...value].map(([k, v]) => `${formatCell(k, structFormat)} -> ${formatCell(v, structFormat)}`).join(', ')}}`;
  if (value instanceof Set) return `[${[...value].map((v) => formatCell(v, structFormat)).join(', ')}]`;
  if (typeof value === 'object') {
    const [open, close] = structFormat === 'spark3' ? ['{', '}'] : ['[', ']'];
    if (isWindow(value)) return `${open}${formatTimestamp(value.start)}, ${formatTimestamp(value.end)}${close}`;
    return `${open}${Object.values(value).map((v) => formatCell(v, structFormat)).join(', ')}${close}`;
  }
  return String(value);
}

/** Display width: East Asian wide and full-width characters count twice (Spark's `stringHalfWidth`). */
function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    const wide =
      (code >= 0x1100 && code <= 0x115f) ||
      (code >= 0x2e80 && code <= 0xa4cf) ||
      (code >= 0xac00 && code <= 0xd7a3) ||
      (code >= 0xf900 && code <= 0xfaff) ||
      (code >= 0xfe30 && code <= 0xfe4f) ||
      (code >= 0xff00 && code <= 0xff60) ||
      (code >= 0xffe0 && code <= 0xffe6) ||
      (code >= 0x20000 && code <= 0x3fffd);
    width += wide ? 2 : 1;
  }
  return width;
}

/** The columns of `rows`: their fields, in order of first appearance. */
export function columnsOf(rows: readonly unknown[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) {
    if (typeof row !== 'object' || row === null) {
      seen.add('value');
      continue;
    }
    for (const key of Object.keys(row)) seen.add(key);
  }
  return [...seen];
}

function cut(text: string, truncate: number): string {
  if (truncate <= 0 || text.length <= truncate) return text;
  return truncate < 4 ? text.slice(0, truncate) : `${text.slice(0, truncate - 3)}...`;
}

/**
 * Renders rows as the boxed table of Spark's `Dataset.show`: a `+---+`
 * separator, the header, a separator, one line per row, a separator, and
 * `only showing top N rows` when rows were left out. Columns are at least 3
 * wide. Ends with a newline.
 *
 * @example
 * ```ts
 * formatTable([{ action: 'open', id: 'phone1' }], { truncate: false });
 * // => '+------+------+\n|action|id    |\n+------+------+\n|open  |phone1|\n+------+------+\n'
 * ```
 */
export function formatTable(rows: readonly unknown[], options: FormatTableOptions = {}): string {
  const { numRows = 20, structFormat = 'spark2' } = options;
  const truncate = options.truncate === true || options.truncate === undefined ? 20 : options.truncate === false ? 0 : options.truncate;
  const shown = rows.length > numRows ? rows.slice(0, numRows) : rows;
  const columns = options.columns ?? columnsOf(rows);
  const table: string[][] = [columns.map((c) => cut(c, truncate))];
  for (const row of shown) {
    const record = typeof row === 'object' && row !== null ? (row as Record<string, unknown>) : { value: row };
    // readColumn: a row without a column named like an Object member (constructor, __proto__) shows null, not the inherited member.
    table.push(columns.map((c) => cut(formatCell(readColumn(record, c), structFormat), truncate)));
  }
  const widths = columns.map((_, i) => Math.max(3, ...table.map((cells) => displayWidth(cells[i]!))));
  const line = (cells: readonly string[]): string =>
    `|${cells
      .map((cell, i) => {
        const fill = ' '.repeat(widths[i]! - displayWidth(cell));
        return truncate > 0 ? fill + cell : cell + fill;
      })
      .join('|')}|\n`;
  const separator = `+${widths.map((w) => '-'.repeat(w)).join('+')}+\n`;
  let out = separator + line(table[0]!) + separator;
  for (let i = 1; i < table.length; i++) out += line(table[i]!);
  out += separator;
  if (rows.length > numRows) out += `only showing top ${numRows} ${numRows === 1 ? 'row' : 'rows'}\n`;
  return out;
}

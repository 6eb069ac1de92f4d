import { castToDouble } from '../aggregate/castToDouble.js';
import { InvalidOptionError, describeValue } from '../errors/index.js';
import { setColumn } from '../internal/columns.js';
import { MAX_EVENT_TIME_MS, parseIsoUtc } from '../time/eventTime.js';
import { timestampParser } from '../time/parseTimestamp.js';

/** A `timestamp` column written in a date-fns format (`{ type: 'timestamp', format: 'dd-MM-yyyy-HH-mm' }`), read as UTC unless the format has a zone. */
export interface TimestampColumn {
  readonly type: 'timestamp';
  readonly format: string;
}

/** A column type of a file source schema (Spark's `StructField` types). `number` is `double`. */
export type ColumnType = 'string' | 'integer' | 'long' | 'double' | 'number' | 'boolean' | 'timestamp' | TimestampColumn;

/** A schema: column names to types, in column order (Spark's `StructType`). A `timestamp` column becomes a `Date`. */
export type Schema = Readonly<Record<string, ColumnType>>;

/** The TypeScript type of a value of a column type. */
export type ColumnValue<C> = C extends 'string' ? string : C extends 'integer' | 'long' | 'double' | 'number' ? number : C extends 'boolean' ? boolean : C extends 'timestamp' | TimestampColumn ? Date : never;

/**
 * The row type a schema gives: one field per column, typed by the column's
 * type, `null` when the value is missing or (in `PERMISSIVE` mode) malformed.
 * Spark's columns are nullable too.
 */
export type RowOf<S extends Schema> = { -readonly [K in keyof S]: ColumnValue<S[K]> | null };

/** A CSV row read without a schema: every cell is text whose type is not known (numeric text to `sum`/`avg`), `null` when the cell is empty, `""` when it is a quoted empty string (`""`), as Spark reads them. */
export type CsvTextRow = Record<string, import('../types.js').NumericString | null>;

/**
 * Spark's reader modes for malformed records:
 * - `PERMISSIVE`: keep the record; a value that does not fit its column is
 *   `null`, and the record's text goes to the corrupt-record column when the
 *   schema has one (`_corrupt_record: 'string'`, or the name given as
 *   `columnNameOfCorruptRecord`); counted in `numMalformedRecords`;
 * - `DROPMALFORMED`: drop the record and count it (`numMalformedRecordsDropped`);
 * - `FAILFAST`: stop with a `MalformedRecordError` naming the file, line and column.
 */
export type ReaderMode = 'PERMISSIVE' | 'DROPMALFORMED' | 'FAILFAST';

/** The file formats the directory source reads. */
export type FileFormat = 'json' | 'csv' | 'text';

/** Why a record is malformed: the line it starts on, its text, the reason and the column at fault (when one is). */
export interface MalformedInfo {
  readonly line: number;
  readonly text: string;
  readonly reason: string;
  readonly column?: string;
}

/**
 * One parsed record, or why a line could not be parsed. A malformed record
 * also carries its `PERMISSIVE` form (`row`: values that fit, `null` for the
 * rest, the text in the corrupt-record column when the schema has one; without
 * a schema, the fields it has and its text in the corrupt-record column).
 */
export type ParsedRecord = { readonly row: Record<string, unknown> } | { readonly malformed: MalformedInfo; readonly row?: Record<string, unknown> };

const COLUMN_TYPES: readonly string[] = ['string', 'integer', 'long', 'double', 'number', 'boolean', 'timestamp'];

/** `true` for a known column type. */
export function isColumnType(value: unknown): value is ColumnType {
  if (typeof value === 'string') return COLUMN_TYPES.includes(value);
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'timestamp' && typeof (value as { format?: unknown }).format === 'string';
}

/** The name of a column type in messages (`timestamp (dd-MM-yyyy)` for a formatted one). */
export function columnTypeName(type: ColumnType): string {
  return typeof type === 'string' ? type : `timestamp (${type.format})`;
}

/** A type name with its article, for messages: `an integer`, `a double`. */
function articled(typeName: string): string {
  return `${/^[aeiou]/.test(typeName) ? 'an' : 'a'} ${typeName}`;
}

const INT_MAX = 2147483647;
const INT_MIN = -2147483648;

/**
 * Converts a value to a column type; `undefined` when it cannot be. `null`,
 * `undefined` (and `''` for every type but `string`, as Spark's CSV reader)
 * are `null`. Numbers follow Spark's parsing: `integer` is 32-bit, `long` is
 * limited to the integers a double holds exactly (beyond that a value would
 * silently change, so it is malformed), `double` text is cast as Spark casts
 * a string (`NaN`, `Infinity`, `1e3`); a `timestamp` is a `Date` from epoch
 * milliseconds (a number or numeric text), ISO-8601 text, or text in the
 * column's date-fns format.
 */
export function convertValue(value: unknown, type: ColumnType, parseFormatted?: (text: string) => number): unknown {
  if (value === null || value === undefined) return null;
  if (value === '' && type !== 'string') return null;
  switch (type) {
    case 'string':
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'integer':
    case 'long': {
      let n: number | undefined;
      if (typeof value === 'number') n = value;
      else if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) n = Number(value);
      if (n === undefined || !Number.isSafeInteger(n)) return undefined;
      if (type === 'integer' && (n > INT_MAX || n < INT_MIN)) return undefined;
      return n;
    }
    case 'double':
    case 'number': {
      if (typeof value === 'number') return value;
      if (typeof value === 'string') return castToDouble(value) ?? undefined;
      return undefined;
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string') {
        const lower = value.trim().toLowerCase();
        if (lower === 'true') return true;
        if (lower === 'false') return false;
      }
      return undefined;
    }
    default: {
      let ms = Number.NaN;
      if (value instanceof Date) ms = value.getTime();
      else if (typeof value === 'number') ms = value;
      else if (typeof value === 'string') {
        if (parseFormatted !== undefined) ms = parseFormatted(value);
        else if (/^\s*-?\d+\s*$/.test(value)) ms = Number(value);
        else ms = parseIsoUtc(value);
      }
      return Number.isFinite(ms) && Math.abs(ms) <= MAX_EVENT_TIME_MS ? new Date(Math.floor(ms)) : undefined;
    }
  }
}

/** A schema checked once, with a converter per column. */
export interface CompiledSchema {
  readonly names: readonly string[];
  readonly types: readonly ColumnType[];
  readonly convert: readonly ((value: unknown) => unknown)[];
}

/**
 * Checks a schema option and builds its converters.
 *
 * @throws {InvalidOptionError} `<op>: schema must map column names to … ; got …` for a type that is not one, or a bad timestamp format.
 */
export function compileSchema(op: string, schema: unknown): CompiledSchema {
  const bad = typeof schema !== 'object' || schema === null || Array.isArray(schema) ? schema : Object.entries(schema).find(([, t]) => !isColumnType(t));
  if (bad !== undefined || Object.keys(schema as object).length === 0) {
    throw new InvalidOptionError(
      `${op}: schema must map column names to 'string', 'integer', 'long', 'double', 'number', 'boolean' or 'timestamp'; got ${describeValue(bad ?? schema)}. A timestamp written in a date-fns format is { type: 'timestamp', format: 'dd-MM-yyyy HH:mm' }.`,
      'schema',
      schema,
      'a record of column types',
    );
  }
  const names = Object.keys(schema as object);
  const types = names.map((n) => (schema as Schema)[n]!);
  const convert = types.map((type, i) => {
    const parse = typeof type === 'object' ? timestampParser(type.format, `${op}: schema.${names[i]}.format`) : undefined;
    return (value: unknown) => convertValue(value, type, parse);
  });
  return { names, types, convert };
}

/** Options that say how malformed records are handled while parsing. */
interface ApplyOptions {
  /** The corrupt-record column, when the schema has it (as a `string` column). */
  readonly corruptColumn: string | undefined;
}

function applySchema(
  record: Record<string, unknown>,
  schema: CompiledSchema,
  options: ApplyOptions,
  text: string,
): { row: Record<string, unknown> } | { reason: string; column: string; row: Record<string, unknown> } {
  const row: Record<string, unknown> = {};
  let failure: { reason: string; column: string } | undefined;
  for (let i = 0; i < schema.names.length; i++) {
    const name = schema.names[i]!;
    if (name === options.corruptColumn) {
      setColumn(row, name, null);
      continue;
    }
    const raw = Object.prototype.hasOwnProperty.call(record, name) ? record[name] : undefined;
    const value = schema.convert[i]!(raw);
    if (value === undefined) {
      failure ??= { reason: `column ${name} is not ${articled(columnTypeName(schema.types[i]!))}: ${JSON.stringify(raw)}`, column: name };
      setColumn(row, name, null);
    } else setColumn(row, name, value);
  }
  if (failure === undefined) return { row };
  if (options.corruptColumn !== undefined) setColumn(row, options.corruptColumn, text);
  return { ...failure, row };
}

/**
 * Converts a parsed JSON value (e.g. a Kafka record's value) to a schema's
 * columns, as Spark's `from_json(col, schema)`: the row holds exactly the
 * schema's columns, each converted to its type, `null` when missing. A value
 * that is not a JSON object, or a field that does not fit its column, is
 * malformed: `reason` says why and `column` names the column at fault.
 */
export function convertObject(value: unknown, schema: CompiledSchema): { readonly row: Record<string, unknown> } | { readonly reason: string; readonly column?: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { reason: `not a JSON object: ${describeValue(value)}` };
  const converted = applySchema(value as Record<string, unknown>, schema, { corruptColumn: undefined }, '');
  return 'reason' in converted ? { reason: converted.reason, column: converted.column } : { row: converted.row };
}

/** The `PERMISSIVE` form of a record without a schema: its text in the corrupt-record column. */
function corruptRow(corruptName: string, text: string): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  setColumn(row, corruptName, text);
  return row;
}

/** The `PERMISSIVE` form of a record that could not be parsed at all: every column `null`, the text in the corrupt-record column. */
function nullRow(schema: CompiledSchema, options: ApplyOptions, text: string): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const name of schema.names) setColumn(row, name, name === options.corruptColumn ? text : null);
  return row;
}

/** One CSV record as {@link parseCsv} splits it. */
export interface CsvRecord {
  /** The line the record starts on (1-based). */
  readonly line: number;
  /** The fields' text, quotes removed. */
  readonly fields: string[];
  /** The record's text as it was in the file. */
  readonly text: string;
  /**
   * The indices of the fields written as a quoted empty string (`""`): an
   * empty string, where an unquoted empty field is a missing value (`null`),
   * as Spark's CSV reader tells them apart (its `emptyValue` and `nullValue`).
   */
  readonly quotedEmpty?: readonly number[];
  /** Why the record could not be split (an unterminated quote). */
  readonly error?: string;
}

/**
 * Splits CSV text into records (RFC 4180: quoted fields may hold commas,
 * doubled quotes and line breaks), each with the line number it starts on.
 * An unterminated quote makes the rest of the text one malformed record.
 */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const startIndex = i;
    const fields: string[] = [];
    let quotedEmpty: number[] | undefined;
    let field = '';
    let quoted = false;
    let wasQuoted = false;
    let fieldStarted = false;
    let done = false;
    while (i < n && !done) {
      const ch = text[i]!;
      if (quoted) {
        if (ch === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          quoted = false;
          i++;
          continue;
        }
        if (ch === '\n') line++;
        field += ch;
        i++;
        continue;
      }
      if (ch === '"' && !fieldStarted) {
        quoted = true;
        wasQuoted = true;
        fieldStarted = true;
        i++;
      } else if (ch === ',') {
        if (wasQuoted && field === '') (quotedEmpty ??= []).push(fields.length);
        fields.push(field);
        field = '';
        fieldStarted = false;
        wasQuoted = false;
        i++;
      } else if (ch === '\n' || ch === '\r') {
        i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
        line++;
        done = true;
      } else {
        field += ch;
        fieldStarted = true;
        i++;
      }
    }
    if (wasQuoted && field === '') (quotedEmpty ??= []).push(fields.length);
    fields.push(field);
    const raw = text.slice(startIndex, i).replace(/\r?\n$/, '');
    if (quoted) {
      records.push({ line: startLine, fields, text: raw, error: 'unterminated quoted field' });
      break;
    }
    if (raw.trim() === '' && fields.length === 1 && fields[0] === '' && quotedEmpty === undefined) continue;
    records.push(quotedEmpty === undefined ? { line: startLine, fields, text: raw } : { line: startLine, fields, text: raw, quotedEmpty });
  }
  return records;
}

/** Options for {@link parseRecords}. */
export interface ParseRecordsOptions {
  readonly format: FileFormat;
  /** A schema, or one compiled with {@link compileSchema}. */
  readonly schema?: Schema | CompiledSchema;
  /** CSV: the first record holds the column names. */
  readonly header?: boolean;
  /** The corrupt-record column name (used when the schema has it). @defaultValue `'_corrupt_record'` */
  readonly columnNameOfCorruptRecord?: string;
}

function isCompiled(schema: Schema | CompiledSchema): schema is CompiledSchema {
  return Array.isArray((schema as CompiledSchema).names) && Array.isArray((schema as CompiledSchema).convert);
}

/**
 * Parses the text of one file into records: JSON lines (one object per line,
 * blank lines skipped), CSV (column names from the header, else the schema,
 * else `_c0`, `_c1`, …) or text (`{ value: line }`). Without a schema, JSON
 * keeps its own types and CSV keeps text (Spark's `inferSchema = false`).
 * With a schema, rows hold exactly its columns, converted to their types
 * (missing ones are `null`); a value that cannot be converted makes the
 * record malformed, with its `PERMISSIVE` form alongside (without a schema:
 * the fields it has and its text in the corrupt-record column). Columns named
 * `__proto__` or `constructor` are ordinary columns.
 */
export function parseRecords(text: string, options: ParseRecordsOptions): ParsedRecord[] {
  const { format } = options;
  const schema = options.schema === undefined ? undefined : isCompiled(options.schema) ? options.schema : compileSchema('parseRecords', options.schema);
  const corruptName = options.columnNameOfCorruptRecord ?? '_corrupt_record';
  const apply: ApplyOptions = { corruptColumn: schema !== undefined && schema.names.includes(corruptName) ? corruptName : undefined };
  const out: ParsedRecord[] = [];
  if (format === 'text') {
    const lines = text.split(/\r?\n/);
    if (lines[lines.length - 1] === '') lines.pop();
    for (const value of lines) out.push({ row: { value } });
    return out;
  }
  // Without a schema the PERMISSIVE form is the record's text in the corrupt-record column, as Spark adds
  // `_corrupt_record` to a schema it infers when a record does not parse.
  const malformed = (info: MalformedInfo): ParsedRecord => ({ malformed: info, row: schema === undefined ? corruptRow(corruptName, info.text) : nullRow(schema, apply, info.text) });
  if (format === 'json') {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const lineText = lines[i]!.replace(/\r$/, '');
      if (lineText.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(lineText);
      } catch (error) {
        out.push(malformed({ line: i + 1, text: lineText, reason: `invalid JSON (${(error as Error).message})` }));
        continue;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        out.push(malformed({ line: i + 1, text: lineText, reason: 'not a JSON object' }));
        continue;
      }
      if (schema === undefined) {
        out.push({ row: parsed as Record<string, unknown> });
        continue;
      }
      const converted = applySchema(parsed as Record<string, unknown>, schema, apply, lineText);
      out.push('reason' in converted ? { malformed: { line: i + 1, text: lineText, reason: converted.reason, column: converted.column }, row: converted.row } : { row: converted.row });
    }
    return out;
  }
  const records = parseCsv(text);
  let names: readonly string[] | undefined;
  let first = 0;
  if (options.header === true && records.length > 0) {
    names = records[0]!.fields.map((f) => f.trim());
    first = 1;
  } else if (schema !== undefined) {
    names = schema.names.filter((n) => n !== apply.corruptColumn);
  }
  for (let r = first; r < records.length; r++) {
    const record = records[r]!;
    if (record.error !== undefined) {
      out.push(malformed({ line: record.line, text: record.text, reason: record.error }));
      continue;
    }
    const columns = names ?? record.fields.map((_, i) => `_c${i}`);
    const raw: Record<string, unknown> = {};
    const n = Math.min(columns.length, record.fields.length);
    const quotedEmpty = record.quotedEmpty;
    for (let c = 0; c < n; c++) {
      const value = record.fields[c]!;
      setColumn(raw, columns[c]!, value !== '' || (quotedEmpty !== undefined && quotedEmpty.includes(c)) ? value : null);
    }
    if (record.fields.length !== columns.length) {
      const info = { line: record.line, text: record.text, reason: `expected ${columns.length} columns, got ${record.fields.length}` };
      if (schema === undefined) {
        setColumn(raw, corruptName, record.text);
        out.push({ malformed: info, row: raw });
      } else {
        const partial = applySchema(raw, schema, apply, record.text);
        if (apply.corruptColumn !== undefined) setColumn(partial.row, apply.corruptColumn, record.text);
        out.push({ malformed: info, row: partial.row });
      }
      continue;
    }
    if (schema === undefined) {
      out.push({ row: raw });
      continue;
    }
    const converted = applySchema(raw, schema, apply, record.text);
    out.push('reason' in converted ? { malformed: { line: record.line, text: record.text, reason: converted.reason, column: converted.column }, row: converted.row } : { row: converted.row });
  }
  return out;
}

/**
 * Infers a CSV schema from records as Spark's `inferSchema` does: per column,
 * the narrowest type every non-empty value fits, tried in Spark's order
 * `integer`, `long`, `double`, `timestamp` (ISO-8601), `boolean`, else
 * `string`; two types of one column widen (`integer` + `double` is
 * `double`, anything + `string` is `string`); a column with no value is
 * `string`.
 */
export function inferCsvSchema(records: readonly Record<string, unknown>[], columns: readonly string[]): Schema {
  const order = ['integer', 'long', 'double', 'timestamp', 'boolean', 'string'] as const;
  type Inferred = (typeof order)[number] | undefined;
  const typeOf = (v: string): Inferred => {
    // Integer text beyond ±2^53 fits no type exactly (Spark infers a long, which a double cannot hold): it stays text, never a silently rounded double.
    if (/^\s*[+-]?\d+\s*$/.test(v) && convertValue(v, 'long') === undefined) return 'string';
    for (const t of order) if (t === 'string' || convertValue(v, t) !== undefined) return t;
    return 'string';
  };
  const widen = (a: Inferred, b: Inferred): Inferred => {
    if (a === undefined || a === b) return b;
    if (b === undefined) return a;
    const numeric = ['integer', 'long', 'double'];
    if (numeric.includes(a) && numeric.includes(b)) return numeric.indexOf(a) > numeric.indexOf(b) ? a : b;
    return 'string';
  };
  const schema: Record<string, ColumnType> = {};
  for (const name of columns) {
    let t: Inferred;
    for (const r of records) {
      const v = Object.prototype.hasOwnProperty.call(r, name) ? r[name] : undefined;
      if (typeof v === 'string' && v !== '') t = widen(t, typeOf(v));
      if (t === 'string') break;
    }
    setColumn(schema, name, t ?? 'string');
  }
  return schema;
}

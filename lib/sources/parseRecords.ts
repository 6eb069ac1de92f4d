import { parseIsoUtc } from '../time/eventTime.js';

/** A column type of a file source schema (Spark's `StructField` types). */
export type ColumnType = 'string' | 'integer' | 'long' | 'double' | 'number' | 'boolean' | 'timestamp';

/** A schema: column names to types, in column order (Spark's `StructType`). A `timestamp` column becomes a `Date`. */
export type Schema = Readonly<Record<string, ColumnType>>;

/** The file formats the directory source reads. */
export type FileFormat = 'json' | 'csv' | 'text';

/** One parsed record, or why a line could not be parsed. */
export type ParsedRecord = { readonly row: Record<string, unknown> } | { readonly malformed: { readonly line: number; readonly text: string; readonly reason: string } };

const COLUMN_TYPES: readonly ColumnType[] = ['string', 'integer', 'long', 'double', 'number', 'boolean', 'timestamp'];

/** `true` for a known column type. */
export function isColumnType(value: unknown): value is ColumnType {
  return typeof value === 'string' && (COLUMN_TYPES as readonly string[]).includes(value);
}

/** Converts a value to a column type; `undefined` when it cannot be. `null`, `undefined` and `''` (CSV) are `null`. */
export function convertValue(value: unknown, type: ColumnType): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'string':
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'integer':
    case 'long': {
      if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
      if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) {
        const n = Number(value);
        return Number.isSafeInteger(n) ? n : undefined;
      }
      return undefined;
    }
    case 'double':
    case 'number': {
      if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
      if (typeof value === 'string' && value.trim() !== '') {
        const n = Number(value);
        return Number.isFinite(n) ? n : undefined;
      }
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
    case 'timestamp': {
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
      if (typeof value === 'number') return Number.isFinite(value) ? new Date(value) : undefined;
      if (typeof value === 'string') {
        const ms = parseIsoUtc(value);
        return Number.isNaN(ms) ? undefined : new Date(ms);
      }
      return undefined;
    }
  }
}

function applySchema(record: Record<string, unknown>, schema: Schema): { row: Record<string, unknown> } | { reason: string } {
  const row: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(schema)) {
    const raw = record[name];
    const value = raw === '' && type !== 'string' ? null : convertValue(raw, type);
    if (value === undefined) return { reason: `column ${name} is not a ${type}: ${JSON.stringify(raw)}` };
    row[name] = value;
  }
  return { row };
}

/**
 * Splits CSV text into records (RFC 4180: quoted fields may hold commas,
 * doubled quotes and line breaks), each with the line number it starts on.
 * An unterminated quote makes the rest of the text one malformed record.
 */
export function parseCsv(text: string): { readonly line: number; readonly fields: string[]; readonly text: string; readonly error?: string }[] {
  const records: { line: number; fields: string[]; text: string; error?: string }[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const startIndex = i;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
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
        fieldStarted = true;
        i++;
      } else if (ch === ',') {
        fields.push(field);
        field = '';
        fieldStarted = false;
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
    fields.push(field);
    const raw = text.slice(startIndex, i).replace(/\r?\n$/, '');
    if (quoted) {
      records.push({ line: startLine, fields, text: raw, error: 'unterminated quoted field' });
      break;
    }
    if (raw.trim() === '' && fields.length === 1 && fields[0] === '') continue;
    records.push({ line: startLine, fields, text: raw });
  }
  return records;
}

/** Options for {@link parseRecords}. */
export interface ParseRecordsOptions {
  readonly format: FileFormat;
  readonly schema?: Schema;
  /** CSV: the first record holds the column names. */
  readonly header?: boolean;
}

/**
 * Parses the text of one file into records: JSON lines (one object per line,
 * blank lines skipped), CSV (column names from the header, else the schema,
 * else `_c0`, `_c1`, …) or text (`{ value: line }`). With a schema, rows hold
 * exactly its columns, converted to their types (missing ones are `null`); a
 * value that cannot be converted makes the record malformed.
 */
export function parseRecords(text: string, options: ParseRecordsOptions): ParsedRecord[] {
  const { format, schema } = options;
  const out: ParsedRecord[] = [];
  if (format === 'text') {
    const lines = text.split(/\r?\n/);
    if (lines[lines.length - 1] === '') lines.pop();
    for (const value of lines) out.push({ row: { value } });
    return out;
  }
  if (format === 'json') {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const lineText = lines[i]!.replace(/\r$/, '');
      if (lineText.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(lineText);
      } catch (error) {
        out.push({ malformed: { line: i + 1, text: lineText, reason: `invalid JSON (${(error as Error).message})` } });
        continue;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        out.push({ malformed: { line: i + 1, text: lineText, reason: 'not a JSON object' } });
        continue;
      }
      if (schema === undefined) {
        out.push({ row: parsed as Record<string, unknown> });
        continue;
      }
      const converted = applySchema(parsed as Record<string, unknown>, schema);
      out.push('row' in converted ? { row: converted.row } : { malformed: { line: i + 1, text: lineText, reason: converted.reason } });
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
    names = Object.keys(schema);
  }
  for (let r = first; r < records.length; r++) {
    const record = records[r]!;
    if (record.error !== undefined) {
      out.push({ malformed: { line: record.line, text: record.text, reason: record.error } });
      continue;
    }
    const columns = names ?? record.fields.map((_, i) => `_c${i}`);
    if (record.fields.length !== columns.length) {
      out.push({ malformed: { line: record.line, text: record.text, reason: `expected ${columns.length} columns, got ${record.fields.length}` } });
      continue;
    }
    const raw: Record<string, unknown> = {};
    for (let c = 0; c < columns.length; c++) {
      const value = record.fields[c]!;
      raw[columns[c]!] = value === '' ? null : value;
    }
    if (schema === undefined) {
      out.push({ row: raw });
      continue;
    }
    const converted = applySchema(raw, schema);
    out.push('row' in converted ? { row: converted.row } : { malformed: { line: record.line, text: record.text, reason: converted.reason } });
  }
  return out;
}

import { InvalidOptionError, MalformedRecordError, describeValue } from '../errors/index.js';
import { compileSchema, inferCsvSchema, parseCsv, parseRecords, type CompiledSchema, type FileFormat, type ReaderMode, type Schema } from './parseRecords.js';
import type { SourceContext } from './Source.js';

/** The options of a file source that decide how a file's text becomes rows. */
export interface FileRecordOptions {
  readonly format: FileFormat;
  readonly schema?: Schema | undefined;
  readonly header: boolean;
  readonly mode?: ReaderMode | undefined;
  readonly onMalformed?: 'error' | 'deadLetter' | undefined;
  readonly columnNameOfCorruptRecord?: string | undefined;
  readonly inferSchema?: boolean | undefined;
}

/** Turns the text of files into rows with the source's schema and reader mode, and counts what it dropped or kept malformed. */
export interface FileRecordReader {
  /** The schema's columns (with a schema, or once inferred); `undefined` when not known. */
  columns(): readonly string[] | undefined;
  /** The rows of one file (`path`), or a `MalformedRecordError` in `FAILFAST` mode. */
  rowsOf(text: string, path: string, context: SourceContext | undefined): unknown[];
  /** Counts since the last {@link FileRecordReader.startBatch}: `numMalformedRecords` (kept in `PERMISSIVE`), `numMalformedRecordsDropped`. */
  metrics(): Readonly<Record<string, number>>;
  /** Starts counting for a new batch. */
  startBatch(): void;
}

const MODES: readonly string[] = ['PERMISSIVE', 'DROPMALFORMED', 'FAILFAST'];

/**
 * Checks a file source's record options and builds its {@link FileRecordReader}.
 *
 * - `schema`: rows hold exactly its columns, converted (see `convertValue`).
 * - `mode` (Spark's reader modes): `PERMISSIVE` keeps a malformed record with
 *   `null` where a value does not fit (its text in the corrupt-record column
 *   when the schema has one; without a schema, the fields it has and its
 *   text in the corrupt-record column); `DROPMALFORMED` drops and counts it;
 *   `FAILFAST` stops with a `MalformedRecordError`. Without `mode`,
 *   `onMalformed` decides: `'error'` (the default, as `FAILFAST`) or
 *   `'deadLetter'` (to the query's dead-letter output, counted there).
 * - `inferSchema` (CSV without a schema): the schema is inferred from the
 *   first file read, as Spark's `inferSchema` does from its sample, and kept.
 *
 * @throws {InvalidOptionError} for a bad schema, mode, corrupt-record column name, or both `mode` and `onMalformed`, or `inferSchema` with a schema or a format other than CSV.
 */
export function fileRecordReader(op: string, description: string, options: FileRecordOptions): FileRecordReader {
  const { format, header, mode, onMalformed, columnNameOfCorruptRecord = '_corrupt_record', inferSchema = false } = options;
  let schema: CompiledSchema | undefined = options.schema === undefined ? undefined : compileSchema(op, options.schema);
  if (mode !== undefined && !MODES.includes(mode)) {
    throw new InvalidOptionError(`${op}: mode must be 'PERMISSIVE', 'DROPMALFORMED' or 'FAILFAST'; got ${describeValue(mode)}.`, 'mode', mode, "'PERMISSIVE' | 'DROPMALFORMED' | 'FAILFAST'");
  }
  if (mode !== undefined && onMalformed !== undefined) {
    throw new InvalidOptionError(`${op}: give either mode or onMalformed, not both; got mode ${describeValue(mode)} and onMalformed ${describeValue(onMalformed)}.`, 'mode', mode, 'one of mode and onMalformed');
  }
  if (onMalformed !== undefined && onMalformed !== 'error' && onMalformed !== 'deadLetter') {
    throw new InvalidOptionError(`${op}: onMalformed must be 'error' or 'deadLetter'; got ${describeValue(onMalformed)}.`, 'onMalformed', onMalformed, "'error' | 'deadLetter'");
  }
  if (typeof columnNameOfCorruptRecord !== 'string' || columnNameOfCorruptRecord.length === 0) {
    throw new InvalidOptionError(`${op}: columnNameOfCorruptRecord must be a column name; got ${describeValue(columnNameOfCorruptRecord)}.`, 'columnNameOfCorruptRecord', columnNameOfCorruptRecord, 'a column name');
  }
  if (schema !== undefined && schema.names.includes(columnNameOfCorruptRecord) && schema.types[schema.names.indexOf(columnNameOfCorruptRecord)] !== 'string') {
    throw new InvalidOptionError(
      `${op}: the corrupt-record column ${columnNameOfCorruptRecord} must be a 'string' column of the schema; got ${describeValue(schema.types[schema.names.indexOf(columnNameOfCorruptRecord)])}.`,
      'schema',
      options.schema,
      `${columnNameOfCorruptRecord}: 'string'`,
    );
  }
  if (inferSchema !== true && inferSchema !== false) {
    throw new InvalidOptionError(`${op}: inferSchema must be true or false; got ${describeValue(inferSchema)}.`, 'inferSchema', inferSchema, 'a boolean');
  }
  if (inferSchema && (schema !== undefined || format !== 'csv')) {
    throw new InvalidOptionError(
      `${op}: inferSchema applies to CSV without a schema; got inferSchema: true with ${schema !== undefined ? 'a schema' : `format ${describeValue(format)}`}. Leave it out or give the schema.`,
      'inferSchema',
      inferSchema,
      'CSV without a schema',
    );
  }
  const policy: ReaderMode | 'deadLetter' = mode ?? (onMalformed === 'deadLetter' ? 'deadLetter' : 'FAILFAST');
  let kept = 0;
  let dropped = 0;

  const infer = (text: string): CompiledSchema | undefined => {
    const records = parseCsv(text).filter((r) => r.error === undefined);
    if (records.length === 0) return undefined;
    const names = header ? records[0]!.fields.map((f) => f.trim()) : records[0]!.fields.map((_, i) => `_c${i}`);
    const sample = parseRecords(text, { format: 'csv', header }).flatMap((r) => ('malformed' in r ? [] : [r.row]));
    return compileSchema(op, inferCsvSchema(sample, names));
  };

  return {
    columns: () => (format === 'text' ? ['value'] : schema?.names),
    startBatch() {
      kept = 0;
      dropped = 0;
    },
    metrics: () => ({ ...(kept > 0 ? { numMalformedRecords: kept } : {}), ...(dropped > 0 ? { numMalformedRecordsDropped: dropped } : {}) }),
    rowsOf(text, path, context) {
      if (inferSchema && schema === undefined) schema = infer(text);
      const rows: unknown[] = [];
      for (const record of parseRecords(text, { format, header, columnNameOfCorruptRecord, ...(schema === undefined ? {} : { schema }) })) {
        if (!('malformed' in record)) {
          rows.push(record.row);
          continue;
        }
        const { line, text: lineText, reason, column } = record.malformed;
        if (policy === 'PERMISSIVE' && record.row !== undefined) {
          kept++;
          rows.push(record.row);
        } else if (policy === 'DROPMALFORMED' || policy === 'PERMISSIVE') {
          dropped++;
        } else if (policy === 'deadLetter' && context !== undefined) {
          context.deadLetter({ source: description, location: `${path}:${line}`, text: lineText, reason });
        } else {
          throw new MalformedRecordError(description, path, line, lineText, reason, column);
        }
      }
      return rows;
    },
  };
}

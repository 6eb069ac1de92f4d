import { watch, type FSWatcher } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Subject } from 'rxjs';
import { InvalidOptionError, MalformedRecordError, SourceError, describeValue } from '../errors/index.js';
import { isColumnType, parseRecords, type FileFormat, type Schema } from './parseRecords.js';
import type { Source, SourceContext } from './Source.js';

/** Options for {@link fromDirectory}. */
export interface FromDirectoryOptions {
  /** JSON lines, CSV or text (`{ value: line }`). @defaultValue `'json'` */
  readonly format?: FileFormat;
  /** Column names and types; rows then hold exactly these columns, converted (a `timestamp` becomes a `Date`). */
  readonly schema?: Schema;
  /** CSV: the first line of each file names the columns. @defaultValue `false` (as Spark) */
  readonly header?: boolean;
  /** Newest files first. @defaultValue `false` (oldest modification time first) */
  readonly latestFirst?: boolean;
  /** At most this many new files per batch (`{ once: true }` ignores it). @defaultValue no limit */
  readonly maxFilesPerTrigger?: number;
  /** A malformed line stops the query with a `MalformedRecordError` (`'error'`), or goes to the query's dead-letter output and is counted (`'deadLetter'`). @defaultValue `'error'` */
  readonly onMalformed?: 'error' | 'deadLetter';
  /** Only files whose name matches. @defaultValue every complete file */
  readonly pattern?: RegExp;
  /** Watch the directory to wake the default trigger at once (the runtime polls either way). @defaultValue `true` */
  readonly watch?: boolean;
}

/** The offset of a {@link fromDirectory} source: the log of every file read so far, in read order. */
export interface DirectoryOffset {
  /** The number of files in the log. */
  readonly logOffset: number;
  readonly files: readonly string[];
}

const TEMPORARY_SUFFIXES = ['.tmp', '.temp', '.part', '.partial', '.crdownload', '.swp', '.copying', '~'];

/** `true` for a name the directory source never reads: hidden or underscore names (`.x`, `_spark_metadata`) and files still being written (`.tmp`, `.part`, …). */
export function isIgnoredFileName(name: string): boolean {
  if (name.startsWith('.') || name.startsWith('_')) return true;
  const lower = name.toLowerCase();
  return TEMPORARY_SUFFIXES.some((suffix) => lower.endsWith(suffix));
}

function errorCode(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : String(error);
}

/**
 * Reads the files that appear in a directory, as a stream: each trigger's
 * batch holds the rows of the files that are new since the previous one, in
 * modification-time order (`latestFirst` reverses it), at most
 * `maxFilesPerTrigger` files per batch.
 *
 * Spark: `spark.readStream.schema(…).json(dir)` / `.csv(dir)` / `.text(dir)` (the file source).
 *
 * ```text
 * dir      --f1(a,b)---f2(c)--.f3.tmp--(renamed f3)(d)--
 * batches  --0(a,b)----1(c)------------2(d)-------------    f3 is read once renamed into place
 * ```
 *
 * Only complete files are read: names starting with `.` or `_` and temporary
 * names (`.tmp`, `.part`, `.crdownload`, …) are ignored, so a producer writes
 * a file under such a name and renames it into place. Files in
 * subdirectories are not read.
 *
 * **Offsets**: `{ logOffset, files }`, the log of the files read so far in
 * order, so a checkpoint can replay any batch exactly and a restarted query
 * never reads a file twice. (The log grows with the number of files.)
 *
 * **Malformed lines** (invalid JSON, wrong CSV column count, a value that
 * does not fit the schema) stop the query with a `MalformedRecordError`
 * naming the file and line, or with `onMalformed: 'deadLetter'` go to the
 * query's `deadLetter` output and are counted in progress
 * (`sources[0].metrics.numDeadLetterRecords`).
 *
 * @example
 * ```ts
 * const query = startQuery({
 *   source: fromDirectory('/data/monitor', { format: 'json', schema: { id: 'string', action: 'string', ts: 'timestamp' } }),
 *   sink: toConsole({ truncate: false }),
 * });
 * // => Batch: 0 … one table per batch of new files
 * ```
 *
 * @throws {InvalidOptionError} `fromDirectory: dir must be a non-empty directory path; got …`, and one per bad option (format, schema, maxFilesPerTrigger, onMalformed).
 * @throws {SourceError} (stops the query) when the directory does not exist or a file listed in the offsets is gone; retriable for other I/O errors.
 * @throws {MalformedRecordError} (stops the query) for a malformed line, unless `onMalformed: 'deadLetter'`.
 */
export function fromDirectory<T = Record<string, unknown>>(dir: string, options: FromDirectoryOptions = {}): Source<T, DirectoryOffset> {
  const op = 'fromDirectory';
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new InvalidOptionError(`${op}: dir must be a non-empty directory path; got ${describeValue(dir)}.`, 'dir', dir, 'a directory path');
  }
  const { format = 'json', schema, header = false, latestFirst = false, maxFilesPerTrigger, onMalformed = 'error', pattern, watch: watchDir = true } = options;
  if (format !== 'json' && format !== 'csv' && format !== 'text') {
    throw new InvalidOptionError(`${op}: format must be 'json', 'csv' or 'text'; got ${describeValue(format)}.`, 'format', format, "'json' | 'csv' | 'text'");
  }
  if (schema !== undefined) {
    const bad = typeof schema !== 'object' || schema === null ? schema : Object.entries(schema).find(([, t]) => !isColumnType(t));
    if (bad !== undefined) {
      throw new InvalidOptionError(
        `${op}: schema must map column names to 'string', 'integer', 'long', 'double', 'number', 'boolean' or 'timestamp'; got ${describeValue(bad)}.`,
        'schema',
        schema,
        'a record of column types',
      );
    }
  }
  if (maxFilesPerTrigger !== undefined && (!Number.isSafeInteger(maxFilesPerTrigger) || maxFilesPerTrigger < 1)) {
    throw new InvalidOptionError(`${op}: maxFilesPerTrigger must be a positive integer; got ${describeValue(maxFilesPerTrigger)}.`, 'maxFilesPerTrigger', maxFilesPerTrigger, 'a positive integer');
  }
  if (onMalformed !== 'error' && onMalformed !== 'deadLetter') {
    throw new InvalidOptionError(`${op}: onMalformed must be 'error' or 'deadLetter'; got ${describeValue(onMalformed)}.`, 'onMalformed', onMalformed, "'error' | 'deadLetter'");
  }

  const root = resolve(dir);
  const description = `FileStreamSource[${root}]`;
  const available = new Subject<void>();
  let watcher: FSWatcher | undefined;
  let context: SourceContext | undefined;
  let availableNow: Set<string> | undefined;
  let seenCache: { offset: DirectoryOffset | undefined; seen: Set<string> } = { offset: undefined, seen: new Set() };

  const seenOf = (offset: DirectoryOffset | undefined): Set<string> => {
    if (seenCache.offset !== offset) seenCache = { offset, seen: new Set(offset?.files ?? []) };
    return seenCache.seen;
  };

  const listComplete = async (): Promise<{ name: string; mtimeMs: number }[]> => {
    let names: string[];
    try {
      names = await readdir(root);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') throw new SourceError(description, `directory ${root} does not exist; got ENOENT. Create it before starting the query`, error, false);
      throw new SourceError(description, `cannot list ${root}; got ${errorCode(error)}`, error, true);
    }
    const files: { name: string; mtimeMs: number }[] = [];
    for (const name of names) {
      if (isIgnoredFileName(name) || (pattern !== undefined && !pattern.test(name))) continue;
      try {
        const info = await stat(join(root, name));
        if (info.isFile()) files.push({ name, mtimeMs: info.mtimeMs });
      } catch (error) {
        if (errorCode(error) === 'ENOENT') continue; // renamed or removed while listing
        throw new SourceError(description, `cannot stat ${join(root, name)}; got ${errorCode(error)}`, error, true);
      }
    }
    files.sort((a, b) => (a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) * (latestFirst ? -1 : 1));
    return files;
  };

  const readRows = async (name: string): Promise<T[]> => {
    const path = join(root, name);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') throw new SourceError(description, `file ${path} named in the offsets is gone; got ENOENT. Files must stay in the directory until their batch is committed`, error, false);
      throw new SourceError(description, `cannot read ${path}; got ${errorCode(error)}`, error, true);
    }
    const rows: T[] = [];
    for (const record of parseRecords(text, { format, header, ...(schema === undefined ? {} : { schema }) })) {
      if ('row' in record) {
        rows.push(record.row as T);
        continue;
      }
      const { line, text: lineText, reason } = record.malformed;
      if (onMalformed === 'error' || context === undefined) throw new MalformedRecordError(description, path, line, lineText, reason);
      context.deadLetter({ source: description, location: `${path}:${line}`, text: lineText, reason });
    }
    return rows;
  };

  return {
    description,
    dataAvailable$: available.asObservable(),
    supportsContinuous: false,
    async start(ctx) {
      context = ctx;
      await listComplete();
      if (watchDir) {
        try {
          watcher = watch(root, () => available.next());
          watcher.on('error', () => undefined);
        } catch {
          watcher = undefined; // polling still finds new files
        }
      }
    },
    async prepareForAvailableNow() {
      availableNow = new Set((await listComplete()).map((f) => f.name));
    },
    async latestOffset(start, limit) {
      const seen = seenOf(start);
      let fresh = (await listComplete()).filter((f) => !seen.has(f.name) && (availableNow === undefined || availableNow.has(f.name)));
      if (!limit.all && maxFilesPerTrigger !== undefined) fresh = fresh.slice(0, maxFilesPerTrigger);
      if (fresh.length === 0) return start;
      const files = [...(start?.files ?? []), ...fresh.map((f) => f.name)];
      return { logOffset: files.length, files };
    },
    async getBatch(start, end) {
      const names = end.files.slice(start?.logOffset ?? 0, end.logOffset);
      const rows: T[] = [];
      for (const name of names) {
        const fileRows = await readRows(name);
        for (const row of fileRows) rows.push(row);
      }
      return rows;
    },
    async commit() {
      // The offsets are the whole log; nothing to forget.
    },
    async stop() {
      watcher?.close();
      watcher = undefined;
    },
  };
}

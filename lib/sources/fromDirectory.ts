import { watch, type FSWatcher } from 'node:fs';
import { readFile, readdir, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { crc32 as nativeCrc32 } from 'node:zlib';
import { Subject } from 'rxjs';
import { atomicWrite, isTemporaryName, makeDirectory } from '../checkpoint/atomicWrite.js';
import type { ChecksumFn } from '../checkpoint/checksum.js';
import { corruptContent, frameJson, parseJsonBody, unframeFile } from '../checkpoint/fileFormat.js';
import { parseBatchFileName } from '../checkpoint/layout.js';
import { CheckpointIOError } from '../errors/CheckpointError.js';
import { InvalidOptionError, MalformedRecordError, SourceError, describeValue } from '../errors/index.js';
import { fileRecordReader } from './fileRecords.js';
import type { CsvTextRow, FileFormat, ReaderMode, RowOf, Schema } from './parseRecords.js';
import type { Source, SourceContext } from './Source.js';

/** Options for {@link fromDirectory}. */
export interface FromDirectoryOptions {
  /** JSON lines, CSV or text (`{ value: line }`). @defaultValue `'json'` */
  readonly format?: FileFormat;
  /**
   * Column names and types (`string`, `integer`, `long`, `double`, `boolean`,
   * `timestamp`, or `{ type: 'timestamp', format }` for a date-fns format);
   * rows then hold exactly these columns, converted (a `timestamp` becomes a
   * `Date`), and are typed from the schema. See docs/guides/types-and-schemas.md.
   */
  readonly schema?: Schema;
  /** CSV without a schema: infer one from the first file read (Spark's `inferSchema`). @defaultValue `false` (every value stays text) */
  readonly inferSchema?: boolean;
  /** Spark's reader mode for malformed records: `'PERMISSIVE'`, `'DROPMALFORMED'` or `'FAILFAST'`. @defaultValue as `onMalformed` */
  readonly mode?: ReaderMode;
  /** The column `PERMISSIVE` puts a malformed record's text in, when the schema has it as a `string` column. @defaultValue `'_corrupt_record'` */
  readonly columnNameOfCorruptRecord?: string;
  /** CSV: the first line of each file names the columns. @defaultValue `false` (as Spark) */
  readonly header?: boolean;
  /** Newest files first. @defaultValue `false` (oldest modification time first) */
  readonly latestFirst?: boolean;
  /** At most this many new files per batch (`{ once: true }` ignores it). @defaultValue no limit */
  readonly maxFilesPerTrigger?: number;
  /** Without `mode`: a malformed line stops the query with a `MalformedRecordError` (`'error'`, Spark's `FAILFAST`), or goes to the query's dead-letter output and is counted (`'deadLetter'`). @defaultValue `'error'` */
  readonly onMalformed?: 'error' | 'deadLetter';
  /** Only files whose name matches. @defaultValue every complete file */
  readonly pattern?: RegExp;
  /** Watch the directory to wake the default trigger at once (the runtime polls either way). @defaultValue `true` */
  readonly watch?: boolean;
}

/**
 * The offset of a {@link fromDirectory} source: the id of the last entry of
 * the source's own file log (Spark's `FileStreamSourceOffset`). Entry `L`
 * lists the files planned under `L`; the batch `(start, end]` reads the files
 * of entries `start.logOffset + 1 … end.logOffset`.
 */
export interface DirectoryOffset {
  /** The id of the last file-log entry covered (0 for the first). */
  readonly logOffset: number;
  /**
   * Only in offsets written by versions before the file log: every file read
   * so far, in read order (`logOffset` then counts them). Still read when a
   * query restarts from such a checkpoint; never written.
   */
  readonly files?: readonly string[];
}

/** The body of a file-log entry (`<checkpoint>/sources/<i>/<logOffset>`). */
interface FileLogEntry {
  readonly logOffset: number;
  readonly files: readonly string[];
}

const checksum: ChecksumFn = (data, previous) => nativeCrc32(data, previous);

/** The last file-log entry an offset covers: `logOffset`, or for an old `{ logOffset: count, files }` offset `count - 1`. */
function lastEntryOf(offset: DirectoryOffset | undefined): number {
  if (offset === undefined) return -1;
  return offset.files === undefined ? offset.logOffset : offset.logOffset - 1;
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
 * **Offsets**: `{ logOffset }`, the id of an entry of the source's own file
 * log. The files of each planned batch are written once, before the offset
 * is used, to `<checkpoint>/sources/0/<logOffset>` (atomically, framed and
 * checksummed; in memory without a checkpoint directory), so a checkpoint
 * replays any batch exactly, a restarted query never reads a file twice and
 * each `offsets/N` stays the same small size however many files were read.
 * Old offsets `{ logOffset, files }` are still read.
 *
 * **Schema**: with `schema`, rows hold exactly its columns, converted as
 * Spark converts them, and are typed from it (`RowOf<typeof schema>`); the
 * source publishes its columns, so `startQuery` resolves the columns the
 * pipeline names before the query starts. A CSV without a schema keeps its
 * values as text (`inferSchema: true` infers the types from the first file).
 * See docs/guides/types-and-schemas.md.
 *
 * **Malformed lines** (invalid JSON, wrong CSV column count, a value that
 * does not fit the schema) follow Spark's reader `mode`: `FAILFAST` (the
 * default) stops the query with a `MalformedRecordError` naming the file,
 * line and column; `PERMISSIVE` keeps the record with nulls (its text in the
 * schema's `_corrupt_record` column, if it has one) and `DROPMALFORMED` drops
 * it, both counted in progress (`sources[0].metrics.numMalformedRecords`,
 * `numMalformedRecordsDropped`); with `onMalformed: 'deadLetter'` they go to
 * the query's `deadLetter` output and are counted in progress
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
 * @throws {InvalidOptionError} `fromDirectory: dir must be a non-empty directory path; got …`, and one per bad option (format, schema, mode, inferSchema, columnNameOfCorruptRecord, maxFilesPerTrigger, onMalformed).
 * @throws {SourceError} (stops the query) when the directory does not exist, a file listed in the offsets is gone or an offset names a file-log entry the source does not have; retriable for other I/O errors.
 * @throws {CheckpointCorruptError} (stops the query) when an entry of the file log is torn, truncated or damaged (with its path).
 * @throws {MalformedRecordError} (stops the query) for a malformed line, unless `mode` is `'PERMISSIVE'` or `'DROPMALFORMED'` or `onMalformed` is `'deadLetter'`.
 */
export function fromDirectory<const S extends Schema>(dir: string, options: FromDirectoryOptions & { readonly schema: S }): Source<RowOf<S>, DirectoryOffset>;
export function fromDirectory(dir: string, options: FromDirectoryOptions & { readonly format: 'csv'; readonly schema?: undefined; readonly inferSchema?: false }): Source<CsvTextRow, DirectoryOffset>;
export function fromDirectory(dir: string, options: FromDirectoryOptions & { readonly format: 'text' }): Source<{ value: string }, DirectoryOffset>;
export function fromDirectory<T = Record<string, unknown>>(dir: string, options?: FromDirectoryOptions): Source<T, DirectoryOffset>;
export function fromDirectory<T = Record<string, unknown>>(dir: string, options: FromDirectoryOptions = {}): Source<T, DirectoryOffset> {
  const op = 'fromDirectory';
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new InvalidOptionError(`${op}: dir must be a non-empty directory path; got ${describeValue(dir)}.`, 'dir', dir, 'a directory path');
  }
  const { format = 'json', schema, header = false, latestFirst = false, maxFilesPerTrigger, onMalformed, pattern, watch: watchDir = true } = options;
  if (format !== 'json' && format !== 'csv' && format !== 'text') {
    throw new InvalidOptionError(`${op}: format must be 'json', 'csv' or 'text'; got ${describeValue(format)}.`, 'format', format, "'json' | 'csv' | 'text'");
  }
  if (maxFilesPerTrigger !== undefined && (!Number.isSafeInteger(maxFilesPerTrigger) || maxFilesPerTrigger < 1)) {
    throw new InvalidOptionError(`${op}: maxFilesPerTrigger must be a positive integer; got ${describeValue(maxFilesPerTrigger)}.`, 'maxFilesPerTrigger', maxFilesPerTrigger, 'a positive integer');
  }

  const root = resolve(dir);
  const description = `FileStreamSource[${root}]`;
  const records = fileRecordReader(op, description, { format, schema, header, mode: options.mode, onMalformed, columnNameOfCorruptRecord: options.columnNameOfCorruptRecord, inferSchema: options.inferSchema });
  const available = new Subject<void>();
  let watcher: FSWatcher | undefined;
  let context: SourceContext | undefined;
  let availableNow: Set<string> | undefined;
  /** The file log: entry id → the files planned under it (loaded from `metadataDir` on start). */
  let fileLog = new Map<number, readonly string[]>();
  /** The highest entry id in the file log, -1 when empty. */
  let lastEntry = -1;
  /** Every file in the file log or in an old-style offset: never read again. */
  let seen = new Set<string>();
  let metadataDir: string | undefined;
  let logDirReady = false;
  let legacySeen: DirectoryOffset | undefined;

  const entryPath = (logOffset: number): string => join(metadataDir!, String(logOffset));

  /** Reads the file log in `metadataDir`; a damaged entry stops the query (`CheckpointCorruptError` with its path). */
  const loadFileLog = async (logDir: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(logDir);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw new CheckpointIOError(`checkpoint: cannot list ${logDir}; got ${errorCode(error)}. Check the checkpoint location's permissions.`, logDir, error);
      names = [];
    }
    const log = new Map<number, readonly string[]>();
    const files = new Set<string>();
    let last = -1;
    for (const name of names) {
      if (isTemporaryName(name)) {
        await unlink(join(logDir, name)).catch(() => undefined); // left by an interrupted write
        continue;
      }
      const id = parseBatchFileName(name);
      if (id === undefined) continue;
      const path = join(logDir, name);
      let bytes: Uint8Array;
      try {
        bytes = await readFile(path);
      } catch (error) {
        throw new CheckpointIOError(`checkpoint: cannot read ${path}; got ${errorCode(error)}. Check the checkpoint location's permissions and disk.`, path, error);
      }
      const value = parseJsonBody(unframeFile(bytes, path, 'source', checksum), path) as Partial<FileLogEntry> | null;
      if (typeof value !== 'object' || value === null || value.logOffset !== id || !Array.isArray(value.files) || !value.files.every((f) => typeof f === 'string')) {
        throw corruptContent(path, 'a file-log entry of the wrong shape');
      }
      log.set(id, value.files);
      for (const f of value.files) files.add(f);
      if (id > last) last = id;
    }
    fileLog = log;
    seen = files;
    lastEntry = last;
  };

  /** Adds entry `logOffset` to the file log: durably (atomic, framed, checksummed) before anyone can use it. */
  const appendEntry = async (logOffset: number, files: readonly string[]): Promise<void> => {
    if (metadataDir !== undefined) {
      const path = entryPath(logOffset);
      try {
        if (!logDirReady) await makeDirectory(metadataDir);
        logDirReady = true;
        await atomicWrite(path, frameJson('source', { logOffset, files } satisfies FileLogEntry, checksum));
      } catch (error) {
        throw new CheckpointIOError(`checkpoint: cannot write ${path}; got ${errorCode(error)}. Check the checkpoint location's permissions and free space.`, path, error);
      }
    }
    fileLog.set(logOffset, files);
    for (const f of files) seen.add(f);
    lastEntry = logOffset;
  };

  /** Remembers the files of an old-style offset `{ logOffset, files }` as read. */
  const rememberLegacy = (offset: DirectoryOffset | undefined): void => {
    if (offset?.files === undefined || offset === legacySeen) return;
    legacySeen = offset;
    for (const f of offset.files) seen.add(f);
  };

  const missingEntry = (logOffset: number): SourceError =>
    new SourceError(
      description,
      `the offsets name file-log entry ${logOffset}, which this source does not have${metadataDir === undefined ? ' (the query has no checkpoint directory, so the log is kept in memory by the source instance that wrote it)' : ` in ${metadataDir}`}; got a checkpoint without its source log. Restore ${metadataDir ?? 'the log'} or start the query with a new checkpoint location`,
      undefined,
      false,
    );

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
    const rows = records.rowsOf(text, path, context) as T[];
    return rows;
  };

  return {
    description,
    dataAvailable$: available.asObservable(),
    supportsContinuous: false,
    async start(ctx) {
      context = ctx;
      await listComplete();
      metadataDir = ctx.metadataDir;
      logDirReady = false;
      // Without a checkpoint directory the log stays in memory, with this source instance.
      if (metadataDir !== undefined) await loadFileLog(metadataDir);
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
      rememberLegacy(start);
      const from = lastEntryOf(start);
      // A new-style offset past the log: the log that says which files were read is not here; never re-read them silently.
      if (start !== undefined && start.files === undefined && from > lastEntry) throw missingEntry(from);
      const limited = !limit.all && maxFilesPerTrigger !== undefined;
      // Entries planned after `start` but not committed (a crash or stop before offsets/N, or a deleted
      // offsets/N): run them first, one per batch, so that each batch is planned again exactly as it ran.
      if (lastEntry > from) return { logOffset: from + 1 };
      let fresh = (await listComplete()).filter((f) => !seen.has(f.name) && (availableNow === undefined || availableNow.has(f.name)));
      if (limited) fresh = fresh.slice(0, maxFilesPerTrigger);
      if (fresh.length > 0) await appendEntry(Math.max(lastEntry, from) + 1, fresh.map((f) => f.name));
      if (lastEntry <= from) return start;
      return { logOffset: lastEntry };
    },
    async replannableBatches(start) {
      return Math.max(0, lastEntry - lastEntryOf(start));
    },
    async getBatch(start, end) {
      records.startBatch();
      let names: readonly string[];
      if (end.files !== undefined) {
        names = end.files.slice(start?.logOffset ?? 0, end.logOffset);
      } else {
        const collected: string[] = [];
        for (let id = lastEntryOf(start) + 1; id <= end.logOffset; id++) {
          const files = fileLog.get(id);
          if (files === undefined) throw missingEntry(id);
          for (const f of files) collected.push(f);
        }
        names = collected;
      }
      const rows: T[] = [];
      for (const name of names) {
        const fileRows = await readRows(name);
        for (const row of fileRows) rows.push(row);
      }
      return rows;
    },
    progressMetrics: () => records.metrics(),
    get columns() {
      return records.columns();
    },
    async commit() {
      // The file log is kept: a restart rebuilds the set of files read from it.
    },
    async stop() {
      watcher?.close();
      watcher = undefined;
    },
  };
}

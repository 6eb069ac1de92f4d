import { constants, watch, type FSWatcher } from 'node:fs';
import { access, lstat, readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Subject } from 'rxjs';
import { InvalidOptionError, MalformedRecordError, SourceError, describeValue } from '../errors/index.js';
import { parseDuration } from '../time/parseDuration.js';
import type { Duration } from '../types.js';
import { FileSourceLog, isFileLogEntry, type FileLogEntry } from './fileSourceLog.js';
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
  /**
   * Forget files more than this much older (by modification time) than the
   * newest file seen, and skip (and count) new files that old, as Spark's
   * `maxFileAge`: this bounds the set of seen files and the file log. Ignored,
   * as in Spark, with `latestFirst` and `maxFilesPerTrigger` both set.
   * `Infinity` keeps every file forever. @defaultValue `'7 days'` (as Spark)
   */
  readonly maxFileAge?: Duration;
  /** Compact the file log every this many committed entries into one `<K>.compact` file. @defaultValue `10` (Spark's `fileSource.log.compactInterval`) */
  readonly compactInterval?: number;
  /**
   * A file the file log names that is gone (or unreadable) when its batch
   * reads it: report it to the query's dead-letter output and count it in
   * progress (`numMissingFiles`), then go on without its rows
   * (`'deadLetter'`), or stop the query with a `SourceError` that says how
   * to go on (`'error'`). @defaultValue `'deadLetter'`
   */
  readonly onMissingFile?: 'deadLetter' | 'error';
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

/** What {@link fromDirectory} gives a sink to keep with a batch (`Source.describePlan`): the file-log entries the batch read. */
interface DirectoryPlan {
  readonly entries: readonly FileLogEntry[];
}

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
 * log. The files of each planned batch (with their modification times) are
 * written once, before the offset is used, to `<checkpoint>/sources/0/<logOffset>`
 * (atomically, framed and checksummed; in memory without a checkpoint
 * directory), so a checkpoint replays any batch exactly, a restarted query
 * never reads a file twice and each `offsets/N` stays the same small size
 * however many files were read. Old offsets `{ logOffset, files }` are still read.
 *
 * **Bounded log** (Spark's `FileStreamSourceLog` compaction and `maxFileAge`):
 * every `compactInterval` committed entries are folded into one
 * `<K>.compact` file, keeping only files younger than `maxFileAge` (measured
 * from the newest file seen); the set of seen files forgets older files, and
 * a new file that old is skipped and counted (`numFilesTooOld`). A missing
 * entry of the log (deleted by hand) is reported (`CheckpointCorruptError`),
 * never a silent re-read of its files.
 *
 * **Accidents**: an entry the listing cannot examine (a symbolic link loop,
 * a dangling link, no permission) is skipped, reported once to the
 * dead-letter output and counted (`numUnreadableEntries`); the other files
 * are read. A planned file gone when its batch reads it is reported to the
 * dead-letter output and counted (`numMissingFiles`), and the batch goes on
 * without its rows; with `onMissingFile: 'error'` the query stops instead,
 * with the way on in the message. Either way a restart is never blocked.
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
 * @throws {InvalidOptionError} `fromDirectory: dir must be a non-empty directory path; got …`, and one per bad option (format, schema, mode, inferSchema, columnNameOfCorruptRecord, maxFilesPerTrigger, onMalformed, maxFileAge, compactInterval, onMissingFile).
 * @throws {SourceError} (stops the query) when the directory does not exist, an offset names a file-log entry the source does not have, or (with `onMissingFile: 'error'`) a planned file is gone; retriable for other I/O errors.
 * @throws {CheckpointCorruptError} (stops the query) when an entry of the file log is torn, truncated, damaged or missing (with its path).
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

  const { onMissingFile = 'deadLetter', compactInterval = 10 } = options;
  if (onMissingFile !== 'deadLetter' && onMissingFile !== 'error') {
    throw new InvalidOptionError(`${op}: onMissingFile must be 'deadLetter' or 'error'; got ${describeValue(onMissingFile)}.`, 'onMissingFile', onMissingFile, "'deadLetter' | 'error'");
  }
  if (!Number.isSafeInteger(compactInterval) || compactInterval < 1) {
    throw new InvalidOptionError(`${op}: compactInterval must be a positive integer; got ${describeValue(compactInterval)}.`, 'compactInterval', compactInterval, 'a positive integer');
  }
  const maxFileAgeMs =
    options.maxFileAge === Infinity ? Infinity : parseDuration(options.maxFileAge ?? '7 days', { option: `${op}: maxFileAge` });
  if (!(maxFileAgeMs >= 0)) {
    throw new InvalidOptionError(`${op}: maxFileAge must not be negative; got ${describeValue(options.maxFileAge)}.`, 'maxFileAge', options.maxFileAge, 'a Duration or Infinity');
  }
  // As in Spark: with latestFirst and maxFilesPerTrigger, old files are what the user wants read, so no age bound.
  const ageBoundMs = latestFirst && maxFilesPerTrigger !== undefined ? Infinity : maxFileAgeMs;

  const root = resolve(dir);
  const description = `FileStreamSource[${root}]`;
  const records = fileRecordReader(op, description, { format, schema, header, mode: options.mode, onMalformed, columnNameOfCorruptRecord: options.columnNameOfCorruptRecord, inferSchema: options.inferSchema });
  const available = new Subject<void>();
  let watcher: FSWatcher | undefined;
  let context: SourceContext | undefined;
  let availableNow: Set<string> | undefined;
  /** The file log (loaded from `metadataDir` on start; in memory without a checkpoint directory). */
  let log = new FileSourceLog(undefined, compactInterval, ageBoundMs);
  let metadataDir: string | undefined;
  let legacySeen: DirectoryOffset | undefined;
  /** Entries reported once per source instance: name → reason. */
  const reported = new Map<string, string>();
  /** The last listing's counts, and per planned entry / per batch end the counts of the batch (progress is built after the next batch may be planned). */
  const listing = { numUnreadableEntries: 0, numFilesTooOld: 0 };
  const plannedCounts = new Map<number, { numUnreadableEntries: number; numFilesTooOld: number }>();
  const missingByEnd = new Map<number, number>();
  const remember = <V>(map: Map<number, V>, key: number, value: V): void => {
    map.set(key, value);
    if (map.size > 64) map.delete(map.keys().next().value!);
  };

  /** Remembers the files of an old-style offset `{ logOffset, files }` as read. */
  const rememberLegacy = (offset: DirectoryOffset | undefined): void => {
    if (offset?.files === undefined || offset === legacySeen) return;
    legacySeen = offset;
    for (const f of offset.files) log.seen.add(f, undefined);
  };

  const missingEntry = (logOffset: number, compacted = false): SourceError =>
    new SourceError(
      description,
      compacted
        ? `the offsets name file-log entry ${logOffset}, which the log compacted away (every file it listed is older than maxFileAge); got a checkpoint whose offsets are older than its source log. Restore the whole checkpoint directory from one copy, or start the query with a new checkpoint location`
        : `the offsets name file-log entry ${logOffset}, which this source does not have${metadataDir === undefined ? ' (the query has no checkpoint directory, so the log is kept in memory by the source instance that wrote it)' : ` in ${metadataDir}`}; got a checkpoint without its source log. Restore ${metadataDir ?? 'the log'} or start the query with a new checkpoint location`,
      undefined,
      false,
    );

  /** Reports an entry the source cannot use, once per name: to the dead-letter output, with the reason. */
  const report = (path: string, reason: string): void => {
    if (reported.get(path) === reason) return;
    reported.set(path, reason);
    context?.deadLetter({ source: description, location: path, text: '', reason });
  };

  /**
   * The complete files in the directory, oldest first (newest first with
   * `latestFirst`). An entry that cannot be examined (a symlink loop, a
   * dangling link, no permission) is skipped, reported once and counted in
   * `numUnreadableEntries`; it does not fail the listing. Only a directory
   * that cannot be listed does.
   */
  const listComplete = async (): Promise<{ name: string; mtimeMs: number }[]> => {
    let names: string[];
    try {
      names = await readdir(root);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') throw new SourceError(description, `directory ${root} does not exist; got ENOENT. Create it before starting the query`, error, false);
      throw new SourceError(description, `cannot list ${root}; got ${errorCode(error)}`, error, true);
    }
    const files: { name: string; mtimeMs: number }[] = [];
    let unreadable = 0;
    for (const name of names) {
      if (isIgnoredFileName(name) || (pattern !== undefined && !pattern.test(name))) continue;
      const path = join(root, name);
      try {
        const info = await stat(path);
        if (!info.isFile()) continue;
        // A file not yet read must be readable now; one already read is not opened again.
        if (!log.seen.has(name)) await access(path, constants.R_OK);
        files.push({ name, mtimeMs: info.mtimeMs });
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT') {
          // Removed while listing, or a symbolic link to nothing (reported: it will not be read until its target exists).
          const link = await lstat(path).then(
            (info) => info.isSymbolicLink(),
            () => false,
          );
          if (!link) continue;
        }
        unreadable++;
        report(path, `entry ${path} cannot be read (${code}${code === 'ELOOP' ? ': a symbolic link loop' : code === 'EACCES' || code === 'EPERM' ? ': no permission' : code === 'ENOENT' ? ': a symbolic link to nothing' : ''}); skipped until it can be read`);
      }
    }
    listing.numUnreadableEntries = unreadable;
    files.sort((a, b) => (a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) * (latestFirst ? -1 : 1));
    return files;
  };

  /** The rows of a file the log names; a file gone or unreadable is reported and counted (or stops the query with `onMissingFile: 'error'`). */
  const readRows = async (name: string, logOffset: number, missing: { count: number }): Promise<T[]> => {
    const path = join(root, name);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const code = errorCode(error);
      const gone = code === 'ENOENT' || code === 'ELOOP' || code === 'EACCES' || code === 'EPERM' || code === 'EISDIR';
      if (!gone) throw new SourceError(description, `cannot read ${path}; got ${code}`, error, true);
      const what = code === 'ENOENT' ? 'is gone' : `cannot be read (${code})`;
      if (onMissingFile === 'error') {
        throw new SourceError(
          description,
          `file ${path}, planned in file-log entry ${logOffset}, ${what} when its batch read it; got ${code}. Put the file back, or restart the query with onMissingFile: 'deadLetter' to go on without its rows (reported to the dead-letter output and counted as numMissingFiles)`,
          error,
          false,
        );
      }
      missing.count++;
      context?.deadLetter({ source: description, location: path, text: '', reason: `file planned in file-log entry ${logOffset} ${what} when its batch read it (${code}); its rows are not in the batch` });
      return [];
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
      // Without a checkpoint directory the log stays in memory, with this source instance.
      if (metadataDir !== undefined) {
        log = new FileSourceLog(metadataDir, compactInterval, ageBoundMs);
        await log.load();
      }
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
      const lastEntry = log.lastEntry;
      // A new-style offset past the log: the log that says which files were read is not here; never re-read them silently.
      if (start !== undefined && start.files === undefined && from > lastEntry) throw missingEntry(from);
      const limited = !limit.all && maxFilesPerTrigger !== undefined;
      // Entries planned after `start` but not committed (a crash or stop before offsets/N, or a deleted
      // offsets/N): run them first, one per batch, so that each batch is planned again exactly as it ran.
      if (lastEntry > from) return { logOffset: from + 1 };
      let tooOld = 0;
      let fresh = (await listComplete()).filter((f) => {
        if (availableNow !== undefined && !availableNow.has(f.name)) return false;
        const state = log.seen.classify(f.name, f.mtimeMs);
        if (state === 'tooOld') tooOld++;
        return state === 'new';
      });
      listing.numFilesTooOld = tooOld;
      if (limited) fresh = fresh.slice(0, maxFilesPerTrigger);
      if (fresh.length > 0) {
        const logOffset = Math.max(lastEntry, from) + 1;
        await log.append({ logOffset, files: fresh.map((f) => f.name), mtimes: fresh.map((f) => f.mtimeMs) });
        remember(plannedCounts, logOffset, { ...listing });
      }
      if (log.lastEntry <= from) return start;
      return { logOffset: log.lastEntry };
    },
    async replannableBatches(start) {
      return Math.max(0, log.lastEntry - lastEntryOf(start));
    },
    async describePlan(start, end) {
      // An old-style offset names its files itself; otherwise the batch is the log entries it covers.
      if (end.files !== undefined) return null;
      const entries: FileLogEntry[] = [];
      for (let id = lastEntryOf(start) + 1; id <= end.logOffset; id++) {
        const entry = log.get(id);
        if (entry === undefined || entry === 'compacted') return null;
        entries.push(entry);
      }
      return { entries } satisfies DirectoryPlan;
    },
    async restorePlan(start, end, plan) {
      if (end.files !== undefined) return;
      const entries = (plan as Partial<DirectoryPlan> | null)?.entries;
      const from = lastEntryOf(start);
      if (!Array.isArray(entries) || entries.length !== end.logOffset - from || !entries.every((e, i) => isFileLogEntry(e) && e.logOffset === from + 1 + i)) {
        throw new SourceError(description, `the output's record of the batch ending at file-log entry ${end.logOffset} does not list entries ${from + 1} to ${end.logOffset}; got ${describeValue(plan)}. Restore the newest copy of the checkpoint, or start the query with a new checkpoint location and a new output`, undefined, false);
      }
      for (const entry of entries) {
        const have = log.get(entry.logOffset);
        if (have === 'compacted') continue; // every file it listed aged out (maxFileAge): nothing to read again
        if (have !== undefined) {
          if (have.files.length !== entry.files.length || have.files.some((f, i) => f !== entry.files[i])) {
            throw new SourceError(
              description,
              `file-log entry ${entry.logOffset}${metadataDir === undefined ? '' : ` in ${metadataDir}`} lists ${describeValue(have.files)}, but the output's record of the batch that read it lists ${describeValue(entry.files)}: the checkpoint and the output come from different runs. Restore the newest copy of the checkpoint, or start the query with a new checkpoint location and a new output`,
              undefined,
              false,
            );
          }
          continue;
        }
        if (entry.logOffset !== log.lastEntry + 1) throw missingEntry(log.lastEntry + 1);
        await log.append(entry);
      }
    },
    async getBatch(start, end) {
      records.startBatch();
      const missing = { count: 0 };
      const planned: Array<{ name: string; logOffset: number }> = [];
      if (end.files !== undefined) {
        for (const name of end.files.slice(start?.logOffset ?? 0, end.logOffset)) planned.push({ name, logOffset: end.logOffset - 1 });
      } else {
        for (let id = lastEntryOf(start) + 1; id <= end.logOffset; id++) {
          const entry = log.get(id);
          if (entry === undefined || entry === 'compacted') throw missingEntry(id, entry === 'compacted');
          for (const name of entry.files) planned.push({ name, logOffset: id });
        }
      }
      const rows: T[] = [];
      for (const { name, logOffset } of planned) {
        const fileRows = await readRows(name, logOffset, missing);
        for (const row of fileRows) rows.push(row);
      }
      remember(missingByEnd, end.logOffset, missing.count);
      return rows;
    },
    async commit(end) {
      // Everything up to `end` is committed: compact the log up to it (every compactInterval entries), forgetting files older than maxFileAge.
      if (end.files === undefined) await log.compact(end.logOffset);
    },
    get columns() {
      return records.columns();
    },
    progressMetrics(end) {
      const planned = end === undefined ? undefined : plannedCounts.get(end.logOffset);
      return {
        ...records.metrics(),
        numMissingFiles: end === undefined ? 0 : (missingByEnd.get(end.logOffset) ?? 0),
        ...(planned ?? listing),
        numSeenFiles: log.seen.size,
        numFileLogEntries: log.size,
      };
    },
    async stop() {
      watcher?.close();
      watcher = undefined;
    },
  };
}

import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { atomicWrite, makeDirectory } from '../checkpoint/atomicWrite.js';
import { InvalidOptionError, SinkError, describeValue } from '../errors/index.js';
import { columnsOf } from './formatTable.js';
import type { Sink } from './Sink.js';

/** Options for {@link toFiles}. */
export interface ToFilesOptions {
  /** JSON lines (one object per line) or CSV. @defaultValue `'json'` */
  readonly format?: 'json' | 'csv';
  /** CSV: write a header line in every file. @defaultValue `false` (as Spark) */
  readonly header?: boolean;
  /** CSV: the columns, in order. @defaultValue the rows' fields, in order of first appearance */
  readonly columns?: readonly string[];
  /** fsync files and directories. Turning it off keeps atomicity but not durability across a power failure. @defaultValue `true` */
  readonly fsync?: boolean;
}

/** The manifest directory of committed batches (Spark's `_spark_metadata`). */
export const FILE_SINK_METADATA_DIR = '_spark_metadata';

/** One committed data file of a batch, as the manifest lists it. */
export interface FileSinkEntry {
  readonly path: string;
  readonly size: number;
  readonly batchId: number;
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text: string;
  if (value instanceof Date) text = value.toISOString();
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The part-file name of a batch: derived from the batch id only, so that a replay overwrites the same file. */
export function partFileName(batchId: number, format: 'json' | 'csv'): string {
  return `part-${String(batchId).padStart(5, '0')}-0000.${format}`;
}

/**
 * Reads the manifest of a {@link toFiles} directory: the data files of every
 * committed batch, in batch order. Files not listed (left by a crash before
 * the commit) are not part of the output.
 */
export async function committedFiles(dir: string): Promise<FileSinkEntry[]> {
  const metadata = join(resolve(dir), FILE_SINK_METADATA_DIR);
  let names: string[];
  try {
    names = await readdir(metadata);
  } catch {
    return [];
  }
  const ids = names.filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  const entries: FileSinkEntry[] = [];
  for (const id of ids) {
    const lines = (await readFile(join(metadata, String(id)), 'utf8')).split('\n').slice(1);
    for (const line of lines) if (line.trim() !== '') entries.push(JSON.parse(line) as FileSinkEntry);
  }
  return entries;
}

/**
 * Writes each batch to files in `dir`, exactly once: the batch's rows go to a
 * hidden temporary file, which is fsynced and renamed to
 * `part-<batchId>-0000.<format>`; then the batch is recorded in the
 * `_spark_metadata/<batchId>` manifest (also written atomically). A batch the
 * manifest already lists is skipped, so a batch replayed after a crash is
 * written once. Readers should list files through the manifest
 * ({@link committedFiles}), or ignore names starting with `.` or `_` (as
 * `fromDirectory` does).
 *
 * Spark: `writeStream.format("json" | "csv").option("path", dir)` (the file sink and its `_spark_metadata` log).
 *
 * ```text
 * batches  --0(a,b)------1()------2(c)---|
 * files    --part-00000----------part-00002   manifest: 0, 1 (no file), 2
 * ```
 *
 * Append mode only (as Spark's file sink). An empty batch writes no data
 * file but is recorded. JSON rows are written with `JSON.stringify` (a `Date`
 * as an ISO string); CSV cells are quoted when needed, nested values as JSON.
 *
 * @example
 * ```ts
 * const sink = toFiles('/tmp/out', { format: 'json' });
 * await sink.start!({ queryId: 'q', runId: 'r', outputMode: 'append' });
 * await sink.addBatch(0, [{ word: 'a' }]);
 * // => /tmp/out/part-00000-0000.json holds {"word":"a"}
 * ```
 *
 * @throws {InvalidOptionError} `toFiles: dir must be a non-empty directory path; got …` / `toFiles: format must be 'json' or 'csv'; got …`
 * @throws {SinkError} (retriable) when the file system fails.
 * @throws {UnsupportedOperationError} (from `startQuery`) in complete or update mode: `startQuery: Data source FileSink[…] does not support Complete output mode; it supports Append. …`
 */
export function toFiles<R>(dir: string, options: ToFilesOptions = {}): Sink<R> {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new InvalidOptionError(`toFiles: dir must be a non-empty directory path; got ${describeValue(dir)}.`, 'dir', dir, 'a directory path');
  }
  const { format = 'json', header = false, fsync = true } = options;
  if (format !== 'json' && format !== 'csv') {
    throw new InvalidOptionError(`toFiles: format must be 'json' or 'csv'; got ${describeValue(format)}.`, 'format', format, "'json' | 'csv'");
  }
  const root = resolve(dir);
  const metadata = join(root, FILE_SINK_METADATA_DIR);
  const description = `FileSink[${root}, ${format}]`;
  let committed = new Set<number>();

  const encode = (rows: readonly R[]): string => {
    if (format === 'json') {
      let text = '';
      for (const row of rows) text += `${JSON.stringify(row)}\n`;
      return text;
    }
    const columns = options.columns ?? columnsOf(rows);
    let text = header ? `${columns.map(csvCell).join(',')}\n` : '';
    for (const row of rows) {
      const record = row as Record<string, unknown>;
      text += `${columns.map((c) => csvCell(record[c])).join(',')}\n`;
    }
    return text;
  };

  async function* chunks(text: string): AsyncGenerator<Uint8Array> {
    yield new TextEncoder().encode(text);
  }

  const fail = (what: string, error: unknown): SinkError => new SinkError(description, `${what}; got ${String((error as { code?: unknown }).code ?? error)}. Check the directory's permissions and free space.`, error, true);

  return {
    description,
    supportedModes: ['append'],
    idempotent: true,
    async start() {
      try {
        await makeDirectory(metadata, fsync);
        committed = new Set((await readdir(metadata)).filter((n) => /^\d+$/.test(n)).map(Number));
      } catch (error) {
        throw fail(`cannot prepare ${metadata}`, error);
      }
    },
    async addBatch(batchId, rows) {
      if (committed.has(batchId)) return;
      const entries: FileSinkEntry[] = [];
      try {
        if (rows.length > 0) {
          const name = partFileName(batchId, format);
          const size = await atomicWrite(join(root, name), chunks(encode(rows)), { fsync });
          entries.push({ path: name, size, batchId });
        }
        const manifest = `v1\n${entries.map((e) => JSON.stringify(e)).join('\n')}${entries.length > 0 ? '\n' : ''}`;
        await atomicWrite(join(metadata, String(batchId)), chunks(manifest), { fsync });
      } catch (error) {
        throw fail(`cannot write batch ${batchId} to ${root}`, error);
      }
      committed.add(batchId);
    },
  };
}

/** Reads back every row a {@link toFiles} JSON directory committed, in batch order. */
export async function readCommittedJson<R = Record<string, unknown>>(dir: string): Promise<R[]> {
  const rows: R[] = [];
  for (const entry of await committedFiles(dir)) {
    const text = await readFile(join(resolve(dir), entry.path), 'utf8');
    for (const line of text.split('\n')) if (line !== '') rows.push(JSON.parse(line) as R);
  }
  return rows;
}

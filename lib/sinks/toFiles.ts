import type { Dirent } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import { atomicWrite, makeDirectory } from '../checkpoint/atomicWrite.js';
import { InvalidOptionError, SinkConflictError, SinkError, describeValue } from '../errors/index.js';
import { readColumn } from '../internal/columns.js';
import { columnsOf } from './formatTable.js';
import type { BatchOrigin, Sink } from './Sink.js';

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
  /**
   * Let this query write into a directory that another query (another
   * checkpoint, so another query id) has written to: its files and its
   * manifest go beside the other query's, each query's batches recorded under
   * its own id. Without it such a directory is refused at start with a
   * {@link SinkConflictError} naming the other query. @defaultValue `false`
   */
  readonly shareOutput?: boolean;
}

/** The manifest directory of committed batches (Spark's `_spark_metadata`). */
export const FILE_SINK_METADATA_DIR = '_spark_metadata';

/** One committed data file of a batch, as the manifest lists it. */
export interface FileSinkEntry {
  readonly path: string;
  readonly size: number;
  readonly batchId: number;
  /** The query that wrote it; absent in manifests written before manifests were kept per query. */
  readonly queryId?: string;
}

function isBatchOrigin(value: unknown): value is BatchOrigin {
  if (typeof value !== 'object' || value === null) return false;
  const o = value as Partial<BatchOrigin>;
  return Array.isArray(o.startOffsets) && Array.isArray(o.endOffsets) && Array.isArray(o.plans) && Number.isFinite(o.watermark) && Number.isFinite(o.timestamp);
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text: string;
  // An invalid Date is no time: an empty cell (null), as JSON.stringify writes it, never a RangeError.
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return '';
    text = value.toISOString();
  }
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  // An empty string is written quoted (`""`) so that it reads back as an empty string, not as a missing value (an empty cell), as Spark writes it.
  return text === '' || /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The name under which a query's manifests and part files are kept: the query
 * id itself when it is a plain name (a UUID is), else a sanitised form with a
 * checksum of the id, so two ids never share a name.
 */
export function queryTag(queryId: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(queryId)) return queryId;
  const safe = queryId.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[._-]+/, '').slice(0, 60);
  return `${safe === '' ? 'q' : safe}-${(crc32(Buffer.from(queryId, 'utf8')) >>> 0).toString(16).padStart(8, '0')}`;
}

/** The part-file name of a query's batch: derived from the query and the batch id only, so that a replay overwrites the same file. */
export function partFileName(batchId: number, format: 'json' | 'csv', queryId: string): string {
  return `part-${String(batchId).padStart(5, '0')}-${queryTag(queryId)}.${format}`;
}

/** The manifest files of a `toFiles` directory: the old flat ones (`_spark_metadata/<N>`) and one directory per query. */
interface ManifestListing {
  /** Batch ids of manifests written before manifests were kept per query. */
  readonly legacy: number[];
  /** Per query tag, the batch ids committed. */
  readonly queries: Map<string, number[]>;
}

const isBatchName = (name: string): boolean => /^\d+$/.test(name);

async function listManifests(metadata: string): Promise<ManifestListing> {
  const legacy: number[] = [];
  const queries = new Map<string, number[]>();
  let entries: Dirent[];
  try {
    entries = await readdir(metadata, { withFileTypes: true });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return { legacy, queries };
    throw error;
  }
  for (const entry of entries) {
    if (entry.isFile() && isBatchName(entry.name)) legacy.push(Number(entry.name));
    else if (entry.isDirectory()) {
      const ids = (await readdir(join(metadata, entry.name))).filter(isBatchName).map(Number);
      if (ids.length > 0) queries.set(entry.name, ids.sort((a, b) => a - b));
    }
  }
  legacy.sort((a, b) => a - b);
  return { legacy, queries };
}

async function readManifest(path: string, queryId: string | undefined): Promise<FileSinkEntry[]> {
  const lines = (await readFile(path, 'utf8')).split('\n');
  const body = lines[0] === 'v2' ? lines.slice(2) : lines.slice(1);
  const entries: FileSinkEntry[] = [];
  for (const line of body) {
    if (line.trim() === '') continue;
    const entry = JSON.parse(line) as FileSinkEntry;
    entries.push(queryId === undefined || entry.queryId !== undefined ? entry : { ...entry, queryId });
  }
  return entries;
}

/** The query id a query's manifest directory records (its first manifest's second line), or the tag. */
async function ownerOf(metadata: string, tag: string, firstBatch: number): Promise<string> {
  try {
    const lines = (await readFile(join(metadata, tag, String(firstBatch)), 'utf8')).split('\n');
    const id = (JSON.parse(lines[1] ?? '{}') as { queryId?: unknown }).queryId;
    return typeof id === 'string' ? id : tag;
  } catch {
    return tag;
  }
}

/**
 * Reads the manifest of a {@link toFiles} directory: the data files of every
 * committed batch. Files not listed (left by a crash before the commit) are
 * not part of the output. Batches of one query come in batch order; when
 * several queries shared the directory (`shareOutput`), the query that
 * committed first comes first.
 */
export async function committedFiles(dir: string): Promise<FileSinkEntry[]> {
  const metadata = join(resolve(dir), FILE_SINK_METADATA_DIR);
  const { legacy, queries } = await listManifests(metadata);
  const entries: FileSinkEntry[] = [];
  for (const id of legacy) entries.push(...(await readManifest(join(metadata, String(id)), undefined)));
  const order: Array<{ tag: string; ids: number[]; first: number }> = [];
  for (const [tag, ids] of queries) order.push({ tag, ids, first: (await stat(join(metadata, tag, String(ids[0])))).mtimeMs });
  order.sort((a, b) => a.first - b.first || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  for (const { tag, ids } of order) {
    const owner = await ownerOf(metadata, tag, ids[0]!);
    for (const id of ids) entries.push(...(await readManifest(join(metadata, tag, String(id)), owner)));
  }
  return entries;
}

/**
 * Writes each batch to files in `dir`, exactly once per query: the batch's
 * rows go to a hidden temporary file, which is fsynced and renamed to
 * `part-<batchId>-<queryId>.<format>`; then the batch is recorded in the
 * manifest `_spark_metadata/<queryId>/<batchId>` (also written atomically).
 * A batch this query's manifest already lists is skipped, so a batch
 * replayed after a crash is written once. The manifest is keyed by the query
 * id (kept by the checkpoint), not by the batch id alone: a directory that
 * another query wrote to is refused at start ({@link SinkConflictError},
 * naming that query) unless `shareOutput: true`, and then both queries' rows
 * are kept. The manifest also records what input each batch read (the
 * `origin` the query hands the sink: its `offsets/N` and the source's plan,
 * e.g. the files), so a checkpoint restored from an older copy, or one whose
 * pending offsets file was deleted, re-plans the batches this directory
 * already holds with exactly that input and goes on without losing or
 * doubling a row (see docs/guides/checkpointing.md). Readers should list files through the manifest
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
 * // => /tmp/out/part-00000-q.json holds {"word":"a"}; /tmp/out/_spark_metadata/q/0 lists it
 * ```
 *
 * @throws {InvalidOptionError} `toFiles: dir must be a non-empty directory path; got …` / `toFiles: format must be 'json' or 'csv'; got …`
 * @throws {SinkConflictError} at start, when another query has written to `dir` and `shareOutput` is not set.
 * @throws {SinkError} (retriable) when the file system fails.
 * @throws {UnsupportedOperationError} (from `startQuery`) in complete or update mode: `startQuery: Data source FileSink[…] does not support Complete output mode; it supports Append. …`
 */
export function toFiles<R>(dir: string, options: ToFilesOptions = {}): Sink<R> {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new InvalidOptionError(`toFiles: dir must be a non-empty directory path; got ${describeValue(dir)}.`, 'dir', dir, 'a directory path');
  }
  const { format = 'json', header = false, fsync = true, shareOutput = false } = options;
  if (format !== 'json' && format !== 'csv') {
    throw new InvalidOptionError(`toFiles: format must be 'json' or 'csv'; got ${describeValue(format)}.`, 'format', format, "'json' | 'csv'");
  }
  if (typeof shareOutput !== 'boolean') {
    throw new InvalidOptionError(`toFiles: shareOutput must be true or false; got ${describeValue(shareOutput)}.`, 'shareOutput', shareOutput, 'a boolean');
  }
  const root = resolve(dir);
  const metadata = join(root, FILE_SINK_METADATA_DIR);
  const description = `FileSink[${root}, ${format}]`;
  let committed = new Set<number>();
  let queryId: string | undefined;
  let ownDir: string | undefined;
  let ownDirReady = false;

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
      text += `${columns.map((c) => csvCell(readColumn(record, c))).join(',')}\n`;
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
    async start(context) {
      queryId = context.queryId;
      const tag = queryTag(queryId);
      ownDir = join(metadata, tag);
      ownDirReady = false;
      let listing: ManifestListing;
      try {
        await makeDirectory(metadata, fsync);
        listing = await listManifests(metadata);
      } catch (error) {
        throw fail(`cannot prepare ${metadata}`, error);
      }
      const others: string[] = [];
      for (const [otherTag, ids] of listing.queries) {
        if (otherTag !== tag) others.push(`query ${await ownerOf(metadata, otherTag, ids[0]!)} (batches ${ids[0]} to ${ids[ids.length - 1]})`);
      }
      if (listing.legacy.length > 0) others.push(`a query whose id the manifest does not record (batches ${listing.legacy[0]} to ${listing.legacy[listing.legacy.length - 1]}, written before manifests were kept per query)`);
      if (others.length > 0 && !shareOutput) {
        throw new SinkConflictError(
          description,
          root,
          others,
          `output directory ${root} was written by ${others.join(' and ')}; this query is ${queryId}. A new checkpoint location makes a new query, and its batch ids would collide with the other query's. ` +
            `Restart with the other query's checkpoint location, write to a new directory, or pass toFiles(dir, { shareOutput: true }) to add this query's files beside the other query's`,
        );
      }
      committed = new Set(listing.queries.get(tag) ?? []);
    },
    async addBatch(batchId, rows, origin) {
      if (queryId === undefined || ownDir === undefined) {
        throw new SinkError(description, `batch ${batchId} was given before start(); got no query id to key the manifest by. Run the sink through startQuery, or call start() first`, undefined, false);
      }
      if (committed.has(batchId)) return;
      const entries: FileSinkEntry[] = [];
      try {
        if (!ownDirReady) await makeDirectory(ownDir, fsync);
        ownDirReady = true;
        if (rows.length > 0) {
          const name = partFileName(batchId, format, queryId);
          const size = await atomicWrite(join(root, name), chunks(encode(rows)), { fsync });
          entries.push({ path: name, size, batchId, queryId });
        }
        const manifest = `v2\n${JSON.stringify(origin === undefined ? { queryId, batchId } : { queryId, batchId, origin })}\n${entries.map((e) => JSON.stringify(e)).join('\n')}${entries.length > 0 ? '\n' : ''}`;
        await atomicWrite(join(ownDir, String(batchId)), chunks(manifest), { fsync });
      } catch (error) {
        throw fail(`cannot write batch ${batchId} to ${root}`, error);
      }
      committed.add(batchId);
    },
    async committedOrigin(batchId) {
      if (ownDir === undefined || !committed.has(batchId)) return undefined;
      let header: unknown;
      try {
        const lines = (await readFile(join(ownDir, String(batchId)), 'utf8')).split('\n');
        header = lines[0] === 'v2' ? JSON.parse(lines[1] ?? 'null') : undefined;
      } catch (error) {
        throw fail(`cannot read the manifest of batch ${batchId} in ${ownDir}`, error);
      }
      const origin = (header as { origin?: unknown } | null | undefined)?.origin;
      return isBatchOrigin(origin) ? origin : undefined;
    },
    async lastCommittedBatchId() {
      let last = -1;
      for (const id of committed) if (id > last) last = id;
      return last;
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

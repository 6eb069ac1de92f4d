import { readFile, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 as nativeCrc32 } from 'node:zlib';
import { atomicWrite, isTemporaryName, makeDirectory } from '../checkpoint/atomicWrite.js';
import type { ChecksumFn } from '../checkpoint/checksum.js';
import { corruptContent, frameJson, parseJsonBody, unframeFile } from '../checkpoint/fileFormat.js';
import { parseBatchFileName } from '../checkpoint/layout.js';
import { CheckpointCorruptError, CheckpointIOError } from '../errors/CheckpointError.js';

/**
 * One entry of the directory source's file log: the files planned under log
 * offset `logOffset`, with their modification times (epoch ms; absent in
 * entries written before the log kept them).
 */
export interface FileLogEntry {
  readonly logOffset: number;
  readonly files: readonly string[];
  readonly mtimes?: readonly number[];
}

/** The body of a compaction file `<K>.compact`: every entry up to `K` still needed, in one file. */
interface CompactBody {
  readonly compactedThrough: number;
  readonly entries: readonly FileLogEntry[];
}

const checksum: ChecksumFn = (data, previous) => nativeCrc32(data, previous);

function errorCode(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : String(error);
}

/** `true` for a well-formed {@link FileLogEntry} (with id `id`, when given). */
export function isFileLogEntry(value: unknown, id?: number): value is FileLogEntry {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Partial<FileLogEntry>;
  if (!Number.isSafeInteger(e.logOffset) || (id !== undefined && e.logOffset !== id)) return false;
  if (!Array.isArray(e.files) || !e.files.every((f) => typeof f === 'string')) return false;
  return e.mtimes === undefined || (Array.isArray(e.mtimes) && e.mtimes.length === e.files.length && e.mtimes.every((t) => typeof t === 'number' && Number.isFinite(t)));
}

/**
 * The files the directory source has seen, bounded by age as Spark's
 * `SeenFilesMap`: with `maxAgeMs` finite, a file whose modification time is
 * more than `maxAgeMs` older than the newest file seen is forgotten, and a
 * file that old is no longer new (it is skipped and counted). Files of
 * entries written before modification times were logged are kept forever.
 */
export class SeenFiles {
  private readonly map = new Map<string, number | undefined>();
  private latest = Number.NEGATIVE_INFINITY;
  /** Files older than this are not new; 0 until a file is seen, as in Spark. */
  private threshold = Number.NEGATIVE_INFINITY;

  constructor(private readonly maxAgeMs: number) {}

  get size(): number {
    return this.map.size;
  }

  /** The modification time below which a file is too old to be new (`-Infinity` while unbounded). */
  get purgeThreshold(): number {
    return this.threshold;
  }

  add(name: string, mtimeMs: number | undefined): void {
    this.map.set(name, mtimeMs);
    if (mtimeMs !== undefined && mtimeMs > this.latest) this.latest = mtimeMs;
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  /** `'new'`, `'seen'`, or `'tooOld'` (never seen, but older than the purge threshold). */
  classify(name: string, mtimeMs: number): 'new' | 'seen' | 'tooOld' {
    if (this.map.has(name)) return 'seen';
    return mtimeMs < this.threshold ? 'tooOld' : 'new';
  }

  /** Forgets files older than `maxAgeMs` before the newest one; returns how many were forgotten. */
  purge(): number {
    if (!Number.isFinite(this.maxAgeMs) || this.latest === Number.NEGATIVE_INFINITY) return 0;
    this.threshold = Math.max(this.threshold, this.latest - this.maxAgeMs);
    let purged = 0;
    for (const [name, mtime] of this.map) {
      if (mtime !== undefined && mtime < this.threshold) {
        this.map.delete(name);
        purged++;
      }
    }
    return purged;
  }
}

/**
 * The directory source's metadata log (Spark's `FileStreamSourceLog`): one
 * framed, checksummed file per planned entry (`<dir>/<logOffset>`), compacted
 * every `compactInterval` committed entries into `<dir>/<K>.compact`, which
 * holds the entries up to `K` that still name a file younger than the
 * `maxFileAge` bound; the entry files it replaces are deleted. Loading checks
 * that no entry is missing: entries after the last compaction must run
 * without a gap up to the newest, otherwise the files of the missing entry
 * would be read again, and that is reported (`CheckpointCorruptError`) instead.
 * Without a directory the log is kept in memory, compacted the same way.
 */
export class FileSourceLog {
  private readonly entries = new Map<number, FileLogEntry>();
  private last = -1;
  /** Entries up to this id are compacted: one missing here was dropped on purpose (all its files aged out). */
  private compactedThrough = -1;
  private dirReady = false;
  readonly seen: SeenFiles;

  constructor(
    private readonly dir: string | undefined,
    private readonly compactInterval: number,
    maxFileAgeMs: number,
  ) {
    this.seen = new SeenFiles(maxFileAgeMs);
  }

  /** The highest entry id, -1 when empty. */
  get lastEntry(): number {
    return this.last;
  }

  /** Entries kept (in memory and, with a directory, on disk after compaction). */
  get size(): number {
    return this.entries.size;
  }

  /** The highest entry id folded into a compaction file, -1 when none. */
  get lastCompacted(): number {
    return this.compactedThrough;
  }

  /** The entry `id`; `undefined` when the log does not have it. `'compacted'` when compaction dropped it (all its files aged out). */
  get(id: number): FileLogEntry | 'compacted' | undefined {
    const entry = this.entries.get(id);
    if (entry !== undefined) return entry;
    return id <= this.compactedThrough && id >= 0 ? 'compacted' : undefined;
  }

  /** Reads the log from its directory (no-op without one). */
  async load(): Promise<void> {
    const dir = this.dir;
    if (dir === undefined) return;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw new CheckpointIOError(`checkpoint: cannot list ${dir}; got ${errorCode(error)}. Check the checkpoint location's permissions.`, dir, error);
      names = [];
    }
    const deltas: number[] = [];
    const compacts: number[] = [];
    for (const name of names) {
      if (isTemporaryName(name)) {
        await unlink(join(dir, name)).catch(() => undefined); // left by an interrupted write
        continue;
      }
      const compact = /^(0|[1-9][0-9]*)\.compact$/.exec(name);
      if (compact !== null) compacts.push(Number(compact[1]));
      const id = parseBatchFileName(name);
      if (id !== undefined) deltas.push(id);
    }
    compacts.sort((a, b) => a - b);
    deltas.sort((a, b) => a - b);
    const base = compacts.length > 0 ? compacts[compacts.length - 1]! : -1;
    if (base >= 0) {
      const path = join(dir, `${base}.compact`);
      const body = parseJsonBody(unframeFile(await this.read(path), path, 'source', checksum), path) as Partial<CompactBody> | null;
      if (typeof body !== 'object' || body === null || body.compactedThrough !== base || !Array.isArray(body.entries) || !body.entries.every((e) => isFileLogEntry(e) && e.logOffset <= base)) {
        throw corruptContent(path, 'a file-log compaction of the wrong shape');
      }
      for (const entry of body.entries) this.remember(entry);
      this.compactedThrough = base;
    }
    // Leftovers of a compaction interrupted before it deleted what it replaced.
    for (const id of deltas.filter((d) => d <= base)) await unlink(join(dir, String(id))).catch(() => undefined);
    for (const id of compacts.filter((c) => c < base)) await unlink(join(dir, `${id}.compact`)).catch(() => undefined);
    const live = deltas.filter((d) => d > base);
    let expected = base + 1;
    for (const id of live) {
      if (id !== expected) throw this.gap(expected, id);
      const path = join(dir, String(id));
      const value = parseJsonBody(unframeFile(await this.read(path), path, 'source', checksum), path);
      if (!isFileLogEntry(value, id)) throw corruptContent(path, 'a file-log entry of the wrong shape');
      this.remember(value);
      expected = id + 1;
    }
    if (base >= this.last) this.last = base;
    this.seen.purge();
  }

  /** Adds entry `logOffset`, durably (atomic, framed, checksummed) before anyone can use it. */
  async append(entry: FileLogEntry): Promise<void> {
    if (this.dir !== undefined) {
      const path = join(this.dir, String(entry.logOffset));
      try {
        if (!this.dirReady) await makeDirectory(this.dir);
        this.dirReady = true;
        await atomicWrite(path, frameJson('source', entry, checksum));
      } catch (error) {
        throw new CheckpointIOError(`checkpoint: cannot write ${path}; got ${errorCode(error)}. Check the checkpoint location's permissions and free space.`, path, error);
      }
    }
    this.remember(entry);
    this.seen.purge();
  }

  /**
   * Compacts the entries up to `committed` (everything the query has
   * committed) once `compactInterval` of them are not compacted yet: writes
   * `<committed>.compact` with each such entry's files still younger than the
   * age bound (entries left with none are dropped), then deletes the entry
   * files and the older compaction it replaces. Uncommitted entries are never
   * touched: a re-run batch reads exactly the files its entry lists.
   */
  async compact(committed: number): Promise<void> {
    if (committed > this.last || committed - this.compactedThrough < this.compactInterval) return;
    const threshold = this.seen.purgeThreshold;
    const kept: FileLogEntry[] = [];
    for (const [id, entry] of [...this.entries].sort((a, b) => a[0] - b[0])) {
      if (id > committed) continue;
      const pruned = prune(entry, threshold);
      if (pruned === undefined) this.entries.delete(id);
      else {
        this.entries.set(id, pruned);
        kept.push(pruned);
      }
    }
    const previous = this.compactedThrough;
    if (this.dir !== undefined) {
      const path = join(this.dir, `${committed}.compact`);
      try {
        await atomicWrite(path, frameJson('source', { compactedThrough: committed, entries: kept } satisfies CompactBody, checksum));
      } catch (error) {
        throw new CheckpointIOError(`checkpoint: cannot write ${path}; got ${errorCode(error)}. Check the checkpoint location's permissions and free space.`, path, error);
      }
      for (let id = previous + 1; id <= committed; id++) await unlink(join(this.dir, String(id))).catch(() => undefined);
      if (previous >= 0) await unlink(join(this.dir, `${previous}.compact`)).catch(() => undefined);
    }
    this.compactedThrough = committed;
  }

  private remember(entry: FileLogEntry): void {
    this.entries.set(entry.logOffset, entry);
    entry.files.forEach((f, i) => this.seen.add(f, entry.mtimes?.[i]));
    if (entry.logOffset > this.last) this.last = entry.logOffset;
  }

  private async read(path: string): Promise<Uint8Array> {
    try {
      return await readFile(path);
    } catch (error) {
      throw new CheckpointIOError(`checkpoint: cannot read ${path}; got ${errorCode(error)}. Check the checkpoint location's permissions and disk.`, path, error);
    }
  }

  private gap(missing: number, next: number): CheckpointCorruptError {
    const path = join(this.dir!, String(missing));
    const what = missing === next - 1 ? `entry ${missing} is missing` : `entries ${missing} to ${next - 1} are missing`;
    return new CheckpointCorruptError(
      `checkpoint: the directory source's file log ${this.dir} has a gap: ${what}, entry ${next} is there${this.compactedThrough >= 0 ? ` (entries up to ${this.compactedThrough} are compacted into ${this.compactedThrough}.compact)` : ''}. ` +
        `The files it listed would be read again as new, so the source stops instead. Restore ${path} from a backup of the checkpoint, or start the query with a new checkpoint location (and a new output)`,
      path,
    );
  }
}

/** The entry without files older than `threshold` (files of unknown age are kept); `undefined` when none is left. */
function prune(entry: FileLogEntry, threshold: number): FileLogEntry | undefined {
  if (entry.mtimes === undefined || threshold === Number.NEGATIVE_INFINITY) return entry;
  const files: string[] = [];
  const mtimes: number[] = [];
  entry.files.forEach((f, i) => {
    const t = entry.mtimes![i]!;
    if (t >= threshold) {
      files.push(f);
      mtimes.push(t);
    }
  });
  if (files.length === entry.files.length) return entry;
  return files.length === 0 ? undefined : { logOffset: entry.logOffset, files, mtimes };
}

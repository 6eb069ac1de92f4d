import { randomUUID } from 'node:crypto';
import { link, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { crc32 as nativeCrc32 } from 'node:zlib';
import { CheckpointIOError } from '../errors/CheckpointError.js';
import { atomicWrite, isTemporaryName, makeDirectory, type WritePhase } from './atomicWrite.js';
import type { ChecksumFn } from './checksum.js';
import type { CheckpointStore, SnapshotBuilder } from './CheckpointStore.js';
import { WorkerSnapshotBuilder } from './snapshotWorker.js';

/** Options for {@link FileCheckpointStore}. */
export interface FileCheckpointStoreOptions {
  /**
   * Called synchronously at each step of every file write (`open`, `partial`,
   * `synced`, `renamed`) with the file's path relative to the checkpoint.
   * Meant for crash tests that kill the process at an exact point.
   */
  readonly onWritePhase?: (phase: WritePhase, path: string) => void;
  /**
   * fsync every file and directory written. Turning it off keeps atomicity
   * (rename) but loses durability across a power failure.
   * @defaultValue `true`
   */
  readonly fsync?: boolean;
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

/**
 * A {@link CheckpointStore} over a directory: every file is written to a
 * hidden temporary name, fsynced, renamed into place, and the directory is
 * fsynced; checksums use Node's native CRC-32; snapshots are built in a
 * worker thread. File-system failures are raised as the retriable
 * `CheckpointIOError`.
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly location: string;
  readonly directory: string;
  readonly checksum: ChecksumFn = (data, previous) => nativeCrc32(data, previous);
  private readonly options: FileCheckpointStoreOptions;
  private readonly directories = new Set<string>();

  constructor(location: string, options: FileCheckpointStoreOptions = {}) {
    this.location = resolve(location);
    this.directory = this.location;
    this.options = options;
  }

  private absolute(path: string): string {
    return path === '' ? this.location : join(this.location, ...path.split('/'));
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    const file = this.absolute(path);
    try {
      return await readFile(file);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw new CheckpointIOError(`checkpoint: cannot read ${file}; got ${errorCode(error) ?? String(error)}. Check the checkpoint location's permissions and disk.`, file, error);
    }
  }

  async write(path: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
    const file = this.absolute(path);
    const fsync = this.options.fsync ?? true;
    try {
      const dir = dirname(file);
      if (!this.directories.has(dir)) {
        await makeDirectory(dir, fsync);
        this.directories.add(dir);
      }
      const onWritePhase = this.options.onWritePhase;
      return await atomicWrite(file, chunks, { fsync, ...(onWritePhase === undefined ? {} : { onPhase: (phase: WritePhase) => onWritePhase(phase, path) }) });
    } catch (error) {
      if (error instanceof CheckpointIOError) throw error;
      if (errorCode(error) === undefined) throw error;
      throw new CheckpointIOError(`checkpoint: cannot write ${file}; got ${errorCode(error)}. Check the checkpoint location's permissions and free space.`, file, error);
    }
  }

  async list(dir: string): Promise<string[]> {
    const path = this.absolute(dir);
    try {
      const names = await readdir(path);
      return names.filter((name) => !isTemporaryName(name)).sort();
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT') return [];
      throw new CheckpointIOError(`checkpoint: cannot list ${path}; got ${code ?? String(error)}. Check the checkpoint location's permissions.`, path, error);
    }
  }

  async remove(path: string): Promise<void> {
    const file = this.absolute(path);
    try {
      await unlink(file);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT') return;
      throw new CheckpointIOError(`checkpoint: cannot remove ${file}; got ${code ?? String(error)}. Check the checkpoint location's permissions.`, file, error);
    }
  }

  /**
   * Writes `path` only if it does not exist: a complete temporary file (fsynced
   * unless `fsync: false`), hard-linked into place, which fails with `EEXIST`
   * when another writer linked first (atomic on a POSIX file system, including
   * NFS v3+).
   */
  async createIfAbsent(path: string, bytes: Uint8Array): Promise<'created' | 'exists'> {
    const file = this.absolute(path);
    const fsync = this.options.fsync ?? true;
    const dir = dirname(file);
    const temp = join(dir, `.${randomUUID()}.tmp`);
    try {
      if (!this.directories.has(dir)) {
        await makeDirectory(dir, fsync);
        this.directories.add(dir);
      }
      await writeFile(temp, bytes, { flush: fsync });
      try {
        await link(temp, file);
        return 'created';
      } catch (error) {
        if (errorCode(error) === 'EEXIST') return 'exists';
        throw error;
      } finally {
        await unlink(temp).catch(() => undefined);
      }
    } catch (error) {
      if (error instanceof CheckpointIOError) throw error;
      throw new CheckpointIOError(`checkpoint: cannot create ${file}; got ${errorCode(error) ?? String(error)}. Check the checkpoint location's permissions and free space.`, file, error);
    }
  }

  /** Snapshots are built and written in a worker thread (the {@link SnapshotBuilder} merges the files there), off the main thread. */
  snapshotBuilder(): SnapshotBuilder {
    const onWritePhase = this.options.onWritePhase;
    return new WorkerSnapshotBuilder({ root: this.location, fsync: this.options.fsync ?? true, ...(onWritePhase === undefined ? {} : { onWritePhase }) });
  }

  async removeTemporaryFiles(dir: string): Promise<void> {
    const path = this.absolute(dir);
    let names: string[];
    try {
      names = await readdir(path);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return;
      throw new CheckpointIOError(`checkpoint: cannot list ${path}; got ${errorCode(error) ?? String(error)}. Check the checkpoint location's permissions.`, path, error);
    }
    for (const name of names) if (isTemporaryName(name)) await unlink(join(path, name)).catch(() => undefined);
  }
}

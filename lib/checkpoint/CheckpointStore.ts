import type { ChecksumFn } from './checksum.js';

/**
 * Where a checkpoint's files are kept: a directory ({@link FileCheckpointStore}),
 * memory ({@link MemoryCheckpointStore}) or an S3 bucket (`S3CheckpointStore`,
 * from `rxjs-structured-streaming/s3`). Paths are relative, `/`-separated
 * (`offsets/3`, `state/dropDuplicates%231/12.delta`). The store knows nothing
 * of the checkpoint format; the checkpoint frames and checks every file.
 */
export interface CheckpointStore {
  /** A directory path, or a name for in-memory stores. */
  readonly location: string;
  /** The local directory the store keeps its files in (a file store's resolved location); `undefined` for stores that are not a local directory. */
  readonly directory?: string;
  /** A faster checksum with the same values as the built-in CRC-32 (Node's `zlib.crc32`), if the platform has one. */
  readonly checksum?: ChecksumFn;
  /** The whole content of a file, or `undefined` when there is none. */
  read(path: string): Promise<Uint8Array | undefined>;
  /**
   * Writes a file atomically: afterwards the file holds all of `chunks` and is
   * durable, or (after a crash or an error) it holds what it held before.
   * Creates missing directories. Resolves to the number of bytes written.
   */
  write(path: string, chunks: AsyncIterable<Uint8Array>): Promise<number>;
  /** The names of the files and directories in `dir` (`''` for the root), without temporary files; `[]` when it does not exist. */
  list(dir: string): Promise<string[]>;
  /** Removes a file; nothing when it does not exist. */
  remove(path: string): Promise<void>;
  /** Removes what interrupted writes left behind in `dir`. */
  removeTemporaryFiles(dir: string): Promise<void>;
  /**
   * Optional: writes `path` only if there is no file at `path` yet, atomically
   * with respect to every other writer of the store (a hard link on a POSIX
   * directory, a conditional `PutObject` with `If-None-Match: *` on S3).
   * Resolves to `'exists'`, leaving the file as it was, when one was there.
   * {@link FencedCheckpointStore} needs it (epoch claims, `offsets/N`,
   * `commits/N`); a store that cannot honour it must not have it, or must
   * reject with a typed error rather than overwrite.
   */
  createIfAbsent?(path: string, bytes: Uint8Array): Promise<'created' | 'exists'>;
  /**
   * Optional: a builder that makes snapshots away from the main thread
   * (the file store's runs in a worker thread). Without one, the checkpoint
   * builds snapshots itself with `read` and `write`.
   */
  snapshotBuilder?(): SnapshotBuilder;
}

/**
 * Builds an operator's snapshot at a version from the state files already in
 * the store (the newest snapshot below it and the deltas after it) and writes
 * it atomically, as `state/<operator>/<version>.snapshot`.
 */
export interface SnapshotBuilder {
  /**
   * Resolves to the bytes written. Rejects with an `Error` named
   * `StateFileError` (with the file's relative `path`) when a file it needs is
   * missing or damaged, or with the store's I/O error.
   */
  build(operatorId: string, stateDir: string, version: number): Promise<number>;
  /** Stops: a snapshot in flight is abandoned (its temporary file is removed on the next open); later builds reject. */
  close(): Promise<void>;
}

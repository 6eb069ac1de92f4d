import type { Checkpoint } from './Checkpoint.js';
import type { CheckpointStore } from './CheckpointStore.js';
import { FileCheckpointStore, type FileCheckpointStoreOptions } from './FileCheckpointStore.js';
import { StoreCheckpoint, type CheckpointStateOptions } from './StoreCheckpoint.js';
import { InvalidOptionError } from '../errors/InvalidArgumentError.js';
import { describeValue } from '../errors/StreamingError.js';

/** Options for {@link openCheckpoint}: how state is versioned and kept, and (for a directory) how files are written. */
export interface OpenCheckpointOptions extends CheckpointStateOptions, FileCheckpointStoreOptions {}

/** `true` for an object with the methods of a {@link CheckpointStore}. */
export function isCheckpointStore(value: unknown): value is CheckpointStore {
  if (typeof value !== 'object' || value === null) return false;
  const store = value as Partial<Record<keyof CheckpointStore, unknown>>;
  return typeof store.location === 'string' && typeof store.read === 'function' && typeof store.write === 'function' && typeof store.list === 'function' && typeof store.remove === 'function' && typeof store.removeTemporaryFiles === 'function';
}

/**
 * Builds the {@link Checkpoint} of a query over a directory (or any
 * {@link CheckpointStore}); call `open()` on it to create or recover it.
 *
 * Spark: the `checkpointLocation` option of `DataStreamWriter`.
 *
 * @example
 * ```ts
 * const checkpoint = openCheckpoint('/var/lib/myquery/checkpoint', { snapshotInterval: 10 });
 * const recovery = await checkpoint.open();
 * console.log(recovery.lastCommittedBatchId);
 * // => -1
 * ```
 *
 * @param location A directory path (created when missing) or a {@link CheckpointStore}.
 * @throws {InvalidOptionError} `checkpoint: location must be a directory path or a CheckpointStore; got <value>.`
 * @throws {InvalidOptionError} `checkpoint: snapshotInterval must be a positive integer; got <value>.` (the same for `minBatchesToRetain`); `checkpoint: snapshotDeltaRatio must be a finite number of at least 0; got <value>.`
 */
export function openCheckpoint(location: string | CheckpointStore, options: OpenCheckpointOptions = {}): StoreCheckpoint {
  let store: CheckpointStore;
  if (typeof location === 'string' && location.length > 0) {
    store = new FileCheckpointStore(location, options);
  } else if (isCheckpointStore(location)) {
    store = location;
  } else {
    throw new InvalidOptionError(
      `checkpoint: location must be a directory path or a CheckpointStore; got ${describeValue(location)}. Pass a directory such as './checkpoints/my-query'.`,
      'location',
      location,
      'a non-empty directory path or a CheckpointStore',
    );
  }
  return new StoreCheckpoint(store, options);
}

export type { Checkpoint };

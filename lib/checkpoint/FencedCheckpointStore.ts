import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidOptionError } from '../errors/InvalidArgumentError.js';
import { StreamingError, describeValue } from '../errors/StreamingError.js';
import type { ChecksumFn } from './checksum.js';
import type { CheckpointStore } from './CheckpointStore.js';
import { FileCheckpointStore } from './FileCheckpointStore.js';

/** The directory of a task checkpoint that holds one file per ownership claim, named by its epoch. */
export const EPOCHS_DIR = 'epochs';

/**
 * A task's owner lost the task: another process claimed a higher epoch for
 * it (the group gave the partition to another member, or this process was
 * paused past its session timeout). The write named here was refused; the
 * process must drop the task and not write for it again.
 */
export class TaskFencedError extends StreamingError {
  override name = 'TaskFencedError';
  constructor(
    message: string,
    /** The task checkpoint's location. */
    readonly location: string,
    /** The file whose write was refused. */
    readonly path: string,
    /** This writer's epoch. */
    readonly epoch: number,
    /** The highest epoch claimed for the task, when known. */
    readonly currentEpoch: number | undefined,
  ) {
    super(message, { retriable: false });
  }
}

/** Who claimed an epoch (the body of `epochs/<E>`). */
export interface EpochClaim {
  readonly epoch: number;
  readonly owner: string;
  /** The consumer-group generation the claim was made in (this process's count of joins), for diagnosis. */
  readonly generation: number;
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

function isBatchLogPath(path: string): boolean {
  return /^(offsets|commits)\/(0|[1-9][0-9]*)$/.test(path);
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** Options for {@link FencedCheckpointStore}. */
export interface FencedCheckpointStoreOptions {
  /** fsync every file (only for a directory location). @defaultValue `true` */
  readonly fsync?: boolean;
  /** Who claims: written into the epoch claims, for diagnosis (e.g. `host:pid:random`). */
  readonly owner: string;
  /** The consumer-group generation to record in a claim. */
  readonly generation?: () => number;
}

/**
 * A task's checkpoint store on a shared directory (or any
 * {@link CheckpointStore} with `createIfAbsent`, such as an
 * `S3CheckpointStore` on a server with conditional writes), with fencing instead of
 * the single-process lock file: a process that takes a task first
 * {@link FencedCheckpointStore.claim | claims} the next epoch (`epochs/<E>`,
 * created only if absent), and every later write checks that no higher epoch
 * was claimed since. The write-ahead and commit entries (`offsets/N`,
 * `commits/N`) are created only if absent (the inner store's
 * `createIfAbsent`: a hard link of a complete temporary file, atomic on a POSIX
 * file system; a conditional `PutObject` on S3): a stale writer's entry fails unless it
 * is byte for byte the one already there (the same deterministic batch), and
 * the writer is fenced ({@link TaskFencedError}).
 *
 * There is no `directory`, so the checkpoint takes no lock file: a lock held
 * by a stopped process (SIGSTOP) would block the new owner for good, while an
 * epoch only asks the old owner to stop.
 *
 * Known window: a writer that checked the epochs and is paused before its
 * write lands can still write one state file; state and commit files of a
 * batch are deterministic, so it writes what the new owner writes.
 *
 * @example
 * ```ts
 * const store = new FencedCheckpointStore('/shared/checkpoints/q/tasks/clicks-0', { owner: 'host-a:123' });
 * await store.claim(); // => 0 (the next epoch); a later claim by another owner fences this one
 * const recovery = await openCheckpoint(store).open();
 * ```
 */
export class FencedCheckpointStore implements CheckpointStore {
  readonly location: string;
  readonly checksum?: ChecksumFn;
  private readonly inner: CheckpointStore & Required<Pick<CheckpointStore, 'createIfAbsent'>>;
  private epochValue = -1;
  private fencedBy: number | undefined;

  /**
   * @param location The task's checkpoint directory, or the store to fence (it must have `createIfAbsent`).
   * @throws {InvalidOptionError} `checkpoint: a fenced store needs an inner store with createIfAbsent …` for a store without create-if-absent writes.
   */
  constructor(
    location: string | CheckpointStore,
    private readonly options: FencedCheckpointStoreOptions,
  ) {
    if (typeof location === 'string') {
      this.location = resolve(location);
      this.inner = new FileCheckpointStore(this.location, options.fsync === undefined ? {} : { fsync: options.fsync });
    } else {
      if (typeof location !== 'object' || location === null || typeof location.createIfAbsent !== 'function') {
        throw new InvalidOptionError(
          `checkpoint: a fenced store needs an inner store with createIfAbsent (create-if-absent writes); got ${describeValue((location as { location?: unknown } | null)?.location ?? location)}, which has none. Use a shared directory, or an object store with conditional writes.`,
          'location',
          location,
          'a directory path or a CheckpointStore with createIfAbsent',
        );
      }
      this.location = location.location;
      this.inner = location as CheckpointStore & Required<Pick<CheckpointStore, 'createIfAbsent'>>;
    }
    if (this.inner.checksum !== undefined) this.checksum = this.inner.checksum;
  }

  /** The epoch this store writes under (`-1` before {@link FencedCheckpointStore.claim}). */
  get epoch(): number {
    return this.epochValue;
  }

  /** `true` once a write was refused because another owner claimed a higher epoch. */
  get fenced(): boolean {
    return this.fencedBy !== undefined;
  }

  /** The highest claimed epoch (-1: none). */
  async currentEpoch(): Promise<number> {
    let max = -1;
    for (const name of await this.inner.list(EPOCHS_DIR)) {
      if (/^(0|[1-9][0-9]*)$/.test(name)) max = Math.max(max, Number(name));
    }
    return max;
  }

  /** Claims the next epoch for this owner (create-if-absent, retried past concurrent claims); resolves to it. */
  async claim(): Promise<number> {
    for (;;) {
      const next = (await this.currentEpoch()) + 1;
      const body: EpochClaim = { epoch: next, owner: this.options.owner, generation: this.options.generation?.() ?? 0 };
      if ((await this.inner.createIfAbsent(`${EPOCHS_DIR}/${next}`, Buffer.from(JSON.stringify(body)))) === 'created') {
        this.epochValue = next;
        this.fencedBy = undefined;
        return next;
      }
    }
  }

  /** Throws {@link TaskFencedError} when a higher epoch than ours was claimed. */
  async checkEpoch(path: string): Promise<void> {
    if (this.epochValue < 0) {
      throw new TaskFencedError(`checkpoint: ${this.location}: write of ${path} before the task was claimed; got epoch -1. Call claim() first.`, this.location, path, -1, undefined);
    }
    const current = this.fencedBy ?? (await this.currentEpoch());
    if (current > this.epochValue) {
      this.fencedBy = current;
      throw new TaskFencedError(
        `checkpoint: task ${this.location} was taken over (epoch ${current} claimed; this writer holds epoch ${this.epochValue}); refused to write ${path}. The task is dropped here; its new owner goes on from the checkpoint.`,
        this.location,
        path,
        this.epochValue,
        current,
      );
    }
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    return this.inner.read(path);
  }

  async write(path: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
    await this.checkEpoch(path);
    if (!isBatchLogPath(path)) return this.inner.write(path, chunks);
    const bytes = await collect(chunks);
    if ((await this.inner.createIfAbsent(path, bytes)) === 'created') return bytes.length;
    const existing = await this.inner.read(path);
    if (existing !== undefined && Buffer.compare(Buffer.from(existing), bytes) === 0) return bytes.length;
    const current = await this.currentEpoch();
    this.fencedBy = Math.max(current, this.epochValue + 1);
    throw new TaskFencedError(
      `checkpoint: ${this.location}/${path} was already written by another owner with different content (epoch now ${current}; this writer holds epoch ${this.epochValue}). The task is dropped here.`,
      this.location,
      path,
      this.epochValue,
      current,
    );
  }

  async list(dir: string): Promise<string[]> {
    return this.inner.list(dir);
  }

  async remove(path: string): Promise<void> {
    await this.checkEpoch(path);
    await this.inner.remove(path);
  }

  async removeTemporaryFiles(dir: string): Promise<void> {
    await this.inner.removeTemporaryFiles(dir);
  }
}

/**
 * The claims of a task checkpoint directory, oldest first (for tests and diagnosis).
 *
 * @example
 * ```ts
 * await readEpochClaims('/shared/checkpoints/q/tasks/clicks-0');
 * // => [{ epoch: 0, owner: 'host-a:123:…', generation: 1 }, { epoch: 1, owner: 'host-b:456:…', generation: 1 }]
 * ```
 */
export async function readEpochClaims(location: string): Promise<EpochClaim[]> {
  let names: string[];
  try {
    names = await readdir(join(location, EPOCHS_DIR));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  const claims: EpochClaim[] = [];
  for (const name of names.filter((n) => /^(0|[1-9][0-9]*)$/.test(n)).sort((a, b) => Number(a) - Number(b))) {
    claims.push(JSON.parse(await readFile(join(location, EPOCHS_DIR, name), 'utf8')) as EpochClaim);
  }
  return claims;
}

import type { SchedulerLike, Subscription } from 'rxjs';
import { CheckpointCorruptError, CheckpointError, CheckpointIOError, CheckpointIncompatibleError } from '../errors/CheckpointError.js';
import { InvalidOptionError } from '../errors/InvalidArgumentError.js';
import { describeValue } from '../errors/StreamingError.js';
import { InvariantViolationError } from '../errors/InvariantViolationError.js';
import type { QueryContext, RestoredState, StateCodec, StatefulOperatorSpec, StateHandle } from '../state/StateStore.js';
import type { Checkpoint, CheckpointCommitStats, CheckpointRecovery, CommitInfo, OffsetLogEntry } from './Checkpoint.js';
import { acquireCheckpointLock, type CheckpointLock } from './checkpointLock.js';
import { crc32, type ChecksumFn } from './checksum.js';
import type { CheckpointStore, SnapshotBuilder } from './CheckpointStore.js';
import { checkFrame, corruptContent, decodeBody, frameJson, parseJsonBody, unframeFile, type CheckpointFileType } from './fileFormat.js';
import { InThreadSnapshotBuilder } from './InThreadSnapshotBuilder.js';
import {
  COMMITS_DIR,
  METADATA_PATH,
  OFFSETS_DIR,
  STATE_DIR,
  commitPath,
  offsetsPath,
  parseBatchFileName,
  parseStateFileName,
  sourceLogDir,
  stateDir,
  statePath,
} from './layout.js';
import { frameStateColumns } from './stateColumns.js';
import {
  BinaryStateFile,
  REMOVED,
  binaryCodec,
  bulkRestore,
  textReader,
  deltaBody,
  parseBinaryStateFile,
  parseStateColumnsFile,
  parseStateFile,
  rebuiltFileEntries,
  stateFileEntries,
  type BinaryStateCodec,
  type ParsedStateFile,
  type StateFileHeader,
} from './stateFiles.js';

/** Options of a checkpoint (shared by `openCheckpoint`, the `checkpoint` operator and `startQuery`). */
export interface CheckpointStateOptions {
  /**
   * Write a full snapshot of an operator's state once at least this many
   * versions (batches) have passed since its last snapshot (and
   * {@link snapshotDeltaRatio} allows it); every version is a delta of the
   * keys that changed. Snapshots are written in the background after the
   * commit. Like Spark's `spark.sql.streaming.stateStore.minDeltasForSnapshot`,
   * a minimum. @defaultValue `10`
   */
  readonly snapshotInterval?: number;
  /**
   * A snapshot is due only once the deltas written since the last one add up
   * to at least this fraction of its size (the size of the state file the
   * chain starts from: the last snapshot, or a full delta). A snapshot
   * rewrites the whole state to spare recovery the deltas since the last one,
   * so a large state that changes little is snapshotted less often than every
   * `snapshotInterval` versions: the bytes a checkpoint writes stay
   * proportional to the changes (at most `1 + 1 / ratio` times the deltas'
   * bytes), and recovery reads about `1 + ratio` times the state at most
   * (plus the deltas written while a snapshot is being built). A larger ratio
   * writes less and recovers more slowly. However small the deltas, a
   * snapshot is due after ten times `snapshotInterval` versions, so that
   * the files recovery reads (and retention keeps) stay bounded. `0`: a
   * snapshot every `snapshotInterval` versions, whatever it costs.
   * @defaultValue `0.5`
   */
  readonly snapshotDeltaRatio?: number;
  /**
   * How many committed batches recovery must be able to go back to (Spark's
   * `spark.sql.streaming.minBatchesToRetain`): offsets, commits and the state
   * files needed to rebuild any of them are kept; older ones are deleted.
   * @defaultValue `100`
   */
  readonly minBatchesToRetain?: number;
  /** The query id for a new checkpoint; an existing checkpoint keeps its own. @defaultValue a random UUID */
  readonly queryId?: string;
}

/** What `commits/N` records about each stateful operator. */
export interface OperatorRecord {
  readonly kind: string;
  readonly descriptor: unknown;
  /** The state version (batch id) the operator's state is at after batch N; -1 when it has none. */
  readonly version: number;
}

/** The body of `commits/N`. */
export interface CommitEntry {
  readonly batchId: number;
  /** The watermark after batch N (Spark's `nextBatchWatermarkMs`), when the runtime gave it. */
  readonly watermark?: number;
  readonly operators: Readonly<Record<string, OperatorRecord>>;
}

/** The body of `metadata`. */
export interface MetadataEntry {
  readonly id: string;
}

interface Publication {
  readonly batchId: number;
  /** The JSON text of each changed key's value, read when it was published (`undefined`: removed). */
  readonly entries: Map<string, string | undefined>;
  /** A binary delta body (format version 3), encoded when it was published, instead of `entries`. */
  binary: Uint8Array | undefined;
  base: number;
  written: Promise<void>;
  /** Bytes of the delta file, once written. */
  bytes: number;
  /** Time spent writing the delta (encoding and the durable write), once written. */
  ms: number;
}

interface RegisteredOperator<S> {
  readonly id: string;
  readonly spec: StatefulOperatorSpec<S>;
  readonly codec: StateCodec<S>;
  /** The codec's JSON text reader, when it has one (`TextStateCodec`). */
  readonly getText: ((state: S, key: string) => string | undefined) | undefined;
  /** The codec's binary part, when it has one (`BinaryStateCodec`). */
  readonly binary: BinaryStateCodec<S> | undefined;
  readonly descriptor: unknown;
  /** Committed state version (-1: none). */
  version: number;
  /** Latest published version, committed or not. */
  publishedVersion: number;
  /** Version of the newest snapshot written or scheduled (-1: none; the chain starts from the empty state). */
  snapshotVersion: number;
  /** Version of the newest snapshot known to be durable (-1: none). */
  durableSnapshotVersion: number;
  /** Bytes of the state file the chain starts from (the newest snapshot written or scheduled, or a full delta); 0: none yet. */
  chainBaseBytes: number;
  /** Bytes of the deltas written after it. */
  deltaBytesSinceBase: number;
  /** The snapshot being built, if one is. */
  snapshotInFlight: Promise<void> | undefined;
  /** A snapshot due while another was being built; a newer one due before it starts replaces it. */
  pendingSnapshot: number | undefined;
  readonly publications: Map<number, Publication>;
  chain: Promise<void>;
}

/** How an operator's state was rebuilt on open: from the snapshot at `snapshotVersion` (-1: from a full delta), with the sizes of that file and of the deltas applied after it. */
interface RestoredChain {
  readonly snapshotVersion: number;
  readonly baseBytes: number;
  readonly deltaBytes: number;
}

const DEFAULT_SNAPSHOT_INTERVAL = 10;
const DEFAULT_SNAPSHOT_DELTA_RATIO = 0.5;
/** However small the deltas, a snapshot is due after this many times `snapshotInterval` versions. */
const SNAPSHOT_INTERVAL_CAP = 10;
const DEFAULT_MIN_BATCHES_TO_RETAIN = 100;
/** How long `close()` waits for a snapshot being built before abandoning it (ms of the query's scheduler). */
const CLOSE_SNAPSHOT_WAIT_MS = 500;
/** How many of a chain's state files recovery reads ahead of the walk at once (see `chainReader`). */
const CHAIN_READ_AHEAD = 8;

function positiveInteger(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(`checkpoint: ${option} must be a positive integer; got ${describeValue(value)}.`, option, value, 'a positive integer');
  }
  return value;
}

function nonNegativeNumber(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(`checkpoint: ${option} must be a finite number of at least 0; got ${describeValue(value)}.`, option, value, 'a finite number of at least 0');
  }
  return value;
}

async function* single(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** JSON text with object keys sorted, for comparing descriptors. */
export function canonicalJson(value: unknown): string {
  const normalised = value === undefined ? null : (JSON.parse(JSON.stringify(value) ?? 'null') as unknown);
  const write = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(write).join(',')}]`;
    if (typeof v === 'object' && v !== null) {
      const keys = Object.keys(v).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${write((v as Record<string, unknown>)[k])}`).join(',')}}`;
    }
    return JSON.stringify(v);
  };
  return write(normalised);
}

function randomId(): string {
  return globalThis.crypto.randomUUID();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A {@link Checkpoint} over a {@link CheckpointStore}: metadata, the offsets
 * write-ahead log, the commit log and versioned operator state (deltas and
 * periodic snapshots), as described in `docs/guides/checkpointing.md`.
 */
export class StoreCheckpoint implements Checkpoint {
  readonly location: string;
  private readonly store: CheckpointStore;
  private readonly checksum: ChecksumFn;
  private readonly snapshotInterval: number;
  private readonly snapshotDeltaRatio: number;
  private readonly minBatchesToRetain: number;
  private readonly requestedQueryId: string | undefined;

  private opened: Promise<CheckpointRecovery> | undefined;
  private recovery: CheckpointRecovery | undefined;
  private lastCommitted = -1;
  /** The operators of the last commit found on open (compared with the pipeline's). */
  private recoveredOperators: Readonly<Record<string, OperatorRecord>> = {};
  /** The state files read on open (the snapshot or first delta, then the later deltas), handed to each operator's codec when it registers. */
  private readonly restoredFiles = new Map<string, readonly ParsedStateFile[]>();
  /** Restored states decoded before their operator registered ({@link prepare}), with the codec that decoded them. */
  private readonly prepared = new Map<string, { readonly codec: StateCodec<unknown> } & ({ readonly state: unknown } | { readonly error: unknown })>();
  /** Each restored chain: the snapshot version it started from, and the bytes of the file it started from and of the deltas after it. */
  private readonly restoredChains = new Map<string, RestoredChain>();
  private readonly operators = new Map<string, RegisteredOperator<unknown>>();
  private removedChecked = false;
  /** Operator versions per committed batch, for retention. */
  private readonly commitVersions = new Map<number, Readonly<Record<string, number>>>();
  private maintenance: Promise<void> = Promise.resolve();
  private backgroundError: unknown;
  private closed = false;
  /** The lock of a directory checkpoint, held from open() to close(). */
  private lock: CheckpointLock | undefined;
  private snapshots: SnapshotBuilder | undefined;
  /** The query's clock (from `createContext`), for the phase timings of {@link CheckpointCommitStats}. */
  private scheduler: SchedulerLike | undefined;
  /** Bytes of `offsets/N` per batch not committed yet. */
  private readonly offsetBytes = new Map<number, number>();
  /** Snapshots being built, and the time spent with at least one in flight. */
  private snapshotsActive = 0;
  private snapshotBusySince = 0;
  private snapshotBusyMs = 0;
  private snapshotBusyReported = 0;
  private snapshotsCoalesced = 0;

  constructor(store: CheckpointStore, options: CheckpointStateOptions = {}) {
    this.store = store;
    this.location = store.location;
    this.checksum = store.checksum ?? crc32;
    this.snapshotInterval = positiveInteger('snapshotInterval', options.snapshotInterval, DEFAULT_SNAPSHOT_INTERVAL);
    this.snapshotDeltaRatio = nonNegativeNumber('snapshotDeltaRatio', options.snapshotDeltaRatio, DEFAULT_SNAPSHOT_DELTA_RATIO);
    this.minBatchesToRetain = positiveInteger('minBatchesToRetain', options.minBatchesToRetain, DEFAULT_MIN_BATCHES_TO_RETAIN);
    if (options.queryId !== undefined && (typeof options.queryId !== 'string' || options.queryId.length === 0)) {
      throw new InvalidOptionError(`checkpoint: queryId must be a non-empty string; got ${describeValue(options.queryId)}.`, 'queryId', options.queryId, 'a non-empty string');
    }
    this.requestedQueryId = options.queryId;
  }

  /** The recovery found by {@link StoreCheckpoint.open}. */
  get recovered(): CheckpointRecovery | undefined {
    return this.recovery;
  }

  // ---------------------------------------------------------------- files

  private where(path: string): string {
    return `${this.location}/${path}`;
  }

  private async writeFile(path: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
    return this.store.write(path, chunks);
  }

  /** Reads and checks a file; `undefined` when it does not exist. */
  private async readFile(path: string, type: CheckpointFileType): Promise<string | undefined> {
    const bytes = await this.store.read(path);
    if (bytes === undefined) return undefined;
    return unframeFile(bytes, this.where(path), type, this.checksum);
  }

  /** Reads, checks and parses a state file of either format version; `undefined` when it does not exist. */
  private async readStateFile(
    path: string,
    expected: { readonly operator: string; readonly version: number; readonly kind: 'delta' | 'snapshot' },
    read: (path: string) => Promise<Uint8Array | undefined>,
  ): Promise<{ readonly file: ParsedStateFile; readonly size: number } | undefined> {
    const bytes = await read(path);
    if (bytes === undefined) return undefined;
    const where = this.where(path);
    const frame = checkFrame(bytes, where, expected.kind, this.checksum, [1, 2, 3]);
    const file =
      frame.version === 1
        ? parseStateFile(decodeBody(bytes, frame, where), where, expected)
        : frame.version === 3
          ? parseBinaryStateFile(bytes, frame.bodyStart, frame.bodyEnd, where, expected)
          : parseStateColumnsFile(bytes, frame.bodyStart, frame.bodyEnd, where, expected);
    return { file, size: bytes.length };
  }

  private now(): number {
    return this.scheduler?.now() ?? 0;
  }

  private async readJson(path: string, type: CheckpointFileType): Promise<unknown> {
    const body = await this.readFile(path, type);
    if (body === undefined) return undefined;
    return parseJsonBody(body, this.where(path));
  }

  private async listBatchIds(dir: string): Promise<number[]> {
    const ids: number[] = [];
    for (const name of await this.store.list(dir)) {
      const id = parseBatchFileName(name);
      if (id !== undefined) ids.push(id);
    }
    return ids.sort((a, b) => a - b);
  }

  async readOffsetEntry(batchId: number): Promise<OffsetLogEntry | undefined> {
    if ((await this.readJson(offsetsPath(batchId), 'offsets')) === undefined) return undefined;
    return this.readOffsets(batchId);
  }

  private async readOffsets(batchId: number): Promise<OffsetLogEntry> {
    const path = offsetsPath(batchId);
    const value = await this.readJson(path, 'offsets');
    if (value === undefined) throw this.missing(path, `the write-ahead entry of batch ${batchId}`);
    if (!isRecord(value) || value.batchId !== batchId || !Array.isArray(value.offsets) || typeof value.watermark !== 'number' || typeof value.timestamp !== 'number') {
      throw corruptContent(this.where(path), 'an offsets entry of the wrong shape');
    }
    return value as unknown as OffsetLogEntry;
  }

  private async readCommit(batchId: number): Promise<CommitEntry> {
    const path = commitPath(batchId);
    const value = await this.readJson(path, 'commit');
    if (value === undefined) throw this.missing(path, `the commit of batch ${batchId}`);
    if (!isRecord(value) || value.batchId !== batchId || !isRecord(value.operators)) {
      throw corruptContent(this.where(path), 'a commit entry of the wrong shape');
    }
    for (const record of Object.values(value.operators)) {
      if (!isRecord(record) || typeof record.kind !== 'string' || typeof record.version !== 'number') throw corruptContent(this.where(path), 'a commit entry of the wrong shape');
    }
    return value as unknown as CommitEntry;
  }

  private missing(path: string, what: string): CheckpointCorruptError {
    return new CheckpointCorruptError(
      `checkpoint: file ${this.where(path)} is missing; got a checkpoint without ${what}, which recovery needs. Restore the file from a backup or start the query with a new checkpoint location.`,
      this.where(path),
    );
  }

  // ---------------------------------------------------------------- open

  /** Opens (or creates) the checkpoint and works out where the query stands. Idempotent. */
  open(): Promise<CheckpointRecovery> {
    this.opened ??= this.doOpen();
    return this.opened;
  }

  private async doOpen(): Promise<CheckpointRecovery> {
    // One writer per checkpoint: a directory is locked before anything in it is read or changed.
    if (this.store.directory !== undefined) this.lock = await acquireCheckpointLock(this.store.directory);
    try {
      return await this.recover();
    } catch (error) {
      await this.releaseLock();
      throw error;
    }
  }

  private async releaseLock(): Promise<void> {
    const lock = this.lock;
    this.lock = undefined;
    await lock?.release();
  }

  private async recover(): Promise<CheckpointRecovery> {
    await this.store.removeTemporaryFiles('');
    await this.store.removeTemporaryFiles(OFFSETS_DIR);
    await this.store.removeTemporaryFiles(COMMITS_DIR);
    const offsetIds = await this.listBatchIds(OFFSETS_DIR);
    const commitIds = await this.listBatchIds(COMMITS_DIR);

    let queryId: string;
    let fresh = false;
    const metadata = await this.readJson(METADATA_PATH, 'metadata');
    if (metadata === undefined) {
      if (offsetIds.length > 0 || commitIds.length > 0) throw this.missing(METADATA_PATH, 'its metadata (the query id)');
      queryId = this.requestedQueryId ?? randomId();
      const entry: MetadataEntry = { id: queryId };
      await this.writeFile(METADATA_PATH, frameJson('metadata', entry, this.checksum));
      fresh = true;
    } else {
      if (!isRecord(metadata) || typeof metadata.id !== 'string') throw corruptContent(this.where(METADATA_PATH), 'metadata without a query id');
      queryId = metadata.id;
    }

    const maxOffsets = offsetIds[offsetIds.length - 1];
    const maxCommit = commitIds[commitIds.length - 1];
    let lastCommit: CommitEntry | undefined;
    let pendingId: number | undefined;

    if (maxCommit === undefined) {
      if (maxOffsets !== undefined) {
        if (offsetIds.length !== 1 || maxOffsets !== 0) throw this.inconsistent(`offsets up to batch ${maxOffsets} but no commit`);
        pendingId = maxOffsets;
      }
    } else {
      if (maxOffsets === undefined || maxOffsets < maxCommit) throw this.missing(offsetsPath(maxCommit), `the write-ahead entry of committed batch ${maxCommit}`);
      if (maxOffsets > maxCommit + 1) throw this.inconsistent(`offsets up to batch ${maxOffsets} but commits only up to batch ${maxCommit}`);
      try {
        lastCommit = await this.readCommit(maxCommit);
        if (maxOffsets === maxCommit + 1) pendingId = maxOffsets;
      } catch (error) {
        // A damaged latest commit: the batch counts as not committed and runs again,
        // which is safe while no later batch was planned (sinks are idempotent by batch id).
        if (!(error instanceof CheckpointCorruptError) || maxOffsets !== maxCommit) throw error;
        const previous = commitIds[commitIds.length - 2];
        if (maxCommit > 0 && previous !== maxCommit - 1) throw error;
        lastCommit = previous === undefined ? undefined : await this.readCommit(previous);
        pendingId = maxCommit;
      }
    }

    const lastCommittedBatchId = lastCommit?.batchId ?? -1;
    const lastCommitted = lastCommit === undefined ? undefined : await this.readOffsets(lastCommit.batchId);
    const pending = pendingId === undefined ? undefined : await this.readOffsets(pendingId);

    // State files newer than the last commit belong to a batch that will run again. What is left
    // is the listing that recovery reads each operator's chain from.
    const stateFiles = new Map<string, Set<string>>();
    for (const dirName of await this.store.list(STATE_DIR)) {
      const dir = `${STATE_DIR}/${dirName}`;
      await this.store.removeTemporaryFiles(dir);
      const kept = new Set<string>();
      for (const name of await this.store.list(dir)) {
        const parsed = parseStateFileName(name);
        if (parsed !== undefined && parsed.version > lastCommittedBatchId) await this.store.remove(`${dir}/${name}`);
        else kept.add(name);
      }
      stateFiles.set(dir, kept);
    }

    if (lastCommit !== undefined) {
      this.recoveredOperators = lastCommit.operators;
      const versions: Record<string, number> = {};
      for (const [id, record] of Object.entries(lastCommit.operators)) {
        versions[id] = record.version;
        if (record.version >= 0) {
          const { files, chain } = await this.rebuildState(id, record.version, stateFiles.get(stateDir(id)));
          this.restoredFiles.set(id, files);
          this.restoredChains.set(id, chain);
        }
      }
      this.commitVersions.set(lastCommit.batchId, versions);
    }
    this.lastCommitted = lastCommittedBatchId;
    this.recovery = {
      queryId,
      fresh,
      lastCommittedBatchId,
      lastCommitted,
      pending,
      ...(lastCommit?.watermark === undefined ? {} : { watermark: lastCommit.watermark }),
    };
    return this.recovery;
  }

  private inconsistent(what: string): CheckpointCorruptError {
    return new CheckpointCorruptError(
      `checkpoint: ${this.location} is inconsistent; got ${what}. Files were deleted or copied in by hand; restore the checkpoint from a backup or start the query with a new checkpoint location.`,
      this.location,
    );
  }

  /**
   * Reads the files of an operator's state at `version`: the newest good
   * snapshot at or below it, then the deltas after it, oldest first.
   * `present` is the listing of the operator's state directory: a file it
   * does not hold is not asked for, and the files the walk will read (the
   * deltas down to the newest snapshot, and that snapshot) are read ahead, a
   * few at a time, so that the store's reads overlap instead of taking one
   * round trip each. Without a listing of the directory every file is asked
   * for when the walk reaches it.
   */
  private async rebuildState(operatorId: string, version: number, present: ReadonlySet<string> | undefined): Promise<{ files: readonly ParsedStateFile[]; chain: RestoredChain }> {
    const read = this.chainReader(operatorId, version, present);
    const deltas: ParsedStateFile[] = [];
    const sizes: number[] = [];
    let current = version;
    let base: ParsedStateFile | undefined;
    let baseSize = 0;
    while (current >= 0) {
      const snapshotFile = statePath(operatorId, current, 'snapshot');
      let snapshotError: unknown;
      try {
        const snapshot = await this.readStateFile(snapshotFile, { operator: operatorId, version: current, kind: 'snapshot' }, read);
        if (snapshot !== undefined) {
          base = snapshot.file;
          baseSize = snapshot.size;
          break;
        }
      } catch (error) {
        if (!(error instanceof CheckpointCorruptError)) throw error;
        snapshotError = error; // fall back to the delta of the same version
      }
      const deltaFile = statePath(operatorId, current, 'delta');
      const delta = await this.readStateFile(deltaFile, { operator: operatorId, version: current, kind: 'delta' }, read).catch((error: unknown) => {
        throw snapshotError ?? error;
      });
      if (delta === undefined) {
        if (snapshotError !== undefined) throw snapshotError;
        throw this.missing(deltaFile, `version ${current} of operator ${operatorId}'s state (a delta or snapshot)`);
      }
      deltas.push(delta.file);
      sizes.push(delta.size);
      current = delta.file.header.base ?? -1;
    }
    deltas.reverse();
    sizes.reverse();
    // Without a snapshot the chain starts from a full delta (the first one).
    if (base === undefined && sizes.length > 0) baseSize = sizes.shift()!;
    const deltaBytes = sizes.reduce((total, size) => total + size, 0);
    return { files: base === undefined ? deltas : [base, ...deltas], chain: { snapshotVersion: base?.header.version ?? -1, baseBytes: baseSize, deltaBytes } };
  }

  /**
   * The reads of one operator's chain walk ({@link rebuildState}): a file
   * `present` does not list is absent without asking the store; the files the
   * walk reads when no snapshot is corrupt (the deltas from `version` down to
   * the newest listed snapshot, then that snapshot) are read ahead in that
   * order, at most {@link CHAIN_READ_AHEAD} at a time. Any other path (the
   * walk falling back past a corrupt snapshot) is read when asked for. A read
   * ahead that fails rejects only when the walk asks for its file. Without
   * a listing, each file is read when the walk asks for it.
   */
  private chainReader(operatorId: string, version: number, present: ReadonlySet<string> | undefined): (path: string) => Promise<Uint8Array | undefined> {
    if (present === undefined) return (path) => this.store.read(path);
    const dir = stateDir(operatorId);
    let newestSnapshot = -1;
    const deltaVersions: number[] = [];
    for (const name of present) {
      const parsed = parseStateFileName(name);
      if (parsed === undefined || parsed.version > version) continue;
      if (parsed.kind === 'snapshot') newestSnapshot = Math.max(newestSnapshot, parsed.version);
      else deltaVersions.push(parsed.version);
    }
    deltaVersions.sort((a, b) => b - a);
    const ahead: string[] = [];
    for (const v of deltaVersions) {
      if (v <= newestSnapshot) break;
      ahead.push(statePath(operatorId, v, 'delta'));
    }
    if (newestSnapshot >= 0) ahead.push(statePath(operatorId, newestSnapshot, 'snapshot'));
    const started = new Map<string, Promise<Uint8Array | undefined>>();
    let next = 0;
    let inFlight = 0;
    const pump = (): void => {
      while (inFlight < CHAIN_READ_AHEAD && next < ahead.length) {
        const path = ahead[next++]!;
        inFlight++;
        const bytes = this.store.read(path);
        started.set(path, bytes);
        const settled = (): void => {
          inFlight--;
          pump();
        };
        bytes.then(settled, settled);
      }
    };
    pump();
    return (path) => {
      if (!present.has(path.slice(dir.length + 1))) return Promise.resolve(undefined);
      const bytes = started.get(path);
      if (bytes === undefined) return this.store.read(path);
      started.delete(path);
      return bytes;
    };
  }

  // ---------------------------------------------------------------- registration

  createContext(runId: string, scheduler: SchedulerLike, inputs: readonly string[] = ['0'], clock: SchedulerLike = scheduler): QueryContext {
    const recovery = this.recovery;
    if (recovery === undefined) {
      throw new CheckpointError(`checkpoint: createContext was called before open() finished for ${this.location}; got no recovery yet. Await open() first.`, this.location);
    }
    // Phase durations are measured on a running clock: a query's context scheduler reads the batch's timestamp.
    this.scheduler = clock;
    return {
      queryId: recovery.queryId,
      runId,
      scheduler,
      inputs,
      registerState: <S>(spec: StatefulOperatorSpec<S>): StateHandle<S> => this.register(spec),
      prepareState: (id: string, codec: StateCodec<unknown>): void => this.prepare(id, codec),
    };
  }

  /**
   * Builds an operator's restored state from its files with its codec. A
   * codec that restores in bulk reads the files' columns directly; others get
   * the merged entries. Binary files (format version 3) are read by the
   * codec's binary part only.
   */
  private decodeState<S>(id: string, codec: StateCodec<S>, files: readonly ParsedStateFile[]): S {
    const binary = binaryCodec<S>(codec);
    if (files.length > 0 && files.every((f) => f instanceof BinaryStateFile)) {
      if (binary === undefined) {
        throw new CheckpointIncompatibleError(
          `checkpoint: stateful operator ${id} cannot read its state; got binary state files (format version 3, written by an operator whose state is columns of numbers) for an operator that keeps its state otherwise. The operator's aggregates or grouping changed in a way its descriptor does not show; start the query with a new checkpoint location.`,
          this.where(stateDir(id)),
          id,
        );
      }
      return binary.fromBinaryFiles(files as BinaryStateFile[]);
    }
    if (files.some((f) => f instanceof BinaryStateFile)) {
      const at = files.find((f) => f instanceof BinaryStateFile) as BinaryStateFile;
      throw corruptContent(at.path, 'a state chain that mixes binary (format 3) and text state files, which no writer produces');
    }
    const bulk = bulkRestore<S>(codec);
    return bulk !== undefined ? bulk(stateFileEntries(files), REMOVED) : codec.fromEntries(rebuiltFileEntries(files));
  }

  /**
   * Decodes operator `id`'s restored state now, before the operator
   * registers (see {@link QueryContext.prepareState}): the files read on
   * open are released, and the state (or the error decoding it raised, for
   * the registration to throw after its own checks) waits for
   * {@link register}. Nothing to do when there are no files for `id` (a
   * fresh checkpoint, an operator it does not have, one already registered)
   * or it was prepared already.
   */
  private prepare(id: string, codec: StateCodec<unknown>): void {
    const files = this.restoredFiles.get(id);
    if (files === undefined || this.prepared.has(id)) return;
    this.restoredFiles.delete(id);
    try {
      this.prepared.set(id, { codec, state: this.decodeState(id, codec, files) });
    } catch (error) {
      this.prepared.set(id, { codec, error });
      // A registration with another codec object decodes again from the files.
      this.restoredFiles.set(id, files);
    }
  }

  private register<S>(spec: StatefulOperatorSpec<S>): StateHandle<S> {
    const id = spec.id;
    if (this.operators.has(id)) {
      throw new InvalidOptionError(
        `${spec.kind}: the operator id must be unique among the stateful operators of a query; got ${describeValue(id)} twice (two operators with that name, or two unnamed operators of that kind at the same depth in parallel branches). Give each stateful operator its own name.`,
        'name',
        id,
        'a unique name',
      );
    }
    const descriptor = JSON.parse(JSON.stringify(spec.descriptor ?? null) ?? 'null') as unknown;
    const path = this.where(stateDir(id));
    let restored: RestoredState<S> | undefined;
    let version = -1;
    let snapshotVersion = -1;
    if (this.lastCommitted >= 0) {
      const record = this.recoveredOperators[id];
      if (record === undefined) {
        const known = Object.keys(this.recoveredOperators);
        throw new CheckpointIncompatibleError(
          `checkpoint: stateful operator ${id} is not in the checkpoint; got a pipeline with an added or renamed stateful operator (the checkpoint has ${known.length === 0 ? 'none' : known.join(', ')}). Stateful operators cannot be added between restarts; start the query with a new checkpoint location.`,
          path,
          id,
        );
      }
      if (record.kind !== spec.kind || canonicalJson(record.descriptor) !== canonicalJson(descriptor)) {
        throw new CheckpointIncompatibleError(
          `checkpoint: stateful operator ${id} does not match the checkpoint; got ${spec.kind} ${describeValue(descriptor)} where the checkpoint has ${record.kind} ${describeValue(record.descriptor)}. A stateful operator's keys, windows and aggregates cannot change between restarts; start the query with a new checkpoint location.`,
          path,
          id,
        );
      }
      version = record.version;
      const prepared = this.prepared.get(id);
      this.prepared.delete(id);
      let state: S;
      if (prepared !== undefined && prepared.codec === spec.codec) {
        if ('error' in prepared) throw prepared.error;
        state = prepared.state as S;
      } else {
        const files = this.restoredFiles.get(id) ?? [];
        this.restoredFiles.delete(id);
        state = this.decodeState(id, spec.codec, files);
      }
      restored = { batchId: this.lastCommitted, state };
      snapshotVersion = this.restoredChains.get(id)?.snapshotVersion ?? -1;
    }
    const operator: RegisteredOperator<S> = {
      id,
      spec,
      codec: spec.codec,
      getText: textReader<S>(spec.codec),
      binary: binaryCodec<S>(spec.codec),
      descriptor,
      version,
      publishedVersion: version,
      snapshotVersion,
      durableSnapshotVersion: snapshotVersion,
      chainBaseBytes: this.restoredChains.get(id)?.baseBytes ?? 0,
      deltaBytesSinceBase: this.restoredChains.get(id)?.deltaBytes ?? 0,
      snapshotInFlight: undefined,
      pendingSnapshot: undefined,
      publications: new Map(),
      chain: Promise.resolve(),
    };
    this.operators.set(id, operator as RegisteredOperator<unknown>);
    return {
      operatorId: id,
      restored,
      publish: (batchId, state, changedKeys) => this.publish(operator, batchId, state, changedKeys),
    };
  }

  /**
   * Reads the changed entries from `state` now (so the operator may keep
   * changing its working state afterwards), then writes the delta in the
   * background. A second publication of the same batch adds its keys.
   */
  private publish<S>(operator: RegisteredOperator<S>, batchId: number, state: S, changedKeys: Iterable<string>): void {
    if (this.closed || batchId <= this.lastCommitted) return;
    let publication = operator.publications.get(batchId);
    if (publication === undefined) {
      if (batchId < operator.publishedVersion) return;
      publication = { batchId, entries: new Map(), binary: undefined, base: operator.publishedVersion, written: Promise.resolve(), bytes: 0, ms: 0 };
      operator.publishedVersion = batchId;
      operator.publications.set(batchId, publication);
    } else if (publication.binary !== undefined) {
      throw new InvariantViolationError(`checkpoint: operator ${operator.id} published batch ${batchId} twice in the binary state format, which holds one publication per batch.`);
    }
    const t0 = this.now();
    if (operator.binary !== undefined && publication.entries.size === 0) {
      // A state in the binary layout: the delta is encoded from its columns now, in one pass over the changed entries.
      const p = publication;
      const body = operator.binary.binaryDelta(state, (full) => {
        if (full) p.base = -1;
        return { operator: operator.id, version: batchId, kind: 'delta', base: p.base };
      });
      if (body !== undefined) {
        publication.binary = body;
        publication.ms += this.now() - t0;
        this.startDeltaWrite(operator, publication);
        return;
      }
    }
    const { codec } = operator;
    const entries = publication.entries;
    const getText = operator.getText;
    if (getText !== undefined) {
      for (const key of changedKeys) entries.set(key, getText(state, key));
    } else {
      for (const key of changedKeys) {
        const value = codec.get(state, key);
        entries.set(key, value === undefined ? undefined : (JSON.stringify(value) ?? 'null'));
      }
    }
    publication.ms += this.now() - t0;
    this.startDeltaWrite(operator, publication);
  }

  /** Starts writing a publication's delta right away, so that it overlaps with the sink. */
  private startDeltaWrite<S>(operator: RegisteredOperator<S>, publication: Publication): void {
    const write = operator.chain.then(() => this.writeDelta(operator, publication));
    publication.written = write;
    operator.chain = write.catch(() => undefined);
  }

  private async writeDelta<S>(operator: RegisteredOperator<S>, publication: Publication): Promise<void> {
    const t0 = this.now();
    const header: StateFileHeader = { operator: operator.id, version: publication.batchId, kind: 'delta', base: publication.base };
    const framed = publication.binary !== undefined ? frameStateColumns('delta', publication.binary, this.checksum, 3) : frameStateColumns('delta', deltaBody(header, publication.entries), this.checksum);
    publication.bytes = await this.writeFile(statePath(operator.id, publication.batchId, 'delta'), single(framed));
    publication.ms += this.now() - t0;
  }

  // ---------------------------------------------------------------- per batch

  /**
   * Checks that every stateful operator of the checkpoint's last commit has
   * registered again (call it once the pipeline is subscribed; `writeOffsets`
   * and `commit` call it too).
   *
   * @throws {CheckpointIncompatibleError} naming the first operator that is missing.
   */
  verifyOperators(): void {
    this.checkRemovedOperators();
  }

  private checkRemovedOperators(): void {
    if (this.removedChecked) return;
    for (const [id, record] of Object.entries(this.recoveredOperators)) {
      if (!this.operators.has(id)) {
        throw new CheckpointIncompatibleError(
          `checkpoint: stateful operator ${id} (${record.kind}) is in the checkpoint but not in the pipeline; got a pipeline with a removed or renamed stateful operator. Stateful operators cannot be removed between restarts; start the query with a new checkpoint location.`,
          this.where(stateDir(id)),
          id,
        );
      }
    }
    this.removedChecked = true;
  }

  private throwBackgroundError(): void {
    const error = this.backgroundError;
    if (error === undefined) return;
    this.backgroundError = undefined;
    throw error;
  }

  private checkUsable(what: string): void {
    if (this.recovery === undefined) {
      throw new CheckpointError(`checkpoint: ${what} was called before open() finished for ${this.location}; got no recovery yet. Await open() first.`, this.location);
    }
    if (this.closed) throw new CheckpointError(`checkpoint: ${what} was called after close() for ${this.location}; got a closed checkpoint. Open it again.`, this.location);
  }

  async writeOffsets(entry: OffsetLogEntry): Promise<void> {
    this.checkUsable('writeOffsets');
    // Operators register when their first batch arrives, after its offsets are written: removed operators are checked at commit.
    this.throwBackgroundError();
    if (!Number.isSafeInteger(entry.batchId) || entry.batchId !== this.lastCommitted + 1) {
      throw new CheckpointError(
        `checkpoint: writeOffsets batchId must be the batch after the last committed one (${this.lastCommitted + 1}); got ${describeValue(entry.batchId)}. Commit each batch before planning the next.`,
        this.where(offsetsPath(entry.batchId)),
      );
    }
    const value: OffsetLogEntry = { batchId: entry.batchId, offsets: entry.offsets, watermark: entry.watermark, timestamp: entry.timestamp };
    this.offsetBytes.set(entry.batchId, await this.writeFile(offsetsPath(entry.batchId), frameJson('offsets', value, this.checksum)));
  }

  async commit(batchId: number, info: CommitInfo = {}): Promise<CheckpointCommitStats> {
    this.checkUsable('commit');
    this.checkRemovedOperators();
    this.throwBackgroundError();
    if (!Number.isSafeInteger(batchId) || batchId <= this.lastCommitted) {
      throw new CheckpointError(`checkpoint: commit batchId must be above the last committed batch ${this.lastCommitted}; got ${describeValue(batchId)}. Commit each batch once.`, this.where(commitPath(batchId)));
    }
    // 1. The state of every operator as of this batch must be durable.
    const newVersions = new Map<RegisteredOperator<unknown>, number>();
    let bytesWritten = this.offsetBytes.get(batchId) ?? 0;
    let stateDeltaMs = 0;
    for (const operator of this.operators.values()) {
      let version = operator.version;
      for (const publication of operator.publications.values()) {
        if (publication.batchId > batchId) continue;
        try {
          await publication.written;
        } catch (error) {
          this.startDeltaWrite(operator, publication); // a retried commit writes it again
          throw error;
        }
        bytesWritten += publication.bytes;
        stateDeltaMs = Math.max(stateDeltaMs, publication.ms);
        if (publication.base < 0) {
          // A full delta starts the chain again.
          operator.chainBaseBytes = publication.bytes;
          operator.deltaBytesSinceBase = 0;
        } else operator.deltaBytesSinceBase += publication.bytes;
        if (publication.batchId > version) version = publication.batchId;
      }
      newVersions.set(operator, version);
    }
    // 2. The commit entry.
    const operators: Record<string, OperatorRecord> = {};
    const versions: Record<string, number> = {};
    for (const [operator, version] of newVersions) {
      operators[operator.id] = { kind: operator.spec.kind, descriptor: operator.descriptor, version };
      versions[operator.id] = version;
    }
    const entry: CommitEntry = { batchId, ...(info.watermark === undefined ? {} : { watermark: info.watermark }), operators };
    const c0 = this.now();
    bytesWritten += await this.writeFile(commitPath(batchId), frameJson('commit', entry, this.checksum));
    const commitMs = this.now() - c0;
    // 3. Bookkeeping, then snapshots and clean-up in the background.
    this.lastCommitted = batchId;
    this.commitVersions.set(batchId, versions);
    for (const id of [...this.offsetBytes.keys()]) if (id <= batchId) this.offsetBytes.delete(id);
    for (const [operator, version] of newVersions) {
      for (const id of [...operator.publications.keys()]) if (id <= batchId) operator.publications.delete(id);
      operator.version = version;
      if (version >= 0 && this.snapshotIsDue(operator, version)) this.snapshotDue(operator, version);
    }
    this.maintenance = this.maintenance.then(() => this.cleanUp(batchId)).catch((error: unknown) => {
      this.backgroundError ??= error;
    });
    return { stateDeltaMs, commitMs, bytesWritten, snapshot: this.snapshotStats() };
  }

  // ---------------------------------------------------------------- snapshots

  /**
   * Whether `operator`'s state at `version` wants a snapshot: `snapshotInterval` versions since the last
   * one and deltas that add up to `snapshotDeltaRatio` of its size, or in any case
   * {@link SNAPSHOT_INTERVAL_CAP} times `snapshotInterval` versions (tiny deltas on a large state would
   * otherwise pile up files for recovery to read, and retention could delete none of them).
   */
  private snapshotIsDue(operator: RegisteredOperator<unknown>, version: number): boolean {
    const versions = version - operator.snapshotVersion;
    if (versions >= this.snapshotInterval * SNAPSHOT_INTERVAL_CAP) return true;
    return versions >= this.snapshotInterval && operator.deltaBytesSinceBase >= this.snapshotDeltaRatio * operator.chainBaseBytes;
  }

  /**
   * A snapshot of `operator` at `version` is due: built at once (off the main
   * thread where the store can) unless one is being built, in which case it
   * waits, replacing a due one that is still waiting (coalesced), so that
   * slow snapshots never queue up and the lag shows in progress reports.
   */
  private snapshotDue(operator: RegisteredOperator<unknown>, version: number): void {
    operator.snapshotVersion = version;
    // The snapshot's size is not known before it is built: the base's stands for it until then.
    operator.deltaBytesSinceBase = 0;
    if (operator.snapshotInFlight !== undefined) {
      if (operator.pendingSnapshot !== undefined) this.snapshotsCoalesced++;
      operator.pendingSnapshot = version;
      return;
    }
    this.startSnapshot(operator, version);
  }

  private startSnapshot(operator: RegisteredOperator<unknown>, version: number): void {
    this.snapshots ??= this.store.snapshotBuilder?.() ?? new InThreadSnapshotBuilder(this.store, this.checksum);
    const builder = this.snapshots;
    if (this.snapshotsActive++ === 0) this.snapshotBusySince = this.now();
    const run = builder.build(operator.id, stateDir(operator.id), version).then(
      (bytes) => {
        operator.durableSnapshotVersion = Math.max(operator.durableSnapshotVersion, version);
        if (operator.snapshotVersion === version) operator.chainBaseBytes = bytes;
      },
      (error: unknown) => {
        if (this.closed) return; // abandoned by close(): the deltas are durable, the snapshot is only a shortcut
        this.backgroundError ??= this.snapshotError(error);
      },
    );
    operator.snapshotInFlight = run.then(() => {
      if (--this.snapshotsActive === 0) this.snapshotBusyMs += this.now() - this.snapshotBusySince;
      operator.snapshotInFlight = undefined;
      const next = operator.pendingSnapshot;
      operator.pendingSnapshot = undefined;
      if (next !== undefined && !this.closed) this.startSnapshot(operator, next);
    });
  }

  /** A builder's failure as the checkpoint's error. */
  private snapshotError(error: unknown): unknown {
    if (error instanceof Error && error.name === 'StateFileError' && typeof (error as { path?: unknown }).path === 'string') {
      return corruptContent(this.where((error as Error & { path: string }).path), error.message);
    }
    if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string' && !(error instanceof CheckpointError)) {
      const code = (error as Error & { code: string }).code;
      return new CheckpointIOError(`checkpoint: cannot write a snapshot in ${this.location}; got ${code}. Check the checkpoint location's permissions and free space.`, this.location, error);
    }
    return error;
  }

  private snapshotStats(): CheckpointCommitStats['snapshot'] {
    const now = this.now();
    const busy = this.snapshotBusyMs + (this.snapshotsActive > 0 ? now - this.snapshotBusySince : 0);
    const inFlightMs = busy - this.snapshotBusyReported;
    this.snapshotBusyReported = busy;
    let lastVersion = Number.POSITIVE_INFINITY;
    let lag = 0;
    let inFlight = false;
    for (const operator of this.operators.values()) {
      if (operator.version < 0) continue;
      lastVersion = Math.min(lastVersion, operator.durableSnapshotVersion);
      lag = Math.max(lag, operator.version - operator.durableSnapshotVersion);
      inFlight ||= operator.snapshotInFlight !== undefined;
    }
    return { inFlight, inFlightMs, lastVersion: lastVersion === Number.POSITIVE_INFINITY ? -1 : lastVersion, lag, coalesced: this.snapshotsCoalesced };
  }

  /** Deletes offsets, commits and state files that recovery to any of the last `minBatchesToRetain` commits cannot need. */
  private async cleanUp(batchId: number): Promise<void> {
    const oldestRetained = batchId - this.minBatchesToRetain + 1;
    if (oldestRetained <= 0) return;
    let versions = this.commitVersions.get(oldestRetained);
    if (versions === undefined) {
      try {
        const entry = await this.readCommit(oldestRetained);
        versions = Object.fromEntries(Object.entries(entry.operators).map(([id, record]) => [id, record.version]));
      } catch {
        versions = undefined;
      }
    }
    for (const id of [...this.commitVersions.keys()]) if (id < oldestRetained) this.commitVersions.delete(id);
    for (const dir of [OFFSETS_DIR, COMMITS_DIR]) {
      for (const id of await this.listBatchIds(dir)) {
        if (id < oldestRetained) await this.store.remove(`${dir}/${id}`);
      }
    }
    if (versions === undefined) return;
    for (const [operatorId, version] of Object.entries(versions)) {
      if (version < 0) continue;
      const dir = stateDir(operatorId);
      const files = (await this.store.list(dir)).map((name) => ({ name, parsed: parseStateFileName(name) }));
      let base = -1;
      for (const { parsed } of files) if (parsed?.kind === 'snapshot' && parsed.version <= version && parsed.version > base) base = parsed.version;
      if (base < 0) continue;
      for (const { name, parsed } of files) if (parsed !== undefined && parsed.version < base) await this.store.remove(`${dir}/${name}`);
    }
  }

  /** Waits for the background snapshots (including due ones waiting for their turn) and clean-up started so far (tests and benchmarks use it). */
  async flush(): Promise<void> {
    for (const operator of this.operators.values()) await operator.chain;
    for (const operator of this.operators.values()) while (operator.snapshotInFlight !== undefined) await operator.snapshotInFlight;
    await this.maintenance;
    this.throwBackgroundError();
  }

  /**
   * Stops accepting publications and waits for the delta writes in flight. A
   * snapshot still being built gets up to {@link CLOSE_SNAPSHOT_WAIT_MS} (on
   * the query's scheduler) to finish, so that the next start restores from
   * it instead of from every delta since the last one; past that it is
   * abandoned: the deltas are durable, so recovery only replays more of them,
   * and its temporary file is removed on the next open. A due snapshot that
   * was waiting for it is not started.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      for (const operator of this.operators.values()) await operator.chain;
      await this.settleSnapshots();
      await this.snapshots?.close();
      for (const operator of this.operators.values()) await operator.snapshotInFlight;
      await this.maintenance;
    } finally {
      await this.releaseLock();
    }
  }

  /** Waits for the snapshots in flight, for at most {@link CLOSE_SNAPSHOT_WAIT_MS} of the scheduler's time (see {@link close}). */
  private async settleSnapshots(): Promise<void> {
    const inFlight: Promise<void>[] = [];
    for (const operator of this.operators.values()) if (operator.snapshotInFlight !== undefined) inFlight.push(operator.snapshotInFlight);
    const scheduler = this.scheduler;
    if (inFlight.length === 0 || scheduler === undefined) return;
    let timer: Subscription | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = scheduler.schedule(() => resolve(), CLOSE_SNAPSHOT_WAIT_MS);
    });
    try {
      // A snapshot's promise never rejects: its failure is recorded (or, once closed, ignored).
      await Promise.race([Promise.all(inFlight), timeout]);
    } finally {
      timer?.unsubscribe();
    }
  }

  /** `<location>/sources/<index>` when the store is a local directory; `undefined` for a store in memory. */
  sourceMetadataDir(index: number): string | undefined {
    const directory = this.store.directory;
    return directory === undefined ? undefined : `${directory}/${sourceLogDir(index)}`;
  }

  /** The ids of the operators in the checkpoint's last commit (after open). */
  get checkpointedOperatorIds(): readonly string[] {
    return Object.keys(this.recoveredOperators);
  }
}

import { Subject, type Observable } from 'rxjs';
import { InvalidOptionError, SourceBufferOverflowError, SourceError, describeValue } from '../errors/index.js';
import type { ReadLimit } from './Source.js';

/**
 * What a push source does when its buffer holds `maxBufferedRows` rows not
 * yet committed: `'pause'` stops reading from the producer until batches
 * commit (TCP backpressure; only where the producer can be paused),
 * `'error'` stops the query with a `SourceBufferOverflowError`, `'drop'`
 * drops the new rows and counts them (`numRowsDropped` in progress).
 */
export type BufferFullPolicy = 'pause' | 'error' | 'drop';

/** The bound of a push source's buffer. */
export interface BufferOptions {
  /** Rows held (received, not yet committed) at most. */
  readonly maxBufferedRows: number;
  readonly onBufferFull: BufferFullPolicy;
  /** For `'pause'`: stop and restart the producer. */
  readonly pause?: () => void;
  readonly resume?: () => void;
}

/** Validates `maxBufferedRows` / `onBufferFull` of a push source's options. */
export function bufferOptions(
  op: string,
  given: { readonly maxBufferedRows?: number; readonly onBufferFull?: BufferFullPolicy },
  allowed: readonly BufferFullPolicy[],
  defaults: { readonly maxBufferedRows: number; readonly onBufferFull: BufferFullPolicy },
): { maxBufferedRows: number; onBufferFull: BufferFullPolicy } {
  const maxBufferedRows = given.maxBufferedRows ?? defaults.maxBufferedRows;
  if (!Number.isSafeInteger(maxBufferedRows) || maxBufferedRows < 1) {
    throw new InvalidOptionError(`${op}: maxBufferedRows must be a positive integer; got ${describeValue(maxBufferedRows)}.`, 'maxBufferedRows', maxBufferedRows, 'a positive integer');
  }
  const onBufferFull = given.onBufferFull ?? defaults.onBufferFull;
  if (!allowed.includes(onBufferFull)) {
    throw new InvalidOptionError(
      `${op}: onBufferFull must be ${allowed.map((p) => `'${p}'`).join(', ')}; got ${describeValue(onBufferFull)}.`,
      'onBufferFull',
      onBufferFull,
      allowed.map((p) => `'${p}'`).join(' | '),
    );
  }
  return { maxBufferedRows, onBufferFull };
}

/**
 * The in-memory buffer behind sources that receive data pushed at them
 * (socket lines, Observable emissions): rows are numbered from 0 as they
 * arrive; an offset is the number of rows received up to it. Rows up to the
 * committed offset are dropped, so these sources cannot replay after a
 * restart (as Spark's socket and memory sources). A restarted query
 * resumes at offsets counted by the earlier run: the first offset the
 * runtime names anchors this run's numbering after it, so no new row is
 * skipped, and a batch the earlier run left pending runs without its rows,
 * which are counted (`numRowsLost`). The rows held (received,
 * not yet committed, including those of the batch running) are bounded by
 * `maxBufferedRows`, with the policy `onBufferFull`.
 */
export class RowBuffer<T> {
  private rows: T[] = [];
  /** Offset of `rows[0]`. */
  private base = 0;
  private cap: number | undefined;
  private readonly available = new Subject<void>();
  readonly dataAvailable$: Observable<void> = this.available.asObservable();
  failure: unknown;
  private paused = false;
  private dropped = 0;
  private pauses = 0;
  private highWater = 0;
  /**
   * `false` until the runtime first plans a batch (`latestOffset`). A query
   * restarted from a checkpoint names offsets counted by an earlier run
   * (another source instance): this run's rows are then numbered after them,
   * so none is skipped as if it had been read, and batches it re-runs before
   * planning (`getBatch` first) are the earlier run's.
   */
  private anchored = false;
  /** Rows of batches planned by an earlier run, gone with it (counted, never silently). */
  private lost = 0;

  constructor(
    private readonly description: string,
    private readonly bound: BufferOptions,
  ) {}

  get total(): number {
    return this.base + this.rows.length;
  }

  /** Rows held now. */
  get held(): number {
    return this.rows.length;
  }

  /** `true` while the producer is paused because the buffer is full. */
  get isPaused(): boolean {
    return this.paused;
  }

  push(row: T): void {
    if (this.admit(1) === 1) {
      this.rows.push(row);
      this.noteHeld();
      this.available.next();
    }
  }

  pushAll(rows: readonly T[]): void {
    const n = this.admit(rows.length);
    for (let i = 0; i < n; i++) this.rows.push(rows[i]!);
    this.noteHeld();
    if (n > 0) this.available.next();
  }

  fail(error: unknown): void {
    this.failure ??= error;
    this.available.next();
  }

  fixAvailableNow(): void {
    this.cap = this.total;
  }

  latestOffset(start: number | undefined, limit: ReadLimit, maxRows: number | undefined): number | undefined {
    if (this.failure !== undefined) throw this.failure;
    if (!this.anchored) {
      // The first offset the runtime names: this run's rows come after it (a restart resumes at its checkpoint).
      this.anchored = true;
      if (start !== undefined && start > this.base) this.rebase(start);
    }
    let end = this.cap === undefined ? this.total : Math.min(this.cap, this.total);
    if (end === 0 && start === undefined) return undefined;
    const from = start ?? 0;
    if (!limit.all && maxRows !== undefined && end - from > maxRows) end = from + maxRows;
    return Math.max(end, from);
  }

  getBatch(start: number | undefined, end: number): T[] {
    const from = start ?? 0;
    if (!this.anchored) {
      // Before this run planned anything, a batch is one an earlier run planned (a pending batch, or one
      // re-planned from the sink's record after a restart): its rows were in that run's memory and are gone.
      // It runs without them, counted (numRowsLost); this run's rows come after it.
      this.lost += Math.max(0, end - from);
      if (end > this.base) this.rebase(end);
      return [];
    }
    if (from < this.base || end > this.total) {
      throw new SourceError(
        this.description,
        `cannot read offsets (${from}, ${end}]; got rows ${this.base} to ${this.total} in memory. This source keeps rows only until they are committed and cannot replay them after a restart`,
        undefined,
        false,
      );
    }
    return this.rows.slice(from - this.base, end - this.base);
  }

  commit(end: number): void {
    if (end <= this.base) return;
    const drop = Math.min(end - this.base, this.rows.length);
    this.rows = this.rows.slice(drop);
    this.base += drop;
    if (this.paused && this.rows.length < this.bound.maxBufferedRows) {
      this.paused = false;
      this.bound.resume?.();
    }
  }

  complete(): void {
    this.available.complete();
  }

  /** Progress numbers: rows held now and at most since the last report, the capacity, rows dropped, pauses and rows lost with an earlier run so far. */
  metrics(): Record<string, number> {
    const report = { numBufferedRows: this.rows.length, maxBufferedRowsSeen: this.highWater, bufferCapacity: this.bound.maxBufferedRows, numRowsDropped: this.dropped, numPauses: this.pauses, numRowsLost: this.lost };
    this.highWater = this.rows.length;
    return report;
  }

  /** How many of `n` new rows fit; applies the policy to the rest. */
  private admit(n: number): number {
    const { maxBufferedRows, onBufferFull } = this.bound;
    if (onBufferFull === 'pause') {
      // The producer is asked to stop once the buffer is full; what it already sent (one read) is still taken.
      if (this.rows.length + n >= maxBufferedRows && !this.paused) {
        this.paused = true;
        this.pauses++;
        this.bound.pause?.();
      }
      return n;
    }
    if (this.failure !== undefined) return 0;
    const room = Math.max(0, maxBufferedRows - this.rows.length);
    if (n <= room) return n;
    if (onBufferFull === 'drop') {
      this.dropped += n - room;
      return room;
    }
    this.fail(
      new SourceBufferOverflowError(
        this.description,
        maxBufferedRows,
        `the buffer holds ${this.rows.length} rows not yet committed, its limit (maxBufferedRows: ${maxBufferedRows}): rows arrive faster than the query commits them. ` +
          "Raise maxBufferedRows, make the sink faster, or pass onBufferFull: 'drop' to drop and count what does not fit",
      ),
    );
    return room;
  }

  /** Numbers the rows held from `base` on (an `availableNow` cap fixed before moves with them). */
  private rebase(base: number): void {
    const delta = base - this.base;
    this.base = base;
    if (this.cap !== undefined) this.cap += delta;
  }

  private noteHeld(): void {
    if (this.rows.length > this.highWater) this.highWater = this.rows.length;
  }
}

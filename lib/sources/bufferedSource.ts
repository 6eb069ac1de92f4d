import { Subject, type Observable } from 'rxjs';
import { SourceError } from '../errors/index.js';
import type { ReadLimit } from './Source.js';

/**
 * The in-memory buffer behind sources that receive data pushed at them
 * (socket lines, Observable emissions): rows are numbered from 0 as they
 * arrive; an offset is the number of rows received up to it. Rows up to the
 * committed offset are dropped, so these sources cannot replay after a
 * restart (as Spark's socket and memory sources).
 */
export class RowBuffer<T> {
  private rows: T[] = [];
  /** Offset of `rows[0]`. */
  private base = 0;
  private cap: number | undefined;
  private readonly available = new Subject<void>();
  readonly dataAvailable$: Observable<void> = this.available.asObservable();
  failure: unknown;

  constructor(private readonly description: string) {}

  get total(): number {
    return this.base + this.rows.length;
  }

  push(row: T): void {
    this.rows.push(row);
    this.available.next();
  }

  pushAll(rows: readonly T[]): void {
    for (const row of rows) this.rows.push(row);
    if (rows.length > 0) this.available.next();
  }

  fail(error: unknown): void {
    this.failure = error;
    this.available.next();
  }

  fixAvailableNow(): void {
    this.cap = this.total;
  }

  latestOffset(start: number | undefined, limit: ReadLimit, maxRows: number | undefined): number | undefined {
    if (this.failure !== undefined) throw this.failure;
    let end = this.cap === undefined ? this.total : Math.min(this.cap, this.total);
    if (end === 0 && start === undefined) return undefined;
    const from = start ?? 0;
    if (!limit.all && maxRows !== undefined && end - from > maxRows) end = from + maxRows;
    return Math.max(end, from);
  }

  getBatch(start: number | undefined, end: number): T[] {
    const from = start ?? 0;
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
  }

  complete(): void {
    this.available.complete();
  }
}


// Shared pieces of the benchmark jobs: the job interface, the per-row RxJS
// watermark clock, and access to the library's exports by name (operators land
// while the bench is written, so a missing one is reported, not a crash).
import type { Observable } from 'rxjs';
import type { Checksum } from '../checksum.js';
import type { WorkloadOptions } from '../workload.js';

/** What a runner gets: the workload and the checksum to feed with every output row. */
export interface RunContext {
  readonly options: WorkloadOptions;
  readonly checksum: Checksum;
}

/** Runs one job one way; resolves when the input is exhausted. */
export type Runner = (ctx: RunContext) => void | Promise<void>;

/** The library's public exports, looked up by name. */
export type LibraryModule = Readonly<Record<string, unknown>>;

/** Thrown when the library lacks an export a job needs (an operator not written yet). */
export class NotAvailableError extends Error {
  override name = 'NotAvailableError';
}

/** A benchmark job, runnable three ways. */
export interface Job {
  readonly name: string;
  /** One line describing the job. */
  readonly title: string;
  /** `true` when the job reads two streams (the join): input events = left + right. */
  readonly twoSided: boolean;
  /** The plain-JS loop written for this job alone. */
  readonly loop: Runner;
  /** The per-row RxJS pipeline a user would write with built-in operators. */
  readonly rxjs: Runner;
  /**
   * The same per-row job in RxJS's windowed-grouping idiom (`groupBy` window
   * and key with a duration selector, `reduce` per group), where it applies.
   */
  readonly rxjsGroupBy?: Runner;
  /** The library pipeline; throws {@link NotAvailableError} when an operator is missing. */
  readonly library: (lib: LibraryModule) => Runner;
}

/** Where the worker records library files that failed to load. */
export const LOAD_ERRORS = '__loadErrors';

/** Looks up library exports by name, failing with {@link NotAvailableError} for a missing one. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- exports are looked up dynamically; each job uses them as DESIGN.md shapes them
export function need(lib: LibraryModule, names: readonly string[]): Record<string, any> {
  const missing = names.filter((n) => typeof lib[n] !== 'function');
  if (missing.length > 0) {
    const errors = lib[LOAD_ERRORS];
    throw new NotAvailableError(`library does not provide ${missing.join(', ')}${typeof errors === 'string' ? ` (load errors: ${errors})` : ' yet'}`);
  }
  return lib as Record<string, unknown>;
}

/** Subscribes and resolves on completion (rejects on error). */
export function drain<T>(source$: Observable<T>, next: (value: T) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    source$.subscribe({ next, error: reject, complete: resolve });
  });
}

/** The end-of-batch marker the per-row RxJS pipelines put after each batch's rows. */
export const TICK = Object.freeze({ tick: true as const });
export type Tick = typeof TICK;

/**
 * The watermark a per-row RxJS user has to track by hand (the same rule as
 * `withWatermark`): max event time seen minus the delay, advanced at the end
 * of each batch, never back, never below 0. `lateWm` is the previous batch's
 * value (what rows are compared with), `wm` the value after the current batch.
 */
export class Clock {
  lateWm = 0;
  wm = 0;
  private opWm = Number.NEGATIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;

  constructor(private readonly delayMs: number) {}

  see(ts: number): void {
    if (ts > this.max) this.max = ts;
  }

  /** End of batch: advance the watermark. */
  advance(): void {
    if (this.max - this.delayMs > this.opWm) this.opWm = this.max - this.delayMs;
    if (this.opWm > this.wm) this.wm = this.opWm;
    this.lateWm = this.wm;
    this.max = Number.NEGATIVE_INFINITY;
  }
}

/** Floor modulo (window starts for any sign). */
export function floorMod(a: number, m: number): number {
  const r = a % m;
  return r < 0 ? r + m : r;
}

export const WATERMARK_DELAY_MS = 10_000;

import type { Observable, Subscription } from 'rxjs';
import { InvalidOptionError, SourceError, describeValue } from '../errors/index.js';
import { RowBuffer, bufferOptions } from './bufferedSource.js';
import type { Source } from './Source.js';

/** Options for {@link fromObservable}. */
export interface FromObservableOptions {
  /** Shown in progress reports. @defaultValue `'ObservableSource'` */
  readonly description?: string;
  /** Treat an emitted array as a group of rows (one per element) rather than one row. @defaultValue `true` */
  readonly flattenArrays?: boolean;
  /** At most this many rows per batch (`once` ignores it). @defaultValue no limit */
  readonly maxRowsPerTrigger?: number;
  /** At most this many rows held in memory (received, not yet committed). @defaultValue `100000` */
  readonly maxBufferedRows?: number;
  /**
   * When the buffer is full: stop the query with a `SourceBufferOverflowError`
   * (`'error'`), or drop the new rows and count them in progress
   * (`numRowsDropped`, `'drop'`). An Observable cannot be paused, so there is
   * no `'pause'`. @defaultValue `'error'`
   */
  readonly onBufferFull?: 'error' | 'drop';
}

/**
 * A source fed by any RxJS Observable (UI events, websocket messages, a
 * `Subject` in tests): every value (or every element of an emitted array) is
 * a row. The Observable is subscribed when the source is created (so nothing
 * emitted while the query starts is lost) and unsubscribed when the query
 * stops; each trigger's batch holds the rows that arrived since the previous
 * one. An error of the Observable stops
 * the query with a `SourceError`.
 *
 * Spark: `MemoryStream` (testing) or a custom source.
 *
 * ```text
 * obs$     -a-b----c---|
 * batches  --0------1---     0 = [a, b], 1 = [c] (default trigger)
 * ```
 *
 * **Offsets**: the number of rows received. Rows are kept in memory only until
 * their batch is committed, so a query restarted from a checkpoint does not
 * see them again: it numbers the new run's rows after the checkpoint's
 * offset (none is skipped), and a batch the earlier run left pending runs
 * without its rows, counted in progress as `numRowsLost`.
 *
 * **Bounded buffer**: at most `maxBufferedRows` rows are held (received, not
 * yet committed). An Observable cannot be slowed down, so when it emits
 * faster than the query commits, the query stops with a
 * `SourceBufferOverflowError` (`onBufferFull: 'error'`, the default), or the
 * rows that do not fit are dropped and counted (`'drop'`). Progress shows
 * `numBufferedRows`, `maxBufferedRowsSeen`, `bufferCapacity` and
 * `numRowsDropped` in `sources[0].metrics`.
 *
 * @example
 * ```ts
 * const clicks$ = new Subject<{ x: number; ts: number }>();
 * const query = startQuery({ source: fromObservable(clicks$), sink: toMemory('clicks') });
 * clicks$.next({ x: 1, ts: 1000 });
 * await query.processAllAvailable();
 * memoryTable('clicks'); // => [{ x: 1, ts: 1000 }]
 * ```
 *
 * @throws {InvalidOptionError} `fromObservable: source must be an Observable; got …`, and for a bad `maxRowsPerTrigger`, `maxBufferedRows` or `onBufferFull`.
 * @throws {SourceBufferOverflowError} (stops the query) when the buffer is full and `onBufferFull` is `'error'`.
 */
export function fromObservable<T>(obs$: Observable<T | readonly T[]>, options: FromObservableOptions = {}): Source<T, number> {
  if (typeof obs$ !== 'object' || obs$ === null || typeof (obs$ as { subscribe?: unknown }).subscribe !== 'function') {
    throw new InvalidOptionError(`fromObservable: source must be an Observable; got ${describeValue(obs$)}. Pass e.g. fromEvent(button, 'click').`, 'source', obs$, 'an Observable');
  }
  const { description = 'ObservableSource', flattenArrays = true, maxRowsPerTrigger } = options;
  if (maxRowsPerTrigger !== undefined && (!Number.isSafeInteger(maxRowsPerTrigger) || maxRowsPerTrigger < 1)) {
    throw new InvalidOptionError(`fromObservable: maxRowsPerTrigger must be a positive integer; got ${describeValue(maxRowsPerTrigger)}.`, 'maxRowsPerTrigger', maxRowsPerTrigger, 'a positive integer');
  }
  const bound = bufferOptions('fromObservable', options, ['error', 'drop'], { maxBufferedRows: 100_000, onBufferFull: 'error' });
  const buffer = new RowBuffer<T>(description, bound);
  // Subscribed at once, so that rows emitted while the query is still starting (opening its checkpoint) are kept.
  const subscription: Subscription = obs$.subscribe({
    next: (value) => {
      if (flattenArrays && Array.isArray(value)) buffer.pushAll(value as readonly T[]);
      else buffer.push(value as T);
    },
    error: (error: unknown) => buffer.fail(new SourceError(description, `the Observable failed: ${error instanceof Error ? error.message : String(error)}`, error, false)),
  });
  return {
    description,
    dataAvailable$: buffer.dataAvailable$,
    async start() {},
    async latestOffset(start, limit) {
      return buffer.latestOffset(start, limit, maxRowsPerTrigger);
    },
    async getBatch(start, end) {
      return buffer.getBatch(start, end);
    },
    async commit(end) {
      buffer.commit(end);
    },
    progressMetrics() {
      const { numPauses: _neverPaused, ...metrics } = buffer.metrics();
      return metrics;
    },
    async stop() {
      subscription.unsubscribe();
    },
    async prepareForAvailableNow() {
      buffer.fixAvailableNow();
    },
  };
}

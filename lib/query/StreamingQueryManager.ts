import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { InvalidOptionError, StreamingError } from '../errors/index.js';
import { InstrumentationEmitter } from '../instrumentation/emitter.js';
import type { EventListener, EventPayloads, EventType } from '../instrumentation/events.js';
import { callQueryErrorHandler, logQueryError, requireQueryErrorHandler, type QueryErrorHandler } from './queryErrors.js';
import type { QueryManagerHooks, StreamingQuery } from './StreamingQuery.js';

/** Options for {@link StreamingQueryManager}. */
export interface StreamingQueryManagerOptions {
  /** Times `awaitAnyTermination` timeouts. @defaultValue `asyncScheduler` */
  readonly scheduler?: SchedulerLike;
  /** Called when a listener throws (by default logged with `console.error`). */
  readonly onListenerError?: (error: unknown, type: EventType) => void;
  /**
   * Reports the exception of a query of this manager that failed while
   * nobody waited for it (see {@link QueryErrorHandler}), unless the query
   * has its own `startQuery({ onQueryError })`. @defaultValue {@link logQueryError}
   */
  readonly onQueryError?: QueryErrorHandler;
}

/**
 * Keeps track of the queries started with it: Spark's
 * `StreamingQueryManager` (`spark.streams`). `startQuery` uses the shared
 * {@link streams} manager unless given another.
 */
export class StreamingQueryManager {
  private readonly queries = new Set<StreamingQuery>();
  private readonly startedQueries = new Set<StreamingQuery>();
  private readonly emitter: InstrumentationEmitter;
  private lastTerminated: StreamingQuery | undefined;
  private terminationWaiters: (() => void)[] = [];

  private readonly scheduler: SchedulerLike;
  private queryErrorHandler: QueryErrorHandler = logQueryError;

  constructor(options: StreamingQueryManagerOptions = {}) {
    if (options.onQueryError !== undefined) this.queryErrorHandler = requireQueryErrorHandler('StreamingQueryManager', options.onQueryError);
    this.emitter = new InstrumentationEmitter(options.onListenerError);
    this.scheduler = options.scheduler ?? asyncScheduler;
  }

  /**
   * The handler of an exception nobody waits for, for every query of this
   * manager without its own (see {@link QueryErrorHandler}); assign to
   * change it, e.g. `streams.onQueryError = (error, query) => …`.
   * @defaultValue {@link logQueryError}
   */
  get onQueryError(): QueryErrorHandler {
    return this.queryErrorHandler;
  }

  set onQueryError(handler: QueryErrorHandler) {
    this.queryErrorHandler = requireQueryErrorHandler('StreamingQueryManager', handler);
  }

  /** The queries that are running now. */
  get active(): readonly StreamingQuery[] {
    return [...this.queries].filter((q) => q.isActive);
  }

  /** The active query with this id, if any. */
  get(id: string): StreamingQuery | undefined {
    return this.active.find((q) => q.id === id);
  }

  /** Listens to an event of every query of this manager (Spark's `addListener`); returns a remover. */
  on<E extends EventType>(type: E, listener: EventListener<E>): () => void {
    return this.emitter.on(type, listener);
  }

  /**
   * Resolves when a query of this manager stopped since it was created or
   * since {@link StreamingQueryManager.resetTerminated}: `true`; with a
   * `timeoutMs`, `false` when none stopped in time. Rejects with the query's
   * exception when that query failed.
   */
  awaitAnyTermination(timeoutMs?: number): Promise<boolean> {
    const settle = (): boolean => {
      const failed = this.lastTerminated?.exception;
      if (failed !== undefined) throw failed;
      return true;
    };
    if (this.lastTerminated !== undefined) return Promise.resolve().then(settle);
    return new Promise<boolean>((resolve, reject) => {
      let timer: Subscription | undefined;
      const waiter = (): void => {
        timer?.unsubscribe();
        try {
          resolve(settle());
        } catch (error) {
          reject(error);
        }
      };
      this.terminationWaiters.push(waiter);
      if (timeoutMs !== undefined) {
        timer = this.scheduler.schedule(() => {
          this.terminationWaiters = this.terminationWaiters.filter((w) => w !== waiter);
          resolve(false);
        }, timeoutMs);
      }
    });
  }

  /** Forgets stopped queries, so that {@link StreamingQueryManager.awaitAnyTermination} waits for a new one. */
  resetTerminated(): void {
    this.lastTerminated = undefined;
  }

  /** @internal Registers a query being started; refuses a duplicate active name. */
  register(query: StreamingQuery): QueryManagerHooks {
    if (query.name !== null && this.active.some((q) => q.name === query.name)) {
      throw new InvalidOptionError(
        `startQuery: name must be unique among active queries; got ${JSON.stringify(query.name)}. Cannot start query with name ${query.name} as a query with that name is already active.`,
        'name',
        query.name,
        'a name no active query uses',
      );
    }
    this.queries.add(query);
    return {
      started: (q) => {
        for (const other of this.startedQueries) {
          if (other !== q && other.isActive && other.id === q.id) {
            throw new StreamingError(
              `startQuery: Cannot start query with id ${q.id} as another query with same id is already active. Perhaps you are attempting to restart a query from checkpoint that is already active.`,
            );
          }
        }
        this.startedQueries.add(q);
      },
      terminated: (q) => {
        this.queries.delete(q);
        this.startedQueries.delete(q);
        this.lastTerminated = q;
        const waiters = this.terminationWaiters;
        this.terminationWaiters = [];
        for (const w of waiters) w();
      },
      unobservedFailure: (q, error, own) => {
        // An awaitAnyTermination() waiting now receives the error: it is not unobserved.
        if (this.terminationWaiters.length > 0) return;
        callQueryErrorHandler(own ?? this.queryErrorHandler, error, q);
      },
      event: <E extends EventType>(type: E, timestamp: number, payload: EventPayloads[E]) => this.emitter.emit(type, timestamp, payload),
    };
  }
}

/** The shared query manager (Spark's `spark.streams`). */
export const streams = new StreamingQueryManager();

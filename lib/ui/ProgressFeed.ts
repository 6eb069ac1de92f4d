import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { EVENTS, type EventListener, type EventPayloads, type EventType } from '../instrumentation/events.js';
import type { StreamingQueryProgress, StreamingQueryStatus } from '../query/progress.js';
import { STATUS_MESSAGES } from '../query/QueryStatusTracker.js';
import type { StreamingQuery } from '../query/StreamingQuery.js';
import type { StreamingQueryManager } from '../query/StreamingQueryManager.js';

/** The exception that stopped a query, as the feed shows it. */
export interface ErrorView {
  readonly name: string;
  readonly message: string;
  readonly stack: string | null;
}

/** What the feed tells about a query besides its reports: who it is, its status and how it ended. */
export interface QueryHeader {
  readonly id: string;
  readonly runId: string;
  readonly name: string | null;
  readonly isActive: boolean;
  readonly status: StreamingQueryStatus;
  /** The exception that stopped the query, `null` while it runs or when it stopped cleanly. */
  readonly exception: ErrorView | null;
}

/** A query in the feed: its header and its last reports, oldest first. */
export interface QueryView extends QueryHeader {
  readonly recentProgress: readonly StreamingQueryProgress[];
}

/** Everything the feed knows now (the JSON of `GET /api/progress`, the first event of the stream). */
export interface ProgressSnapshot {
  readonly queries: readonly QueryView[];
}

/** One change of the feed (an event of the Server-Sent-Events stream). */
export type ProgressFeedEvent =
  | { readonly type: 'snapshot'; readonly data: ProgressSnapshot }
  | { readonly type: 'query'; readonly data: QueryHeader }
  | { readonly type: 'progress'; readonly data: { readonly runId: string; readonly progress: StreamingQueryProgress } };

/** Options for {@link ProgressFeed}. */
export interface ProgressFeedOptions {
  /** Reports kept per query. @defaultValue `100` (as `recentProgress`) */
  readonly history?: number;
  /** Stopped queries kept in the feed (the oldest go first); running ones are always kept. @defaultValue `20` */
  readonly stoppedQueries?: number;
  /** When a query's status is read again after one of its events (at once, on this scheduler). @defaultValue `asyncScheduler` */
  readonly scheduler?: SchedulerLike;
}

interface Tracked {
  /** `undefined` for a query of a manager that failed before it started (known only from its `query.terminated` event). */
  readonly query: StreamingQuery | undefined;
  readonly progress: StreamingQueryProgress[];
  header: QueryHeader;
  headerJson: string;
  statusCheck: Subscription | undefined;
}

/** The events a feed listens to. */
const WATCHED: readonly EventType[] = [EVENTS.QUERY_STARTED, EVENTS.QUERY_PROGRESS, EVENTS.QUERY_IDLE, EVENTS.QUERY_TERMINATED, EVENTS.QUERY_RETRY];

function isManager(target: StreamingQuery | StreamingQueryManager): target is StreamingQueryManager {
  return 'active' in target && !('runId' in target);
}

function errorView(error: Error | undefined): ErrorView | null {
  if (error === undefined) return null;
  return { name: error.name, message: error.message, stack: error.stack ?? null };
}

function headerOf(query: StreamingQuery): QueryHeader {
  return { id: query.id, runId: query.runId, name: query.name, isActive: query.isActive, status: query.status, exception: errorView(query.exception) };
}

/**
 * Collects the progress reports and status of one query, or of every query
 * of a manager (also those started later), and tells listeners about each
 * change: the model behind {@link serveProgress}'s page and feed. Reports
 * arrive with the queries' `query.progress` events; a query's status is read
 * again once each of its events was handled (a status that did not change
 * is not sent again).
 *
 * @example
 * ```ts
 * const feed = new ProgressFeed(streams, { history: 50 });
 * const off = feed.subscribe((event) => {
 *   if (event.type === 'progress') console.log(event.data.progress.batchId); // => 0, then 1, …
 * });
 * feed.snapshot().queries.map((q) => q.name); // => ['deviceMonitor']
 * off();
 * feed.close();
 * ```
 */
export class ProgressFeed {
  private readonly tracked = new Map<string, Tracked>();
  private readonly listeners = new Set<(event: ProgressFeedEvent) => void>();
  private readonly removers: (() => void)[] = [];
  private readonly history: number;
  private readonly stoppedQueries: number;
  private readonly scheduler: SchedulerLike;
  private closed = false;

  constructor(
    private readonly target: StreamingQuery | StreamingQueryManager,
    options: ProgressFeedOptions = {},
  ) {
    this.history = options.history ?? 100;
    this.stoppedQueries = options.stoppedQueries ?? 20;
    this.scheduler = options.scheduler ?? asyncScheduler;
    for (const type of WATCHED) {
      const listener: EventListener<EventType> = (event) => this.onEvent(event.type, event.payload as { readonly runId: string });
      this.removers.push(target.on(type, listener));
    }
    if (isManager(target)) for (const query of target.active) this.track(query);
    else this.track(target);
  }

  /** Everything known now. */
  snapshot(): ProgressSnapshot {
    return { queries: [...this.tracked.values()].map((t) => ({ ...t.header, recentProgress: [...t.progress] })) };
  }

  /** Calls `listener` with every change from now on; returns a remover. */
  subscribe(listener: (event: ProgressFeedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Stops listening to the queries and drops the listeners. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const remove of this.removers) remove();
    for (const t of this.tracked.values()) t.statusCheck?.unsubscribe();
    this.listeners.clear();
  }

  private emit(event: ProgressFeedEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  private track(query: StreamingQuery): Tracked {
    const existing = this.tracked.get(query.runId);
    if (existing !== undefined) return existing;
    const header = headerOf(query);
    const tracked: Tracked = { query, progress: query.recentProgress.slice(-this.history), header, headerJson: JSON.stringify(header), statusCheck: undefined };
    this.tracked.set(query.runId, tracked);
    this.forgetOldStopped();
    this.emit({ type: 'query', data: header });
    return tracked;
  }

  private find(runId: string): Tracked | undefined {
    const known = this.tracked.get(runId);
    if (known !== undefined || !isManager(this.target)) return known;
    const query = this.target.active.find((q) => q.runId === runId);
    return query === undefined ? undefined : this.track(query);
  }

  private onEvent(type: EventType, payload: { readonly runId: string }): void {
    if (this.closed) return;
    const tracked = this.find(payload.runId) ?? (type === EVENTS.QUERY_TERMINATED ? this.trackFailedStart(payload as EventPayloads['query.terminated']) : undefined);
    if (tracked === undefined || tracked.query === undefined) return;
    if (type === EVENTS.QUERY_PROGRESS) {
      const progress = payload as StreamingQueryProgress;
      tracked.progress.push(progress);
      if (tracked.progress.length > this.history) tracked.progress.shift();
      this.emit({ type: 'progress', data: { runId: tracked.header.runId, progress } });
    }
    if (type === EVENTS.QUERY_TERMINATED) {
      // The query is stopped (isActive is false) when this event fires.
      this.refreshHeader(tracked);
      this.forgetOldStopped();
    }
    // The runtime updates the status right after it emitted the event: read it once that is done.
    if (tracked.statusCheck === undefined) {
      tracked.statusCheck = this.scheduler.schedule(() => {
        tracked.statusCheck = undefined;
        if (!this.closed) this.refreshHeader(tracked);
      });
    }
  }

  /** A query of the manager that stopped before it started (e.g. its source could not connect): shown from its event. */
  private trackFailedStart(payload: EventPayloads['query.terminated']): Tracked {
    const exception = errorView(payload.exception);
    const status: StreamingQueryStatus = { message: payload.exception === undefined ? STATUS_MESSAGES.stopped : STATUS_MESSAGES.terminated(payload.exception), isDataAvailable: false, isTriggerActive: false };
    const header: QueryHeader = { id: payload.id, runId: payload.runId, name: payload.name, isActive: false, status, exception };
    const tracked: Tracked = { query: undefined, progress: [], header, headerJson: JSON.stringify(header), statusCheck: undefined };
    this.tracked.set(payload.runId, tracked);
    this.forgetOldStopped();
    this.emit({ type: 'query', data: header });
    return tracked;
  }

  private refreshHeader(tracked: Tracked): void {
    if (tracked.query === undefined) return;
    const header = headerOf(tracked.query);
    const json = JSON.stringify(header);
    if (json === tracked.headerJson) return;
    tracked.header = header;
    tracked.headerJson = json;
    this.emit({ type: 'query', data: header });
  }

  private forgetOldStopped(): void {
    const stopped = [...this.tracked.values()].filter((t) => !t.header.isActive);
    for (const t of stopped.slice(0, Math.max(0, stopped.length - this.stoppedQueries))) {
      t.statusCheck?.unsubscribe();
      this.tracked.delete(t.header.runId);
    }
  }
}

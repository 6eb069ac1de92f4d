import type { StreamingQueryProgress } from '../query/progress.js';
import type { DeadLetterRecord } from '../sources/Source.js';

/**
 * The names of the events a query emits, `namespace.action` (Spark's
 * `StreamingQueryListener` callbacks, plus retries and dead letters).
 */
export const EVENTS = Object.freeze({
  /** The query started (after its checkpoint was opened and its pipeline subscribed). */
  QUERY_STARTED: 'query.start',
  /** A batch finished; the payload is its progress report. */
  QUERY_PROGRESS: 'query.progress',
  /** A trigger found no new data. */
  QUERY_IDLE: 'query.idle',
  /** The query stopped, by `stop()`, the end of a `once`/`availableNow` trigger, or an error. */
  QUERY_TERMINATED: 'query.terminated',
  /** A retriable error is being retried after a backoff. */
  QUERY_RETRY: 'query.retry',
  /** A source routed a record it could not parse to the dead-letter output. */
  SOURCE_DEAD_LETTER: 'source.deadLetter',
} as const);

/** One of the {@link EVENTS} names. */
export type EventType = (typeof EVENTS)[keyof typeof EVENTS];

/** Identifies the query an event comes from. */
export interface QueryRef {
  readonly id: string;
  readonly runId: string;
  readonly name: string | null;
}

/** The payload of each event type. */
export interface EventPayloads {
  'query.start': QueryRef;
  'query.progress': StreamingQueryProgress;
  'query.idle': QueryRef & { readonly batchId: number };
  'query.terminated': QueryRef & { readonly exception: Error | undefined };
  'query.retry': QueryRef & { readonly operation: string; readonly attempt: number; readonly delayMs: number; readonly error: Error };
  'source.deadLetter': QueryRef & { readonly record: DeadLetterRecord };
}

/** An event: `{ id, type, timestamp, payload }` (timestamp in epoch ms from the query's scheduler). */
export interface InstrumentationEvent<E extends EventType = EventType> {
  /** Increases by one per event of the emitter. */
  readonly id: number;
  readonly type: E;
  readonly timestamp: number;
  readonly payload: EventPayloads[E];
}

/** A listener for one event type. */
export type EventListener<E extends EventType> = (event: InstrumentationEvent<E>) => void;

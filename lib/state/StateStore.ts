import type { SchedulerLike } from 'rxjs';
import { InvalidOptionError } from '../errors/index.js';

/**
 * How a stateful operator's state (an Immutable value) is turned into
 * key/value entries for checkpoints and back. Keys are strings; values must be
 * JSON-serialisable. Checkpoints write either every entry (a full snapshot) or
 * only the entries whose keys changed since the previous version (a delta),
 * reading each changed key with {@link StateCodec.get}.
 */
export interface StateCodec<S> {
  /** Every entry of the state, for a full snapshot. */
  entries(state: S): Iterable<readonly [string, unknown]>;
  /** The value of one key, or `undefined` when the key is absent (removed). */
  get(state: S, key: string): unknown;
  /** Rebuilds the state from the entries of a snapshot (with deltas applied). */
  fromEntries(entries: Iterable<readonly [string, unknown]>): S;
}

/** What a stateful operator declares when it registers with a query. */
export interface StatefulOperatorSpec<S> {
  /** The operator kind, e.g. `windowTumbling`. */
  readonly kind: string;
  /** The user's `options.name`; the id is `<kind>#<n>` without it. */
  readonly name?: string;
  /**
   * What must not change for a checkpoint to be reusable: the key columns,
   * window sizes, aggregate names… A JSON-able value compared on recovery;
   * a difference raises `CheckpointIncompatibleError` naming the operator.
   */
  readonly descriptor: unknown;
  readonly codec: StateCodec<S>;
}

/** State restored from a checkpoint: the state after batch `batchId`. */
export interface RestoredState<S> {
  readonly batchId: number;
  readonly state: S;
}

/** An operator's link to the query's state store. */
export interface StateHandle<S> {
  readonly operatorId: string;
  /** The state to start from, when the query recovered from a checkpoint. */
  readonly restored: RestoredState<S> | undefined;
  /**
   * Called once per batch, after the operator finished it: the state after the
   * batch and the keys whose entries changed (written or removed) in this
   * batch. The checkpoint reads those keys' entries (`codec.get`) before
   * `publish` returns, so `state` may be the operator's working state: it is
   * not read after the call.
   */
  publish(batchId: number, state: S, changedKeys: Iterable<string>): void;
}

/**
 * A running query's context: created by `startQuery` or the `checkpoint`
 * operator, made current while the pipeline subscribes, so that stateful
 * operators can register and restore their state.
 */
export interface QueryContext {
  readonly queryId: string;
  readonly runId: string;
  /** The scheduler for processing time (triggers, timeouts). */
  readonly scheduler: SchedulerLike;
  registerState<S>(spec: StatefulOperatorSpec<S>): StateHandle<S>;
}

let current: QueryContext | undefined;

/**
 * Runs `subscribe` with `context` as the current query context. Subscribing an
 * RxJS chain is synchronous, so every operator of the pipeline sees the
 * context while it subscribes; the previous context is restored afterwards.
 */
export function runInQueryContext<T>(context: QueryContext, subscribe: () => T): T {
  const previous = current;
  current = context;
  try {
    return subscribe();
  } finally {
    current = previous;
  }
}

/** The query context of the pipeline being subscribed, if any. Call it in an operator's subscribe function, not later. */
export function currentQueryContext(): QueryContext | undefined {
  return current;
}

/**
 * Registers a stateful operator with the current query, if there is one.
 * Stand-alone pipelines (no query, no checkpoint) get a handle that restores
 * nothing and ignores publications.
 */
export function registerState<S>(spec: StatefulOperatorSpec<S>): StateHandle<S> {
  if (spec.name !== undefined && (typeof spec.name !== 'string' || spec.name.length === 0)) {
    throw new InvalidOptionError(`${spec.kind}: name must be a non-empty string; got ${JSON.stringify(spec.name)}.`, 'name', spec.name, 'a non-empty string');
  }
  const context = current;
  if (context !== undefined) return context.registerState(spec);
  return { operatorId: spec.name ?? spec.kind, restored: undefined, publish: () => undefined };
}

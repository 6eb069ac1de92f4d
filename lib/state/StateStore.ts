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
  /** The operator id: the user's `options.name`, else `<kind>#<n>` from the pipeline's shape (`operatorIdOf` in lib/internal/pipeline.ts). */
  readonly id: string;
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
 * operator. It travels with the batches (their pipeline info, see
 * lib/internal/pipeline.ts), so that stateful operators register and restore
 * their state when their first batch arrives, whatever RxJS operators lie
 * between them and the query.
 */
export interface QueryContext {
  readonly queryId: string;
  readonly runId: string;
  /** The scheduler for processing time (triggers, timeouts). */
  readonly scheduler: SchedulerLike;
  /** The names of the query's inputs (`startQuery`'s `sources`); one entry for a single source. */
  readonly inputs?: readonly string[];
  registerState<S>(spec: StatefulOperatorSpec<S>): StateHandle<S>;
  /**
   * Decodes the restored state of operator `id` with `codec` ahead of its
   * registration (a query calls it before it is ready). A later
   * {@link QueryContext.registerState} of `id` with the same codec object
   * takes the decoded state (or the error decoding it raised) after its own
   * checks. Contexts without a checkpoint need not have it.
   */
  prepareState?(id: string, codec: StateCodec<unknown>): void;
}

/** Validates a stateful operator's `name` option (inside `pipe()`). */
export function checkOperatorName(kind: string, name: unknown): void {
  if (name !== undefined && (typeof name !== 'string' || name.length === 0)) {
    throw new InvalidOptionError(`${kind}: name must be a non-empty string; got ${JSON.stringify(name)}.`, 'name', name, 'a non-empty string');
  }
}

/**
 * Registers a stateful operator with its query, if it runs in one.
 * Stand-alone pipelines (no query, no checkpoint) get a handle that restores
 * nothing and ignores publications.
 */
export function registerState<S>(query: QueryContext | undefined, spec: StatefulOperatorSpec<S>): StateHandle<S> {
  if (query !== undefined) return query.registerState(spec);
  return { operatorId: spec.id, restored: undefined, publish: () => undefined };
}

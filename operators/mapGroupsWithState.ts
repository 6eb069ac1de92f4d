import type { OperatorFunction } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import type { GroupState } from '../lib/groupState/GroupState.js';
import { groupsWithState, validateGroupsWithState, type GroupKeyOf, type GroupsWithStateOptions } from '../lib/groupState/groupsWithState.js';
import type { RowTypeArgumentOnly } from '../lib/aggregate/rowTypes.js';
import type { KeySpec } from '../lib/types.js';

/** Options for {@link mapGroupsWithState}. */
export type MapGroupsWithStateOptions<T, K extends KeySpec<T> = KeySpec<T>> = GroupsWithStateOptions<T, K>;

/** `mapGroupsWithState` for rows `T`, generic in the state `S`, the output `R` and the key: what `mapGroupsWithState<T>()` returns. */
export interface MapGroupsWithStateFor<T> {
  <S, R, V>(options: MapGroupsWithStateOptions<T, (row: T) => V>, fn: (key: V, rows: readonly T[], state: GroupState<S>) => R): OperatorFunction<Batch<T>, Batch<R>>;
  <S, R, const K extends KeySpec<T>>(options: MapGroupsWithStateOptions<T, K>, fn: (key: GroupKeyOf<T, K>, rows: readonly T[], state: GroupState<S>) => R): OperatorFunction<Batch<T>, Batch<R>>;
}

/**
 * Calls `fn` once per key present in a batch — with the key, the key's rows in
 * that batch and a {@link GroupState} handle — and once per key that timed
 * out, and emits exactly one row per call: what `fn` returns.
 *
 * Spark: `KeyValueGroupedDataset.mapGroupsWithState(timeoutConf)(func)` (update output mode only).
 *
 * ```text
 * input    a-----b-----c-----d-----|   a = #0 [Sankar 200]   b = #1 [Jade 800]
 *                                      c = #2 [Sankar 300]   d = #3 [Kun 100]
 *          mapGroupsWithState({ keyBy: 'user' }, running total)
 * output   a-----b-----c-----d-----|   a: [Sankar 200]   b: [Jade 800]   c: [Sankar 500]   d: [Kun 100]
 * ```
 *
 * Per batch: `fn` runs once per key with rows (keys in order of first
 * appearance), then once per timed-out key with no rows and `hasTimedOut`
 * true; see {@link flatMapGroupsWithState} for the timeout rules, which are the
 * same. Processing-time timeouts are checked when a batch arrives, against
 * the scheduler's time read once per batch, as Spark checks them at each
 * trigger.
 *
 * **State**: one entry per key with state or a pending timeout, kept until
 * `state.remove()`; without timeouts, state grows with the number of keys
 * (this is "unmanaged" state: the function decides what to keep).
 *
 * **Late data**: dropped and counted only with `timeout: 'eventTime'`.
 *
 * **Output modes**: update only (each call's row updates the key's result),
 * as in Spark; recorded in the pipeline information.
 *
 * @example
 * ```ts
 * import { fromBatches, mapGroupsWithState, type GroupState } from 'rxjs-structured-streaming';
 *
 * type Purchase = { user: string; shopping: number };
 * fromBatches<Purchase>([[{ user: 'Sankar', shopping: 200 }], [{ user: 'Jade', shopping: 800 }], [{ user: 'Sankar', shopping: 300 }]])
 *   .pipe(
 *     mapGroupsWithState({ keyBy: 'user' }, (user: string, rows: readonly Purchase[], state: GroupState<number>) => {
 *       const total = rows.reduce((sum, r) => sum + r.shopping, state.getOption() ?? 0);
 *       state.update(total);
 *       return { user, total };
 *     }),
 *   )
 *   .subscribe((b) => console.log(b.rows));
 * // => [ { user: 'Sankar', total: 200 } ]
 * // => [ { user: 'Jade', total: 800 } ]
 * // => [ { user: 'Sankar', total: 500 } ]
 * ```
 *
 * @param options `keyBy`, `timeout`, `scheduler`, `name`, `onLateRows`.
 * @param fn `(key, rows, state) => R`: the key, the key's rows in this batch (empty on timeout), the state handle.
 * @returns An operator emitting, per batch, one row per call.
 * @throws {InvalidOptionError} `mapGroupsWithState: timeout must be 'none', 'processingTime' or 'eventTime'; got <value>.`, `… keyBy must be a field name, a non-empty list of field names or a function of the row; got <value>.`, or a `fn` that is not a function.
 * @throws {UnsupportedOperationError} (on subscribe) `Watermark must be specified in the query using '[Dataset/DataFrame].withWatermark()' for using event-time timeout in a [map|flatMap]GroupsWithState. …`; `mapGroupsWithState is not supported with aggregation on a streaming DataFrame/Dataset` after an aggregation.
 * @throws {UnsupportedOperationError} / {InvalidArgumentError} / {NoSuchStateError} (as error notifications) for misuse of the state handle, with Spark's wording — see {@link GroupState}.
 * @throws {UserFunctionError} (as an error notification) when `fn`, a key function or `onLateRows` throws anything else.
 * @see flatMapGroupsWithState
 */
export function mapGroupsWithState<T, S, R, V>(
  options: MapGroupsWithStateOptions<T, (row: T) => V>,
  fn: (key: V, rows: readonly T[], state: GroupState<S>) => R,
): OperatorFunction<Batch<T>, Batch<R>>;
export function mapGroupsWithState<T, S, R, const K extends KeySpec<T>>(
  options: MapGroupsWithStateOptions<T, K>,
  fn: (key: GroupKeyOf<T, K>, rows: readonly T[], state: GroupState<S>) => R,
): OperatorFunction<Batch<T>, Batch<R>>;
/**
 * `mapGroupsWithState<Row>()` fixes the row type and returns
 * `mapGroupsWithState` for rows `Row`, still generic in the state, the output
 * and the key: use it where no source gives the row type (or annotate `fn`'s
 * `rows` parameter instead).
 */
export function mapGroupsWithState<T>(): MapGroupsWithStateFor<T>;
/** Refused: `mapGroupsWithState<Row, S, R>(options, fn)` would lose the key type `keyBy` gives; write `mapGroupsWithState<Row>()(options, fn)`. */
export function mapGroupsWithState<T, S = unknown, R = unknown>(
  options: MapGroupsWithStateOptions<T> & RowTypeArgumentOnly<'mapGroupsWithState', 'options, fn', 'the key type keyBy gives'>,
  fn: (key: unknown, rows: readonly T[], state: GroupState<S>) => R,
): never;
export function mapGroupsWithState<T, S, R, const K extends KeySpec<T>>(
  // Optional only for `mapGroupsWithState<Row>()`; a call with arguments goes on to validate them.
  options: MapGroupsWithStateOptions<T, K> = undefined as never,
  fn: (key: GroupKeyOf<T, K>, rows: readonly T[], state: GroupState<S>) => R = undefined as never,
): OperatorFunction<Batch<T>, Batch<R>> | MapGroupsWithStateFor<T> {
  if (arguments.length === 0) return mapGroupsWithState as MapGroupsWithStateFor<T>;
  const op = 'mapGroupsWithState';
  const timeout = validateGroupsWithState(op, options, fn);
  return groupsWithState<T, R>(op, options, timeout, 'update', (key, rows, state, emit) => emit(fn(key as GroupKeyOf<T, K>, rows, state as GroupState<S>)));
}

import { UNSUPPORTED } from '../lib/query/unsupportedOperations.js';
import type { OperatorFunction } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import { InvalidOptionError, describeValue } from '../lib/errors/index.js';
import type { GroupState } from '../lib/groupState/GroupState.js';
import { groupsWithState, validateGroupsWithState, type GroupKeyOf, type GroupsWithStateOptions } from '../lib/groupState/groupsWithState.js';
import type { RowTypeArgumentOnly } from '../lib/aggregate/rowTypes.js';
import type { KeySpec } from '../lib/types.js';

/** Options for {@link flatMapGroupsWithState}. */
export interface FlatMapGroupsWithStateOptions<T, K extends KeySpec<T> = KeySpec<T>> extends GroupsWithStateOptions<T, K> {
  /**
   * The output mode the function's rows are meant for, as Spark requires it
   * to be declared: `'append'` (each row is final) or `'update'` (rows update
   * earlier ones). It is recorded in the pipeline information for the checks
   * downstream (an update-mode function is rejected next to an aggregation).
   */
  readonly outputMode: 'append' | 'update';
}

/** `flatMapGroupsWithState` for rows `T`, generic in the state `S`, the output `R` and the key: what `flatMapGroupsWithState<T>()` returns. */
export interface FlatMapGroupsWithStateFor<T> {
  <S, R, V>(options: FlatMapGroupsWithStateOptions<T, (row: T) => V>, fn: (key: V, rows: readonly T[], state: GroupState<S>) => Iterable<R>): OperatorFunction<Batch<T>, Batch<R>>;
  <S, R, const K extends KeySpec<T>>(options: FlatMapGroupsWithStateOptions<T, K>, fn: (key: GroupKeyOf<T, K>, rows: readonly T[], state: GroupState<S>) => Iterable<R>): OperatorFunction<Batch<T>, Batch<R>>;
}

/**
 * Calls `fn` once per key present in a batch — with the key, the key's rows in
 * that batch and a {@link GroupState} handle — and once per key that timed
 * out, and emits every row the calls return.
 *
 * Spark: `KeyValueGroupedDataset.flatMapGroupsWithState(outputMode, timeoutConf)(func)`.
 *
 * ```text
 * input    a-----b-----c-----|    a = #0 [ann 10, bob 5]   b = #1 [ann 1]   c = #2 []
 *          flatMapGroupsWithState({ keyBy: 'user', outputMode: 'update', timeout: 'processingTime' }, fn)
 *          fn: add the amounts to the state, emit the total, setTimeoutDuration(7) (virtual ms)
 * output   a-----b-----c-----|    a: [ann 10, bob 5]   b: [ann 11]
 *                                 c: [bob timed out] (bob's deadline 0 + 7 < 12; ann's 6 + 7 is not)
 * ```
 *
 * Per batch, as Spark's `FlatMapGroupsWithStateExec` does: (1) with an
 * event-time timeout, rows at or below the previous batch's watermark are
 * dropped as late; (2) `fn` runs once per key with rows, keys in order of first
 * appearance, rows in arrival order, `hasTimedOut` false; (3) `fn` runs once,
 * with no rows and `hasTimedOut` true, for every key whose deadline is
 * strictly before the batch's processing time (`'processingTime'`) or this
 * batch's watermark (`'eventTime'`), earliest first. A key's timeout is reset
 * at every call: set it again on every call that should keep one.
 *
 * **Processing-time timeouts in a batch-at-a-time model**: the processing time
 * is read from the scheduler once per batch (Spark's batch timestamp), and
 * timed-out keys are found when a batch arrives, as Spark does at each
 * trigger. A key whose deadline passes between batches is called at the next
 * batch (an empty batch, e.g. from a processing-time trigger, is enough).
 *
 * **State**: one entry per key with state or a pending timeout — the key, the
 * value given to `state.update` and the deadline — kept until `state.remove()`
 * (state without a timeout is never dropped by the operator: bound it with
 * timeouts). Written once per invoked key per batch; timed-out keys are found
 * through a deadline index without scanning the state.
 *
 * **Late data**: only with `timeout: 'eventTime'` (as in Spark) — late rows are
 * dropped, counted in `numRowsDroppedByWatermark` and handed to `onLateRows`.
 *
 * **Output modes**: `'append'` or `'update'`, declared; the output batch keeps
 * the id and watermark but has no event-time column.
 *
 * @example
 * ```ts
 * import { fromBatches, flatMapGroupsWithState, type GroupState } from 'rxjs-structured-streaming';
 *
 * type Click = { user: string; page: string };
 * fromBatches<Click>([[{ user: 'ann', page: 'a' }, { user: 'ann', page: 'b' }], [{ user: 'ann', page: 'a' }]])
 *   .pipe(
 *     flatMapGroupsWithState({ keyBy: 'user', outputMode: 'append' }, (user: string, rows: readonly Click[], state: GroupState<string[]>) => {
 *       const seen = state.getOption() ?? [];
 *       const fresh = rows.map((r) => r.page).filter((p, i, all) => !seen.includes(p) && all.indexOf(p) === i);
 *       state.update([...seen, ...fresh]);
 *       return fresh.map((page) => ({ user, page }));
 *     }),
 *   )
 *   .subscribe((b) => console.log(b.batchId, b.rows));
 * // => 0 [ { user: 'ann', page: 'a' }, { user: 'ann', page: 'b' } ]
 * // => 1 []
 * ```
 *
 * @param options `keyBy`, `outputMode`, `timeout`, `scheduler`, `name`, `onLateRows`.
 * @param fn `(key, rows, state) => Iterable<R>`: the key (the field's value, an object of the listed fields, or the key function's result), the key's rows in this batch (empty on timeout), the state handle.
 * @returns An operator emitting, per batch, every row the calls returned.
 * @throws {InvalidOptionError} `flatMapGroupsWithState: The output mode of function should be append or update; got <value>.`, `… timeout must be 'none', 'processingTime' or 'eventTime'; got <value>.`, `… keyBy must be a field name, a non-empty list of field names or a function of the row; got <value>.`, or a `fn` that is not a function.
 * @throws {UnsupportedOperationError} (on subscribe) `Watermark must be specified in the query using '[Dataset/DataFrame].withWatermark()' for using event-time timeout in a [map|flatMap]GroupsWithState. …` for an event-time timeout without watermark (checked on the first batch when a foreign operator hides the pipeline); `flatMapGroupsWithState in update mode is not supported with aggregation on a streaming DataFrame/Dataset` / `flatMapGroupsWithState in append mode is not supported after aggregation on a streaming DataFrame/Dataset` after an aggregation.
 * @throws {UnsupportedOperationError} / {InvalidArgumentError} / {NoSuchStateError} (as error notifications) for misuse of the state handle, with Spark's wording — see {@link GroupState}.
 * @throws {UserFunctionError} (as an error notification) when `fn`, a key function or `onLateRows` throws anything else.
 * @see mapGroupsWithState
 */
export function flatMapGroupsWithState<T, S, R, V>(
  options: FlatMapGroupsWithStateOptions<T, (row: T) => V>,
  fn: (key: V, rows: readonly T[], state: GroupState<S>) => Iterable<R>,
): OperatorFunction<Batch<T>, Batch<R>>;
export function flatMapGroupsWithState<T, S, R, const K extends KeySpec<T>>(
  options: FlatMapGroupsWithStateOptions<T, K>,
  fn: (key: GroupKeyOf<T, K>, rows: readonly T[], state: GroupState<S>) => Iterable<R>,
): OperatorFunction<Batch<T>, Batch<R>>;
/**
 * `flatMapGroupsWithState<Row>()` fixes the row type and returns
 * `flatMapGroupsWithState` for rows `Row`, still generic in the state, the
 * output and the key: use it where no source gives the row type (or annotate
 * `fn`'s `rows` parameter instead).
 */
export function flatMapGroupsWithState<T>(): FlatMapGroupsWithStateFor<T>;
/** Refused: `flatMapGroupsWithState<Row, S, R>(options, fn)` would lose the key type `keyBy` gives; write `flatMapGroupsWithState<Row>()(options, fn)`. */
export function flatMapGroupsWithState<T, S = unknown, R = unknown>(
  options: FlatMapGroupsWithStateOptions<T> & RowTypeArgumentOnly<'flatMapGroupsWithState', 'options, fn', 'the key type keyBy gives'>,
  fn: (key: unknown, rows: readonly T[], state: GroupState<S>) => Iterable<R>,
): never;
export function flatMapGroupsWithState<T, S, R, const K extends KeySpec<T>>(
  // Optional only for `flatMapGroupsWithState<Row>()`; a call with arguments goes on to validate them.
  options: FlatMapGroupsWithStateOptions<T, K> = undefined as never,
  fn: (key: GroupKeyOf<T, K>, rows: readonly T[], state: GroupState<S>) => Iterable<R> = undefined as never,
): OperatorFunction<Batch<T>, Batch<R>> | FlatMapGroupsWithStateFor<T> {
  if (arguments.length === 0) return flatMapGroupsWithState as FlatMapGroupsWithStateFor<T>;
  const op = 'flatMapGroupsWithState';
  const timeout = validateGroupsWithState(op, options, fn);
  const outputMode = options.outputMode;
  if (outputMode !== 'append' && outputMode !== 'update') {
    throw new InvalidOptionError(`${op}: ${UNSUPPORTED.flatMapGroupsWithStateFunctionMode}; got ${describeValue(outputMode)}.`, 'outputMode', outputMode, "'append' | 'update'");
  }
  return groupsWithState<T, R>(op, options, timeout, outputMode, (key, rows, state, emit) => {
    for (const row of fn(key as GroupKeyOf<T, K>, rows, state as GroupState<S>)) emit(row);
  });
}

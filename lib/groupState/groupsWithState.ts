import { asyncScheduler, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { Batch } from '../batch/Batch.js';
import { InvalidOptionError, UnsupportedOperationError, describeValue } from '../errors/index.js';
import { resolveKeySpec } from '../internal/keySpec.js';
import type { PipelineInfo } from '../internal/pipeline.js';
import { lateOutput, statefulOperator, type Step } from '../internal/statefulOperator.js';
import { UNSUPPORTED, isAggregationKind } from '../query/unsupportedOperations.js';
import { checkOperatorName } from '../state/StateStore.js';
import type { KeySpec, LateRowsHandler } from '../types.js';
import type { GroupStateTimeout } from './GroupState.js';
import { groupStateCodec, type GroupStateStore } from './GroupStateStore.js';
import { GroupsWithStateRunner, type GroupInvoker } from './GroupsWithStateRunner.js';

/**
 * The key a state function receives for a `keyBy` of type `K` over rows `T`:
 * the field's type for a field name, an object of the named fields for a
 * list, the function's result for a function (`unknown` when `K` is not
 * known).
 */
export type GroupKeyOf<T, K> = K extends keyof T
  ? T[K]
  : K extends readonly (infer F)[]
    ? { -readonly [P in F & keyof T]: T[P] }
    : K extends (row: T) => infer V
      ? V
      : unknown;

/** Options shared by `mapGroupsWithState` and `flatMapGroupsWithState`. */
export interface GroupsWithStateOptions<T, K extends KeySpec<T> = KeySpec<T>> {
  /** The grouping key: a field name, a list of field names (the key is then an object of those fields), or a function of the row. */
  readonly keyBy: K & KeySpec<T>;
  /** When keys time out. `'eventTime'` needs a `withWatermark` upstream. @defaultValue `'none'` */
  readonly timeout?: GroupStateTimeout;
  /**
   * The clock for processing time (`getCurrentProcessingTimeMs`, processing-time
   * timeouts), read once per batch with `scheduler.now()`.
   * @defaultValue the running query's scheduler, else `asyncScheduler`
   */
  readonly scheduler?: SchedulerLike;
  /** Stable operator id used for checkpoint state. @defaultValue `<operator>#<n>` */
  readonly name?: string;
  /** Receives, per batch, the rows dropped because they were behind the watermark (event-time timeout only). */
  readonly onLateRows?: LateRowsHandler<T>;
}

const TIMEOUTS: readonly GroupStateTimeout[] = ['none', 'processingTime', 'eventTime'];

/** Validates the options common to both operators; throws when the operator is built. */
export function validateGroupsWithState<T>(operator: string, options: GroupsWithStateOptions<T>, fn: unknown): GroupStateTimeout {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(`${operator}: options must be an object with at least keyBy; got ${describeValue(options)}.`, 'options', options, '{ keyBy, timeout?, … }');
  }
  const timeout = options.timeout ?? 'none';
  if (!TIMEOUTS.includes(timeout)) {
    throw new InvalidOptionError(`${operator}: timeout must be 'none', 'processingTime' or 'eventTime'; got ${describeValue(timeout)}.`, 'timeout', timeout, "'none' | 'processingTime' | 'eventTime'");
  }
  if (typeof fn !== 'function') {
    throw new InvalidOptionError(`${operator}: the state function must be a function of (key, rows, state); got ${describeValue(fn)}.`, 'fn', fn, 'a function');
  }
  const scheduler = options.scheduler as { now?: unknown } | undefined;
  if (scheduler !== undefined && (typeof scheduler !== 'object' || scheduler === null || typeof scheduler.now !== 'function')) {
    throw new InvalidOptionError(`${operator}: scheduler must be an RxJS SchedulerLike; got ${describeValue(scheduler)}.`, 'scheduler', scheduler, 'a SchedulerLike');
  }
  return timeout;
}

/** Spark's refusal of a `(flat)MapGroupsWithState` over a stream with this info, if any. */
function refusalFor(operator: 'mapGroupsWithState' | 'flatMapGroupsWithState', outputMode: 'append' | 'update', timeout: GroupStateTimeout, input: PipelineInfo): string | undefined {
  const aggregated = input.aggregation !== undefined || input.stateful.some((s) => isAggregationKind(s.kind));
  if (aggregated) {
    if (operator === 'mapGroupsWithState') return UNSUPPORTED.mapGroupsWithStateWithAggregation;
    return outputMode === 'update' ? UNSUPPORTED.flatMapGroupsWithStateUpdateWithAggregation : UNSUPPORTED.flatMapGroupsWithStateAppendAfterAggregation;
  }
  const groups = input.stateful.filter((s) => s.kind === 'mapGroupsWithState' || s.kind === 'flatMapGroupsWithState');
  if (groups.length > 0 && (outputMode !== 'append' || operator === 'mapGroupsWithState' || groups.some((g) => g.outputMode !== 'append'))) return UNSUPPORTED.multipleFlatMapGroupsWithState;
  if (timeout === 'eventTime' && !input.watermarked) return UNSUPPORTED.eventTimeTimeoutWithoutWatermark;
  return undefined;
}

/**
 * The RxJS shell shared by `mapGroupsWithState` and `flatMapGroupsWithState`:
 * the plan checks, and one {@link GroupsWithStateRunner} step per batch in
 * the shared stateful-operator shell (`statefulOperator`). The output batch keeps
 * the input's id and watermark but carries no event-time marker: the rows the
 * function returns have no known event-time column (as in Spark, where the
 * operator produces no output watermark).
 */
export function groupsWithState<T, R>(
  operator: 'mapGroupsWithState' | 'flatMapGroupsWithState',
  options: GroupsWithStateOptions<T>,
  timeout: GroupStateTimeout,
  outputMode: 'append' | 'update',
  invoke: GroupInvoker<T, R>,
): OperatorFunction<Batch<T>, Batch<R>> {
  const key = resolveKeySpec<T>(operator, options.keyBy, 'keyBy', false);
  const { name, onLateRows } = options;
  checkOperatorName(operator, name);
  const descriptor = { keyBy: key.descriptor, timeout, outputMode };
  return (source) =>
    statefulOperator<Step, Batch<R>, GroupStateStore>({
      op: operator,
      inputs: [source],
      stateful: { kind: operator, outputMode, name, codec: groupStateCodec },
      derive: ([input]) => {
        const refused = refusalFor(operator, outputMode, timeout, input!);
        if (refused !== undefined) throw new UnsupportedOperationError(operator, refused);
        // The function's rows have no known event-time column: no watermarked column downstream (Spark: no output watermark).
        const { columns: _columns, aggregation: _aggregation, ...rest } = input!;
        return { ...rest, watermarks: [], outputMode };
      },
      state: () => ({ kind: operator, name, descriptor, codec: groupStateCodec, outputMode }),
      open: ({ restored, query }) => {
        const scheduler: SchedulerLike = options.scheduler ?? query?.scheduler ?? asyncScheduler;
        const runner = new GroupsWithStateRunner<T, R>(operator, key, timeout, invoke, restored);
        return {
          step: ({ batches: [input] }) => {
            const batch = input as Batch<T>;
            const step = runner.step(batch, scheduler.now(), onLateRows !== undefined);
            return {
              late: [lateOutput(onLateRows, step.lateWatermarkMs, step.lateRows)],
              publish: { state: runner.state, changedKeys: step.changedKeys },
              stateMetrics: {
                numRowsTotal: runner.state.groups.size,
                numRowsUpdated: step.numUpdated,
                numRowsRemoved: step.numRemoved,
                numRowsDroppedByWatermark: step.numLate,
                memoryUsedBytes: runner.memoryUsedBytes,
                customMetrics: { numTimedOutKeys: step.numTimedOut },
              },
              output: (metrics) => ({ batchId: batch.batchId, rows: step.rows, watermark: batch.watermark, ...(metrics === undefined ? {} : { metrics }) }),
            };
          },
        };
      },
    });
}

import type { OperatorFunction } from 'rxjs';
import type { Batch, EventTimeMarker } from '../batch/Batch.js';
import { createResultBatch, type AggregationInfo, type AggregationKind, type ResultBatch, type ResultTable } from '../batch/ResultBatch.js';
import { InvalidValueError, UnsupportedOperationError } from '../errors/index.js';
import { SOURCE_INFO, markerOf, type OutputModeName, type PipelineInfo, type WatermarkColumn } from '../internal/pipeline.js';
import { lateOutput, statefulOperator, type Step } from '../internal/statefulOperator.js';
import { UNSUPPORTED } from '../query/unsupportedOperations.js';
import type { StateCodec } from '../state/StateStore.js';
import type { InvalidEventTimePolicy, LateRowsHandler } from '../types.js';
import { invalidValueTotal, type ValueCounts } from './Aggregator.js';
import { batchColumnCheck, knownColumnsOf, resolveColumns, type NamedColumn } from '../internal/knownColumns.js';

/** What an aggregation's engine did with one batch, in the terms the RxJS shell needs. */
export interface AggregationStep<T, R, S> {
  /** The state after the batch as a persistent value, when a checkpoint needs it (else `undefined`). */
  readonly state: S | undefined;
  /** The late-events watermark the batch's rows were compared with (the previous batch's watermark). */
  readonly lateWatermarkMs: number;
  readonly late: readonly T[];
  readonly numInvalid: number;
  readonly numUpdated: number;
  readonly numRemoved: number;
  readonly numTotal: number;
  readonly memoryUsedBytes: number;
  readonly customMetrics?: Readonly<Record<string, number>>;
  readonly changedKeys: Iterable<string>;
  readonly finalized: () => readonly R[];
  readonly updated: () => readonly R[];
  readonly table: () => ResultTable<R>;
}

/** The part of an {@link AggregationStep} that does not depend on the engine's state layout: the published state, the late rows and the state metrics. */
export type StepStats<T, S> = Pick<AggregationStep<T, unknown, S>, 'state' | 'lateWatermarkMs' | 'late' | 'numInvalid' | 'numUpdated' | 'numRemoved' | 'numTotal' | 'memoryUsedBytes'>;

/**
 * Builds the {@link StepStats} of a runner's step. `numTotal` counts the
 * entries (groups or sessions) in the state after the batch; each is
 * reckoned at `bytesPerEntry` for `memoryUsedBytes`.
 */
export function stepStats<T, S>(
  state: S | undefined,
  lateWatermarkMs: number,
  r: { readonly late: readonly T[]; readonly invalid: readonly number[]; readonly numUpdated: number },
  numRemoved: number,
  numTotal: number,
  bytesPerEntry: number,
): StepStats<T, S> {
  return {
    state,
    lateWatermarkMs,
    late: r.late,
    numInvalid: r.invalid.length,
    numUpdated: r.numUpdated,
    numRemoved,
    numTotal,
    memoryUsedBytes: numTotal * bytesPerEntry,
  };
}

/** Raised when a lazily built part of a ResultBatch is read after later batches changed the state it would read (a misuse, not a bug). */
export function staleRead(op: string, what: string): never {
  throw new UnsupportedOperationError(
    op,
    `ResultBatch.${what} was read after a later batch was processed; an aggregation outside a checkpointed query updates its state in place, so a result batch's parts can be read only until the next batch arrives. Read ${what} while the batch is emitted (in a map or tap before the next batch, as outputMode does) and keep the rows, e.g. map((b) => b.${what === 'table' ? 'table.toArray()' : what}).`,
  );
}

/**
 * The state of one step as the step's lazy results see it: sealed at once when
 * a checkpoint needs it, otherwise on the first read, as long as no later
 * batch has changed the engine's working state since the step.
 */
export class StepSnapshot<S> {
  private sealed: S | undefined;
  private readonly version: number;

  constructor(
    private readonly engine: { readonly version: number; seal(): S },
    private readonly op: string,
    sealNow: boolean,
  ) {
    this.version = engine.version;
    this.sealed = sealNow ? engine.seal() : undefined;
  }

  /** The snapshot if it was taken already. */
  get current(): S | undefined {
    return this.sealed;
  }

  /** Throws unless the step's working data can still be read (a snapshot exists, or no later batch ran). */
  assertReadable(what: string): void {
    if (this.sealed === undefined && this.engine.version !== this.version) staleRead(this.op, what);
  }

  /** The snapshot, taking it now if needed. */
  get(what: string): S {
    if (this.sealed === undefined) {
      this.assertReadable(what);
      this.sealed = this.engine.seal();
    }
    return this.sealed;
  }
}

/** The stateful part of an aggregation, created per subscription once the first batch shows where the watermark is. */
export interface AggregationRunner<T, R, S> {
  step(batch: Batch<T>, lateFiltering: boolean, evictWatermarkMs: number | undefined): AggregationStep<T, R, S>;
}

/** The watermarked column an aggregation groups by, as the user named it. */
export interface GroupingWatermark {
  readonly name: string;
  readonly column: WatermarkColumn;
}

/** What an aggregation operator file declares; {@link aggregationOperator} does the rest. */
export interface AggregationOperatorConfig<T, R, S> {
  readonly op: string;
  readonly kind: AggregationKind;
  readonly name: string | undefined;
  readonly descriptor: unknown;
  readonly codec: StateCodec<S>;
  readonly onLateRows: LateRowsHandler<T> | undefined;
  readonly invalidPolicy: InvalidEventTimePolicy;
  /** The watermarked column the grouping uses (`undefined` when none: no late filtering, no eviction); throws Spark's refusal when ambiguous. */
  groupingWatermark(info: PipelineInfo): GroupingWatermark | undefined;
  /** The watermarked column of the output rows when the aggregation groups by `input` (the window column, or the key column). */
  outputWatermark(input: GroupingWatermark): WatermarkColumn;
  /** The value counters of the operator's aggregators (`compileAggregates(...).counts`), read around each batch for `numRowsInvalidValue`. */
  readonly valueCounts?: readonly ValueCounts[];
  /** The columns the operator names (resolved against known columns when the pipeline is built, else checked per batch). */
  readonly namedColumns?: readonly NamedColumn[];
  /** `false` turns the per-batch column check off (sparse data). @defaultValue `true` */
  readonly checkColumns?: boolean | undefined;
  /** Checked with the pipeline: an error to fail with, or undefined. */
  checkShape?(): UnsupportedOperationError | undefined;
  /** `checkpointing`: a query context is current, so the state is published (as a snapshot) after every batch. */
  createRunner(hasWatermark: boolean, marker: EventTimeMarker | undefined, restored: S | undefined, checkpointing: boolean, mode: OutputModeName | undefined): AggregationRunner<T, R, S>;
}

/**
 * Spark's refusals for an aggregation over a stream with this info: after a
 * stateful operator that can emit rows behind the watermark (an aggregation in
 * update or complete mode), or with a `(flat)MapGroupsWithState` that Spark
 * does not allow together with an aggregation.
 */
function refusalAfter(op: string, info: PipelineInfo): UnsupportedOperationError | undefined {
  for (const s of info.stateful) {
    if ((s.kind === 'windowTumbling' || s.kind === 'windowSliding' || s.kind === 'windowSession' || s.kind === 'groupAggregate') && (s.outputMode === 'update' || s.outputMode === 'complete')) {
      return new UnsupportedOperationError(op, UNSUPPORTED.globalWatermarkCorrectness);
    }
    if (s.kind === 'mapGroupsWithState') return new UnsupportedOperationError(op, UNSUPPORTED.mapGroupsWithStateWithAggregation);
    if (s.kind === 'flatMapGroupsWithState' && s.outputMode === 'update') return new UnsupportedOperationError(op, UNSUPPORTED.flatMapGroupsWithStateUpdateWithAggregation);
  }
  return undefined;
}

/** The marker of a grouping watermark, for the engines (which read the column by the user's name). */
function groupingMarker(w: GroupingWatermark): EventTimeMarker {
  return { field: w.name, isWindow: w.column.isWindow, delayMs: w.column.delayMs, ...(w.column.read === undefined ? {} : { read: w.column.read }) };
}

/**
 * The aggregation part of every aggregation operator, run in the shared
 * stateful-operator shell (`statefulOperator`): validates the pipeline shape
 * (when the pipeline is built, else on the first batch), runs the engine once
 * per batch with Spark's two watermarks (late rows against the previous
 * batch's watermark, eviction with this batch's), counts invalid values and
 * emits one {@link ResultBatch} per input batch.
 */
export function aggregationOperator<T, R, S, K extends AggregationKind>(
  config: AggregationOperatorConfig<T, R, S>,
): OperatorFunction<Batch<T>, ResultBatch<R, K>> {
  const { op, kind } = config;
  const named = config.namedColumns ?? [];
  // The grouping watermark of the last input info seen (the plan check and the engine both need it).
  let groupingOf: { info: PipelineInfo; grouping: GroupingWatermark | undefined } | undefined;
  const groupingWatermark = (info: PipelineInfo): GroupingWatermark | undefined => {
    if (groupingOf?.info !== info) groupingOf = { info, grouping: config.groupingWatermark(info) };
    return groupingOf.grouping;
  };
  const derive = (input: PipelineInfo, mode: OutputModeName | undefined): PipelineInfo => {
    const refused = refusalAfter(op, input) ?? config.checkShape?.();
    if (refused !== undefined) throw refused;
    resolveColumns(op, named, input.columns);
    const grouping = groupingWatermark(input);
    const out: WatermarkColumn[] = grouping === undefined ? [] : [config.outputWatermark(grouping)];
    const { columns: _columns, aggregation: _aggregation, outputMode: _mode, ...rest } = input;
    return { ...rest, watermarks: out, aggregation: { kind, hasWatermark: grouping !== undefined }, ...(mode === undefined ? {} : { outputMode: mode }) };
  };
  return (source) => {
    // Known columns (a source's schema): a name that is not a column fails now, when the pipeline is built.
    resolveColumns(op, named, knownColumnsOf(source));
    return statefulOperator<Step, ResultBatch<R, K>, S>({
      op,
      inputs: [source],
      aggregation: true,
      stateful: { kind: op, name: config.name, codec: config.codec },
      derive: ([input], mode) => derive(input!, mode),
      state: (mode) => ({ kind: op, name: config.name, descriptor: config.descriptor, codec: config.codec, ...(mode === undefined ? {} : { outputMode: mode }) }),
      open: ({ restored, query, operatorId, infos, mode }) => {
        const input = infos[0]!;
        const complete = mode === 'complete';
        const grouping = groupingWatermark(input);
        const hasWatermark = grouping !== undefined;
        const outMarker = grouping === undefined ? undefined : markerOf({ ...SOURCE_INFO, watermarks: [config.outputWatermark(grouping)] });
        const runner = config.createRunner(hasWatermark, grouping === undefined ? undefined : groupingMarker(grouping), restored, query !== undefined, mode);
        const info: AggregationInfo<K> = { kind: kind as K, hasWatermark, operatorId: operatorId!, complete };
        const checkColumns = input.columns === undefined && config.checkColumns !== false ? batchColumnCheck(op, named) : undefined;
        const lateFiltering = hasWatermark && (!complete || kind === 'session');
        const counts = config.valueCounts ?? [];
        return {
          step: ({ batches: [input] }) => {
            const batch = input as Batch<T>;
            checkColumns?.(batch.rows, batch.batchId);
            const invalidBefore = invalidValueTotal(counts);
            let step: AggregationStep<T, R, S>;
            try {
              step = runner.step(batch, lateFiltering, hasWatermark && !complete ? batch.watermark : undefined);
            } catch (error) {
              // Aggregators do not know the batch; name it here.
              throw error instanceof InvalidValueError && error.batchId === undefined ? error.inBatch(batch.batchId) : error;
            }
            const numInvalidValues = invalidValueTotal(counts) - invalidBefore;
            return {
              late: [lateOutput(config.onLateRows, step.lateWatermarkMs, step.late)],
              ...(step.state === undefined ? {} : { publish: { state: step.state, changedKeys: step.changedKeys } }),
              stateMetrics: {
                numRowsTotal: step.numTotal,
                numRowsUpdated: step.numUpdated,
                numRowsRemoved: step.numRemoved,
                numRowsDroppedByWatermark: step.late.length,
                memoryUsedBytes: step.memoryUsedBytes,
                ...(numInvalidValues > 0 ? { numRowsInvalidValue: numInvalidValues } : {}),
                ...(step.customMetrics === undefined ? {} : { customMetrics: step.customMetrics }),
              },
              numRowsDroppedInvalidEventTime: step.numInvalid,
              output: (metrics) =>
                createResultBatch<R, K>(
                  { batchId: batch.batchId, watermark: batch.watermark, ...(outMarker === undefined ? {} : { eventTime: outMarker }), ...(metrics === undefined ? {} : { metrics }) },
                  info,
                  { finalized: step.finalized, updated: step.updated, table: step.table },
                ),
            };
          },
        };
      },
    });
  };
}

import type { Observable, OperatorFunction } from 'rxjs';
import { isBatch, type Batch, type EventTimeMarker } from '../batch/Batch.js';
import { InvalidOptionError, UnsupportedOperationError, describeValue } from '../errors/index.js';
import { pairBatches, type PairedBatch } from '../internal/alignBatches.js';
import type { StableKey } from '../internal/keySpec.js';
import { lateValueReader } from '../internal/lateValueReader.js';
import { SOURCE_INFO, carriedInfoOf, freezeInfo, staticInfoOf, unionInfo, type PipelineInfo, type WatermarkColumn as PipelineWatermark } from '../internal/pipeline.js';
import { lateOutput, statefulOperator, type StepEngine, type StepResult } from '../internal/statefulOperator.js';
import { GlobalWatermark, takesPartInWatermark, watermarkPolicy } from '../internal/watermarkPolicy.js';
import { UNSUPPORTED } from '../query/unsupportedOperations.js';
import { checkOperatorName } from '../state/StateStore.js';
import type { LateRowsHandler } from '../types.js';
import { resolveJoinCondition, sparkJoinTypeName, type JoinType, type ResolvedJoinCondition } from './JoinCondition.js';
import { joinColumnChecks, type JoinColumnChecks } from './joinColumns.js';
import type { StreamJoinOptions } from './joinOptions.js';
import { JOIN_OP as OP, emitterOf, outputMarker } from './joinOutput.js';
import { JoinSideBuffer, refiled } from './JoinSideBuffer.js';
import { emptyJoinState, joinStateCodec, type JoinSideState, type JoinState } from './JoinState.js';
import { joinStep, type JoinEmitter, type JoinSideRuntime } from './joinStep.js';
import { deriveEvictionPlan, evictionTimeReader, joinOutputWatermark, outerJoinSupported, type EvictionPlan, type WatermarkColumn } from './stateWatermarks.js';

function validateLateHandler(handler: unknown): void {
  if (handler === undefined || typeof handler === 'function') return;
  if (typeof handler === 'object' && handler !== null) {
    const h = handler as Record<string, unknown>;
    if (typeof h['next'] === 'function') return;
    const ok = (v: unknown): boolean => v === undefined || typeof v === 'function' || (typeof v === 'object' && v !== null && typeof (v as { next?: unknown }).next === 'function');
    if (('left' in h || 'right' in h) && ok(h['left']) && ok(h['right'])) return;
  }
  throw new InvalidOptionError(
    `${OP}: onLateRows must be a function, an Observer, or { left?, right? } of those; got ${describeValue(handler)}.`,
    'onLateRows',
    handler,
    'a function, an Observer or { left?, right? }',
  );
}

function sideLateHandler<T>(handler: unknown, side: 'left' | 'right'): LateRowsHandler<T> | undefined {
  if (handler === undefined) return undefined;
  if (typeof handler === 'function' || typeof (handler as { next?: unknown }).next === 'function') return handler as LateRowsHandler<T>;
  return (handler as Record<string, LateRowsHandler<T> | undefined>)[side];
}

function columnOfWatermark(w: PipelineWatermark | undefined): WatermarkColumn | undefined {
  if (w === undefined) return undefined;
  return w.read !== undefined ? { field: undefined, read: w.read } : { field: w.column, read: undefined };
}

function checkAppendOnly(infos: readonly PipelineInfo[]): void {
  for (const info of infos) {
    const mode = info.outputMode;
    if (mode === 'update' || mode === 'complete') throw new UnsupportedOperationError(OP, UNSUPPORTED.joinNotAppend(mode === 'update' ? 'Update' : 'Complete'));
  }
}

/**
 * The info of a stream-stream join's output: both sides' watermarked columns
 * (qualified by side: named `<c>` after a `select` or a projection that keeps
 * it, or `left.<c>` / `right.<c>` on the `{ left, right }` rows), stateful
 * operators and inputs; append mode.
 */
function joinInfo(cond: ResolvedJoinCondition<unknown, unknown>, left: PipelineInfo, right: PipelineInfo): PipelineInfo {
  checkAppendOnly([left, right]);
  const merged = unionInfo([left, right]);
  const sided = (info: PipelineInfo, side: 'left' | 'right'): PipelineWatermark[] => info.watermarks.map((w) => ({ ...w, side }));
  const watermarks = cond.semi ? left.watermarks : [...sided(left, 'left'), ...sided(right, 'right')];
  return { ...merged, watermarks, outputMode: 'append' };
}

/**
 * Builds one side's live buffer for an eviction rule: from the side's
 * checkpointed state, or, when the segments are not kept (`live` given: no
 * checkpoint), by filing the live buffer's rows again.
 */
function sideRuntime<T>(eviction: EvictionPlan['left'], side: JoinSideState<T>, keyOf: (row: T) => StableKey, timeOf: (row: T) => number, live: JoinSideBuffer<T> | undefined): { runtime: JoinSideRuntime<T>; side: JoinSideState<T> } {
  const evictionTime = eviction === undefined ? undefined : (evictionTimeReader(eviction) as (row: T) => number);
  if (live !== undefined) return { runtime: { eviction, evictionTime, buffer: refiled(live, evictionTime, side.evictedUpTo) }, side };
  const rebuilt = JoinSideBuffer.fromState(side, { keyOf, timeOf, evictionTimeOf: evictionTime });
  return { runtime: { eviction, evictionTime, buffer: rebuilt.buffer }, side: rebuilt.side };
}

/** What a join engine needs that does not change per subscription. */
interface JoinSetup<TLeft, TRight, O> {
  readonly cond: ResolvedJoinCondition<TLeft, TRight>;
  readonly emit: JoinEmitter<TLeft, TRight, O>;
  readonly hasSelect: boolean;
  readonly columns: JoinColumnChecks;
  readonly lateLeft: LateRowsHandler<TLeft> | undefined;
  readonly lateRight: LateRowsHandler<TRight> | undefined;
  readonly leftTimeMs: (row: TLeft) => number;
  readonly rightTimeMs: (row: TRight) => number;
  /** The inputs' infos known when the pipeline was built (`undefined` where hidden). */
  readonly built: readonly [PipelineInfo | undefined, PipelineInfo | undefined];
}

/**
 * The engine of a stream-stream join (Spark's `StreamingSymmetricHashJoinExec`)
 * for one subscription: follows both inputs' watermarked columns and
 * watermarks (the global watermark is a {@link GlobalWatermark}), keeps the
 * live side buffers in step with the eviction plan they imply, and runs
 * {@link joinStep} per micro-batch.
 */
class StreamJoinEngine<TLeft, TRight, O> implements StepEngine<PairedBatch<TLeft, TRight>, Batch<O>, JoinState<TLeft, TRight>> {
  private state: JoinState<TLeft, TRight>;
  private readonly watermark: GlobalWatermark;
  private leftColumn: WatermarkColumn | undefined;
  private rightColumn: WatermarkColumn | undefined;
  private leftMarker: EventTimeMarker | undefined;
  private rightMarker: EventTimeMarker | undefined;
  private signature: string | undefined;
  private runtime: { left: JoinSideRuntime<TLeft>; right: JoinSideRuntime<TRight> } | undefined;
  private readonly leftLateReader = lateValueReader();
  private readonly rightLateReader = lateValueReader();

  constructor(
    private readonly setup: JoinSetup<TLeft, TRight, O>,
    policy: 'min' | 'max',
    restored: JoinState<TLeft, TRight> | undefined,
    /** Keep the checkpointed segments up to date (a query context is current; see `JoinStepInput.trackState`). */
    private readonly trackState: boolean,
  ) {
    this.state = restored ?? emptyJoinState<TLeft, TRight>();
    this.watermark = new GlobalWatermark(policy, 2, this.state.watermark);
    this.watermark.observe(0, 0, takesPartInWatermark(undefined, setup.built[0]));
    this.watermark.observe(1, 0, takesPartInWatermark(undefined, setup.built[1]));
  }

  observe(step: PairedBatch<TLeft, TRight>, infos: readonly PipelineInfo[]): void {
    const { left, right } = step;
    const { built } = this.setup;
    if (left !== undefined) {
      this.leftMarker = left.eventTime;
      this.watermark.observe(0, left.watermark, takesPartInWatermark(carriedInfoOf(left), built[0]));
    }
    if (right !== undefined) {
      this.rightMarker = right.eventTime;
      this.watermark.observe(1, right.watermark, takesPartInWatermark(carriedInfoOf(right), built[1]));
    }
    this.leftColumn = columnOfWatermark(infos[0]!.watermarks[0]);
    this.rightColumn = columnOfWatermark(infos[1]!.watermarks[0]);
    // The live buffers are built from the state at the first step, and again when the watermarked columns change the eviction rule.
    const { cond } = this.setup;
    const plan = deriveEvictionPlan(cond as ResolvedJoinCondition<unknown, unknown>, this.leftColumn, this.rightColumn);
    if (this.runtime === undefined || plan.signature !== this.signature) {
      this.signature = plan.signature;
      // Untracked, the segments are empty and the live buffers hold the rows.
      const live = this.trackState ? undefined : this.runtime;
      const l = sideRuntime(plan.left, this.state.left, cond.leftKey, this.setup.leftTimeMs, live?.left.buffer);
      const r = sideRuntime(plan.right, this.state.right, cond.rightKey, this.setup.rightTimeMs, live?.right.buffer);
      this.runtime = { left: l.runtime, right: r.runtime };
      this.state = { ...this.state, left: l.side, right: r.side };
    }
    this.watermark.advance();
  }

  step(step: PairedBatch<TLeft, TRight>): StepResult<Batch<O>, JoinState<TLeft, TRight>> {
    const { setup } = this;
    const runtime = this.runtime!;
    if (step.left !== undefined) setup.columns.left(step.left, step.batchId);
    if (step.right !== undefined) setup.columns.right(step.right, step.batchId);
    const lateWatermark = this.state.watermark;
    const watermark = this.watermark.current;
    const result = joinStep(setup.cond, setup.emit, runtime, this.state, {
      stepId: step.batchId,
      leftRows: step.left?.rows,
      rightRows: step.right?.rows,
      leftLateValue: this.leftMarker === undefined ? undefined : this.leftLateReader(this.leftMarker),
      rightLateValue: this.rightMarker === undefined ? undefined : this.rightLateReader(this.rightMarker),
      lateWatermark,
      watermark,
      trackState: this.trackState,
    });
    const outputWatermark = Math.max(this.state.outputWatermark, joinOutputWatermark(watermark, result.leftStateWatermark, result.rightStateWatermark));
    this.state = { ...result.state, outputWatermark };
    const leftSize = runtime.left.buffer.size;
    const rightSize = runtime.right.buffer.size;
    const total = leftSize + rightSize;
    const marker = outputMarker(setup.cond as ResolvedJoinCondition<unknown, unknown>, setup.hasSelect, this.leftMarker, this.rightMarker);
    return {
      late: [lateOutput(setup.lateLeft, lateWatermark, result.lateLeft), lateOutput(setup.lateRight, lateWatermark, result.lateRight)],
      publish: { state: this.state, changedKeys: result.changedKeys },
      stateMetrics: {
        numRowsTotal: total,
        numRowsUpdated: result.numRowsUpdated,
        numRowsRemoved: result.numRowsRemoved,
        numRowsDroppedByWatermark: result.lateLeft.length + result.lateRight.length,
        memoryUsedBytes: total * 120 + (runtime.left.buffer.byKey.size + runtime.right.buffer.byKey.size) * 64,
        customMetrics: { numLeftRowsTotal: leftSize, numRightRowsTotal: rightSize, numLeftKeys: runtime.left.buffer.byKey.size, numRightKeys: runtime.right.buffer.byKey.size },
      },
      output: (metrics) => ({ batchId: step.batchId, rows: result.output, watermark: outputWatermark, ...(marker === undefined ? {} : { eventTime: marker }), ...(metrics === undefined ? {} : { metrics }) }),
    };
  }
}

/** A stream-stream join (see `streamJoin`): the options checked when the operator is built, the engine run in the shared stateful-operator shell. */
export function streamStreamJoin<TLeft, TRight, O>(other$: Observable<Batch<TRight>>, options: StreamJoinOptions<TLeft, TRight, JoinType, O>): OperatorFunction<Batch<TLeft>, Batch<O>> {
  const cond = resolveJoinCondition<TLeft, TRight>(OP, options, true);
  const emit = emitterOf<TLeft, TRight, O>(options.select);
  const policy = watermarkPolicy(OP, options.policy);
  if (options.aligned !== undefined && typeof options.aligned !== 'boolean') {
    throw new InvalidOptionError(`${OP}: aligned must be a boolean; got ${describeValue(options.aligned)}.`, 'aligned', options.aligned, 'a boolean');
  }
  const aligned = options.aligned;
  checkOperatorName(OP, options.name);
  validateLateHandler(options.onLateRows);
  const anyCond = cond as ResolvedJoinCondition<unknown, unknown>;
  const range = cond.range;
  return (source) => {
    const setup: JoinSetup<TLeft, TRight, O> = {
      cond,
      emit,
      hasSelect: options.select !== undefined,
      columns: joinColumnChecks(OP, anyCond, source, other$),
      lateLeft: sideLateHandler<TLeft>(options.onLateRows, 'left'),
      lateRight: sideLateHandler<TRight>(options.onLateRows, 'right'),
      leftTimeMs: range === undefined ? () => Number.NaN : (row) => range.leftTime.ms(row),
      rightTimeMs: range === undefined ? () => Number.NaN : (row) => range.rightTime.ms(row),
      built: [staticInfoOf(source), staticInfoOf(other$)],
    };
    const stateCodec = joinStateCodec<TLeft, TRight>();
    return statefulOperator<PairedBatch<TLeft, TRight>, Batch<O>, JoinState<TLeft, TRight>>({
      op: OP,
      inputs: [source, other$ as Observable<Batch<unknown>>],
      inputNames: ['left', 'right'],
      steps: pairBatches(source, other$, aligned),
      stateful: { kind: OP, outputMode: 'append', name: options.name, codec: stateCodec },
      derive: ([l, r]) => {
        const out = joinInfo(anyCond, l!, r!);
        if (!outerJoinSupported(anyCond, columnOfWatermark(l!.watermarks[0]), columnOfWatermark(r!.watermarks[0]))) {
          throw new UnsupportedOperationError(OP, UNSUPPORTED.outerJoinWithoutWatermark(sparkJoinTypeName(cond.type) as 'LeftOuter'));
        }
        return out;
      },
      // Spark's checks need both inputs; until the other input's first batch, the info is derived without them.
      provisional: ([l, r]) => freezeInfo(joinInfo(anyCond, l ?? SOURCE_INFO, r ?? SOURCE_INFO)),
      validate: (step) => {
        if (step.right !== undefined && !isBatch(step.right)) {
          throw new InvalidOptionError(
            `${OP}: the other input must emit batches; got ${describeValue(step.right)}. Wrap a stream of whole tables in staticTable(tables$) for a stream-static join.`,
            'other',
            step.right,
            'an Observable of batches',
          );
        }
      },
      state: () => ({ kind: OP, name: options.name, descriptor: cond.descriptor, codec: stateCodec, outputMode: 'append' }),
      open: ({ restored, query }) => new StreamJoinEngine<TLeft, TRight, O>(setup, policy, restored, query !== undefined),
    });
  };
}

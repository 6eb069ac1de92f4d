import { Observable, Subscriber } from 'rxjs';
import { mergeMetrics, withStateMetrics, type Batch, type BatchMetrics } from '../batch/Batch.js';
import { BatchSequenceError } from '../errors/index.js';
import type { QueryContext, StateCodec, StateHandle } from '../state/StateStore.js';
import type { StateOperatorMetrics } from '../state/metrics.js';
import type { LateRowsHandler } from '../types.js';
import { wrapError } from './batchSubscriber.js';
import { emitLateRows } from './lateRows.js';
import { SOURCE_INFO, Stage, infoOfBatch, registerStage, stamp, staticInfoOf, withStateful, type OutputModeName, type PipelineInfo, type StageStateful, type StatefulInfo, type StatefulSpec } from './pipeline.js';

/**
 * One micro-batch of an operator's inputs as the shell hands it to the
 * engine: batch N of each input, `undefined` for an input that sent nothing
 * in this step (an unaligned join step holds one side only).
 */
export interface Step {
  readonly batchId: number;
  readonly batches: readonly (Batch<unknown> | undefined)[];
}

/** A stateful operator's metrics for one step, without the names the shell adds. */
export type OperatorStateMetrics = Omit<StateOperatorMetrics, 'operatorId' | 'operatorName'>;

/** Rows an engine dropped as late in one step, bound to the side output they go to. */
export interface LateOutput {
  /** Hands the rows to the handler, naming the operator and the batch. */
  send(operatorId: string, batchId: number): void;
}

/** Binds late rows to their handler (keeps the row type between the two). */
export function lateOutput<T>(handler: LateRowsHandler<T> | undefined, watermark: number, rows: readonly T[] | undefined): LateOutput {
  return {
    send(operatorId, batchId) {
      if (rows !== undefined) emitLateRows(handler, { operatorId, batchId, watermark, rows });
    },
  };
}

/** What an engine did with one step, in the terms the shell needs. */
export interface StepResult<O extends Batch<unknown>, S> {
  /** The state after the step, published to the query's checkpoint (absent: nothing to publish this step). */
  readonly publish?: { readonly state: S; readonly changedKeys: Iterable<string> };
  /** The step's late rows, per side output. */
  readonly late?: readonly LateOutput[];
  /** The operator's state metrics (absent for an operator that holds no state). */
  readonly stateMetrics?: OperatorStateMetrics;
  /** Rows the engine dropped for an invalid event time (added to the batch's count). */
  readonly numRowsDroppedInvalidEventTime?: number;
  /** The output info when the engine refines the derived one (e.g. learns that a column holds windows); keep returning the same object while it holds. */
  readonly info?: PipelineInfo;
  /** The output batch, before the shell stamps it, carrying `metrics`. */
  output(metrics: BatchMetrics | undefined): O;
}

/** The per-subscription engine of a stateful operator: a plain object the shell drives step by step. */
export interface StepEngine<St extends Step, O extends Batch<unknown>, S> {
  /** Sees every step first, including steps the restored state already holds (to follow the inputs' watermarks). */
  observe?(step: St, infos: readonly PipelineInfo[]): void;
  /** Processes a step the state does not hold yet. */
  step(step: St): StepResult<O, S>;
}

/** What the engine is opened with, at the first step. */
export interface EngineContext<S> {
  /** The state restored from the checkpoint, if any. */
  readonly restored: S | undefined;
  /** The query the operator runs in. */
  readonly query: QueryContext | undefined;
  /** The operator's id (`undefined` for an operator that holds no state). */
  readonly operatorId: string | undefined;
  /** The inputs' infos at the first step (a fresh stream's for an input that has sent nothing yet). */
  readonly infos: readonly PipelineInfo[];
  /** The output mode a downstream `outputMode` or `startQuery` asked of this operator. */
  readonly mode: OutputModeName | undefined;
}

/** What a stateful operator declares; {@link statefulOperator} builds the RxJS side from it. */
export interface StatefulOperatorSpec<St extends Step, O extends Batch<unknown>, S> {
  readonly op: string;
  /** The input Observables, in the order of `Step.batches`. */
  readonly inputs: readonly Observable<Batch<unknown>>[];
  /** Names of the inputs in messages (`['left', 'right']`); one input needs none. */
  readonly inputNames?: readonly string[];
  /** The steps, combined from the inputs. @defaultValue each batch of the single input is a step */
  readonly steps?: Observable<St>;
  /** The plan check and output info: Spark's refusals throw an `UnsupportedOperationError` here (with the pipeline when it can, else on the first step). */
  derive(infos: readonly PipelineInfo[], mode: OutputModeName | undefined): PipelineInfo;
  /** The output info while some input has sent nothing and its info is unknown. @defaultValue `derive` with a fresh stream's info for it */
  provisional?(infos: readonly (PipelineInfo | undefined)[]): PipelineInfo;
  /** The operator is an aggregation (downstream `outputMode`/`startQuery` ask its mode). */
  readonly aggregation?: boolean;
  /** Marks the pipeline node as stateful; with the operator's `name` and codec when they are known as the pipeline is built (a query then decodes the restored state before it is ready). */
  readonly stateful?: { readonly kind: string; readonly outputMode?: OutputModeName; readonly name?: string | undefined; readonly codec?: StateCodec<S> };
  /** What to register at the first step, or `undefined` when this run holds no state. */
  state?(mode: OutputModeName | undefined, infos: readonly PipelineInfo[], first: St): StatefulSpec<S> | undefined;
  /** Checks a step before anything else (e.g. that an input emits batches). */
  validate?(step: St): void;
  /** Opens the engine at the first step. */
  open(context: EngineContext<S>, first: St): StepEngine<St, O, S>;
}

/** The single input's batches as steps, linked to the consumer so a synchronous firehose stops on unsubscribe. */
function singleInputSteps(input: Observable<Batch<unknown>>): Observable<Step> {
  return new Observable<Step>((subscriber) => {
    const inner = new Subscriber<Batch<unknown>>({
      next: (batch) => subscriber.next({ batchId: batch.batchId, batches: [batch] }),
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
    subscriber.add(inner);
    input.subscribe(inner);
  });
}

/**
 * The one RxJS shell of every operator that keeps state between batches
 * (aggregations, deduplication, joins, `(flat)MapGroupsWithState`, `limit`,
 * `withWatermark`). The operator declares its plan check and its engine; the
 * shell does, in this order and the same way for all of them:
 *
 * 1. **Plan checks** when the pipeline is built (a refusal is sent on
 *    subscribe), or on the first step when a foreign Observable hides the
 *    inputs' infos.
 * 2. **State registration** with the query the first step's batches carry;
 *    the restored state opens the engine.
 * 3. **Restored-batch skipping**: a step the restored state already holds is
 *    shown to the engine (`observe`) but not processed again.
 * 4. **Step**: batch ids checked per input, the engine run; anything it
 *    throws becomes one error notification naming the operator and batch.
 * 5. **Late rows** to their side outputs, 6. **state publication** to the
 *    checkpoint, 7. **metrics** (the inputs' merged, with this operator's
 *    state metrics appended), and the output batch stamped with the
 *    operator's output info.
 */
export function statefulOperator<St extends Step, O extends Batch<unknown>, S>(spec: StatefulOperatorSpec<St, O, S>): Observable<O> {
  const { op, inputs } = spec;
  // The mode comes from downstream (outputMode, startQuery), after this node exists: read it when deriving.
  const box: { stage?: Stage } = {};
  const stage = new Stage(op, inputs, (infos) => spec.derive(infos, box.stage?.node.requestedMode), {
    ...(spec.aggregation === true ? { aggregation: true } : {}),
    ...(spec.stateful === undefined ? {} : { stateful: spec.stateful as StageStateful }),
  });
  box.stage = stage;
  const output = new Observable<O>((subscriber) => {
    if (stage.refuse(subscriber)) return undefined;
    const run = new ShellRun<St, O, S>(spec, stage, (batch) => subscriber.next(batch));
    let failed = false;
    const inner = new Subscriber<St>({
      next: (step) => {
        if (failed || subscriber.closed) return;
        try {
          run.onStep(step);
        } catch (error) {
          failed = true;
          subscriber.error(wrapError(op, step.batchId, error));
        }
      },
      error: (error: unknown) => {
        if (!failed) subscriber.error(error);
      },
      complete: () => {
        if (!failed) subscriber.complete();
      },
    });
    // Linked to the output before subscribing, so an unsubscribe reaches a synchronous input while it emits.
    subscriber.add(inner);
    (spec.steps ?? (singleInputSteps(inputs[0]!) as unknown as Observable<St>)).subscribe(inner);
    return undefined;
  });
  return stage.attach(output);
}

/** One subscription of a {@link statefulOperator}. */
class ShellRun<St extends Step, O extends Batch<unknown>, S> {
  private readonly mode: OutputModeName | undefined;
  private readonly lastIds: number[];
  private readonly infos: (PipelineInfo | undefined)[];
  private engine: StepEngine<St, O, S> | undefined;
  private handle: StateHandle<S> | undefined;
  private self: StatefulInfo | undefined;
  private kind: string;
  private skipUpTo = -1;
  private derivedFrom: PipelineInfo | undefined;
  private outInfo: PipelineInfo | undefined;

  constructor(
    private readonly spec: StatefulOperatorSpec<St, O, S>,
    private readonly stage: Stage,
    private readonly emit: (batch: O) => void,
  ) {
    this.mode = stage.node.requestedMode;
    this.lastIds = spec.inputs.map(() => Number.NEGATIVE_INFINITY);
    this.infos = spec.inputs.map((input) => staticInfoOf(input));
    this.kind = spec.stateful?.kind ?? spec.op;
  }

  onStep(step: St): void {
    const { spec } = this;
    spec.validate?.(step);
    const batches = step.batches;
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i];
      if (batch === undefined) continue;
      if (batch.batchId <= this.lastIds[i]!) {
        throw new BatchSequenceError(spec.inputNames === undefined ? spec.op : `${spec.op} (${spec.inputNames[i]} input)`, this.lastIds[i]!, batch.batchId);
      }
      this.lastIds[i] = batch.batchId;
      this.infos[i] = infoOfBatch(batch);
    }
    const infos = this.infos.map((info) => info ?? SOURCE_INFO);
    const known = this.infos.every((info) => info !== undefined);
    // Spark's checks need every input's info; until each input has sent a batch, the output info is provisional.
    const derived = known || spec.provisional === undefined ? this.stage.derive(infos) : spec.provisional(this.infos);
    if (this.engine === undefined) this.open(step, infos);
    this.engine!.observe?.(step, infos);
    if (step.batchId <= this.skipUpTo) return;
    const result = this.engine!.step(step);
    this.deliver(step.batchId, batches, result.info ?? derived, result);
  }

  private open(first: St, infos: readonly PipelineInfo[]): void {
    const state = this.spec.state?.(this.mode, infos, first);
    let restored: S | undefined;
    let query: QueryContext | undefined = this.stage.queryOf(infos);
    if (state !== undefined) {
      const reg = registerStage<S>(this.stage, infos, state);
      this.handle = reg.handle;
      this.self = reg.self;
      this.kind = state.kind;
      query = reg.query;
      restored = reg.handle.restored?.state;
      this.skipUpTo = reg.handle.restored?.batchId ?? -1;
    }
    this.engine = this.spec.open({ restored, query, operatorId: this.handle?.operatorId, infos, mode: this.mode }, first);
  }

  private deliver(batchId: number, batches: readonly (Batch<unknown> | undefined)[], info: PipelineInfo, result: StepResult<O, S>): void {
    const operatorId = this.handle?.operatorId ?? this.spec.op;
    if (result.late !== undefined) for (const late of result.late) late.send(operatorId, batchId);
    if (result.publish !== undefined) this.handle?.publish(batchId, result.publish.state, result.publish.changedKeys);
    let metrics: BatchMetrics | undefined;
    for (const batch of batches) if (batch !== undefined) metrics = mergeMetrics(metrics, batch.metrics);
    if (result.stateMetrics !== undefined) metrics = withStateMetrics(metrics, { operatorId, operatorName: this.kind, ...result.stateMetrics });
    const invalid = result.numRowsDroppedInvalidEventTime ?? 0;
    if (invalid > 0) metrics = { ...metrics, numRowsDroppedInvalidEventTime: (metrics?.numRowsDroppedInvalidEventTime ?? 0) + invalid };
    if (info !== this.derivedFrom) {
      this.derivedFrom = info;
      this.outInfo = this.self === undefined ? info : withStateful(info, this.self);
    }
    this.emit(stamp(result.output(metrics), this.outInfo!));
  }
}

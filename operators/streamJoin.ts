import { isObservable, Observable, Subscriber, type OperatorFunction, type Subscription } from 'rxjs';
import { isBatch, mergeMetrics, withStateMetrics, type Batch, type BatchMetrics, type EventTimeMarker } from '../lib/batch/Batch.js';
import { BatchSequenceError, InvalidOptionError, UnsupportedOperationError, describeValue } from '../lib/errors/index.js';
import { pairBatches, type PairedBatch } from '../lib/internal/alignBatches.js';
import { wrapError } from '../lib/internal/batchSubscriber.js';
import { emitLateRows } from '../lib/internal/lateRows.js';
import { lateValueReader } from '../lib/internal/lateValueReader.js';
import { SOURCE_INFO, Stage, freezeInfo, infoOfBatch, registerStage, stamp, staticInfoOf, unionInfo, withStateful, type PipelineInfo, type WatermarkColumn as PipelineWatermark, type Registration } from '../lib/internal/pipeline.js';
import { watermarkPolicy, type WatermarkPolicy } from '../lib/internal/watermarkPolicy.js';
import { resolveJoinCondition, sparkJoinTypeName, type JoinKeys, type JoinTimeRange, type JoinType, type JoinWhere, type ResolvedJoinCondition } from '../lib/join/JoinCondition.js';
import { joinColumnChecks } from '../lib/join/joinColumns.js';
import { emptyJoinState, joinStateCodec, type JoinSideState, type JoinState } from '../lib/join/JoinState.js';
import type { StableKey } from '../lib/internal/keySpec.js';
import { JoinSideBuffer } from '../lib/join/JoinSideBuffer.js';
import { joinStep, type JoinEmitter, type JoinSideRuntime } from '../lib/join/joinStep.js';
import { indexStaticTable, isStaticRows, staticJoinStep, staticRowsOf, type StaticRows, type StaticTableIndex } from '../lib/join/staticJoin.js';
import { isStaticTable, type StaticTable } from '../lib/join/staticTable.js';
import { deriveEvictionPlan, evictionTimeReader, joinOutputWatermark, outerJoinSupported, type EvictionPlan, type WatermarkColumn } from '../lib/join/stateWatermarks.js';
import { UNSUPPORTED } from '../lib/query/unsupportedOperations.js';
import { checkOperatorName, type StateHandle } from '../lib/state/StateStore.js';
import type { LateRowsHandler } from '../lib/types.js';
import type { RowTypeArgumentOnly } from '../lib/aggregate/rowTypes.js';

export type { JoinKeys, JoinTimeRange, JoinType, JoinWhere } from '../lib/join/JoinCondition.js';

/** The left value an output row carries: `null` possible in right and full outer joins. */
export type JoinedLeft<J extends JoinType, TLeft> = J extends 'rightOuter' | 'fullOuter' ? TLeft | null : TLeft;
/** The right value an output row carries: `null` possible in left and full outer joins, always `null` in left semi joins. */
export type JoinedRight<J extends JoinType, TRight> = J extends 'leftSemi' ? null : J extends 'leftOuter' | 'fullOuter' ? TRight | null : TRight;
/** The default output row: `{ left, right }`, or the left row itself for a left semi join. */
export type JoinRow<J extends JoinType, TLeft, TRight> = J extends 'leftSemi' ? TLeft : { readonly left: JoinedLeft<J, TLeft>; readonly right: JoinedRight<J, TRight> };

/** The join types a stream-static join supports with the stream on the left. */
export type StaticJoinType = 'inner' | 'leftOuter' | 'leftSemi';

/** A late-data side output for a join: one handler for both sides' late rows, or one per side. */
export type JoinLateRowsHandler<TLeft, TRight> = LateRowsHandler<TLeft | TRight> | { readonly left?: LateRowsHandler<TLeft>; readonly right?: LateRowsHandler<TRight> };

/** Options shared by stream-stream and stream-static joins. */
interface JoinOptionsBase<TLeft, TRight, J extends JoinType, O> {
  /** The join type. @defaultValue `'inner'` */
  readonly type?: J;
  /** `leftTime + lower <= rightTime <= leftTime + upper`; with watermarks it bounds the buffered state. */
  readonly timeRange?: JoinTimeRange<TLeft, TRight>;
  /** Any further condition: a function of both rows, or `{ left?, right?, both? }`. */
  readonly where?: JoinWhere<TLeft, TRight>;
  /** Shapes each output row. @defaultValue `(left, right) => ({ left, right })`; the left row itself for `'leftSemi'`. */
  readonly select?: (left: JoinedLeft<J, TLeft>, right: JoinedRight<J, TRight>) => O;
  /**
   * Check that the key fields (and `timeRange` fields) exist: against each
   * input's schema when the pipeline is built, else in every non-empty batch
   * of each input and every non-empty static table (a field no row has is a
   * `ColumnNotFoundError`). Pass `false` for sparse data.
   * @defaultValue `true`
   */
  readonly checkColumns?: boolean;
}

/** Options for a stream-stream {@link streamJoin}. */
export interface StreamJoinOptions<TLeft, TRight, J extends JoinType = 'inner', O = JoinRow<J, TLeft, TRight>> extends JoinOptionsBase<TLeft, TRight, J, O> {
  /** The equi-join key (required between two streams). */
  readonly on: JoinKeys<TLeft, TRight>;
  /**
   * Both inputs carry the same batch ids (one trigger drives both): batch N
   * of each input forms one micro-batch, left rows first. Without it each
   * arriving batch is a micro-batch of its own, numbered in arrival order.
   * @defaultValue `false`
   */
  readonly aligned?: boolean;
  /** How the two inputs' watermarks combine. @defaultValue `'min'` */
  readonly policy?: WatermarkPolicy;
  /** Stable operator id for checkpoints. @defaultValue `streamJoin#<n>` */
  readonly name?: string;
  /** Receives the rows dropped as late (a handler for both sides, or `{ left, right }`). */
  readonly onLateRows?: JoinLateRowsHandler<TLeft, TRight>;
}

/** Options for a stream-static {@link streamJoin} (the stream is the left side). */
export interface StaticJoinOptions<TLeft, TRight, J extends StaticJoinType = 'inner', O = JoinRow<J, TLeft, TRight>> extends JoinOptionsBase<TLeft, TRight, J, O> {
  /** The equi-join key; leave it out to test every table row with `where` / `timeRange`. */
  readonly on?: JoinKeys<TLeft, TRight>;
}

/**
 * {@link streamJoin} for left rows `TLeft` (and right rows of type `TRight`),
 * as `streamJoin<Left>()` returns it: still generic in the right row (inferred
 * from `other`), the join type (from `type`) and the output row (from `select`).
 */
export interface StreamJoinFor<TLeft, TRight = unknown> {
  <R extends TRight, J extends JoinType = 'inner', O = JoinRow<J, TLeft, R>>(other: Observable<Batch<R>>, options: StreamJoinOptions<TLeft, R, J, O>): OperatorFunction<Batch<TLeft>, Batch<O>>;
  <R extends TRight, J extends StaticJoinType = 'inner', O = JoinRow<J, TLeft, R>>(other: StaticRows<R> | StaticTable<R>, options: StaticJoinOptions<TLeft, R, J, O>): OperatorFunction<Batch<TLeft>, Batch<O>>;
}

const OP = 'streamJoin';

function emitterOf<TLeft, TRight, O>(select: unknown): JoinEmitter<TLeft, TRight, O> {
  if (select !== undefined && typeof select !== 'function') {
    throw new InvalidOptionError(`${OP}: select must be a function (left, right) => row; got ${describeValue(select)}.`, 'select', select, 'a function');
  }
  if (typeof select === 'function') {
    const fn = select as (l: TLeft | null, r: TRight | null) => O;
    return { row: fn, semi: (l) => fn(l, null) };
  }
  return { row: (left, right) => ({ left, right }) as O, semi: (l) => l as unknown as O };
}

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

/** Reads a marked column's raw value from a row. */
function rawReader(marker: EventTimeMarker): (row: unknown) => unknown {
  if (marker.read !== undefined) return marker.read as (row: unknown) => unknown;
  const field = marker.field;
  return (row) => (row as Record<string, unknown> | null | undefined)?.[field];
}

/**
 * The event-time marker of `{ left, right }` output rows: the left side's
 * column read from `left` (the right side's from `right` when `left` is
 * `null`), so that a downstream stateful operator finds the watermarked time.
 */
function pairMarker(left: EventTimeMarker | undefined, right: EventTimeMarker | undefined): EventTimeMarker | undefined {
  const main = left ?? right;
  if (main === undefined) return undefined;
  const readLeft = left === undefined ? undefined : rawReader(left);
  const readRight = right === undefined ? undefined : rawReader(right);
  const read = (row: { left?: unknown; right?: unknown }): unknown =>
    row.left !== null && row.left !== undefined && readLeft !== undefined ? readLeft(row.left) : row.right !== null && row.right !== undefined && readRight !== undefined ? readRight(row.right) : undefined;
  return { field: main.field === '<function>' ? '<function>' : `left.${main.field}`, isWindow: main.isWindow, delayMs: main.delayMs, read: read as (row: never) => unknown };
}

function outputMarker(cond: ResolvedJoinCondition<unknown, unknown>, hasSelect: boolean, left: EventTimeMarker | undefined, right: EventTimeMarker | undefined): EventTimeMarker | undefined {
  if (hasSelect) return undefined;
  if (cond.semi) return left;
  return pairMarker(left, right);
}


/** What is known about one input's watermarked column. */
interface SideKnowledge {
  known: boolean;
  column: WatermarkColumn | undefined;
  /** The input takes part in the global watermark. */
  watermarked: boolean;
  /** The input's latest watermark. */
  watermarkMs: number;
  marker: EventTimeMarker | undefined;
  lastBatchId: number;
  /** The side's pipeline info, once a batch arrived. */
  info?: PipelineInfo;
}

function columnOfWatermark(w: PipelineWatermark | undefined): WatermarkColumn | undefined {
  if (w === undefined) return undefined;
  return w.read !== undefined ? { field: undefined, read: w.read } : { field: w.column, read: undefined };
}

function knowledgeFromInfo(info: PipelineInfo | undefined): SideKnowledge {
  const base = { watermarkMs: 0, marker: undefined, lastBatchId: Number.NEGATIVE_INFINITY };
  if (info === undefined) return { ...base, known: false, column: undefined, watermarked: false };
  return { ...base, known: true, column: columnOfWatermark(info.watermarks[0]), watermarked: info.watermarked };
}

/** The info of a stream-stream join's output: both sides' watermarked columns (qualified by side), stateful operators and inputs; append mode. */
function joinInfo(cond: ResolvedJoinCondition<unknown, unknown>, hasSelect: boolean, left: PipelineInfo, right: PipelineInfo): PipelineInfo {
  checkAppendOnly([left, right]);
  const merged = unionInfo([left, right]);
  const sided = (info: PipelineInfo, side: 'left' | 'right'): PipelineWatermark[] => info.watermarks.map((w) => ({ ...w, side }));
  const watermarks = cond.semi ? left.watermarks : [...sided(left, 'left'), ...sided(right, 'right')];
  // A watermarked column is named `<c>` (after a select or a projection that keeps it) or `left.<c>` / `right.<c>` on the { left, right } rows.
  void hasSelect;
  return { ...merged, watermarks, outputMode: 'append' };
}

function observeBatch(side: SideKnowledge, batch: Batch<unknown>, which: string): void {
  if (batch.batchId <= side.lastBatchId) throw new BatchSequenceError(`${OP} (${which} input)`, side.lastBatchId, batch.batchId);
  side.lastBatchId = batch.batchId;
  side.known = true;
  side.info = infoOfBatch(batch);
  side.column = columnOfWatermark(side.info.watermarks[0]);
  side.marker = batch.eventTime;
  if (batch.eventTime !== undefined || batch.watermark > 0) side.watermarked = true;
  if (batch.watermark > side.watermarkMs) side.watermarkMs = batch.watermark;
}

function combineWatermarks(policy: WatermarkPolicy, left: SideKnowledge, right: SideKnowledge, previous: number): number {
  let chosen: number | undefined;
  for (const side of [left, right]) {
    if (!side.watermarked) continue;
    chosen = chosen === undefined ? side.watermarkMs : policy === 'min' ? Math.min(chosen, side.watermarkMs) : Math.max(chosen, side.watermarkMs);
  }
  return chosen !== undefined && chosen > previous ? chosen : previous;
}

/** Builds one side's live buffer for an eviction rule from the side's checkpointed state. */
function sideRuntime<T>(eviction: EvictionPlan['left'], side: JoinSideState<T>, keyOf: (row: T) => StableKey, timeOf: (row: T) => number): { runtime: JoinSideRuntime<T>; side: JoinSideState<T> } {
  const evictionTime = eviction === undefined ? undefined : (evictionTimeReader(eviction) as (row: T) => number);
  const rebuilt = JoinSideBuffer.fromState(side, { keyOf, timeOf, evictionTimeOf: evictionTime });
  return { runtime: { eviction, evictionTime, buffer: rebuilt.buffer }, side: rebuilt.side };
}

function checkAppendOnly(infos: readonly PipelineInfo[]): void {
  for (const info of infos) {
    const mode = info.outputMode;
    if (mode === 'update' || mode === 'complete') throw new UnsupportedOperationError(OP, UNSUPPORTED.joinNotAppend(mode === 'update' ? 'Update' : 'Complete'));
  }
}

function streamStreamJoin<TLeft, TRight, O>(other$: Observable<Batch<TRight>>, options: StreamJoinOptions<TLeft, TRight, JoinType, O>): OperatorFunction<Batch<TLeft>, Batch<O>> {
  const cond = resolveJoinCondition<TLeft, TRight>(OP, options, true);
  const emit = emitterOf<TLeft, TRight, O>(options.select);
  const policy = watermarkPolicy(OP, options.policy);
  if (options.aligned !== undefined && typeof options.aligned !== 'boolean') {
    throw new InvalidOptionError(`${OP}: aligned must be a boolean; got ${describeValue(options.aligned)}.`, 'aligned', options.aligned, 'a boolean');
  }
  const aligned = options.aligned;
  checkOperatorName(OP, options.name);
  validateLateHandler(options.onLateRows);
  const lateLeftHandler = sideLateHandler<TLeft>(options.onLateRows, 'left');
  const lateRightHandler = sideLateHandler<TRight>(options.onLateRows, 'right');
  const hasSelect = options.select !== undefined;
  const anyCond = cond as ResolvedJoinCondition<unknown, unknown>;
  const leftTimeMs = cond.range === undefined ? () => Number.NaN : (row: TLeft) => cond.range!.leftTime.ms(row);
  const rightTimeMs = cond.range === undefined ? () => Number.NaN : (row: TRight) => cond.range!.rightTime.ms(row);

  return (source) => {
    const columns = joinColumnChecks(OP, anyCond, source, other$);
    const stage = new Stage(OP, [source, other$], ([l, r]) => {
      const out = joinInfo(anyCond, hasSelect, l!, r!);
      if (!outerJoinSupported(anyCond, columnOfWatermark(l!.watermarks[0]), columnOfWatermark(r!.watermarks[0]))) {
        throw new UnsupportedOperationError(OP, UNSUPPORTED.outerJoinWithoutWatermark(sparkJoinTypeName(cond.type) as 'LeftOuter'));
      }
      return out;
    }, { stateful: { kind: OP, outputMode: 'append' } });
    const output = new Observable<Batch<O>>((subscriber) => {
      if (stage.refuse(subscriber)) return undefined;
      const left = knowledgeFromInfo(staticInfoOf(source));
      const right = knowledgeFromInfo(staticInfoOf(other$));
      let reg: Registration<JoinState<TLeft, TRight>> | undefined;
      let handle: StateHandle<JoinState<TLeft, TRight>> | undefined;
      let skipUpTo = -1;
      let outInfo: PipelineInfo | undefined;
      let state: JoinState<TLeft, TRight> = emptyJoinState<TLeft, TRight>();
      // The live buffers are built from the state at the first step, once the watermarked columns are known.
      let signature: string | undefined;
      let runtime: { left: JoinSideRuntime<TLeft>; right: JoinSideRuntime<TRight> } | undefined;
      let failed = false;
      const leftLateReader = lateValueReader();
      const rightLateReader = lateValueReader();

      const onStep = (step: { batchId: number; left: Batch<TLeft> | undefined; right: Batch<TRight> | undefined }): void => {
        if (step.right !== undefined && !isBatch(step.right)) {
          throw new InvalidOptionError(
            `${OP}: the other input must emit batches; got ${describeValue(step.right)}. Wrap a stream of whole tables in staticTable(tables$) for a stream-static join.`,
            'other',
            step.right,
            'an Observable of batches',
          );
        }
        if (step.left !== undefined) observeBatch(left, step.left, 'left');
        if (step.right !== undefined) observeBatch(right, step.right, 'right');
        const leftInfo = left.info ?? staticInfoOf(source);
        const rightInfo = right.info ?? staticInfoOf(other$);
        const infos = [leftInfo ?? SOURCE_INFO, rightInfo ?? SOURCE_INFO];
        // Spark's checks need both inputs; until the other input's first batch, derive without them.
        const bothKnown = leftInfo !== undefined && rightInfo !== undefined;
        if (reg === undefined) {
          // Registered with the query of the first step (an input that has not sent a batch yet counts as a fresh stream).
          const derived = bothKnown ? stage.derive(infos) : freezeInfo(joinInfo(anyCond, hasSelect, infos[0]!, infos[1]!));
          reg = registerStage<JoinState<TLeft, TRight>>(stage, infos, { kind: OP, name: options.name, descriptor: cond.descriptor, codec: joinStateCodec<TLeft, TRight>(), outputMode: 'append' });
          handle = reg.handle;
          skipUpTo = handle.restored?.batchId ?? -1;
          state = handle.restored?.state ?? state;
          outInfo = withStateful(derived, reg.self);
        } else if (bothKnown) {
          outInfo = withStateful(stage.derive(infos), reg.self);
        }
        const plan = deriveEvictionPlan(anyCond, left.column, right.column);
        if (runtime === undefined || plan.signature !== signature) {
          signature = plan.signature;
          const l = sideRuntime(plan.left, state.left, cond.leftKey, leftTimeMs);
          const r = sideRuntime(plan.right, state.right, cond.rightKey, rightTimeMs);
          runtime = { left: l.runtime, right: r.runtime };
          state = { ...state, left: l.side, right: r.side };
        }
        const watermark = combineWatermarks(policy, left, right, state.watermark);
        if (step.batchId <= skipUpTo) return;
        if (step.left !== undefined) columns.left(step.left, step.batchId);
        if (step.right !== undefined) columns.right(step.right, step.batchId);
        const lateWatermark = state.watermark;
        const result = joinStep(cond, emit, runtime, state, {
          stepId: step.batchId,
          leftRows: step.left?.rows,
          rightRows: step.right?.rows,
          leftLateValue: left.marker === undefined ? undefined : leftLateReader(left.marker),
          rightLateValue: right.marker === undefined ? undefined : rightLateReader(right.marker),
          lateWatermark,
          watermark,
        });
        const outputWatermark = Math.max(state.outputWatermark, joinOutputWatermark(watermark, result.leftStateWatermark, result.rightStateWatermark));
        state = { ...result.state, outputWatermark };
        const lateCount = result.lateLeft.length + result.lateRight.length;
        emitLateRows(lateLeftHandler, { operatorId: handle!.operatorId, batchId: step.batchId, watermark: lateWatermark, rows: result.lateLeft });
        emitLateRows(lateRightHandler, { operatorId: handle!.operatorId, batchId: step.batchId, watermark: lateWatermark, rows: result.lateRight });
        handle!.publish(step.batchId, state, result.changedKeys);
        const leftSize = runtime.left.buffer.size;
        const rightSize = runtime.right.buffer.size;
        const total = leftSize + rightSize;
        const metrics: BatchMetrics = withStateMetrics(mergeMetrics(step.left?.metrics, step.right?.metrics), {
          operatorId: handle!.operatorId,
          operatorName: OP,
          numRowsTotal: total,
          numRowsUpdated: result.numRowsUpdated,
          numRowsRemoved: result.numRowsRemoved,
          numRowsDroppedByWatermark: lateCount,
          memoryUsedBytes: total * 120 + (runtime.left.buffer.byKey.size + runtime.right.buffer.byKey.size) * 64,
          customMetrics: { numLeftRowsTotal: leftSize, numRightRowsTotal: rightSize, numLeftKeys: runtime.left.buffer.byKey.size, numRightKeys: runtime.right.buffer.byKey.size },
        });
        const marker = outputMarker(anyCond, hasSelect, left.marker, right.marker);
        subscriber.next(stamp({ batchId: step.batchId, rows: result.output, watermark: outputWatermark, ...(marker === undefined ? {} : { eventTime: marker }), metrics }, outInfo!));
      };
      // Linked to the output before subscribing, so an unsubscribe reaches a synchronous input while it emits.
      const inner = new Subscriber<PairedBatch<TLeft, TRight>>({
        next: (step) => {
          if (failed || subscriber.closed) return;
          try {
            onStep(step);
          } catch (error) {
            failed = true;
            subscriber.error(wrapError(OP, step.batchId, error));
          }
        },
        error: (error: unknown) => {
          if (!failed) subscriber.error(error);
        },
        complete: () => {
          if (!failed) subscriber.complete();
        },
      });
      subscriber.add(inner);
      pairBatches(source, other$, aligned).subscribe(inner);
    });
    return stage.attach(output);
  };
}

function streamStaticJoin<TLeft, TRight, O>(other: StaticRows<TRight> | StaticTable<TRight>, options: StaticJoinOptions<TLeft, TRight, StaticJoinType, O>): OperatorFunction<Batch<TLeft>, Batch<O>> {
  const cond = resolveJoinCondition<TLeft, TRight>(OP, options, false);
  if (cond.type === 'fullOuter') throw new UnsupportedOperationError(OP, UNSUPPORTED.fullOuterStreamStatic);
  if (cond.type === 'rightOuter') throw new UnsupportedOperationError(OP, UNSUPPORTED.rightOuterStreamLeftStatic);
  for (const key of ['aligned', 'policy', 'onLateRows'] as const) {
    if ((options as Record<string, unknown>)[key] !== undefined) {
      throw new InvalidOptionError(`${OP}: ${key} applies to stream-stream joins only; got ${describeValue((options as Record<string, unknown>)[key])} for a stream-static join.`, key, (options as Record<string, unknown>)[key], 'undefined');
    }
  }
  const emit = emitterOf<TLeft, TRight, O>(options.select);
  const hasSelect = options.select !== undefined;
  const fixed = isStaticTable(other) ? undefined : staticRowsOf(other);
  const tables$ = isStaticTable(other) ? other.tables$ : undefined;
  const anyCond = cond as ResolvedJoinCondition<unknown, unknown>;

  return (source) => {
    const columns = joinColumnChecks(OP, anyCond, source, undefined);
    const semiPassThrough = cond.semi && !hasSelect;
    // A stream-static join keeps the stream's watermarked columns (qualified `left.<c>` on { left, right } rows); it holds no state.
    const stage = new Stage(OP, [source], ([input]) => {
      const { columns: _columns, ...rest } = input!;
      if (semiPassThrough) return input!;
      const watermarks = input!.watermarks.map((w) => ({ ...w, side: 'left' as const }));
      return { ...rest, watermarks };
    });
    const output = new Observable<Batch<O>>((subscriber) => {
      let table: StaticTableIndex<TRight> | undefined = fixed === undefined ? undefined : indexStaticTable(cond, fixed);
      const pending: Batch<TLeft>[] = [];
      let sourceDone = false;
      let tablesDone = tables$ === undefined;
      let failed = false;
      let lastBatchId = Number.NEGATIVE_INFINITY;
      /** Sends `error` downstream, once. */
      const stop = (error: unknown): void => {
        if (failed) return;
        failed = true;
        subscriber.error(error);
      };
      const fail = (batchId: number, error: unknown): void => {
        if (!failed) stop(wrapError(OP, batchId, error));
      };
      const run = (batch: Batch<TLeft>): void => {
        try {
          columns.left(batch, batch.batchId);
          const rows = staticJoinStep(cond, emit, table!, batch.rows, batch.batchId);
          const marker = outputMarker(anyCond, hasSelect, batch.eventTime, undefined);
          const info = stage.derive([infoOfBatch(batch)]);
          subscriber.next(stamp({ batchId: batch.batchId, rows, watermark: batch.watermark, ...(marker === undefined ? {} : { eventTime: marker }), ...(batch.metrics === undefined ? {} : { metrics: batch.metrics }) }, info));
        } catch (error) {
          fail(batch.batchId, error);
        }
      };
      const flush = (): void => {
        while (pending.length > 0 && !failed) run(pending.shift()!);
        if (sourceDone && pending.length === 0 && !failed && (table !== undefined || tablesDone)) subscriber.complete();
      };
      let tableSub: Subscription | undefined;
      if (tables$ !== undefined) {
        tableSub = tables$.subscribe({
          next: (t) => {
            if (failed) return;
            try {
              if (!isStaticRows(t)) {
                throw new InvalidOptionError(`${OP}: a static table must be an array or an Immutable collection; got ${describeValue(t)}.`, 'other', t, 'an array or an Immutable collection');
              }
              table = indexStaticTable(cond, staticRowsOf(t as StaticRows<TRight>));
            } catch (error) {
              fail(-1, error);
              return;
            }
            flush();
          },
          error: stop,
          complete: () => {
            tablesDone = true;
            if (table === undefined) table = indexStaticTable(cond, []);
            flush();
          },
        });
      }
      const sourceSub = source.subscribe({
        next: (batch) => {
          if (failed) return;
          if (batch.batchId <= lastBatchId) return fail(batch.batchId, new BatchSequenceError(OP, lastBatchId, batch.batchId));
          lastBatchId = batch.batchId;
          if (table === undefined) pending.push(batch);
          else run(batch);
        },
        error: stop,
        complete: () => {
          sourceDone = true;
          flush();
        },
      });
      return () => {
        sourceSub.unsubscribe();
        tableSub?.unsubscribe();
      };
    });
    return stage.attach(output);
  };
}

/**
 * Joins this batch stream (the left side) with `other`: another batch stream
 * (stream-stream join, both sides buffered in state) or a static table (an
 * array, an Immutable collection, or `staticTable(tables$)` for a table that
 * is replaced when `tables$` emits).
 *
 * Spark: `Dataset.join` between two streams (`StreamingSymmetricHashJoinExec`)
 * or a stream and a static Dataset.
 *
 * ```text
 * left     a---c---e--|    a = #0 [L1 id 1 ts 10s]   c = #1 [L2 id 2 ts 40s]   e = #2 [L4 id 4 ts 70s]
 * right    --b---d---f|    b = #0 [R1 id 1 ts 15s]   d = #1 [R3 id 3 ts 50s]   f = #2 [R5 id 5 ts 80s]
 *          (both inputs through withWatermark('ts', '10 seconds'))
 *          streamJoin(right$, { on: 'id', type: 'leftOuter',
 *            timeRange: { leftTime: 'ts', rightTime: 'ts', lower: 0, upper: '10 seconds' } })
 * output   a-b-c-d-e-f|    #0 []  wm 0        #1 [L1+R1]  wm 0        #2 []         wm 0
 *                          #3 []  wm 19 999   #4 []       wm 29 999   #5 [L2+null]  wm 49 999
 * ```
 * Unaligned, each arriving batch is a micro-batch (ids in arrival order). The
 * global watermark is the min of the inputs (0, 0, 5 s, 30 s, 40 s, 60 s); the
 * left state watermark `W - 10 s - 1 ms` evicts L1 (matched, silently) at #3
 * and L2 (never matched: `L2+null`) at #5; the output watermark is the
 * smaller of `W` and the state watermarks.
 *
 * Every new row on either side joins all buffered rows of the other side, so
 * each matching pair is emitted exactly once, whatever batches the two rows
 * came in. Per micro-batch: left rows join the right state, right rows join
 * the left state (this batch's left rows included), then rows that can no
 * longer match are evicted.
 *
 * **State**: every non-late row of both sides, indexed by join key and ordered
 * by eviction time. A side is evicted only when Spark would: with a
 * watermarked join key (a `window` or the event time itself), both sides drop
 * rows whose key is at or below the watermark `W`; otherwise, from
 * `timeRange` and the watermarks, the left side drops rows with `leftTime <=
 * W - upper - 1 ms` and the right side rows with `rightTime <= W + lower - 1
 * ms` (no 1 ms for strict bounds). Without those, state grows forever, as in
 * Spark. Stream-static joins keep no state.
 *
 * **Late data**: each side drops rows whose event time is at or below the
 * previous batch's global watermark (`min` of the inputs by default); they are
 * counted in `numRowsDroppedByWatermark` and handed to `onLateRows`.
 *
 * **Output modes**: append only. Outer rows padded with `null` appear exactly
 * when the row is evicted without ever having matched; left semi emits each
 * left row once.
 *
 * **Types**: the output row follows `type` and `select`; the left row type
 * comes from the source or an earlier operator, the right one from `other`.
 * Where the join starts a fragment, fix the left row type with
 * `streamJoin<Left>()` (or `streamJoin<Left, Right>()`), which returns
 * `streamJoin` for those rows. `streamJoin<Left>(other, options)` does not
 * compile: once a type argument is given TypeScript infers none.
 *
 * @example
 * ```ts
 * const monitor$ = fromBatches([[{ id: 'phone1', action: 'open', ts: 1000 }]]).pipe(withWatermark('ts', '1 hour'));
 * const health$ = fromBatches([[{ id: 'phone1', health: 'good', ts: 2000 }]]).pipe(withWatermark('ts', '1 hour'));
 * monitor$
 *   .pipe(streamJoin(health$, { on: 'id', select: (m, h) => ({ id: m.id, action: m.action, health: h.health }) }))
 *   .subscribe((b) => console.log(b.rows));
 * // => []
 * // => [ { id: 'phone1', action: 'open', health: 'good' } ]
 * ```
 *
 * @param other The right side: an `Observable<Batch<R>>`, an array or Immutable collection, or `staticTable(tables$)`.
 * @param options `on`, `type`, `timeRange`, `where`, `select`; for two streams also `aligned`, `policy`, `name`, `onLateRows`.
 * @returns An operator emitting one batch per micro-batch.
 * @throws {UnsupportedOperationError} `streamJoin: Stream-stream join without equality predicate is not supported. …` when two streams are joined without `on`.
 * @throws {UnsupportedOperationError} (as an error notification on subscribe, or on the first batch when the watermarks are not known before) `streamJoin: Stream-stream LeftOuter join between two streaming DataFrame/Datasets is not supported without a watermark in the join keys, or a watermark on the nullable side and an appropriate range condition` (also `RightOuter`, `FullOuter`, `LeftSemi`).
 * @throws {UnsupportedOperationError} (on subscribe) `streamJoin: Join between two streaming DataFrames/Datasets is not supported in Update output mode, only in Append output mode` when an input is in update (or complete) mode.
 * @throws {UnsupportedOperationError} `streamJoin: FullOuter joins with streaming DataFrames/Datasets on the left and a static DataFrame/Dataset on the right is not supported` for a full outer stream-static join.
 * @throws {UnsupportedOperationError} `streamJoin: RightOuter join with a streaming DataFrame/Dataset on the left and a static DataFrame/DataSet on the right not supported` for a right outer stream-static join.
 * @throws {InvalidOptionError} for a malformed option, e.g. `streamJoin: type must be one of 'inner', 'leftOuter', 'rightOuter', 'fullOuter', 'leftSemi'; got "leftAnti". …`.
 * @throws {UserFunctionError} (as an error notification) when `on`, `where`, `select` or a time function throws.
 * @throws {InvalidDurationError} an unparsable `timeRange.lower` or `timeRange.upper`.
 * @throws {BatchSequenceError} (as an error notification) when an input's batch ids do not increase.
 * @see staticTable
 * @see withWatermark
 */
export function streamJoin<TLeft, TRight, J extends JoinType = 'inner', O = JoinRow<J, TLeft, TRight>>(
  other: Observable<Batch<TRight>>,
  options: StreamJoinOptions<TLeft, TRight, J, O>,
): OperatorFunction<Batch<TLeft>, Batch<O>>;
export function streamJoin<TLeft, TRight, J extends StaticJoinType = 'inner', O = JoinRow<J, TLeft, TRight>>(
  other: StaticRows<TRight> | StaticTable<TRight>,
  options: StaticJoinOptions<TLeft, TRight, J, O>,
): OperatorFunction<Batch<TLeft>, Batch<O>>;
/**
 * `streamJoin<Left>()` (or `streamJoin<Left, Right>()`) fixes the left row
 * type (and bounds the right one) and returns `streamJoin` for those rows,
 * still generic in the join type and the output row: use it to start a
 * fragment, `pipe(streamJoin<Click>()(impressions$, { on: 'ad', type: 'leftOuter', … }), …)`,
 * where no source gives the left row type.
 */
export function streamJoin<TLeft, TRight = unknown>(): StreamJoinFor<TLeft, TRight>;
/** Refused: `streamJoin<Left>(other, options)` would lose the right row, join type and output row types; write `streamJoin<Left>()(other, options)`. */
export function streamJoin<TLeft>(
  other: Observable<Batch<unknown>> | StaticRows<unknown> | StaticTable<unknown>,
  options: StreamJoinOptions<TLeft, unknown, JoinType, unknown> & RowTypeArgumentOnly<'streamJoin', 'other, options', 'the right row, join type and output row types'>,
): never;
export function streamJoin<TLeft, TRight, O>(
  // Both optional only for `streamJoin<Left>()`; a call with arguments goes on to validate them.
  other: Observable<Batch<TRight>> | StaticRows<TRight> | StaticTable<TRight> = undefined as never,
  options: StreamJoinOptions<TLeft, TRight, JoinType, O> | StaticJoinOptions<TLeft, TRight, StaticJoinType, O> = undefined as never,
): OperatorFunction<Batch<TLeft>, Batch<O>> | StreamJoinFor<TLeft, TRight> {
  if (arguments.length === 0) return streamJoin as StreamJoinFor<TLeft, TRight>;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(`${OP}: options must be an object with at least on; got ${describeValue(options)}.`, 'options', options, '{ on, type?, timeRange?, where?, select? }');
  }
  if (isStaticTable(other) || isStaticRows(other)) return streamStaticJoin(other as StaticRows<TRight> | StaticTable<TRight>, options as StaticJoinOptions<TLeft, TRight, StaticJoinType, O>);
  if (isObservable(other)) return streamStreamJoin(other as Observable<Batch<TRight>>, options as StreamJoinOptions<TLeft, TRight, JoinType, O>);
  throw new InvalidOptionError(
    `${OP}: other must be an Observable of batches, an array, an Immutable collection or staticTable(tables$); got ${describeValue(other)}.`,
    'other',
    other,
    'an Observable of batches or a static table',
  );
}

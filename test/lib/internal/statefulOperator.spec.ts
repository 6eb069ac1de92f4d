import { Subject, asyncScheduler, map, of, share, subscribeOn, take, type OperatorFunction } from 'rxjs';
import { fromBatches } from '../../../lib/batch/fromBatches.js';
import type { Batch } from '../../../lib/batch/Batch.js';
import { BatchSequenceError, UnsupportedOperationError, UserFunctionError } from '../../../lib/errors/index.js';
import { pairBatches, type PairedBatch } from '../../../lib/internal/alignBatches.js';
import { PIPELINE, inQueryContext, infoOfBatch, type PipelineInfo } from '../../../lib/internal/pipeline.js';
import { lateOutput, statefulOperator, type Step } from '../../../lib/internal/statefulOperator.js';
import { GlobalWatermark, takesPartInWatermark } from '../../../lib/internal/watermarkPolicy.js';
import type { QueryContext, StateCodec, StatefulOperatorSpec as StateSpec } from '../../../lib/state/StateStore.js';
import type { LateRows } from '../../../lib/types.js';
import { count } from '../../../lib/aggregate/count.js';
import { groupAggregate } from '../../../operators/groupAggregate.js';
import { outputMode } from '../../../operators/outputMode.js';
import { streamJoin } from '../../../operators/streamJoin.js';
import { union } from '../../../operators/union.js';
import { withWatermark } from '../../../operators/withWatermark.js';
import { batch, createTestScheduler } from '../../helpers/scheduler.js';

type Row = { readonly k: string; readonly ts: number };

const codec: StateCodec<number> = {
  entries: (n) => [['n', n]],
  get: (n, key) => (key === 'n' ? n : undefined),
  fromEntries: (entries) => {
    for (const [key, value] of entries) if (key === 'n') return value as number;
    return 0;
  },
};

/**
 * A minimal operator on the shell: counts the rows seen so far (state), drops
 * rows with `ts < 0` as late, throws for a row with `k === 'boom'`, and
 * refuses a pipeline whose input is in update mode.
 */
function runningCount(onLate?: (late: LateRows<Row>) => void): OperatorFunction<Batch<Row>, Batch<{ n: number }>> {
  return (source) =>
    statefulOperator<Step, Batch<{ n: number }>, number>({
      op: 'runningCount',
      inputs: [source],
      stateful: { kind: 'runningCount' },
      derive: ([input]) => {
        if (input!.outputMode === 'update') throw new UnsupportedOperationError('runningCount', 'not after update mode');
        return { ...input!, watermarks: [] };
      },
      state: () => ({ kind: 'runningCount', name: undefined, descriptor: {}, codec }),
      open: ({ restored }) => {
        let n = restored ?? 0;
        return {
          step: ({ batches: [input] }) => {
            const b = input as Batch<Row>;
            const late = b.rows.filter((r) => r.ts < 0);
            for (const r of b.rows) if (r.k === 'boom') throw new Error('boom row');
            n += b.rows.length - late.length;
            return {
              late: [lateOutput(onLate, 0, late)],
              publish: { state: n, changedKeys: ['n'] },
              stateMetrics: { numRowsTotal: 1, numRowsUpdated: 1, numRowsRemoved: 0, numRowsDroppedByWatermark: late.length, memoryUsedBytes: 8 },
              output: (metrics) => ({ batchId: b.batchId, rows: [{ n }], watermark: b.watermark, ...(metrics === undefined ? {} : { metrics }) }),
            };
          },
        };
      },
    });
}

function context(restored?: { batchId: number; state: number }) {
  const published: { batchId: number; state: number }[] = [];
  const ids: string[] = [];
  const ctx: QueryContext = {
    queryId: 'q',
    runId: 'r',
    scheduler: asyncScheduler,
    registerState: <S>(spec: StateSpec<S>) => {
      ids.push(spec.id);
      return { operatorId: spec.id, restored: restored as never, publish: (batchId: number, state: S) => published.push({ batchId, state: state as unknown as number }) };
    },
  };
  return { ctx, published, ids };
}

const row = (k: string, ts: number): Row => ({ k, ts });

describe('statefulOperator (the one stateful-operator shell)', () => {
  it('runs the engine once per batch and emits its output (marbles)', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const input = cold<Batch<Row>>('a-b|', { a: batch(0, [row('x', 1), row('y', 2)], 0), b: batch(1, [row('z', 3)], 0) });
      expectObservable(input.pipe(runningCount())).toBe('a-b|', { a: batch(0, [{ n: 2 }], 0), b: batch(1, [{ n: 3 }], 0) });
    });
  });

  it('registers with the query of the first batch, skips the batches the restored state holds, and publishes after each step', () => {
    const { ctx, published, ids } = context({ batchId: 1, state: 10 });
    const out: number[] = [];
    fromBatches<Row>([[row('a', 1)], [row('b', 2)], [row('c', 3)]])
      .pipe(inQueryContext(ctx), runningCount())
      .subscribe((b) => out.push(b.rows[0]!.n));
    expect(ids).toEqual(['runningCount#0']);
    expect(out).toEqual([11]); // batches 0 and 1 are in the restored 10
    expect(published).toEqual([{ batchId: 2, state: 11 }]);
  });

  it('names the operator in late rows and appends its state metrics to the inputs\' metrics', () => {
    const late: LateRows<Row>[] = [];
    const out: Batch<{ n: number }>[] = [];
    const { ctx } = context();
    of({ batchId: 0, rows: [row('a', -5), row('b', 1)], watermark: 0, metrics: { numRowsDroppedInvalidEventTime: 2 } })
      .pipe(inQueryContext(ctx), runningCount((l) => late.push(l)))
      .subscribe((b) => out.push(b));
    expect(late).toEqual([{ operatorId: 'runningCount#0', batchId: 0, watermark: 0, rows: [row('a', -5)] }]);
    expect(out[0]!.metrics).toEqual({
      numRowsDroppedInvalidEventTime: 2,
      stateOperators: [{ operatorId: 'runningCount#0', operatorName: 'runningCount', numRowsTotal: 1, numRowsUpdated: 1, numRowsRemoved: 0, numRowsDroppedByWatermark: 1, memoryUsedBytes: 8 }],
    });
  });

  it('stamps the output with its info: the operator is among the stateful ones downstream sees, through foreign operators', () => {
    let info: PipelineInfo | undefined;
    fromBatches<Row>([[row('a', 1)]])
      .pipe(runningCount(), map((b) => ({ ...b })), share())
      .subscribe((b) => (info = infoOfBatch(b)));
    expect(info!.stateful.map((s) => s.kind)).toEqual(['runningCount']);
    expect(Object.prototype.propertyIsEnumerable.call({ [PIPELINE]: 1 }, PIPELINE)).toBe(true);
  });

  it('turns what the engine throws into one error notification naming the operator and the batch', () => {
    const errors: unknown[] = [];
    const seen: number[] = [];
    fromBatches<Row>([[row('a', 1)], [row('boom', 2)], [row('c', 3)]])
      .pipe(runningCount())
      .subscribe({ next: (b) => seen.push(b.batchId), error: (e) => errors.push(e) });
    expect(seen).toEqual([0]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(UserFunctionError);
    expect(String((errors[0] as Error).message)).toContain('runningCount');
    expect((errors[0] as UserFunctionError).batchId).toBe(1);
  });

  it('checks that batch ids increase, per input', () => {
    const errors: unknown[] = [];
    of(batch(1, [row('a', 1)], 0), batch(1, [row('b', 1)], 0))
      .pipe(runningCount())
      .subscribe({ error: (e) => errors.push(e) });
    expect(errors[0]).toBeInstanceOf(BatchSequenceError);
  });

  it('sends a refusal known when the pipeline is built on subscribe, and one hidden behind a foreign Observable on the first batch', () => {
    const updateMode = (batches: readonly (readonly Row[])[]) => fromBatches<Row>(batches).pipe(groupAggregate<Row>()({ keyBy: 'k', aggregate: { n: count() } }), outputMode('update'));
    const atSubscribe: unknown[] = [];
    let batches = 0;
    // Known from the graph: refused at once, though the source sends no batch at all.
    updateMode([]).pipe(runningCount() as never).subscribe({ next: () => batches++, error: (e) => atSubscribe.push(e) });
    expect(atSubscribe[0]).toBeInstanceOf(UnsupportedOperationError);
    const onFirstBatch: unknown[] = [];
    updateMode([[row('a', 1)]]).pipe(map((b) => b), runningCount() as never).subscribe({ next: () => batches++, error: (e) => onFirstBatch.push(e) });
    expect(onFirstBatch[0]).toBeInstanceOf(UnsupportedOperationError);
    expect((onFirstBatch[0] as Error).message).toContain('not after update mode');
    expect(batches).toBe(0);
  });

  it('stops a synchronous firehose when the consumer has enough', () => {
    let pulled = 0;
    const firehose = new Subject<Batch<Row>>();
    const out: number[] = [];
    firehose.pipe(runningCount(), take(2)).subscribe((b) => out.push(b.batchId));
    for (let i = 0; i < 5 && firehose.observed; i++) {
      pulled++;
      firehose.next(batch(i, [row('a', i)], 0));
    }
    expect(out).toEqual([0, 1]);
    expect(pulled).toBe(2);
  });

  it('keeps working when an input subscribes later (subscribeOn) and its output is shared', async () => {
    const { ctx, published } = context();
    const out = await new Promise<number[]>((resolve) => {
      const got: number[] = [];
      const shared = fromBatches<Row>([[row('a', 1)], [row('b', 2)]]).pipe(inQueryContext(ctx), subscribeOn(asyncScheduler), runningCount(), share());
      shared.subscribe({ next: (b) => got.push(b.rows[0]!.n), complete: () => resolve(got) });
    });
    expect(out).toEqual([1, 2]);
    expect(published.map((p) => p.batchId)).toEqual([0, 1]);
  });

  it('hands two-input steps (pairBatches) to the engine with batches [left, right]', () => {
    const steps: PairedBatch<Row, Row>[] = [];
    pairBatches(fromBatches<Row>([[row('l', 1)]]), fromBatches<Row>([[row('r', 2)]]), true).subscribe((s) => steps.push(s));
    expect(steps).toHaveLength(1);
    expect(steps[0]!.batches).toEqual([steps[0]!.left, steps[0]!.right]);
  });
});

describe('GlobalWatermark (the one multi-input watermark)', () => {
  it('combines only the inputs that have a watermark; one that has reported nothing counts as 0', () => {
    const w = new GlobalWatermark('min', 3);
    w.observe(0, 0, true);
    w.observe(1, 0, false);
    w.observe(2, 0, true);
    expect(w.advance()).toBe(0);
    w.observe(0, 50, true);
    expect(w.advance()).toBe(0); // input 2 has reported nothing
    w.observe(2, 30, true);
    w.observe(1, 5, false); // no watermark: does not hold the global one back
    expect(w.advance()).toBe(30);
  });

  it('never moves back, and starts from a restored floor', () => {
    const w = new GlobalWatermark('max', 2, 100);
    w.observe(0, 40, true);
    expect(w.advance()).toBe(100);
    w.observe(1, 140, true);
    expect(w.advance()).toBe(140);
    w.observe(1, 10, true);
    expect(w.advance()).toBe(140);
  });

  it('takes part for an input whose info is hidden (hand-made batches), as its info says otherwise', () => {
    expect(takesPartInWatermark(undefined, undefined)).toBe(true);
    expect(takesPartInWatermark({ watermarked: false }, undefined)).toBe(false);
    expect(takesPartInWatermark(undefined, { watermarked: true })).toBe(true);
  });

  it('union and stream-stream join agree: a side without a watermark does not hold the global watermark back (Spark WatermarkTracker)', () => {
    const watermarked = (): ReturnType<typeof fromBatches<Row>> => fromBatches<Row>([[row('a', 10_000)], [row('b', 40_000)], []]).pipe(withWatermark<Row>('ts', '5 seconds')) as never;
    const plain = (): ReturnType<typeof fromBatches<Row>> => fromBatches<Row>([[row('a', 1)], [row('b', 2)], []]);
    const unionMarks: number[] = [];
    watermarked().pipe(union(plain(), { aligned: true })).subscribe((b) => unionMarks.push(b.watermark));
    const joinMarks: number[] = [];
    watermarked()
      .pipe(streamJoin(plain(), { on: 'k', aligned: true }))
      .subscribe((b) => joinMarks.push(b.watermark));
    expect(unionMarks).toEqual([5_000, 35_000, 35_000]);
    expect(joinMarks.map((w) => w > 0)).toEqual([true, true, true]);
  });
});

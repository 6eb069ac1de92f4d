import { inQueryContext } from '../../../lib/internal/pipeline.js';
import { asyncScheduler, pipe, type OperatorFunction } from 'rxjs';
import { windowTumbling } from '../../../operators/windowTumbling.js';
import { windowSession } from '../../../operators/windowSession.js';
import { groupAggregate } from '../../../operators/groupAggregate.js';
import { withWatermark } from '../../../operators/withWatermark.js';
import { outputMode } from '../../../operators/outputMode.js';
import { count } from '../../../lib/aggregate/count.js';
import { collectSet } from '../../../lib/aggregate/collectSet.js';
import { fromBatches } from '../../../lib/batch/fromBatches.js';
import type { Batch } from '../../../lib/batch/Batch.js';
import { type QueryContext, type RestoredState, type StateCodec, type StatefulOperatorSpec } from '../../../lib/state/StateStore.js';

type Ev = { ts: number; k: string };
const S = 1000;

interface Registered {
  spec: StatefulOperatorSpec<unknown>;
  published: { batchId: number; state: unknown; changed: string[] }[];
}

/** A query context that records what operators publish and can hand them restored state. */
function recordingContext(restore: Record<string, RestoredState<unknown>> = {}): { context: QueryContext; ops: Map<string, Registered> } {
  const ops = new Map<string, Registered>();
  let n = 0;
  const context: QueryContext = {
    queryId: 'q',
    runId: 'r',
    scheduler: asyncScheduler,
    registerState<St>(spec: StatefulOperatorSpec<St>) {
      const operatorId = spec.id;
      const entry: Registered = { spec: spec as StatefulOperatorSpec<unknown>, published: [] };
      ops.set(operatorId, entry);
      return {
        operatorId,
        restored: restore[operatorId] as RestoredState<St> | undefined,
        // A checkpoint reads the published state during the call (the operator may change it afterwards): keep what it would read.
        publish: (batchId: number, state: St, changed: Iterable<string>) => entry.published.push({ batchId, state: roundTrip(spec.codec as StateCodec<unknown>, state), changed: [...changed] }),
      };
    },
  };
  return { context, ops };
}

function run<R>(pipeline: OperatorFunction<Batch<Ev>, Batch<R>>, inputs: Ev[][], restore?: Record<string, RestoredState<unknown>>) {
  const { context, ops } = recordingContext(restore);
  const out: Batch<R>[] = [];
  fromBatches(inputs).pipe(inQueryContext(context), pipeline).subscribe((b) => out.push(b));
  return { out, ops };
}

/** What a checkpoint store does: a snapshot through the codec, then back. */
function roundTrip(codec: StateCodec<unknown>, state: unknown): unknown {
  const entries = JSON.parse(JSON.stringify([...codec.entries(state)])) as [string, unknown][];
  return codec.fromEntries(entries);
}

const inputs: Ev[][] = [
  [{ ts: 1 * S, k: 'a' }, { ts: 2 * S, k: 'b' }],
  [{ ts: 7 * S, k: 'a' }],
  [{ ts: 3 * S, k: 'a' }, { ts: 12 * S, k: 'b' }], // 3s is late after batch 1 (watermark 7s > 5s)
  [{ ts: 30 * S, k: 'a' }],
];

describe('checkpointable aggregation state', () => {
  const tumbling = () => pipe(withWatermark<Ev>('ts', 0), windowTumbling<Ev>()({ eventTime: 'ts', size: 5 * S, keyBy: 'k', aggregate: { n: count(), ks: collectSet('k') } }), outputMode('append'));

  it('registers with a descriptor, publishes once per batch with the changed keys, and the codec reads each key', () => {
    const { ops } = run(tumbling(), inputs);
    const op = ops.get('windowTumbling#1')!;
    expect(op.spec.descriptor).toEqual({ eventTime: 'ts', sizeMs: 5000, slideMs: 5000, startMs: 0, keyBy: ['k'], aggregate: ['n', 'ks'] });
    expect(op.published.map((p) => p.batchId)).toEqual([0, 1, 2, 3]);
    // Every delta carries the late-rows watermark: a restart from deltas alone drops the same late rows.
    expect(op.published[0]!.changed.sort()).toEqual(['$lateWatermark', '0/"a"', '0/"b"']);
    // Batch 1 writes [5s,10s) a and evicts [0,5s) a and b (watermark 7s).
    expect(op.published[1]!.changed.sort()).toEqual(['$lateWatermark', '0/"a"', '0/"b"', '5000/"a"']);
    const codec = op.spec.codec;
    expect(codec.get(op.published[1]!.state, '5000/"a"')).toEqual([1, ['a'], 'a', 5000, 0]);
    expect(codec.get(op.published[1]!.state, '0/"a"')).toBeUndefined();
    expect(codec.get(op.published[1]!.state, '$lateWatermark')).toBe(7 * S);
  });

  it('restores from a snapshot, skips batches up to the restored one, and continues exactly as without the restart', () => {
    const whole = run(tumbling(), inputs);
    const op = whole.ops.get('windowTumbling#1')!;
    const restoredState = roundTrip(op.spec.codec, op.published[1]!.state);
    const watermarkOp = whole.ops.get('watermark#0')!;
    const restored = run(tumbling(), inputs, {
      'watermark#0': { batchId: 1, state: roundTrip(watermarkOp.spec.codec, watermarkOp.published[1]!.state) },
      'windowTumbling#1': { batchId: 1, state: restoredState },
    });
    expect(restored.out.map((b) => b.batchId)).toEqual([2, 3]);
    expect(restored.out.map((b) => b.rows)).toEqual(whole.out.slice(2).map((b) => b.rows));
    expect(restored.out.map((b) => b.metrics?.stateOperators?.[0]?.numRowsDroppedByWatermark)).toEqual([1, 0]);
  });

  it('keeps NaN, Date and -0 keys through a checkpoint and a restart: restored groups go on collecting their rows', () => {
    type K = { ts: number; k: unknown; j: string };
    const batches: K[][] = [
      [{ ts: 0, k: Number.NaN, j: 'x' }, { ts: 0, k: null, j: 'x' }, { ts: 0, k: new Date(5), j: 'x' }, { ts: 0, k: -0, j: 'x' }],
      [{ ts: 0, k: Number.NaN, j: 'x' }, { ts: 0, k: null, j: 'x' }, { ts: 0, k: new Date(5), j: 'x' }, { ts: 0, k: 0, j: 'x' }],
    ];
    for (const keyBy of ['k', ['k', 'j']] as const) {
      const op = () => pipe(groupAggregate<K>()({ keyBy: keyBy as never, aggregate: { n: count() } }), outputMode('complete'));
      const { context, ops } = recordingContext();
      const whole: Batch<unknown>[] = [];
      fromBatches(batches).pipe(inQueryContext(context), op()).subscribe((b) => whole.push(b));
      const published = ops.get('groupAggregate#0')!.published[0]!;
      const restored = recordingContext({ 'groupAggregate#0': { batchId: 0, state: published.state } });
      const after: Batch<unknown>[] = [];
      fromBatches(batches).pipe(inQueryContext(restored.context), op()).subscribe((b) => after.push(b));
      expect(after.map((b) => b.batchId)).toEqual([1]);
      expect(after[0]!.rows).toEqual(whole[1]!.rows);
      expect(after[0]!.rows.map((r) => (r as { n: number }).n)).toEqual([2, 2, 2, 2]);
      expect(published.changed.filter((c) => c !== '$lateWatermark')).toHaveLength(4);
    }
  });

  it('round-trips session state and plain group state', () => {
    const sessions = run(pipe(withWatermark<Ev>('ts', 0), windowSession<Ev>()({ eventTime: 'ts', gap: 3 * S, keyBy: 'k', aggregate: { n: count() } }), outputMode('append')), inputs);
    const sop = sessions.ops.get('windowSession#1')!;
    const sState = sop.published[1]!.state;
    expect([...sop.spec.codec.entries(roundTrip(sop.spec.codec, sState))]).toEqual([...sop.spec.codec.entries(sState)]);
    expect(sop.published[1]!.changed).toContain('"a"');
    expect(sop.published[1]!.changed).toContain('$lateWatermark');
    const groups = run(pipe(groupAggregate<Ev>()({ keyBy: 'k', aggregate: { n: count() } }), outputMode('update')), inputs);
    const gop = groups.ops.get('groupAggregate#0')!;
    const gState = gop.published[3]!.state;
    expect([...gop.spec.codec.entries(roundTrip(gop.spec.codec, gState))]).toEqual([...gop.spec.codec.entries(gState)]);
    expect(gop.spec.codec.get(gState, '0/"a"')).toEqual([4, 'a', 0, 0]);
  });

  it('keeps a Date group key one group across a restart (fixed windows and sessions)', () => {
    type Dated = { ts: number; d: Date };
    const day = (n: number) => new Date(Date.UTC(2024, 0, n));
    const dated: Dated[][] = [[{ ts: 1 * S, d: day(1) }, { ts: 2 * S, d: day(2) }], [{ ts: 3 * S, d: day(1) }], [{ ts: 4 * S, d: day(1) }, { ts: 4 * S, d: day(2) }], [{ ts: 60 * S, d: day(3) }]];
    const pipelines: (() => OperatorFunction<Batch<Dated>, Batch<unknown>>)[] = [
      () => pipe(groupAggregate<Dated>()({ keyBy: 'd', aggregate: { n: count() } }), outputMode('update')) as unknown as OperatorFunction<Batch<Dated>, Batch<unknown>>,
      () => pipe(withWatermark<Dated>('ts', 0), windowSession<Dated>()({ eventTime: 'ts', gap: 10 * S, keyBy: 'd', aggregate: { n: count() } }), outputMode('append')) as unknown as OperatorFunction<Batch<Dated>, Batch<unknown>>,
    ];
    for (const make of pipelines) {
      const runDated = (restore?: Record<string, RestoredState<unknown>>) => {
        const { context, ops } = recordingContext(restore);
        const out: Batch<unknown>[] = [];
        fromBatches(dated).pipe(inQueryContext(context), make()).subscribe({ next: (b) => out.push(b), error: (e: unknown) => out.push({ error: e } as never) });
        return { out, ops };
      };
      const whole = runDated();
      const restore: Record<string, RestoredState<unknown>> = {};
      for (const [id, op] of whole.ops) restore[id] = { batchId: 1, state: roundTrip(op.spec.codec, op.published[1]!.state) };
      const restarted = runDated(restore);
      // (Rows of one batch as a multiset: sessions ending at the same time may come in either order.)
      const rowSets = (batches: Batch<unknown>[]) => batches.map((b) => b.rows.map((r) => JSON.stringify(r)).sort());
      expect(rowSets(restarted.out)).toEqual(rowSets(whole.out.slice(2)));
      // Day 1 was counted three times: one group, not a second one for the restored key.
      expect(JSON.stringify(restarted.out.map((b) => b.rows))).toContain('"n":3');
    }
  });
});

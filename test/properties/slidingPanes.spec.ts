import fc from 'fast-check';
import { lastValueFrom, pipe, toArray } from 'rxjs';
import { checkpoint } from '../../operators/checkpoint.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import { MemoryCheckpointStore } from '../../lib/checkpoint/MemoryCheckpointStore.js';
import { windowSliding } from '../../operators/windowSliding.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { outputMode } from '../../operators/outputMode.js';
import { count } from '../../lib/aggregate/count.js';
import { sum } from '../../lib/aggregate/sum.js';
import { avg } from '../../lib/aggregate/avg.js';
import { min } from '../../lib/aggregate/min.js';
import { max } from '../../lib/aggregate/max.js';
import { countDistinct } from '../../lib/aggregate/countDistinct.js';
import type { AggregateSpec } from '../../lib/aggregate/Aggregator.js';
import { runBatches, sameRows } from '../../lib/testing/index.js';
import type { LateRows } from '../../lib/types.js';

type R = { ts: number; k: string; v: number };

/**
 * The pane engine (order-insensitive aggregators) against the per-window one:
 * the same aggregators copied into fresh objects (`{ ...count() }`) are not
 * known to be order-insensitive, so they take the per-window path.
 */
const builtins = (): AggregateSpec<R> => ({ n: count(), total: sum<R>('v'), mean: avg<R>('v'), lo: min<R, 'v'>('v'), hi: max<R, 'v'>('v'), distinct: countDistinct<R>('v') });
const perWindow = (spec: AggregateSpec<R>): AggregateSpec<R> => Object.fromEntries(Object.entries(spec).map(([name, a]) => [name, { ...a }]));
/** A user aggregator: a product of (v + 1) modulo a prime, declared commutative or not. */
const product = (commutative: boolean) => ({
  init: () => 1,
  add: (acc: number, row: R) => (acc * (row.v + 1)) % 1_000_003,
  merge: (a: number, b: number) => (a * b) % 1_000_003,
  result: (acc: number) => acc,
  ...(commutative ? { commutative: true } : {}),
});

/** size and slide (slide need not divide size) and |startTime| < slide. */
const grid = fc
  .tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }))
  .chain(([a, b]) => {
    const slide = Math.min(a, b) * 100;
    const size = Math.max(a, b) * 100;
    return fc.record({ size: fc.constant(size), slide: fc.constant(slide), startTime: fc.integer({ min: -(slide - 1), max: slide - 1 }) });
  });
const row = fc.record({ ts: fc.integer({ min: -3_000, max: 12_000 }), k: fc.constantFrom('a', 'b', 'c', 'd'), v: fc.integer({ min: -5, max: 9 }) });
const batchesArb = fc.array(fc.array(row, { maxLength: 12 }), { minLength: 1, maxLength: 6 });
const modeArb = fc.constantFrom('append' as const, 'update' as const, 'complete' as const);
const params = { numRuns: 150 };

function run(aggregate: AggregateSpec<R>, g: { size: number; slide: number; startTime: number }, mode: 'append' | 'update' | 'complete', delay: number | undefined, batches: R[][]) {
  const late: LateRows<R>[] = [];
  const agg = windowSliding<R>()({ eventTime: 'ts', size: g.size, slide: g.slide, startTime: g.startTime, keyBy: 'k', aggregate, onLateRows: (l) => late.push(l) });
  const steps = runBatches(delay === undefined ? pipe(agg, outputMode(mode)) : pipe(withWatermark<R>('ts', delay), agg, outputMode(mode)), batches);
  return { steps, late: late.map((l) => [l.batchId, l.rows]) };
}

describe('sliding windows by panes', () => {
  it('gives the per-window engine’s rows in every output mode, with late rows and startTime', () => {
    fc.assert(
      fc.property(grid, modeArb, fc.option(fc.integer({ min: 0, max: 3_000 }), { nil: undefined }), batchesArb, (g, mode, delay, batches) => {
        if (mode === 'append' && delay === undefined) return; // append needs a watermark
        const panes = run(builtins(), g, mode, delay, batches);
        const windows = run(perWindow(builtins()), g, mode, delay, batches);
        expect(panes.steps.length).toBe(windows.steps.length);
        panes.steps.forEach((step, i) => {
          expect(step.watermark).toBe(windows.steps[i]!.watermark);
          expect(sameRows(step.rows, windows.steps[i]!.rows)).toBe(true);
        });
        expect(panes.late).toEqual(windows.late);
      }),
      params,
    );
  });

  it('takes panes for a user aggregator declared commutative, with the same results', () => {
    fc.assert(
      fc.property(grid, modeArb, fc.integer({ min: 0, max: 3_000 }), batchesArb, (g, mode, delay, batches) => {
        const panes = run({ p: product(true), n: count() }, g, mode, delay, batches);
        const windows = run({ p: product(false), n: count() }, g, mode, delay, batches);
        panes.steps.forEach((step, i) => expect(sameRows(step.rows, windows.steps[i]!.rows)).toBe(true));
        expect(panes.late).toEqual(windows.late);
      }),
      params,
    );
  });

  it('keeps one state row per pane and key', () => {
    // size 10 s, slide 5 s: panes of 5 s; rows at 1 s and 2 s share a pane, 6 s opens another.
    const steps = runBatches(pipe(windowSliding<R>()({ eventTime: 'ts', size: 10_000, slide: 5_000, keyBy: 'k', aggregate: { n: count() } }), outputMode('complete')), [
      [{ ts: 1_000, k: 'a', v: 1 }, { ts: 2_000, k: 'a', v: 1 }, { ts: 6_000, k: 'a', v: 1 }],
    ]);
    expect(steps[0]!.metrics!.stateOperators![0]!.numRowsTotal).toBe(2);
    expect(sameRows(steps[0]!.rows, [
      { window: { start: -5_000, end: 5_000 }, k: 'a', n: 2 },
      { window: { start: 0, end: 10_000 }, k: 'a', n: 3 },
      { window: { start: 5_000, end: 15_000 }, k: 'a', n: 1 },
    ])).toBe(true);
  });

  it('merges a pane again after it gained keys and rewrote groups between two of its windows', async () => {
    // size 3 s, slide 1 s, watermark 0 ms: pane [2 s, 3 s) is in the windows ending at 3, 4 and 5 s.
    // Batch 0 finalises the window ending at 3 s; batch 1 adds key c to the pane and rewrites a's group
    // (copy on write: the query is checkpointed); batch 2 finalises the windows ending at 4 and 5 s.
    const batches: R[][] = [
      [{ ts: 2_000, k: 'a', v: 1 }, { ts: 2_100, k: 'b', v: 2 }, { ts: 3_000, k: 'x', v: 0 }],
      [{ ts: 2_200, k: 'c', v: 4 }, { ts: 2_300, k: 'a', v: 8 }],
      [{ ts: 5_000, k: 'x', v: 0 }],
    ];
    const agg = (aggregate: AggregateSpec<R>) => windowSliding<R>()({ eventTime: 'ts', size: 3_000, slide: 1_000, keyBy: 'k', aggregate });
    const rowsOf = async (aggregate: AggregateSpec<R>) =>
      (await lastValueFrom(fromBatches(batches).pipe(withWatermark<R>('ts', 0), agg(aggregate), outputMode('append'), checkpoint(new MemoryCheckpointStore()), toArray()))).map((b) => b.rows);
    const panes = await rowsOf({ total: sum<R>('v'), n: count() });
    const windows = await rowsOf(perWindow({ total: sum<R>('v'), n: count() }));
    expect(panes.length).toBe(windows.length);
    panes.forEach((rows, i) => expect(sameRows(rows, windows[i]!)).toBe(true));
    const w = (start: number) => ({ start, end: start + 3_000 });
    expect(sameRows(panes[0]!, [
      { window: w(0), k: 'a', total: 1, n: 1 },
      { window: w(0), k: 'b', total: 2, n: 1 },
    ])).toBe(true);
    expect(panes[1]).toEqual([]);
    expect(sameRows(panes[2]!, [
      { window: w(1_000), k: 'a', total: 9, n: 2 },
      { window: w(1_000), k: 'b', total: 2, n: 1 },
      { window: w(1_000), k: 'c', total: 4, n: 1 },
      { window: w(1_000), k: 'x', total: 0, n: 1 },
      { window: w(2_000), k: 'a', total: 9, n: 2 },
      { window: w(2_000), k: 'b', total: 2, n: 1 },
      { window: w(2_000), k: 'c', total: 4, n: 1 },
      { window: w(2_000), k: 'x', total: 0, n: 1 },
    ])).toBe(true);
  });

  /** Runs `batches[0..cut)` with a checkpoint, then all of them again from that checkpoint (written with `before`, read with `after`). */
  async function restarted(before: AggregateSpec<R>, after: AggregateSpec<R>, g: { size: number; slide: number; startTime: number }, mode: 'append' | 'update', batches: R[][], cut: number) {
    const store = new MemoryCheckpointStore();
    const pipeline = (aggregate: AggregateSpec<R>, n: number) =>
      fromBatches(batches.slice(0, n)).pipe(
        withWatermark<R>('ts', 500),
        windowSliding<R>()({ eventTime: 'ts', size: g.size, slide: g.slide, startTime: g.startTime, keyBy: 'k', aggregate }),
        outputMode(mode),
        checkpoint(store),
      );
    const first = await lastValueFrom(pipeline(before, cut).pipe(toArray()));
    const second = await lastValueFrom(pipeline(after, batches.length).pipe(toArray()));
    return [...first, ...second].map((b) => b.rows);
  }

  it('restarts exactly from a pane checkpoint, and reads a per-window checkpoint written before panes', async () => {
    await fc.assert(
      fc.asyncProperty(grid, fc.constantFrom('append' as const, 'update' as const), batchesArb, fc.nat(), async (g, mode, batches, c) => {
        const cut = c % (batches.length + 1);
        const straight = runBatches(pipe(withWatermark<R>('ts', 500), windowSliding<R>()({ eventTime: 'ts', size: g.size, slide: g.slide, startTime: g.startTime, keyBy: 'k', aggregate: builtins() }), outputMode(mode)), batches).map((s) => s.rows);
        const panes = await restarted(builtins(), builtins(), g, mode, batches, cut);
        const fromWindows = await restarted(perWindow(builtins()), builtins(), g, mode, batches, cut);
        expect(panes.length).toBe(straight.length);
        expect(fromWindows.length).toBe(straight.length);
        straight.forEach((rows, i) => {
          expect(sameRows(panes[i]!, rows)).toBe(true);
          expect(sameRows(fromWindows[i]!, rows)).toBe(true);
        });
      }),
      { numRuns: 60 },
    );
  });
});

import { inQueryContext } from '../../lib/internal/pipeline.js';
import fc from 'fast-check';
import { asyncScheduler, from, pipe, tap, type Observable, type OperatorFunction } from 'rxjs';
import { type QueryContext, type StateCodec, type StatefulOperatorSpec } from '../../lib/state/StateStore.js';
import { windowTumbling } from '../../operators/windowTumbling.js';
import { windowSliding } from '../../operators/windowSliding.js';
import { windowSession } from '../../operators/windowSession.js';
import { outputMode } from '../../operators/outputMode.js';
import { groupAggregate } from '../../operators/groupAggregate.js';
import { count } from '../../lib/aggregate/count.js';
import { sum } from '../../lib/aggregate/sum.js';
import { avg } from '../../lib/aggregate/avg.js';
import { min } from '../../lib/aggregate/min.js';
import { max } from '../../lib/aggregate/max.js';
import { first } from '../../lib/aggregate/first.js';
import { last } from '../../lib/aggregate/last.js';
import { collectList } from '../../lib/aggregate/collectList.js';
import { collectSet } from '../../lib/aggregate/collectSet.js';
import { countDistinct } from '../../lib/aggregate/countDistinct.js';
import type { Aggregator } from '../../lib/aggregate/Aggregator.js';
import type { Batch, EventTimeMarker } from '../../lib/batch/Batch.js';
import { sameRows } from '../../lib/testing/index.js';

const params = { numRuns: 100 };
type R = { ts: number; k: string; v: number | null };
const row = fc.record({ ts: fc.integer({ min: 0, max: 200_000 }), k: fc.constantFrom('a', 'b', 'c'), v: fc.option(fc.integer({ min: -50, max: 50 }), { nil: null }) });
const marker: EventTimeMarker = { field: 'ts', isWindow: false, delayMs: 0 };

/**
 * An epoch is a group of rows followed by one watermark step. `split` cuts each
 * epoch's rows into sub-batches: all but the last keep the previous watermark,
 * the last carries the epoch's watermark, so every sub-batch sees the same
 * late-events watermark and the watermark steps are the same.
 */
function toBatches(epochs: { rows: R[]; watermark: number }[], cuts: number[][]): Batch<R>[] {
  const out: Batch<R>[] = [];
  let previous = 0;
  epochs.forEach((epoch, e) => {
    const points = [...new Set((cuts[e] ?? []).map((c) => c % (epoch.rows.length + 1)))].sort((a, b) => a - b);
    let from = 0;
    for (const p of [...points, epoch.rows.length]) {
      if (p < from) continue;
      const last = p === epoch.rows.length;
      out.push({ batchId: out.length, rows: epoch.rows.slice(from, p), watermark: last ? Math.max(previous, epoch.watermark) : previous, eventTime: marker });
      from = p;
      if (last) break;
    }
    previous = Math.max(previous, epoch.watermark);
  });
  return out;
}

function runAll<O>(pipeline: OperatorFunction<Batch<R>, Batch<O>>, batches: Batch<R>[]): { emitted: O[]; last: readonly O[]; dropped: number } {
  const emitted: O[] = [];
  let last: readonly O[] = [];
  let dropped = 0;
  const steps: Batch<O>[] = [];
  let failure: unknown;
  from(batches).pipe(pipeline).subscribe({ next: (b: Batch<O>) => steps.push(b), error: (e: unknown) => (failure = e) });
  if (failure !== undefined) throw failure;
  for (const s of steps) {
    emitted.push(...s.rows);
    last = s.rows;
    dropped += s.metrics?.stateOperators?.[0]?.numRowsDroppedByWatermark ?? 0;
  }
  return { emitted, last, dropped };
}

const epochs = fc.array(fc.record({ rows: fc.array(row, { maxLength: 12 }), watermark: fc.integer({ min: 0, max: 200_000 }) }), { minLength: 1, maxLength: 5 });
const cuts = fc.array(fc.array(fc.nat(20), { maxLength: 3 }), { maxLength: 5 });
const aggregate = { n: count(), total: sum<R>('v') };

describe('aggregation laws', () => {
  it('append-mode results do not depend on how rows are split into batches (same watermark steps)', () => {
    fc.assert(
      fc.property(epochs, cuts, (es, cs) => {
        const op = () => pipe(windowTumbling<R>()({ eventTime: 'ts', size: 10_000, keyBy: 'k', aggregate }), outputMode('append'));
        const whole = runAll(op(), toBatches(es, []));
        const split = runAll(op(), toBatches(es, cs));
        expect(sameRows(split.emitted, whole.emitted)).toBe(true);
        expect(split.dropped).toBe(whole.dropped);
      }),
      params,
    );
  });

  it('the final table does not depend on the split, for sliding and session windows too (update then complete)', () => {
    fc.assert(
      fc.property(epochs, cuts, (es, cs) => {
        const slidingOp = () => pipe(windowSliding<R>()({ eventTime: 'ts', size: 20_000, slide: 5_000, keyBy: 'k', aggregate }), outputMode('complete'));
        expect(sameRows(runAll(slidingOp(), toBatches(es, cs)).last, runAll(slidingOp(), toBatches(es, [])).last)).toBe(true);
        const sessionOp = () => pipe(windowSession<R>()({ eventTime: 'ts', gap: 7_000, keyBy: 'k', aggregate }), outputMode('complete'));
        expect(sameRows(runAll(sessionOp(), toBatches(es, cs)).last, runAll(sessionOp(), toBatches(es, [])).last)).toBe(true);
        const sessionAppend = () => pipe(windowSession<R>()({ eventTime: 'ts', gap: 7_000, keyBy: 'k', aggregate }), outputMode('append'));
        expect(sameRows(runAll(sessionAppend(), toBatches(es, cs)).emitted, runAll(sessionAppend(), toBatches(es, [])).emitted)).toBe(true);
      }),
      params,
    );
  });

  it('counts across windows add up to the number of non-late rows', () => {
    fc.assert(
      fc.property(epochs, cuts, (es, cs) => {
        const batches = toBatches(es, cs);
        const total = batches.reduce((s, b) => s + b.rows.length, 0);
        const updates = runAll(pipe(windowTumbling<R>()({ eventTime: 'ts', size: 10_000, keyBy: 'k', aggregate: { n: count() } })), batches);
        // rows of a ResultBatch are the finalised windows; add what is still open at the end.
        let open = 0;
        const steps: { table: { toArray(): { n: number }[] } }[] = [];
        from(batches)
          .pipe(windowTumbling<R>()({ eventTime: 'ts', size: 10_000, keyBy: 'k', aggregate: { n: count() } }))
          .subscribe((b) => steps.push(b as unknown as { table: { toArray(): { n: number }[] } }));
        if (steps.length > 0) open = steps[steps.length - 1]!.table.toArray().reduce((s, r) => s + r.n, 0);
        const finalised = updates.emitted.reduce((s, r) => s + (r as unknown as { n: number }).n, 0);
        expect(finalised + open).toBe(total - updates.dropped);
      }),
      params,
    );
  });

  const values = fc.array(fc.record({ ts: fc.constant(0), k: fc.constantFrom('a', 'b'), v: fc.option(fc.integer({ min: -20, max: 20 }), { nil: null }) }), { maxLength: 8 });
  const builtIns: [string, Aggregator<R, unknown, unknown>][] = [
    ['count', count<R>() as Aggregator<R, unknown, unknown>],
    ['count(field)', count<R>('v') as Aggregator<R, unknown, unknown>],
    ['sum', sum<R>('v') as Aggregator<R, unknown, unknown>],
    ['avg', avg<R>('v') as Aggregator<R, unknown, unknown>],
    ['min', min<R, 'v'>('v') as Aggregator<R, unknown, unknown>],
    ['max', max<R, 'v'>('v') as Aggregator<R, unknown, unknown>],
    ['first', first<R, 'v'>('v') as Aggregator<R, unknown, unknown>],
    ['last', last<R, 'v'>('v') as Aggregator<R, unknown, unknown>],
    ['collectList', collectList<R, 'v'>('v') as Aggregator<R, unknown, unknown>],
    ['collectSet', collectSet<R, 'k'>('k') as Aggregator<R, unknown, unknown>],
    ['countDistinct', countDistinct<R>('k') as Aggregator<R, unknown, unknown>],
  ];

  it.each(builtIns)('%s: merge is associative and init is its identity', (_name, agg) => {
    const fold = (rows: R[]) => rows.reduce((acc, r) => agg.add(acc, r), agg.init());
    const result = (acc: unknown) => JSON.stringify(agg.result(acc));
    fc.assert(
      fc.property(values, values, values, (a, b, c) => {
        expect(result(agg.merge(agg.merge(fold(a), fold(b)), fold(c)))).toBe(result(agg.merge(fold(a), agg.merge(fold(b), fold(c)))));
        expect(result(agg.merge(agg.init(), fold(a)))).toBe(result(fold(a)));
        expect(result(agg.merge(fold(a), agg.init()))).toBe(result(fold(a)));
        // Folding everything at once equals merging the parts (what batches do).
        expect(result(agg.merge(fold(a), fold(b)))).toBe(result(fold([...a, ...b])));
      }),
      params,
    );
  });
});

describe('snapshot laws (checkpointed state)', () => {
  const rowsArb = fc.array(fc.array(fc.record({ ts: fc.integer({ min: 0, max: 60_000 }), k: fc.constantFrom('a', 'b'), v: fc.option(fc.integer({ min: 0, max: 9 }), { nil: null }) }), { maxLength: 8 }), { minLength: 1, maxLength: 6 });

  /** Runs a pipeline under a recording query context; returns the published snapshots, serialised then and at the end. */
  function published(pipeline: OperatorFunction<Batch<R>, Batch<unknown>>, batches: R[][], operatorId: string) {
    const records: { state: unknown; codec: StateCodec<unknown>; json: string }[] = [];
    const context: QueryContext = {
      queryId: 'q',
      runId: 'r',
      scheduler: asyncScheduler,
      registerState<St>(spec: StatefulOperatorSpec<St>) {
        const id = spec.id;
        return {
          operatorId: id,
          restored: undefined,
          publish: (_batchId: number, state: St) => {
            if (id !== operatorId) return;
            const codec = spec.codec as unknown as StateCodec<unknown>;
            records.push({ state, codec, json: JSON.stringify([...codec.entries(state)].sort()) });
          },
        };
      },
    };
    from(batches.map((rows, batchId) => ({ batchId, rows, watermark: Math.max(0, ...rows.map((r) => r.ts)) - 20_000, eventTime: marker }))).pipe(inQueryContext(context), pipeline).subscribe();
    return records;
  }

  it('a result table, once read, never changes afterwards (copy-on-write), for fixed windows and sessions', () => {
    fc.assert(
      fc.property(rowsArb, (batches) => {
        const aggregate = { n: count(), first: first<R, 'v'>('v'), list: collectList<R, 'v'>('v'), set: collectSet<R, 'k'>('k') };
        const ops: OperatorFunction<Batch<R>, Batch<unknown>>[] = [
          windowTumbling<R>()({ eventTime: 'ts', size: 10_000, keyBy: 'k', aggregate, name: 'agg' }),
          windowSession<R>()({ eventTime: 'ts', gap: 5_000, keyBy: 'k', aggregate, name: 'agg' }),
        ];
        for (const op of ops) {
          const tables: { rows: () => unknown[]; json: string }[] = [];
          published(
            pipe(
              op,
              tap((b) => {
                const table = (b as unknown as { readonly table: Iterable<unknown> }).table;
                tables.push({ rows: () => [...table], json: JSON.stringify([...table]) });
              }),
            ),
            batches,
            'agg',
          );
          expect(tables).toHaveLength(batches.length);
          for (const t of tables) expect(JSON.stringify(t.rows())).toBe(t.json);
        }
      }),
      params,
    );
  });

  it('the snapshot holds what a run without checkpoint holds (same table)', () => {
    fc.assert(
      fc.property(rowsArb, (batches) => {
        const aggregate = { n: count(), total: sum<R>('v'), list: collectList<R, 'v'>('v') };
        const op = () => pipe(windowTumbling<R>()({ eventTime: 'ts', size: 10_000, keyBy: 'k', aggregate, name: 'agg' }), outputMode('complete'));
        const records = published(op(), batches, 'agg');
        const tables: unknown[][] = [];
        from(batches.map((rows, batchId) => ({ batchId, rows, watermark: 0 }))).pipe(op()).subscribe((b) => tables.push([...b.rows]));
        records.forEach((r, i) => expect((JSON.parse(r.json) as [string, unknown][]).filter(([k]) => k !== '$lateWatermark').length).toBe(tables[i]!.length));
      }),
      params,
    );
  });
});

describe('values compare as Spark compares them (keys, collectSet)', () => {
  // Values whose equality JSON gets wrong: NaN (JSON null), -0, Dates (JSON text), objects with keys in either order.
  const scalar = fc.oneof(
    fc.constantFrom<unknown>(Number.NaN, -0, 0, 1, null, 'a', '1', 'null', new Date(5).toISOString()),
    fc.constant(null).map(() => new Date(5) as unknown),
  );
  const value = fc.oneof(
    { weight: 3, arbitrary: scalar },
    { weight: 1, arbitrary: fc.tuple(scalar, scalar).map(([x, y]) => [x, y] as unknown) },
    { weight: 1, arbitrary: fc.tuple(scalar, fc.boolean()).map(([x, flip]) => (flip ? { p: x, q: 1 } : { q: 1, p: x }) as unknown) },
  );
  // A column has one type: a run of collectSet draws its values of one kind (numbers, text, Dates, arrays, objects)
  // and nulls; arrays and objects hold any scalars (a struct's fields have types of their own).
  const oneKind = (a: fc.Arbitrary<unknown>): fc.Arbitrary<unknown[]> => fc.array(fc.oneof({ weight: 4, arbitrary: a }, { weight: 1, arbitrary: fc.constant(null) }), { maxLength: 20 });
  const values = fc.oneof(
    oneKind(fc.constantFrom<unknown>(Number.NaN, -0, 0, 1)),
    oneKind(fc.constantFrom<unknown>('a', '1', 'null', new Date(5).toISOString())),
    oneKind(fc.constantFrom(5, 6).map((t) => new Date(t) as unknown)),
    oneKind(fc.tuple(scalar, scalar).map(([x, y]) => [x, y] as unknown)),
    oneKind(fc.tuple(scalar, fc.boolean()).map(([x, flip]) => (flip ? { p: x, q: 1 } : { q: 1, p: x }) as unknown)),
  );
  /** The reference equality: Spark's, written out by hand (NaN = NaN, -0 = 0, Dates by time, arrays and objects by contents). */
  const same = (a: unknown, b: unknown): boolean => {
    if (typeof a === 'number' && typeof b === 'number') return a === b || (a !== a && b !== b);
    if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
    if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
    if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
      const ka = Object.keys(a).sort();
      const kb = Object.keys(b).sort();
      return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
    }
    return a === b;
  };
  const distinct = (xs: unknown[]): unknown[] => xs.reduce<unknown[]>((out, x) => (out.some((y) => same(x, y)) ? out : [...out, x]), []);

  it('collectSet keeps the first of each class of equal values, whatever the chunks, and countDistinct counts the classes', () => {
    type V = { v: unknown };
    fc.assert(
      fc.property(values, fc.array(fc.nat(20), { maxLength: 4 }), (xs, cuts) => {
        const set = collectSet<V, 'v'>('v') as unknown as Aggregator<V, unknown, unknown[]>;
        const points = [...new Set(cuts.map((c) => c % (xs.length + 1)))].sort((a, b) => a - b);
        let acc = set.init();
        let start = 0;
        for (const p of [...points, xs.length]) {
          acc = set.merge(acc, xs.slice(start, p).reduce((a, v) => set.add(a, { v }), set.init()));
          start = Math.max(start, p);
        }
        const expected = distinct(xs.filter((x) => x !== null)).map((x) => (x === 0 ? 0 : x));
        expect(set.result(acc)).toEqual(expected);
        expect(set.result(set.decode!(JSON.parse(JSON.stringify(set.encode!(acc))) as unknown))).toEqual(expected);
        const cd = countDistinct<V>('v') as unknown as Aggregator<V, unknown, number>;
        expect(cd.result(xs.reduce((a, v) => cd.add(a, { v }), cd.init()))).toBe(expected.length);
      }),
      params,
    );
  });

  it('a list key groups rows exactly when their values are equal, one result row per class of equal keys', () => {
    type G = { ts: number; a: unknown; b: unknown };
    fc.assert(
      fc.property(fc.array(fc.tuple(value, scalar), { maxLength: 20 }), (pairs) => {
        const rows: G[] = pairs.map(([a, b]) => ({ ts: 0, a, b }));
        let out: readonly { a: unknown; b: unknown; n: number }[] = [];
        from([{ batchId: 0, rows, watermark: 0 } as Batch<G>])
          .pipe(groupAggregate<G>()({ keyBy: ['a', 'b'], aggregate: { n: count() } }), outputMode('complete'))
          .subscribe((b) => (out = b.rows as never));
        const groups = distinct(rows.map((r) => [r.a, r.b]));
        expect(out).toHaveLength(groups.length); // (a complete table has no row order)
        for (const g of groups) {
          const found = out.filter((o) => same([o.a, o.b], g));
          expect(found).toHaveLength(1);
          expect(found[0]!.n).toBe(rows.filter((r) => same([r.a, r.b], g)).length);
        }
      }),
      params,
    );
  });
});


describe('aggregation without a query context', () => {
  /** A query context that registers every operator and keeps nothing: the operator then lists what each batch writes, as under a checkpoint. */
  const trackingContext = (): QueryContext => ({
    queryId: 'q',
    runId: 'r',
    scheduler: undefined as never,
    registerState: (spec) => ({ operatorId: spec.id ?? spec.kind, restored: undefined, publish: () => undefined }),
  });
  /** Each batch's rows and state metrics, with or without the tracking context. */
  const stepsOf = <O>(pipeline: OperatorFunction<Batch<R>, Batch<O>>, batches: Batch<R>[], tracked: boolean) => {
    const out: { rows: readonly O[]; total?: number; updated?: number; removed?: number; late?: number }[] = [];
    from(batches)
      .pipe(tracked ? inQueryContext<R>(trackingContext()) : (b$: Observable<Batch<R>>) => b$, pipeline)
      .subscribe((b) => {
        const op = b.metrics?.stateOperators?.[0];
        out.push({ rows: b.rows, total: op?.numRowsTotal, updated: op?.numRowsUpdated, removed: op?.numRowsRemoved, late: op?.numRowsDroppedByWatermark });
      });
    return out;
  };

  it('a session window in append mode emits the same rows and state metrics as when it lists every write', () => {
    // Untracked, the row loop counts the sessions a batch writes (merges included) and files a key's
    // new first session for eviction itself, as it is created: sessions that close in the same batch
    // may then come out in another order (their order is not defined, as in Spark).
    fc.assert(
      fc.property(epochs, cuts, fc.constantFrom(1_000, 7_000, 40_000), (es, cs, gap) => {
        const batches = toBatches(es, cs);
        const op = () => pipe(windowSession<R>()({ eventTime: 'ts', gap, keyBy: 'k', aggregate }), outputMode('append'));
        const untracked = stepsOf(op(), batches, false);
        const tracked = stepsOf(op(), batches, true);
        expect(untracked.map(({ rows: _, ...metrics }) => metrics)).toEqual(tracked.map(({ rows: _, ...metrics }) => metrics));
        untracked.forEach((step, i) => expect(sameRows(step.rows, tracked[i]!.rows)).toBe(true));
      }),
      { numRuns: 200 },
    );
  });
});

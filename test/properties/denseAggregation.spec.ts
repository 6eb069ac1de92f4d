import fc from 'fast-check';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, pipe, toArray } from 'rxjs';
import { checkpoint } from '../../operators/checkpoint.js';
import { groupAggregate } from '../../operators/groupAggregate.js';
import { outputMode } from '../../operators/outputMode.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import { MemoryCheckpointStore } from '../../lib/checkpoint/MemoryCheckpointStore.js';
import { count } from '../../lib/aggregate/count.js';
import { sum } from '../../lib/aggregate/sum.js';
import { avg } from '../../lib/aggregate/avg.js';
import { min } from '../../lib/aggregate/min.js';
import { max } from '../../lib/aggregate/max.js';
import type { AggregateSpec } from '../../lib/aggregate/Aggregator.js';
import { isDenseEligible } from '../../lib/aggregate/denseGroupEngine.js';
import { compileAggregates } from '../../lib/aggregate/Aggregator.js';
import { compileKey } from '../../lib/aggregate/groupKey.js';
import { CheckpointCorruptError, CheckpointIncompatibleError } from '../../lib/errors/CheckpointError.js';
import { runBatches, sameRows } from '../../lib/testing/index.js';
import { FileCheckpointStore } from '../../lib/checkpoint/FileCheckpointStore.js';
import { drive } from '../lib/checkpoint/drive.js';

type R = { k?: unknown; v?: unknown; m?: unknown };

/**
 * The dense-key engine (groupAggregate without a watermark over count / sum /
 * avg / min / max) against the generic one: the same aggregators copied into
 * fresh objects (`{ ...count() }`) are not known built-ins, so they take the
 * generic path (a `Map` of records).
 */
const builtins = (): AggregateSpec<R> => ({ n: count(), c: count<R>('v'), s: sum<R>('v'), a: avg<R>('v'), lo: min<R>('m' as never), hi: max<R>('m' as never) });
const generic = (spec: AggregateSpec<R>): AggregateSpec<R> => Object.fromEntries(Object.entries(spec).map(([name, a]) => [name, { ...a }]));

const keyArb = fc.oneof(
  fc.constantFrom('a', 'b', '', '\u0000x', 'é', '😀', 'a long key that is longer than sixteen code units'),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(-0, Number.NaN, 0.5, null, undefined, true, false),
  fc.constantFrom(new Date(0), new Date(86_400_000), { x: 1 }, ['p', 2]),
);
const numberArb = fc.oneof(fc.integer({ min: -5, max: 9 }), fc.constantFrom(-0, 0.25, Number.POSITIVE_INFINITY, Number.NaN));
const valueArb = fc.oneof(numberArb, fc.constantFrom(null, undefined, '12', ' 3.5 '));
/** min / max over numbers, or over text (a run never mixes them: that is an error in both engines). */
const rowsArb = (textExtremes: boolean) =>
  fc.array(
    fc.record({ k: keyArb, v: valueArb, m: textExtremes ? fc.oneof(fc.constantFrom('x', 'y', 'z'), fc.constant(null)) : fc.oneof(numberArb, fc.constant(null)) }, { requiredKeys: ['v', 'm'] }),
    { maxLength: 14 },
  );
const batchesArb = fc.boolean().chain((text) => fc.array(rowsArb(text), { minLength: 1, maxLength: 6 }));
const modeArb = fc.constantFrom('update' as const, 'complete' as const);

function run(aggregate: AggregateSpec<R>, mode: 'update' | 'complete', batches: R[][]) {
  return runBatches(pipe(groupAggregate<R>()({ keyBy: 'k', aggregate, checkColumns: false }), outputMode(mode)), batches).map((s) => ({ rows: s.rows, total: s.metrics?.stateOperators?.[0]?.numRowsTotal, updated: s.metrics?.stateOperators?.[0]?.numRowsUpdated }));
}

/** Runs `batches` with a checkpoint in `store`, stopping after `upTo` of them: each call continues from the last. */
async function checkpointed(store: MemoryCheckpointStore, aggregate: AggregateSpec<R>, mode: 'update' | 'complete', batches: R[][], upTo: number, snapshotInterval = 2) {
  const out = await lastValueFrom(fromBatches(batches.slice(0, upTo)).pipe(groupAggregate<R>()({ keyBy: 'k', aggregate, checkColumns: false }), outputMode(mode), checkpoint(store, { snapshotInterval }), toArray()));
  await new Promise((resolve) => setTimeout(resolve, 0));
  return out.map((b) => b.rows);
}

describe('groupAggregate by dense key ids', () => {
  it('takes the dense path for the built-ins over one key field, and the generic one otherwise', () => {
    const key = compileKey<R>('groupAggregate', 'k');
    expect(isDenseEligible(compileAggregates<R>('groupAggregate', builtins(), ['k']), key)).toBe(true);
    expect(isDenseEligible(compileAggregates<R>('groupAggregate', generic(builtins()), ['k']), key)).toBe(false);
    expect(isDenseEligible(compileAggregates<R>('groupAggregate', builtins(), ['k', 'v']), compileKey<R>('groupAggregate', ['k', 'v']))).toBe(false);
  });

  it('gives the generic engine’s rows, in their order, and its state metrics, for every kind of key and value', () => {
    fc.assert(
      fc.property(modeArb, batchesArb, (mode, batches) => {
        const dense = run(builtins(), mode, batches);
        const plain = run(generic(builtins()), mode, batches);
        // Update mode lists the groups a batch wrote in the order it first wrote them, in both engines; the
        // generic engine's complete table comes from an Immutable map (hash order), so there rows are compared as sets.
        if (mode === 'update') expect(dense).toEqual(plain);
        else {
          expect(dense.map((s) => [s.total, s.updated])).toEqual(plain.map((s) => [s.total, s.updated]));
          dense.forEach((s, i) => expect(sameRows(s.rows, plain[i]!.rows)).toBe(true));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('restarts exactly from its own checkpoint, and continues one the generic engine wrote (text files, converted once)', async () => {
    await fc.assert(
      fc.asyncProperty(modeArb, batchesArb, fc.nat(), fc.nat(), async (mode, batches, c1, c2) => {
        const cut1 = c1 % (batches.length + 1);
        const cut2 = cut1 + (c2 % (batches.length - cut1 + 1));
        const straight = run(generic(builtins()), mode, batches).map((s) => s.rows);
        // Dense throughout, restarted twice.
        const own = new MemoryCheckpointStore();
        const a = [...(await checkpointed(own, builtins(), mode, batches, cut1)), ...(await checkpointed(own, builtins(), mode, batches, cut2)), ...(await checkpointed(own, builtins(), mode, batches, batches.length))];
        // Generic first (text files), then dense (converted, a full binary delta), then dense again (a binary chain).
        const mixed = new MemoryCheckpointStore();
        const b = [...(await checkpointed(mixed, generic(builtins()), mode, batches, cut1)), ...(await checkpointed(mixed, builtins(), mode, batches, cut2)), ...(await checkpointed(mixed, builtins(), mode, batches, batches.length))];
        const same = (x: readonly (readonly unknown[])[]) => {
          if (mode === 'update') expect(x).toEqual(straight);
          else {
            expect(x.length).toBe(straight.length);
            x.forEach((rows, i) => expect(sameRows(rows, straight[i]!)).toBe(true));
          }
        };
        same(a);
        same(b);
      }),
      { numRuns: 60 },
    );
  });

  it('restores a long chain of deltas (keys new in later deltas, keys in several) with the ids, so the table order, of a run never restarted', async () => {
    await fc.assert(
      fc.asyncProperty(batchesArb, async (batches) => {
        const straight = run(builtins(), 'complete', batches).map((s) => s.rows);
        // Restarted after every batch, with no snapshot: each restart restores the first delta and every one since.
        const store = new MemoryCheckpointStore();
        const restarted: (readonly unknown[])[] = [];
        for (let upTo = 1; upTo <= batches.length; upTo++) {
          const out = await checkpointed(store, builtins(), 'complete', batches, upTo, 1000);
          restarted.push(out.at(-1)!);
        }
        expect(restarted).toEqual(straight);
      }),
      { numRuns: 60 },
    );
  });

  const rows: R[][] = [
    [{ k: 'a', v: 1, m: 1 }, { k: 'b', v: 2, m: 5 }, { k: new Date(0), v: 3, m: 2 }],
    [{ k: 'a', v: 4, m: 0 }],
    [{ k: 'c', v: 5, m: 9 }],
  ];

  it('writes binary deltas (format version 3), and a torn or damaged one is a CheckpointCorruptError, never half-read', async () => {
    for (const damage of ['flip', 'truncate'] as const) {
      const store = new MemoryCheckpointStore();
      await checkpointed(store, builtins(), 'update', rows, 2, 100);
      const path = [...store.files.keys()].find((p) => p.endsWith('/1.delta'))!;
      const bytes = store.files.get(path)!;
      expect(new TextDecoder().decode(bytes.subarray(0, 23))).toBe('rss-checkpoint 3 delta\n');
      const damaged = damage === 'flip' ? Uint8Array.from(bytes, (b, i) => (i === 40 ? b ^ 1 : b)) : bytes.subarray(0, bytes.length - 9);
      store.files.set(path, damaged);
      await expect(checkpointed(store, builtins(), 'update', rows, 3, 100)).rejects.toBeInstanceOf(CheckpointCorruptError);
    }
  });

  it('has its snapshots merged in binary by the file store’s worker thread, and restarts from them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rss-dense-'));
    try {
      type Row = { k: string; ts: number };
      const batches: Row[][] = Array.from({ length: 9 }, (_, b) => Array.from({ length: 50 }, (_, i) => ({ k: `key-${(i * 7 + b * 13) % 80}`, ts: i + b })));
      const pipeline = pipe(groupAggregate<Row>()({ keyBy: 'k', aggregate: { n: count(), t: sum<Row>('ts'), lo: min<Row, 'ts'>('ts'), mean: avg<Row>('ts') } }), outputMode('update'));
      const first = await drive(new FileCheckpointStore(dir), batches.slice(0, 6), { snapshotInterval: 2, pipeline: pipeline as never });
      const stateDir = join(dir, 'state', 'groupAggregate%230');
      const snapshots = readdirSync(stateDir).filter((f) => f.endsWith('.snapshot'));
      expect(snapshots.length).toBeGreaterThan(0);
      for (const f of snapshots) expect(readFileSync(join(stateDir, f)).subarray(0, 26).toString()).toBe('rss-checkpoint 3 snapshot\n');
      // Recovery must read the newest snapshot: the deltas up to it go.
      const newest = Math.max(...snapshots.map((x) => Number(x.split('.')[0])));
      for (const f of readdirSync(stateDir)) if (f.endsWith('.delta') && Number(f.split('.')[0]) <= newest) rmSync(join(stateDir, f));
      const second = await drive(new FileCheckpointStore(dir), batches, { snapshotInterval: 2, pipeline: pipeline as never });
      const straight = runBatches(pipeline, batches).map((x) => x.rows);
      expect([...[...first.output.values()], ...[...second.output.values()]]).toEqual(straight);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses its binary state for aggregates that are not columns of numbers, naming the operator', async () => {
    const store = new MemoryCheckpointStore();
    await checkpointed(store, builtins(), 'update', rows, 2);
    const error = await checkpointed(store, generic(builtins()), 'update', rows, 3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointIncompatibleError);
    expect((error as CheckpointIncompatibleError).operatorId).toBe('groupAggregate#0');
    expect((error as Error).message).toMatch(/binary state files/);
  });
});

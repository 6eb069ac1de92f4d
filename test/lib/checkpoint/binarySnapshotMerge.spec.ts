import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { compileAggregates } from '../../../lib/aggregate/Aggregator.js';
import { count } from '../../../lib/aggregate/count.js';
import { DenseGroupEngine } from '../../../lib/aggregate/denseGroupEngine.js';
import { compileKey } from '../../../lib/aggregate/groupKey.js';
import { max } from '../../../lib/aggregate/max.js';
import { sum } from '../../../lib/aggregate/sum.js';
import { frameStateColumns, openStateFile, snapshotSteps, type BinaryStateView, type BuiltSnapshot, type CachedSnapshot } from '../../../lib/checkpoint/stateColumns.js';

// The binary (format 3) snapshot merge, `mergeBinaryState` through `snapshotSteps` (what the snapshot
// worker runs): a snapshot built from an earlier snapshot, or from the first delta, and the deltas after it
// restores to exactly the state the engine holds, and to what restoring the whole delta chain gives.

interface Row {
  readonly k: string;
  readonly v: number;
}

const OP = 'agg';
const DIR = `state/${OP}`;
const checksum = (data: Uint8Array, previous: number): number => crc32(data, previous);

function engine(): DenseGroupEngine<Row> {
  const key = compileKey<Row>('groupAggregate', 'k');
  const aggs = compileAggregates<Row>('groupAggregate', { n: count(), total: sum('v'), top: max('v') }, ['k']);
  return new DenseGroupEngine<Row>(aggs, key);
}

/** Every group of an engine: key → its accumulators. */
function contents(e: DenseGroupEngine<Row>): Map<unknown, unknown[]> {
  const out = new Map<unknown, unknown[]>();
  for (let id = 0; id < e.size; id++) out.set(e.rawKey(id), e.record(id).slice(0, -1));
  return out;
}

/** Opens state files as the engine's restore takes them. */
function opened(files: ReadonlyMap<string, Uint8Array>, paths: readonly string[]): { view: BinaryStateView; path: string; header: Record<string, unknown> }[] {
  return paths.map((path) => {
    const [name, kind] = path.slice(DIR.length + 1).split('.') as [string, 'delta' | 'snapshot'];
    const { view } = openStateFile(files.get(path)!, path, kind, OP, Number(name), checksum);
    return { view: view as BinaryStateView, path, header: JSON.parse(view.headerJson) as Record<string, unknown> };
  });
}

/** Runs `snapshotSteps` over the files (a synchronous read, as the worker does), from the worker's cached last snapshot when given. */
function buildSnapshotWith(files: ReadonlyMap<string, Uint8Array>, version: number, cached?: CachedSnapshot): BuiltSnapshot {
  const run = snapshotSteps(OP, DIR, version, cached, checksum);
  let step = run.next();
  while (!step.done) step = run.next(files.get(step.value));
  return step.value;
}

const buildSnapshot = (files: ReadonlyMap<string, Uint8Array>, version: number): Uint8Array => buildSnapshotWith(files, version).framed;

const keys = fc.constantFrom('a', 'b', 'c', 'dd', 'é', 'key-1', 'key-22', '', 'Ω≈', 'x'.repeat(40));
const value = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double({ noNaN: true, min: -1e6, max: 1e6 }));
const batches = fc.array(fc.array(fc.record({ k: keys, v: value }), { minLength: 0, maxLength: 25 }), { minLength: 1, maxLength: 12 });

describe('binary state snapshots (format 3): merge of a snapshot or first delta with later deltas', () => {
  it('restores to the state the engine holds and to what the whole delta chain gives, with a snapshot anywhere in the chain', () => {
    fc.assert(
      fc.property(batches, fc.nat(), (input, snapAt) => {
        const live = engine();
        const files = new Map<string, Uint8Array>();
        const snapshotVersion = snapAt % input.length;
        let snapshotBytes: Uint8Array | undefined;
        let cached: CachedSnapshot | undefined;
        input.forEach((rows, version) => {
          live.step(rows, 'k', 0);
          const body = live.encodeDelta((full) => ({ operator: OP, version, kind: 'delta', base: full || version === 0 ? -1 : version - 1 }));
          files.set(`${DIR}/${version}.delta`, frameStateColumns('delta', body, checksum, 3));
          if (version === snapshotVersion) {
            const built = buildSnapshotWith(files, version);
            snapshotBytes = built.framed;
            cached = built.cached;
          }
        });
        const last = input.length - 1;
        const expected = contents(live);

        // The whole delta chain.
        const fromDeltas = engine();
        fromDeltas.restoreBinary(opened(files, input.map((_, v) => `${DIR}/${v}.delta`)));
        expect(contents(fromDeltas)).toEqual(expected);

        // The snapshot at `snapshotVersion` and the deltas after it.
        files.set(`${DIR}/${snapshotVersion}.snapshot`, snapshotBytes!);
        const later = input.map((_, v) => v).filter((v) => v > snapshotVersion);
        const fromSnapshot = engine();
        fromSnapshot.restoreBinary(opened(files, [`${DIR}/${snapshotVersion}.snapshot`, ...later.map((v) => `${DIR}/${v}.delta`)]));
        expect(contents(fromSnapshot)).toEqual(expected);

        // A snapshot of the last version built over that snapshot (as the worker builds the next one).
        if (last > snapshotVersion) {
          files.set(`${DIR}/${last}.snapshot`, buildSnapshot(files, last));
          // The worker builds it over its cached last snapshot instead of reading that snapshot back: the same bytes.
          expect(buildSnapshotWith(files, last, cached).framed).toEqual(files.get(`${DIR}/${last}.snapshot`));
          const fromNext = engine();
          fromNext.restoreBinary(opened(files, [`${DIR}/${last}.snapshot`]));
          expect(contents(fromNext)).toEqual(expected);
        }
      }),
      { numRuns: 150 },
    );
  });
});

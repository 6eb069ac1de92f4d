import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { compileAggregates } from '../../../lib/aggregate/Aggregator.js';
import { count } from '../../../lib/aggregate/count.js';
import { DenseGroupEngine } from '../../../lib/aggregate/denseGroupEngine.js';
import { compileKey } from '../../../lib/aggregate/groupKey.js';
import { max } from '../../../lib/aggregate/max.js';
import { sum } from '../../../lib/aggregate/sum.js';
import {
  binaryKeyHash,
  encodeBinaryState,
  frameStateColumns,
  indexBinaryKeys,
  mergeBinaryState,
  mergeBinaryStateIndexed,
  openFrame,
  openStateFile,
  readBinaryState,
  sealFrame,
  snapshotSteps,
  type BinaryKeyIndex,
  type BinaryStateView,
  type BuiltSnapshot,
  type CachedSnapshot,
} from '../../../lib/checkpoint/stateColumns.js';

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

// The indexed merge (`mergeBinaryStateIndexed`, what `snapshotSteps` runs when its base's keys are indexed)
// against the general one: the same bytes for any base and deltas, extras growing or shrinking and keys new
// to the base included; no result (and the index left as it was) when a key is removed; and the index it
// moves to its result finds every key of that result, so a chain of snapshots can carry it.

interface Entry {
  readonly key: string;
  readonly removed: boolean;
  readonly values: readonly number[];
  readonly tags: readonly number[];
  readonly extra: string;
}

const SLOTS = 2;

function binaryView(entries: readonly Entry[], header: Record<string, unknown>): BinaryStateView {
  const count = entries.length;
  const keyUnits = new Uint32Array(count);
  let total = 0;
  entries.forEach((e, i) => {
    keyUnits[i] = e.key.length;
    total += e.key.length;
  });
  const keys = new Uint16Array(total);
  let at = 0;
  for (const e of entries) for (let u = 0; u < e.key.length; u++) keys[at++] = e.key.charCodeAt(u);
  const flags = Uint8Array.from(entries, (e) => (e.removed ? 1 : 0));
  const tags = Uint8Array.from(entries.flatMap((e) => e.tags));
  const values = Float64Array.from(entries.flatMap((e) => e.values));
  const extras = entries.map((e) => (e.extra === '' ? undefined : new TextEncoder().encode(e.extra)));
  const body = encodeBinaryState(JSON.stringify({ ...header, count, slots: SLOTS }), count, SLOTS, keyUnits, keys, flags, tags, values, extras);
  return readBinaryState(body, 0, body.length);
}

const entryKey = fc.constantFrom('a', 'b', 'c', 'dd', 'é', 'k-1', 'k-22', 'Ω≈', 'x'.repeat(30), 'y', 'zz', 'q');
const entryArb = (removals: boolean): fc.Arbitrary<Entry> =>
  fc.record({
    key: entryKey,
    removed: removals ? fc.boolean() : fc.constant(false),
    values: fc.array(fc.double({ noNaN: true }), { minLength: SLOTS, maxLength: SLOTS }),
    tags: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: SLOTS, maxLength: SLOTS }),
    extra: fc.constantFrom('', '"t"', '["a","bc"]', '{"long":"text text text"}'),
  });

/** Entries with distinct keys (a file lists each key once). */
const distinct = (removals: boolean, maxLength: number): fc.Arbitrary<Entry[]> => fc.uniqueArray(entryArb(removals), { selector: (e) => e.key, maxLength });

/** Whether `index` finds every entry of `view` at its place. */
function findsEvery(index: BinaryKeyIndex, view: BinaryStateView): boolean {
  if (index.count !== view.count) return false;
  const wrap = index.table.length - 1;
  const keysFrom = view.count > 0 ? view.keyStarts[0]! : 0;
  for (let i = 0; i < view.count; i++) {
    let found = -1;
    for (let p = (binaryKeyHash(view.bytes, view.keyStarts[i]!, view.keyUnits[i]! * 2) << 2) & wrap; index.table[p + 1] !== 0; p = (p + 4) & wrap) {
      if (index.table[p + 1] === i + 1 && index.table[p + 2] === view.keyStarts[i]! - keysFrom && index.table[p + 3] === 0) found = i;
    }
    if (found !== i) return false;
  }
  return true;
}

describe('the indexed binary snapshot merge', () => {
  it('writes the bytes the general merge writes, and carries its index to the result, over a chain of snapshots', () => {
    fc.assert(
      fc.property(distinct(false, 12), fc.array(fc.array(distinct(false, 8), { minLength: 0, maxLength: 4 }), { minLength: 1, maxLength: 4 }), (baseEntries, rounds) => {
        let base = binaryView(baseEntries, { operator: OP, version: 0, kind: 'snapshot' });
        let index = indexBinaryKeys(base);
        let version = 0;
        for (const round of rounds) {
          const deltas = round.map((entries) => binaryView(entries, { operator: OP, version: ++version, kind: 'delta', base: version - 1 }));
          const header = JSON.stringify({ operator: OP, version, kind: 'snapshot' });
          const general = mergeBinaryState(header, base, deltas);
          const merged = mergeBinaryStateIndexed(header, base, index, deltas);
          expect(merged).toBeDefined();
          expect(Buffer.from(merged!.body).equals(Buffer.from(general))).toBe(true);
          base = readBinaryState(merged!.body, 0, merged!.body.length);
          index = merged!.index;
          expect(findsEvery(index, base)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('builds the body in the buffer it is given (a frame), which then checks like any snapshot file', () => {
    fc.assert(
      fc.property(distinct(false, 10), distinct(false, 10), (baseEntries, deltaEntries) => {
        const base = binaryView(baseEntries, { operator: OP, version: 0, kind: 'snapshot' });
        const delta = binaryView(deltaEntries, { operator: OP, version: 1, kind: 'delta', base: 0 });
        const header = JSON.stringify({ operator: OP, version: 1, kind: 'snapshot' });
        let frame: { readonly out: Uint8Array; readonly bodyAt: number } | undefined;
        const merged = mergeBinaryStateIndexed(header, base, indexBinaryKeys(base), [delta], (length) => (frame = openFrame('snapshot', length, 3)));
        const file = sealFrame(frame!, merged!.body.length, checksum);
        expect(Buffer.from(file).equals(Buffer.from(frameStateColumns('snapshot', mergeBinaryState(header, base, [delta]), checksum, 3)))).toBe(true);
        expect(openStateFile(file, `${DIR}/1.snapshot`, 'snapshot', OP, 1, checksum).view.count).toBe(merged!.index.count);
      }),
    );
  });

  it('gives no result when a key is removed, in a delta or in its base, and leaves the index as it was', () => {
    fc.assert(
      fc.property(distinct(true, 10), fc.array(distinct(true, 8), { minLength: 1, maxLength: 3 }), (baseEntries, rounds) => {
        const base = binaryView(baseEntries, { operator: OP, version: 0, kind: 'delta', base: -1 });
        const index = indexBinaryKeys(base);
        const deltas = rounds.map((entries, d) => binaryView(entries, { operator: OP, version: d + 1, kind: 'delta', base: d }));
        const header = JSON.stringify({ operator: OP, version: rounds.length, kind: 'snapshot' });
        const anyRemoved = [baseEntries, ...rounds].some((entries) => entries.some((e) => e.removed));
        const table = index.table.slice();
        const merged = mergeBinaryStateIndexed(header, base, index, deltas);
        if (anyRemoved) {
          expect(merged).toBeUndefined();
          expect(index.table).toEqual(table);
          expect(index.count).toBe(base.count);
        } else expect(Buffer.from(merged!.body).equals(Buffer.from(mergeBinaryState(header, base, deltas)))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('does not take an index that no longer fits its base (a merge moved it to its result)', () => {
    const base = binaryView([{ key: 'a', removed: false, values: [1, 2], tags: [0, 0], extra: '' }], { operator: OP, version: 0, kind: 'snapshot' });
    const index = indexBinaryKeys(base);
    const delta = binaryView([{ key: 'b', removed: false, values: [3, 4], tags: [0, 0], extra: '' }], { operator: OP, version: 1, kind: 'delta', base: 0 });
    const header = JSON.stringify({ operator: OP, version: 1, kind: 'snapshot' });
    expect(mergeBinaryStateIndexed(header, base, index, [delta])!.index.count).toBe(2);
    // A second merge over the old base (a snapshot whose write failed) falls back to the general merge.
    expect(mergeBinaryStateIndexed(header, base, index, [delta])).toBeUndefined();
  });
});

describe('restoring a binary state file whose key is there twice', () => {
  it('refuses it, naming the later entry, whether the state was empty or not', () => {
    const e = engine();
    const S = e.nSlots;
    /** A delta of string keys (kind unit 1, then the text), each group counted once. */
    const delta = (names: readonly string[], version: number): BinaryStateView => {
      const keyUnits = Uint32Array.from(names, (k) => k.length + 1);
      const keys = Uint16Array.from(names.flatMap((k) => [1, ...Array.from(k, (c) => c.charCodeAt(0))]));
      const count = names.length;
      const header = JSON.stringify({ operator: OP, version, kind: 'delta', base: version - 1, count, slots: S, layout: e.layout });
      const body = encodeBinaryState(header, count, S, keyUnits, keys, new Uint8Array(count), new Uint8Array(count * S).fill(1), new Float64Array(count * S).fill(1), undefined);
      return readBinaryState(body, 0, body.length);
    };
    const file = (view: BinaryStateView, version: number) => ({ view, path: `${DIR}/${version}.delta`, header: JSON.parse(view.headerJson) as Record<string, unknown> });
    const names = Array.from({ length: 3000 }, (_, i) => `key-${i}`);
    // Into an empty state (the keys are indexed in bulk) and into one that has keys (looked up one by one).
    expect(() => engine().restoreBinary([file(delta([...names, 'key-17'], 0), 0)])).toThrow(`file ${DIR}/0.delta is corrupt; got the key of entry 3000 twice.`);
    expect(() => engine().restoreBinary([file(delta(['a', 'b', 'a', 'c'], 0), 0)])).toThrow('got the key of entry 2 twice.');
    const restored = engine();
    restored.restoreBinary([file(delta(names, 0), 0), file(delta(['key-5', 'new'], 1), 1)]);
    expect(restored.size).toBe(3001);
  });
});

import fc from 'fast-check';
import { compileAggregates } from '../../../lib/aggregate/Aggregator.js';
import { count } from '../../../lib/aggregate/count.js';
import { sum } from '../../../lib/aggregate/sum.js';
import { min } from '../../../lib/aggregate/min.js';
import { collectSet } from '../../../lib/aggregate/collectSet.js';
import { fixedCodec } from '../../../lib/aggregate/fixedRunner.js';
import { compileKey } from '../../../lib/aggregate/groupKey.js';
import { slidingCodec } from '../../../lib/aggregate/paneRunner.js';
import { sessionCodec } from '../../../lib/aggregate/sessionRunner.js';
import { REMOVED, rebuiltEntries, stateFileEntries, type ParsedStateFile } from '../../../lib/checkpoint/stateFiles.js';
import type { StateCodec } from '../../../lib/state/StateStore.js';

type Row = { k: string; ts: number };
const aggs = compileAggregates<Row>('test', { n: count(), ks: collectSet('k') }, ['k']);
const key = compileKey<Row>('test', 'k');

/** A parsed file from `[key, value]` / `[key]` (removed) entries, through JSON as a checkpoint stores them. */
function file(version: number, entries: readonly (readonly [string] | readonly [string, unknown])[]): ParsedStateFile {
  const json = JSON.parse(JSON.stringify(entries.map((e) => (e.length === 1 ? [e[0]] : [e[0], e[1]])))) as ([string] | [string, unknown])[];
  return { header: { operator: 'op', version, kind: version === 0 ? 'snapshot' : 'delta', base: version - 1 }, keys: json.map((e) => e[0]), values: json.map((e) => (e.length === 1 ? REMOVED : e[1])) };
}

/** What the codec's bulk restore gives and what its entry restore gives, as entry lists (each from its own parse of the files: a restore takes the parsed values over). */
function bothWays<S>(codec: StateCodec<S> & { fromStateFiles(files: never, removed: typeof REMOVED): S }, parse: () => readonly ParsedStateFile[]): [unknown, unknown] {
  const bulk = codec.fromStateFiles(stateFileEntries(parse()) as never, REMOVED);
  const files = parse();
  const merged = codec.fromEntries(rebuiltEntries(files[0], files.slice(1)));
  return [[...codec.entries(bulk)], [...codec.entries(merged)]];
}

/** A fixed-window group value in the current layout, and in the earlier `{ k, a }` one. */
const group = (bucket: number, k: string, n: number): unknown => [n, [k], k, bucket, 0];
const oldGroup = (k: string, n: number): unknown => ({ k, a: [n, [k]] });

/** The bucket of a fixed-window entry key (`$` entries first). */
const bucketOf = (entryKey: string): number => (entryKey.startsWith('$') ? Number.NEGATIVE_INFINITY : Number(entryKey.slice(0, entryKey.indexOf('/'))));

describe('bulk restore of aggregation state', () => {
  it('gives the fixed-window state, in the same order, that the merged entries give: updates in place, removals, re-added keys at the end, both value layouts', () => {
    const codec = fixedCodec(aggs, key);
    const files = () => [
      file(0, [['$lateWatermark', 5], ['0/"a"', oldGroup('a', 1)], ['0/"b"', group(0, 'b', 2)], ['10/"a"', group(10, 'a', 3)], ['10/"c"', oldGroup('c', 4)]]),
      file(1, [['$lateWatermark', 7], ['0/"a"', group(0, 'a', 5)], ['10/"a"'], ['20/"d"', group(20, 'd', 6)]]),
      file(2, [['10/"a"', group(10, 'a', 8)], ['0/"b"'], ['0/"a"'], ['0/"e"', group(0, 'e', 9)]]),
    ];
    const [bulk, merged] = bothWays(codec, files);
    expect(bulk).toEqual(merged);
    expect(bulk).toEqual([
      ['$lateWatermark', 7],
      ['10/"c"', [4, ['c'], 'c', 10, 0]],
      ['10/"a"', [8, ['a'], 'a', 10, 0]],
      ['20/"d"', [6, ['d'], 'd', 20, 0]],
      ['0/"e"', [9, ['e'], 'e', 0, 0]],
    ]);
  });

  it('agrees with the merged entries for random histories of fixed-window, pane and session states', () => {
    const fixed = fixedCodec(aggs, key);
    const sliding = slidingCodec(fixedCodec(aggs, key));
    const sessions = sessionCodec(aggs, key);
    const op = fc.record({ bucket: fc.constantFrom(0, 10, -10), k: fc.constantFrom('a', 'b', 'c', 'd'), n: fc.nat(9), remove: fc.boolean(), old: fc.boolean() });
    fc.assert(
      fc.property(fc.array(fc.array(op, { maxLength: 8 }), { minLength: 1, maxLength: 5 }), (history) => {
        const fixedFiles: (() => ParsedStateFile)[] = [];
        const sessionFiles: (() => ParsedStateFile)[] = [];
        history.forEach((ops, version) => {
          const fixedEntries = new Map<string, unknown>([['$lateWatermark', version]]);
          const sessionEntries = new Map<string, unknown>([['$lateWatermark', version]]);
          for (const o of ops) {
            const remove = o.remove && version > 0;
            fixedEntries.set(`${o.bucket}/${JSON.stringify(o.k)}`, remove ? REMOVED : o.old ? oldGroup(o.k, o.n) : group(o.bucket, o.k, o.n));
            sessionEntries.set(JSON.stringify(o.k), remove ? REMOVED : { k: o.k, s: [[o.bucket, o.bucket + 5, [o.n, [o.k]]]] });
          }
          const asFile = (m: Map<string, unknown>) => () => file(version, [...m].map(([k, v]): readonly [string] | readonly [string, unknown] => (v === REMOVED ? [k] : [k, v])));
          fixedFiles.push(asFile(fixedEntries));
          sessionFiles.push(asFile(sessionEntries));
        });
        // Groups are nested by bucket: the order that matters is the one within each bucket (buckets are read sorted).
        const byBucket = (entries: unknown): unknown => [...(entries as [string, unknown][])].sort((x, y) => bucketOf(x[0]) - bucketOf(y[0]));
        const [fb, fm] = bothWays(fixed, () => fixedFiles.map((f) => f()));
        expect(byBucket(fb)).toEqual(byBucket(fm));
        const [pb, pm] = bothWays(sliding, () => [file(0, [['$panes', 60_000]]), ...fixedFiles.map((f) => f())]);
        expect(byBucket(pb)).toEqual(byBucket(pm));
        expect((pb as unknown[])[0]).toEqual(['$panes', 60_000]);
        const [sb, sm] = bothWays(sessions, () => sessionFiles.map((f) => f()));
        expect(sb).toEqual(sm);
      }),
    );
  });
});

describe('the fixed-window codec\'s value text', () => {
  it('is the JSON text of its value, for every kind of accumulator and key', () => {
    const sums = compileAggregates<{ v: unknown; k: unknown }>('test', { n: count(), total: sum('v'), low: min('v'), ks: collectSet('v') }, ['k']);
    const codec = fixedCodec(sums, compileKey<{ v: unknown; k: unknown }>('test', 'k'));
    const acc = fc.oneof(fc.double(), fc.constantFrom(-0, 0, null, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e21, 5e-7), fc.integer());
    const rawKey = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxLength: 3 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(0, 60_000, -60_000), rawKey, fc.nat(), acc, acc, fc.array(fc.string(), { maxLength: 3 })), { maxLength: 10 }), (groups) => {
        // Values as the codec writes them (encoded), restored, then read back as text and as values.
        const entries = groups.map(([bucket, k, n, total, low, ks]): [string, unknown] => [`${bucket}/${JSON.stringify(k)}`, JSON.parse(JSON.stringify([n, typeof total === 'number' && !Number.isFinite(total) ? String(total) : total, low, ks, k, bucket, 0]))]);
        const state = codec.fromEntries([['$lateWatermark', 5], ...entries]);
        const keys = ['$lateWatermark', ...entries.map((e) => e[0]), '0/"absent"'];
        for (const key of keys) expect(codec.getText(state, key)).toBe(codec.get(state, key) === undefined ? undefined : JSON.stringify(codec.get(state, key)));
      }),
    );
  });
});

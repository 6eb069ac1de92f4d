import fc from 'fast-check';
import { crc32 } from '../../../lib/checkpoint/checksum.js';
import { checkFrame } from '../../../lib/checkpoint/fileFormat.js';
import {
  checkStateFrame,
  encodeStateColumns,
  frameStateColumns,
  mergeStateColumns,
  readStateColumns,
  stateColumnKeys,
  stateColumnValues,
  stateColumnsFromJsonLines,
  type StateColumnsView,
} from '../../../lib/checkpoint/stateColumns.js';
import { REMOVED, parseStateColumnsFile, rebuiltEntries, stateFileEntries, type ParsedStateFile } from '../../../lib/checkpoint/stateFiles.js';
import { CheckpointCorruptError } from '../../../lib/errors/index.js';

type Entry = readonly [string] | readonly [string, unknown];

/** Encodes entries as a columnar body with `header`. */
function encode(header: Record<string, unknown>, entries: readonly Entry[]): Uint8Array {
  return encodeStateColumns(
    JSON.stringify({ ...header, count: entries.length }),
    entries.map((e) => JSON.stringify(e[0])),
    entries.map((e) => (e.length === 1 ? undefined : (JSON.stringify(e[1]) ?? 'null'))),
  );
}

function view(body: Uint8Array): StateColumnsView {
  return readStateColumns(body, 0, body.length);
}

/** The entries of a body, `[key]` for a removed key. */
function entriesOf(body: Uint8Array): Entry[] {
  const v = view(body);
  const keys = stateColumnKeys(v);
  const values = stateColumnValues(v);
  let j = 0;
  return keys.map((k, i) => (v.valueLengths[i] === 0 ? [k] : [k, values[j++]]));
}

function parsed(header: { operator: string; version: number; kind: 'delta' | 'snapshot'; base?: number }, entries: readonly Entry[]): ParsedStateFile {
  return { header, keys: entries.map((e) => e[0]), values: entries.map((e) => (e.length === 1 ? REMOVED : e[1])) };
}

const keyArb = fc.oneof(fc.constantFrom('a', 'b', 'c', 'd', 'e', '$lateWatermark', '0/"k"', 'é', 'x|y', '😀'), fc.string({ minLength: 1, maxLength: 8, unit: 'binary' }));
/** What a codec may put in a value: anything JSON can carry (and what JSON.stringify turns into it). */
const valueArb = fc.oneof(fc.jsonValue(), fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY), fc.array(fc.oneof(fc.integer(), fc.constant(undefined))), fc.record({ a: fc.option(fc.integer(), { nil: undefined }), b: fc.string() }));
const entryArb: fc.Arbitrary<Entry> = fc.oneof(fc.tuple(keyArb, valueArb), fc.tuple(keyArb));
/** Distinct keys in one file, as a delta (or snapshot) has them. */
const entriesArb = (removals: boolean): fc.Arbitrary<Entry[]> =>
  fc.uniqueArray(removals ? entryArb : fc.tuple(keyArb, valueArb), { selector: (e) => e[0], maxLength: 12 }) as fc.Arbitrary<Entry[]>;

describe('columnar state files', () => {
  it('gives back every key and the JSON value of every entry, removed keys as removed', () => {
    fc.assert(
      fc.property(entriesArb(true), (entries) => {
        const body = encode({ operator: 'op', version: 3, kind: 'delta', base: 2 }, entries);
        expect(JSON.parse(view(body).headerJson)).toEqual({ operator: 'op', version: 3, kind: 'delta', base: 2, count: entries.length });
        const expected = entries.map((e) => (e.length === 1 ? [e[0]] : [e[0], JSON.parse(JSON.stringify(e[1]) ?? 'null') as unknown]));
        expect(entriesOf(body)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('merges a snapshot and deltas into the entries, in the order, that restoring the same files gives', () => {
    fc.assert(
      fc.property(fc.option(entriesArb(false), { nil: undefined }), fc.array(entriesArb(true), { maxLength: 5 }), (base, deltas) => {
        const baseBody = base === undefined ? undefined : encode({ operator: 'op', version: 0, kind: 'snapshot' }, base);
        const deltaBodies = deltas.map((d, i) => encode({ operator: 'op', version: i + 1, kind: 'delta', base: i }, d));
        const merged = mergeStateColumns(
          JSON.stringify({ operator: 'op', version: deltas.length, kind: 'snapshot' }),
          baseBody === undefined ? undefined : view(baseBody),
          baseBody === undefined ? undefined : stateColumnKeys(view(baseBody)),
          deltaBodies.map(view),
          deltaBodies.map((b) => stateColumnKeys(view(b))),
        );
        const json = (v: unknown): unknown => JSON.parse(JSON.stringify(v) ?? 'null');
        const model = [
          ...rebuiltEntries(
            base === undefined ? undefined : parsed({ operator: 'op', version: 0, kind: 'snapshot' }, base.map((e) => [e[0], json(e[1])])),
            deltas.map((d, i) => parsed({ operator: 'op', version: i + 1, kind: 'delta', base: i }, d.map((e) => (e.length === 1 ? e : [e[0], json(e[1])])))),
          ),
        ];
        expect(entriesOf(merged.body)).toEqual(model);
        expect(stateColumnKeys(view(merged.body))).toEqual(model.map((e) => e[0]));
        expect(JSON.parse(view(merged.body).headerJson)).toEqual({ operator: 'op', version: deltas.length, kind: 'snapshot', count: model.length });
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same snapshot when the first delta (on the empty state) is taken as the base', () => {
    fc.assert(
      fc.property(fc.array(entriesArb(true), { minLength: 1, maxLength: 5 }), (deltas) => {
        const bodies = deltas.map((d, i) => encode({ operator: 'op', version: i, kind: 'delta', base: i - 1 }, d));
        const header = JSON.stringify({ operator: 'op', version: deltas.length - 1, kind: 'snapshot' });
        const all = mergeStateColumns(header, undefined, undefined, bodies.map(view), bodies.map((b) => stateColumnKeys(view(b))));
        const rest = bodies.slice(1);
        const fromFirst = mergeStateColumns(header, view(bodies[0]!), stateColumnKeys(view(bodies[0]!)), rest.map(view), rest.map((b) => stateColumnKeys(view(b))));
        expect(fromFirst.body).toEqual(all.body);
      }),
      { numRuns: 300 },
    );
  });

  it('converts a format-1 (JSON lines) body to the same columns', () => {
    const v1 = '{"operator":"op","version":4,"kind":"delta","base":3}\n[["a",{"n":1}],["b"]]\n[["c",[1,2]]]\n';
    const body = stateColumnsFromJsonLines(v1);
    expect(JSON.parse(view(body).headerJson)).toEqual({ operator: 'op', version: 4, kind: 'delta', base: 3, count: 3 });
    expect(entriesOf(body)).toEqual([['a', { n: 1 }], ['b'], ['c', [1, 2]]]);
  });

  describe('corruption', () => {
    const header = { operator: 'op', version: 2, kind: 'snapshot' as const };
    const file = frameStateColumns('snapshot', encode(header, [['k1', { n: 1, s: 'x' }], ['k2', [1, 2, 3]], ['é', 'ü']]), crc32);
    const open = (bytes: Uint8Array): ParsedStateFile => {
      const frame = checkFrame(bytes, 'ck/state/op/2.snapshot', 'snapshot', crc32, [1, 2]);
      return parseStateColumnsFile(bytes, frame.bodyStart, frame.bodyEnd, 'ck/state/op/2.snapshot', header);
    };

    it('reads an intact file', () => {
      const opened = open(file);
      expect({ header: opened.header, keys: opened.keys, values: opened.values }).toEqual({ header: { ...header, count: 3 }, keys: ['k1', 'k2', 'é'], values: [{ n: 1, s: 'x' }, [1, 2, 3], 'ü'] });
      // A bulk restore reads single keys without parsing the key column.
      const [entries] = stateFileEntries([open(file)]);
      expect([entries!.count, entries!.key(2), entries!.key(0)]).toEqual([3, 'é', 'k1']);
      expect(checkStateFrame(file, 'snapshot', crc32).version).toBe(2);
    });

    it('rejects the file cut at any length, on the main thread and in the worker code', () => {
      for (let length = 0; length < file.length; length++) {
        const cut = file.subarray(0, length);
        expect(() => open(cut)).toThrow(CheckpointCorruptError);
        expect(() => checkStateFrame(cut, 'snapshot', crc32)).toThrow();
      }
    });

    it('rejects a flipped bit anywhere in the file', () => {
      for (let at = 0; at < file.length; at++) {
        for (const bit of [0x01, 0x10, 0x80]) {
          const damaged = file.slice();
          damaged[at] = damaged[at]! ^ bit;
          expect(() => open(damaged)).toThrow();
          expect(() => checkStateFrame(damaged, 'snapshot', crc32)).toThrow();
        }
      }
    });

    it('rejects a body whose columns do not add up, even with a valid checksum', () => {
      const body = encode(header, [['k1', 1], ['k2', 2]]);
      const damaged = body.slice();
      const lengths = damaged.indexOf(0x0a) + 1;
      damaged[lengths] = damaged[lengths]! + 1; // the first key's length
      const refreamed = frameStateColumns('snapshot', damaged, crc32);
      expect(() => open(refreamed)).toThrow(CheckpointCorruptError);
      expect(() => open(refreamed)).toThrow(/^checkpoint: file ck\/state\/op\/2\.snapshot is corrupt; got a state file whose key column does not end with \]/);
    });

    it('rejects a key that is not a string when the keys are read, even with a valid checksum', () => {
      const body = encode(header, [['k1', 1], ['k2', 2]]);
      const text = new TextDecoder().decode(body).replace('["k1","k2"]', '["k1",1234]');
      const opened = open(frameStateColumns('snapshot', new TextEncoder().encode(text), crc32));
      expect(opened.values).toEqual([1, 2]);
      expect(() => opened.keys).toThrow(CheckpointCorruptError);
      const [entries] = stateFileEntries([opened]);
      expect(entries!.key(0)).toBe('k1');
      expect(() => entries!.key(1)).toThrow(/^checkpoint: file ck\/state\/op\/2\.snapshot is corrupt; got a state file whose key 1 is not a string/);
    });
  });
});

import fc from 'fast-check';
import { Deduplicator } from '../../../lib/dedupe/Deduplicator.js';
import { dedupeCodec } from '../../../lib/dedupe/DedupeState.js';
import { EventTimeKeyIndex, eventTimeKeys, restBytes, type RestKey } from '../../../lib/dedupe/EventTimeKeys.js';
import { keyPart, resolveKeySpec } from '../../../lib/internal/keySpec.js';
import { batch } from '../../../lib/testing/index.js';
import type { KeySpec } from '../../../lib/types.js';

type R = { id: unknown; tag: string; ts: unknown };
const marker = { field: 'ts', isWindow: false, delayMs: 0 };

/** One input batch: rows, the batch's watermark, whether it carries the event-time marker, whether the query restarts from a checkpoint before it. */
type Step = { rows: R[]; watermark: number; marked: boolean; restart: boolean };

const rowArb: fc.Arbitrary<R> = fc.record({
  id: fc.constantFrom<unknown>(1, '1', 2, true, 'a', 'a,1', { x: 1 }, -0, 0, null),
  tag: fc.constantFrom('p', 'q'),
  ts: fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 0, max: 6 }).map((i) => i * 3000 + (i % 2)) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(Number.NaN, new Date(6000), -0) }),
});
const stepsArb: fc.Arbitrary<Step[]> = fc
  .array(fc.record({ rows: fc.array(rowArb, { maxLength: 8 }), advance: fc.integer({ min: 0, max: 5000 }), marked: fc.integer({ min: 0, max: 5 }).map((x) => x > 0), restart: fc.boolean() }), { maxLength: 8 })
  .map((raw) => {
    let wm = 0;
    return raw.map((s) => {
      wm += s.advance;
      return { rows: s.rows, watermark: wm, marked: s.marked, restart: s.restart };
    });
  });

const eventTime = (v: unknown): number => (typeof v === 'number' ? v : v instanceof Date ? v.getTime() : Number.NaN);

/** Spark's `dropDuplicates` on `fields` with the event-time column among them, written plainly. */
function model(steps: readonly Step[], fields: readonly string[]): { rows: R[]; numLate: number; numDuplicates: number; size: number }[] {
  const seen = new Map<string, number>();
  let lateW = 0;
  return steps.map((s) => {
    const rows: R[] = [];
    let numLate = 0;
    let numDuplicates = 0;
    for (const row of s.rows) {
      const t = eventTime(row.ts);
      if (s.marked && t <= lateW) {
        numLate++;
        continue;
      }
      const k = fields.map((f) => keyPart((row as Record<string, unknown>)[f])).join(',');
      if (seen.has(k)) {
        numDuplicates++;
        continue;
      }
      seen.set(k, s.marked && t === t ? t : Number.POSITIVE_INFINITY);
      rows.push(row);
    }
    if (s.marked) {
      for (const [k, t] of seen) if (t <= s.watermark) seen.delete(k);
      lateW = Math.max(lateW, s.watermark);
    } else if (rows.length > 0) lateW = Math.max(lateW, s.watermark); // as the operator does: a batch that adds keys records its watermark
    return { rows, numLate, numDuplicates, size: seen.size };
  });
}

function run(steps: readonly Step[], spec: KeySpec<R>) {
  const key = resolveKeySpec<R>('dropDuplicates', spec, 'keys', true);
  let d = new Deduplicator<R>('dropDuplicates', 'first', key);
  return steps.map((s, i) => {
    if (s.restart) {
      const entries = JSON.parse(JSON.stringify([...dedupeCodec.entries(d.state)])) as [string, unknown][];
      d = new Deduplicator<R>('dropDuplicates', 'first', key, dedupeCodec.fromEntries(entries));
    }
    const r = d.step(batch(i, s.rows, s.watermark, s.marked ? { eventTime: marker } : {}), false);
    return { rows: r.rows, numLate: r.numLate, numDuplicates: r.numDuplicates, size: d.state.size };
  });
}

describe('dropDuplicates event-time fast path', () => {
  const specs: (keyof R)[][] = [['id', 'ts'], ['ts', 'id'], ['id', 'tag', 'ts'], ['ts', 'tag', 'id'], ['ts']];
  for (const spec of specs) {
    it(`matches a plain model of Spark's dropDuplicates for keys ${JSON.stringify(spec)}, across checkpoint restarts`, () => {
      fc.assert(
        fc.property(stepsArb, (steps) => {
          expect(run(steps, spec)).toEqual(model(steps, spec));
        }),
        { numRuns: 100 },
      );
    });
  }

  it('matches the model for a single field name key on the event-time column', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const got = run(steps, 'ts');
        const want = model(steps, ['ts']);
        // keyOf of a single field keeps numbers as numbers; equality is the same as keyPart's.
        expect(got).toEqual(want);
      }),
      { numRuns: 100 },
    );
  });

  it('evicts whole time spans and trims the one the watermark falls into', () => {
    const d = new Deduplicator<R>('dropDuplicates', 'first', resolveKeySpec<R>('dropDuplicates', ['id', 'ts'], 'keys', true));
    const rows = [0, 4095, 4096, 5000, 9000, 20000].map((ts) => ({ id: 'a', tag: 'p', ts }));
    d.step(batch(0, rows, 4096, { eventTime: marker }), false);
    expect(d.state.size).toBe(3);
    const again = d.step(batch(1, [...rows, { id: 'a', tag: 'p', ts: 5001 }], 5000, { eventTime: marker }), false);
    // 0, 4095 and 4096 are late (<= 4096); 5000, 9000 and 20000 are duplicates; 5001 is new.
    expect(again.rows).toEqual([{ id: 'a', tag: 'p', ts: 5001 }]);
    expect([again.numLate, again.numDuplicates, again.numRemoved]).toEqual([3, 3, 1]);
    expect(d.state.size).toBe(3);
  });

  it('takes back the keys of a batch that fails halfway, whether or not it keeps its segments', () => {
    // A cyclic value in a key column fails the key's encoding after the rows before it were taken.
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const tracked of [true, false]) {
      const d = new Deduplicator<R>('dropDuplicates', 'first', resolveKeySpec<R>('dropDuplicates', ['ts', 'tag', 'id'], 'keys', true), undefined, tracked);
      const first = [{ id: 'x', tag: 'p', ts: 7 }, { id: 2, tag: 'q', ts: 8 }, { id: { a: 1 }, tag: 'q', ts: 9 }];
      expect(() => d.step(batch(0, [...first, { id: cyclic, tag: 'p', ts: 10 }], 0, { eventTime: marker }), false)).toThrow(RangeError);
      expect([d.state.size, d.memoryUsedBytes]).toEqual([0, 0]);
      const again = d.step(batch(0, first, 0, { eventTime: marker }), false);
      expect(again.rows).toEqual(first);
      expect([again.numAdded, again.numDuplicates, d.state.size]).toEqual([3, 0, 3]);
    }
  });

  it('rebuilds checkpoint keys in the general key encoding', () => {
    const d = new Deduplicator<R>('dropDuplicates', 'first', resolveKeySpec<R>('dropDuplicates', ['ts', 'tag', 'id'], 'keys', true));
    d.step(batch(0, [{ id: 'x', tag: 'p', ts: 7 }, { id: { a: 1 }, tag: 'q', ts: 8 }, { id: 'x', tag: 'p', ts: Number.NaN }], 0, { eventTime: marker }), false);
    expect([...dedupeCodec.entries(d.state)]).toEqual([
      ['@watermark', 0],
      ['g0', { keys: ['s7,"p","x"', 's8,"q",{"a":1}', 'sNaN,"p","x"'], times: [7, 8, null] }],
    ]);
  });

  it('parses only keys that the split composes back exactly', () => {
    const split = eventTimeKeys(resolveKeySpec<R>('dropDuplicates', ['id', 'ts'], 'keys', true), 'ts')!;
    expect(split.parse('"a,1",5', 5)).toBe('a,1');
    expect(split.parse('1,5', 5)).toBe(1);
    expect(split.parse('true,5', 5)).toBe(true);
    expect(split.parse('{"x":1},5', 5)).toBeUndefined();
    expect(split.parse('1,5', 6)).toBeUndefined();
    expect(eventTimeKeys(resolveKeySpec<R>('dropDuplicates', ['id', 'ts', 'tag'], 'keys', true), 'ts')).toBeUndefined();
  });
});

describe('EventTimeKeyIndex', () => {
  // Times straddling span
  // boundaries, negative, fractional, tiny and huge ones must never be confused with one another.
  const timeArb = fc.oneof(
    fc.integer({ min: -3, max: 3 }).chain((span) => fc.integer({ min: -2, max: 2 }).map((d) => span * 4096 + d)),
    fc.constantFrom(0, -0, 0.5, -0.5, 1e-20, -1e-20, -2e-20, 4095.5, 4096.25, -4096.75, 2 ** 53, 2 ** 53 + 2, 1e300, -1e300, 1_700_000_000_000, 1_700_000_000_001.5),
  );
  type Op = { kind: 'add' | 'has' | 'remove'; t: number; rest: RestKey } | { kind: 'evict'; t: number };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constantFrom<'add' | 'has' | 'remove'>('add', 'has', 'remove'), t: timeArb, rest: fc.constantFrom<RestKey>('a', 'b', 1, true) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant<'evict'>('evict'), t: timeArb }) },
  );

  it('behaves like a set of (time, rest) pairs evicted at or below the watermark, and counts its keys and their bytes', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const index = new EventTimeKeyIndex();
        const model = new Map<number, Set<RestKey>>();
        for (const op of ops) {
          if (op.kind === 'evict') {
            index.evict(op.t);
            for (const t of [...model.keys()]) if (t <= op.t) model.delete(t);
            continue;
          }
          const held = model.get(op.t)?.has(op.rest) === true;
          if (op.kind === 'has') expect(index.has(op.t, op.rest)).toBe(held);
          else if (op.kind === 'add') {
            expect(index.add(op.t, op.rest)).toBe(!held);
            if (!model.has(op.t)) model.set(op.t, new Set());
            model.get(op.t)!.add(op.rest);
          } else {
            index.remove(op.t, op.rest);
            model.get(op.t)?.delete(op.rest);
          }
        }
        for (const [t, rests] of model) for (const rest of rests) expect(index.has(t, rest)).toBe(true);
        const held = [...model.values()].flatMap((rests) => [...rests]);
        expect(index.keys).toBe(held.length);
        expect(index.bytes).toBe(held.reduce<number>((total, rest) => total + restBytes(rest), 0));
      }),
      { numRuns: 500 },
    );
  });
});

import { Deduplicator } from '../../../lib/dedupe/Deduplicator.js';
import { dedupeCodec } from '../../../lib/dedupe/DedupeState.js';
import { resolveKeySpec } from '../../../lib/internal/keySpec.js';
import { batch } from '../../../lib/testing/index.js';

type R = { k: string | number; ts: number };
const marker = { field: 'ts', isWindow: false, delayMs: 10 };

describe('Deduplicator and its state', () => {
  it('keeps old state versions intact (persistent snapshots)', () => {
    const d = new Deduplicator<R>('dropDuplicates', 'first', resolveKeySpec<R>('dropDuplicates', ['k', 'ts'], 'keys', true));
    d.step(batch(0, [{ k: 'a', ts: 5 }, { k: 1, ts: 8 }], 0, { eventTime: marker }), false);
    const v0 = d.state;
    d.step(batch(1, [{ k: 'b', ts: 30 }], 20, { eventTime: marker }), false);
    expect(v0.size).toBe(2);
    expect([...dedupeCodec.entries(v0)]).toEqual([['@watermark', 0], ['g0', { keys: ['s"a",5', 's1,8'], times: [5, 8] }]]);
    expect(d.state.size).toBe(1);
    expect([...dedupeCodec.entries(d.state)]).toEqual([['@watermark', 20], ['g1', { keys: ['s"b",30'], times: [30] }]]);
  });

  it('encodes never-evicted keys with null times and restores them', () => {
    const d = new Deduplicator<R>('dropDuplicates', 'first', resolveKeySpec<R>('dropDuplicates', 'k', 'keys', true));
    d.step(batch(0, [{ k: 'a', ts: 5 }, { k: 7, ts: 6 }]), false);
    const json = JSON.parse(JSON.stringify([...dedupeCodec.entries(d.state)])) as [string, unknown][];
    expect(json).toEqual([['@watermark', 0], ['g0', { keys: ['sa', 'n7'], times: [null, null] }]]);
    const restored = new Deduplicator<R>('dropDuplicates', 'first', resolveKeySpec<R>('dropDuplicates', 'k', 'keys', true), dedupeCodec.fromEntries(json));
    expect(restored.step(batch(1, [{ k: 7, ts: 1 }, { k: '7', ts: 1 }, { k: 'a', ts: 1 }]), false).rows).toEqual([{ k: '7', ts: 1 }]);
  });

  it('leaves its index untouched when a key function throws mid-batch', () => {
    let fail = false;
    const d = new Deduplicator<R>('dropDuplicates', 'first', resolveKeySpec<R>('dropDuplicates', (r: R) => { if (fail && r.k === 'boom') throw new Error('x'); return r.k; }, 'keys', true));
    fail = true;
    expect(() => d.step(batch(0, [{ k: 'a', ts: 1 }, { k: 'boom', ts: 1 }]), false)).toThrow('x');
    expect(d.state.size).toBe(0);
    expect(d.step(batch(1, [{ k: 'a', ts: 1 }]), false).rows).toHaveLength(1);
  });

  it('withinWatermark stores expiry = event time + delay and evicts inclusively', () => {
    const d = new Deduplicator<R>('dropDuplicatesWithinWatermark', 'withinWatermark', resolveKeySpec<R>('x', 'k', 'keys', true));
    d.step(batch(0, [{ k: 'a', ts: 17 }], 0, { eventTime: { ...marker, delayMs: 2 } }), false);
    expect(dedupeCodec.get(d.state, 'g0')).toEqual({ keys: ['sa'], times: [19] });
    const step = d.step(batch(1, [], 19, { eventTime: { ...marker, delayMs: 2 } }), false);
    expect([step.numRemoved, d.state.size, dedupeCodec.get(d.state, 'g0')]).toEqual([1, 0, undefined]);
  });
});

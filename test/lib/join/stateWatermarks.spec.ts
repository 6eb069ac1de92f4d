import { resolveJoinCondition, inTimeRange, type ResolvedJoinCondition } from '../../../lib/join/JoinCondition.js';
import { deriveEvictionPlan, evictionTimeOf, joinOutputWatermark, outerJoinSupported, sideStateWatermark, type WatermarkColumn } from '../../../lib/join/stateWatermarks.js';

const ts: WatermarkColumn = { field: 'ts', read: undefined };
const cond = (options: Record<string, unknown>): ResolvedJoinCondition<unknown, unknown> => resolveJoinCondition('streamJoin', { on: 'id', ...options }, true);
const range = (lower?: string | number, upper?: string | number, extra: Record<string, unknown> = {}) => ({
  timeRange: { leftTime: 'ts', rightTime: 'ts', ...(lower === undefined ? {} : { lower }), ...(upper === undefined ? {} : { upper }), ...extra },
});

describe('join state watermarks', () => {
  it('derives Spark\'s two-sided example: leftTime BETWEEN rightTime - 10s AND rightTime + 5s', () => {
    // leftTime >= rightTime - 10s  <=>  rightTime <= leftTime + 10s (upper)
    // leftTime <= rightTime + 5s   <=>  rightTime >= leftTime - 5s  (lower)
    const plan = deriveEvictionPlan(cond(range('-5 seconds', '10 seconds')), ts, ts);
    expect(sideStateWatermark(plan.left, 60_000)).toBe(60_000 - 10_000 - 1);
    expect(sideStateWatermark(plan.right, 60_000)).toBe(60_000 - 5_000 - 1);
  });

  it('drops the 1 ms adjustment for strict bounds', () => {
    const plan = deriveEvictionPlan(cond(range(0, '1 minute', { lowerInclusive: false, upperInclusive: false })), ts, ts);
    expect(sideStateWatermark(plan.left, 100_000)).toBe(40_000);
    expect(sideStateWatermark(plan.right, 100_000)).toBe(100_000);
  });

  it('gives a one-sided bound to one side only (JS "one side condition")', () => {
    // rightTime > leftTime + 5s only: the right side can be cleaned up, the left never.
    const plan = deriveEvictionPlan(cond(range(5000, undefined, { lowerInclusive: false })), ts, ts);
    expect(plan.left).toBeUndefined();
    expect(sideStateWatermark(plan.right, 30_000)).toBe(35_000);
  });

  it('needs a watermark on the side itself and on the other side\'s range column', () => {
    expect(deriveEvictionPlan(cond(range(0, 10)), undefined, ts).left).toBeUndefined();
    expect(deriveEvictionPlan(cond(range(0, 10)), ts, undefined).left).toBeUndefined();
    expect(deriveEvictionPlan(cond(range(0, 10)), ts, { field: 'other', read: undefined }).left).toBeUndefined();
    const fn = (row: { t: number }) => row.t;
    const byFunction = cond({ timeRange: { leftTime: fn, rightTime: fn, lower: 0, upper: 10 } });
    const fnColumn = { field: undefined, read: fn as (row: never) => unknown };
    expect(sideStateWatermark(deriveEvictionPlan(byFunction, fnColumn, fnColumn).left, 100)).toBe(89);
  });

  it('prefers a watermarked join key (state-key watermark) for both sides, whichever side carries the watermark', () => {
    const onWindow = cond({ on: ['id', 'window'], ...range(0, 10) });
    const plan = deriveEvictionPlan(onWindow, undefined, { field: 'window', read: undefined });
    expect(plan.left).toEqual({ kind: 'key', field: 'window' });
    expect(plan.right).toEqual({ kind: 'key', field: 'window' });
    expect(sideStateWatermark(plan.left, 1234)).toBe(1234);
    expect(evictionTimeOf({ start: 0, end: 10_000 })).toBe(10_000);
    expect(evictionTimeOf('1970-01-01T00:00:01')).toBe(1000);
    expect(evictionTimeOf(new Date(5))).toBe(5);
  });

  it('accepts outer and semi joins exactly as Spark\'s checker does', () => {
    const both = range(0, 10);
    expect(outerJoinSupported(cond({ type: 'leftOuter', ...both }), undefined, ts)).toBe(true); // nullable side watermarked
    expect(outerJoinSupported(cond({ type: 'leftOuter', ...both }), ts, undefined)).toBe(false);
    expect(outerJoinSupported(cond({ type: 'leftSemi', ...range(undefined, 10) }), undefined, ts)).toBe(true);
    expect(outerJoinSupported(cond({ type: 'rightOuter', ...range(undefined, 10) }), ts, ts)).toBe(false);
    expect(outerJoinSupported(cond({ type: 'rightOuter', ...range(0) }), ts, undefined)).toBe(true);
    // Spark's checkForStreamStreamJoinWatermark accepts a full outer join when either side gets a state watermark.
    expect(outerJoinSupported(cond({ type: 'fullOuter', ...range(0) }), ts, ts)).toBe(true);
    expect(outerJoinSupported(cond({ type: 'fullOuter', ...range(0) }), undefined, undefined)).toBe(false);
    expect(outerJoinSupported(cond({ type: 'fullOuter', ...both }), ts, ts)).toBe(true);
    expect(outerJoinSupported(cond({ type: 'fullOuter', on: ['id', 'ts'] }), ts, undefined)).toBe(true);
    expect(outerJoinSupported(cond({ type: 'inner' }), undefined, undefined)).toBe(true);
  });

  it('passes min(input watermark, state watermarks) downstream, never negative', () => {
    expect(joinOutputWatermark(60_000, 49_999, 59_999)).toBe(49_999);
    expect(joinOutputWatermark(60_000, undefined, undefined)).toBe(60_000);
    expect(joinOutputWatermark(5_000, -5_001, undefined)).toBe(0);
  });

  it('tests time ranges with inclusive and strict bounds; a missing time never matches', () => {
    const inclusive = cond(range(-1000, 1000)).range!;
    expect([inTimeRange(inclusive, 10_000, 9_000), inTimeRange(inclusive, 10_000, 11_000), inTimeRange(inclusive, 10_000, 11_001)]).toEqual([true, true, false]);
    const strict = cond(range(-1000, 1000, { lowerInclusive: false, upperInclusive: false })).range!;
    expect([inTimeRange(strict, 10_000, 9_000), inTimeRange(strict, 10_000, 10_999), inTimeRange(strict, 10_000, 11_000)]).toEqual([false, true, false]);
    expect(inTimeRange(inclusive, Number.NaN, 1)).toBe(false);
  });
});

import fc from 'fast-check';
import { pipe } from 'rxjs';
import { tumblingWindowStart } from '../../lib/window/tumbling.js';
import { slidingWindowStarts } from '../../lib/window/sliding.js';
import { windowTumbling } from '../../operators/windowTumbling.js';
import { windowSliding } from '../../operators/windowSliding.js';
import { assignWindows } from '../../operators/assignWindows.js';
import { outputMode } from '../../operators/outputMode.js';
import { count } from '../../lib/aggregate/count.js';
import { sum } from '../../lib/aggregate/sum.js';
import { runBatches, sameRows } from '../../lib/testing/index.js';

const params = { numRuns: 100 };
const time = fc.integer({ min: -5_000_000, max: 5_000_000 });
/** size, slide with slide dividing size, and |startTime| < slide. */
const grid = fc
  .tuple(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 8 }))
  .chain(([slide, k]) => fc.record({ sizeMs: fc.constant(slide * k), slideMs: fc.constant(slide), startMs: fc.integer({ min: -(slide - 1), max: slide - 1 }) }));

describe('window assignment laws', () => {
  it('a tumbling window puts each timestamp in exactly the one window containing it', () => {
    fc.assert(
      fc.property(time, fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 0, max: 99_999 }), (t, size, offset) => {
        const startMs = offset % size;
        const start = tumblingWindowStart(t, size, startMs);
        expect(start <= t && t < start + size).toBe(true);
        expect(((start - startMs) % size + size) % size).toBe(0);
      }),
      params,
    );
  });

  it('a sliding window puts each timestamp in size/slide windows on the grid, each containing it', () => {
    fc.assert(
      fc.property(time, grid, (t, spec) => {
        const out: number[] = [];
        const n = slidingWindowStarts(t, spec, out);
        expect(n).toBe(spec.sizeMs / spec.slideMs);
        for (let i = 0; i < n; i++) {
          expect(out[i]! <= t && t < out[i]! + spec.sizeMs).toBe(true);
          expect((((out[i]! - spec.startMs) % spec.slideMs) + spec.slideMs) % spec.slideMs).toBe(0);
        }
        expect(new Set(out.slice(0, n)).size).toBe(n);
      }),
      params,
    );
  });

  it('sliding with slide = size equals tumbling', () => {
    const rows = fc.array(fc.record({ ts: time, k: fc.constantFrom('a', 'b', 'c'), v: fc.integer({ min: 0, max: 9 }) }), { maxLength: 30 });
    fc.assert(
      fc.property(fc.array(rows, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 50_000 }), (batches, size) => {
        type R = { ts: number; k: string; v: number };
        const aggregate = { n: count(), total: sum<R>('v') };
        const tumbling = runBatches(pipe(windowTumbling<R>()({ eventTime: 'ts', size, keyBy: 'k', aggregate }), outputMode('update')), batches);
        const sliding = runBatches(pipe(windowSliding<R>()({ eventTime: 'ts', size, slide: size, keyBy: 'k', aggregate }), outputMode('update')), batches);
        expect(sliding.length).toBe(tumbling.length);
        tumbling.forEach((step, i) => expect(sameRows(sliding[i]!.rows, step.rows)).toBe(true));
      }),
      params,
    );
  });

  it('assignWindows gives each row size/slide window rows, and counts over sliding windows add up to rows x size/slide', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ ts: time }), { maxLength: 40 }), grid, (rows, spec) => {
        const per = spec.sizeMs / spec.slideMs;
        const [assigned] = runBatches(assignWindows<{ ts: number }>({ eventTime: 'ts', size: spec.sizeMs, slide: spec.slideMs, startTime: spec.startMs }), [rows]);
        expect(assigned!.rows.length).toBe(rows.length * per);
        const [counted] = runBatches(pipe(windowSliding<{ ts: number }>()({ eventTime: 'ts', size: spec.sizeMs, slide: spec.slideMs, startTime: spec.startMs, aggregate: { n: count() } }), outputMode('complete')), [rows]);
        expect(counted!.rows.reduce((s, r) => s + (r.n as number), 0)).toBe(rows.length * per);
      }),
      params,
    );
  });
});

import { expectTypeOf } from 'expect-type';
import type { Observable } from 'rxjs';
import type { Batch } from '../../../lib/batch/Batch.js';
import { fromBatches } from '../../../lib/batch/fromBatches.js';
import { streamJoin } from '../../../operators/streamJoin.js';
import { withWatermark } from '../../../operators/withWatermark.js';

interface M { id: string; action: string; ts: number }
interface H { id: string; health: string; ts: number }
describe('streamJoin types', () => {
  it('infers rows, nullable sides per join type and select results, and rejects misuse at compile time', () => {
  const m$ = fromBatches<M>([]).pipe(withWatermark('ts', '1 hour'));
  const h$ = fromBatches<H>([]).pipe(withWatermark('ts', '1 hour'));
    const a = m$.pipe(streamJoin(h$, { on: 'id' }));
    const b = m$.pipe(streamJoin(h$, { on: 'id', select: (m, h) => ({ id: m.id, action: m.action, health: h.health }) }));
    const c = m$.pipe(streamJoin(h$, { on: 'id', type: 'leftOuter', timeRange: { leftTime: 'ts', rightTime: 'ts', upper: '1 hour' } }));
    const d = m$.pipe(streamJoin(h$, { on: 'id', type: 'leftOuter', select: (m, h) => h?.health ?? m.action }));
    const e = m$.pipe(streamJoin([] as H[], { on: 'id', type: 'leftSemi' }));
    expectTypeOf(a).toEqualTypeOf<Observable<Batch<{ readonly left: M; readonly right: H }>>>();
    expectTypeOf(b).toEqualTypeOf<Observable<Batch<{ id: string; action: string; health: string }>>>();
    expectTypeOf(c).toEqualTypeOf<Observable<Batch<{ readonly left: M; readonly right: H | null }>>>();
    expectTypeOf(d).toEqualTypeOf<Observable<Batch<string>>>();
    expectTypeOf(e).toEqualTypeOf<Observable<Batch<M>>>();
    // @ts-expect-error full outer is not allowed with a static table (and throws when built)
    expect(() => m$.pipe(streamJoin([] as H[], { on: 'id', type: 'fullOuter' }))).toThrow('FullOuter joins with streaming DataFrames/Datasets');
    // @ts-expect-error the key must exist on both sides (at run time it only never matches)
    expect(() => m$.pipe(streamJoin(h$, { on: 'action' }))).not.toThrow();
  });
});

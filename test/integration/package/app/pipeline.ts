// A user's pipeline in a fresh app: compiled with the app's own TypeScript
// (strict) against the packed package, then run with node.
import { Subject } from 'rxjs';
import {
  count, fromBatches, fromObservable, memoryTable, outputMode, startQuery, sum, toMemory, windowTumbling, withWatermark,
  type WindowBounds,
} from 'rxjs-structured-streaming';

type Click = { ts: number; page: string; ms: number };

const perPage: Array<[number, number, string[]]> = [];
fromBatches<Click>([
  [{ ts: 10_000, page: 'home', ms: 3 }, { ts: 11_000, page: 'home', ms: 4 }, { ts: 12_000, page: 'cart', ms: 5 }],
  [{ ts: 30_000, page: 'home', ms: 1 }],
])
  .pipe(
    withWatermark('ts', '10 seconds'),
    windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'page', aggregate: { views: count(), ms: sum('ms') } }),
    outputMode('append'),
  )
  .subscribe((b) => perPage.push([b.batchId, b.watermark, b.rows.map((r) => `${r.window.start}-${r.window.end} ${r.page} ${r.views} ${r.ms ?? 0}`).sort()]));

const clicks$ = new Subject<Click>();
const query = startQuery({
  name: 'fresh-app',
  source: fromObservable(clicks$),
  pipeline: (batches$) =>
    batches$.pipe(windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'page', aggregate: { views: count() } }), outputMode('complete')),
  sink: toMemory<{ window: WindowBounds; page: string; views: number }>('views'),
});
clicks$.next({ ts: 1_000, page: 'home', ms: 1 });
clicks$.next({ ts: 2_000, page: 'home', ms: 1 });
await query.processAllAvailable();
const table = memoryTable<{ window: WindowBounds; page: string; views: number }>('views').map((r) => `${r.window.start} ${r.page} ${r.views}`);
await query.stop();

console.log(JSON.stringify({ perPage, table, lastBatch: query.lastProgress?.batchId ?? null }));

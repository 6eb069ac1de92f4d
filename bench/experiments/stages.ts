// One stage set of the tumbling pipeline per process, to see what each stage adds (CPU ms):
//   for v in source wm agg full; do npx tsx bench/experiments/stages.ts $v; done
import { batches, DEFAULT_WORKLOAD } from '../workload.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { windowTumbling } from '../../operators/windowTumbling.js';
import { outputMode } from '../../operators/outputMode.js';
import { sum } from '../../lib/aggregate/sum.js';
import { count } from '../../lib/aggregate/count.js';
import type { Observable } from 'rxjs';

const variant = process.argv[2] ?? 'full';
const n = Number(process.argv[3] ?? 2_000_000);
const source$ = fromBatches(batches({ ...DEFAULT_WORKLOAD, n }));
const agg = windowTumbling({ eventTime: 'ts', size: '60 seconds', keyBy: 'key', aggregate: { sum: sum('value'), count: count() } });
let out$: Observable<unknown>;
if (variant === 'source') out$ = source$;
else if (variant === 'wm') out$ = source$.pipe(withWatermark('ts', '10 seconds'));
else if (variant === 'agg') out$ = source$.pipe(withWatermark('ts', '10 seconds'), agg);
else out$ = source$.pipe(withWatermark('ts', '10 seconds'), agg, outputMode('append'));
let rows = 0;
const t0 = process.cpuUsage();
const w0 = performance.now();
out$.subscribe({
  next: (b) => {
    const r = (b as { rows?: readonly unknown[] }).rows;
    if (r !== undefined) rows += r.length;
  },
  complete: () => {
    const c = process.cpuUsage(t0);
    console.log(`${variant.padEnd(7)} wall ${(performance.now() - w0).toFixed(0)} ms cpu ${((c.user + c.system) / 1000).toFixed(0)} ms rows ${rows}`);
  },
});

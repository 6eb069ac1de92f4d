// Probe behind the scale-curve note in docs/performance.md: the live heap of the
// library's tumbling job (watermark, append) after a forced full GC every 250
// batches. Flat live heap = bounded state, whatever peak RSS does.
//
//   node --expose-gc --import tsx bench/experiments/liveHeap.ts [--n 20m]
import { count } from '../../lib/aggregate/count.js';
import { sum } from '../../lib/aggregate/sum.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import { outputMode } from '../../operators/outputMode.js';
import { windowTumbling } from '../../operators/windowTumbling.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { parseFlags, workloadFrom } from '../args.js';
import { batches, type Ev } from '../workload.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const flags = parseFlags(process.argv.slice(2));
const workload = workloadFrom(new Map([['n', flags.get('n') ?? '20m']]));
let batch = 0;
fromBatches<Ev>(batches(workload))
  .pipe(
    withWatermark('ts', '10 seconds'),
    windowTumbling({ eventTime: 'ts', size: '60 seconds', keyBy: 'key', aggregate: { sum: sum('value'), count: count() } }),
    outputMode('append'),
  )
  .subscribe(() => {
    if (++batch % 250 !== 0) return;
    gc();
    const m = process.memoryUsage();
    console.log(`batch ${batch}: live heap ${(m.heapUsed / 2 ** 20).toFixed(1)} MB, RSS ${(m.rss / 2 ** 20).toFixed(0)} MB`);
  });

// What withWatermark's own pass over a batch costs, warm, in one process:
// the generator alone, the generator + a hand-written max pass (what the loop
// folds into its one pass), and fromBatches + withWatermark.
//   npx tsx bench/experiments/watermarkPass.ts [--n 2m] [--rounds 5]
import { parseCount } from '../args.js';
import { drain } from '../jobs/common.js';
import { DEFAULT_WORKLOAD, batches } from '../workload.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { eventTimeReader } from '../../lib/time/eventTime.js';
const reader = eventTimeReader<{ ts: number }>('x', 'ts');

const args = process.argv.slice(2);
const flag = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : args[i + 1]!;
};
const n = parseCount('n', flag('n', '2m'));
const rounds = Number(flag('rounds', '5'));
const options = { ...DEFAULT_WORKLOAD, n };
const results = new Map<string, number[]>();
let sink = 0;

async function run(way: string): Promise<void> {
  const c0 = process.cpuUsage();
  if (way === 'source') for (const rows of batches(options)) sink += rows.length;
  else if (way === 'maxPass') {
    for (const rows of batches(options)) {
      let max = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < rows.length; i++) {
        const t = rows[i]!.ts;
        if (t > max) max = t;
      }
      sink += max;
    }
  } else if (way === 'readerPass') {
    for (const rows of batches(options)) {
      let max = Number.NEGATIVE_INFINITY;
      let min = Number.POSITIVE_INFINITY;
      let sum = 0;
      let count = 0;
      for (let i = 0; i < rows.length; i++) {
        const t = reader.ms(rows[i]!);
        if (Number.isNaN(t)) continue;
        if (t > max) max = t;
        if (t < min) min = t;
        sum += t;
        count++;
      }
      sink += max + min + sum + count;
    }
  } else await drain(fromBatches(batches(options)).pipe(withWatermark('ts', '10 seconds')), (b) => (sink += b.watermark));
  const c = process.cpuUsage(c0);
  const ms = (c.user + c.system) / 1000;
  if (!results.has(way)) results.set(way, []);
  results.get(way)!.push(ms);
}

for (let r = 0; r < rounds; r++) for (const w of ['source', 'maxPass', 'readerPass', 'withWatermark']) await run(w);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const [w, xs] of results) console.log(`${w.padEnd(14)} median ${median(xs).toFixed(0)} ms cpu; min ${Math.min(...xs).toFixed(0)}`);
if (sink === 0) console.log('');

// In-process decomposition of one job's cost (warm JIT, rounds alternating):
// the generator alone, the hand-written loop, the library pipeline, and the
// library without its aggregation (fromBatches + withWatermark only).
//   npx tsx bench/experiments/parts.ts [--job tumbling] [--n 2m] [--rounds 5]
import { Checksum } from '../checksum.js';
import { JOBS } from '../jobs/index.js';
import { DEFAULT_WORKLOAD, batches, pairedBatches } from '../workload.js';
import { parseCount } from '../args.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { windowTumbling } from '../../operators/windowTumbling.js';
import { windowSliding } from '../../operators/windowSliding.js';
import { windowSession } from '../../operators/windowSession.js';
import { outputMode } from '../../operators/outputMode.js';
import { dropDuplicates } from '../../operators/dropDuplicates.js';
import { streamJoin } from '../../operators/streamJoin.js';
import { sum } from '../../lib/aggregate/sum.js';
import { count } from '../../lib/aggregate/count.js';
import { drain } from '../jobs/common.js';

const args = process.argv.slice(2);
const flag = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : args[i + 1]!;
};
const jobName = flag('job', 'tumbling');
const n = parseCount('n', flag('n', '2m'));
const rounds = Number(flag('rounds', '5'));
const ways = flag('ways', 'source,loop,library,watermarkOnly').split(',');
const job = JOBS.find((j) => j.name === jobName)!;
const options = { ...DEFAULT_WORKLOAD, n };
const lib = { fromBatches, withWatermark, windowTumbling, windowSliding, windowSession, outputMode, dropDuplicates, streamJoin, sum, count };
const libRunner = job.library(lib);
const results = new Map<string, number[]>();

async function run(way: string): Promise<void> {
  const checksum = new Checksum();
  const ctx = { options, checksum };
  const c0 = process.cpuUsage();
  if (way === 'source') {
    if (job.twoSided) for (const p of pairedBatches(options)) checksum.rows += p[0].length;
    else for (const rows of batches(options)) checksum.rows += rows.length;
  } else if (way === 'loop') await job.loop(ctx);
  else if (way === 'library') await libRunner(ctx);
  else if (way === 'watermarkOnly') await drain(fromBatches(batches(options)).pipe(withWatermark('ts', '10 seconds')), () => undefined);
  const c = process.cpuUsage(c0);
  const ms = (c.user + c.system) / 1000;
  if (!results.has(way)) results.set(way, []);
  results.get(way)!.push(ms);
  process.stderr.write(`${way.padEnd(14)} ${ms.toFixed(0).padStart(6)} ms cpu  ${way === 'source' || way === 'watermarkOnly' ? '' : checksum.toString()}\n`);
}

for (let r = 0; r < rounds; r++) for (const w of ways) await run(w);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const [w, xs] of results) console.log(`${w.padEnd(14)} median ${median(xs).toFixed(0)} ms cpu; min ${Math.min(...xs).toFixed(0)}`);
const loop = median(results.get('loop') ?? [NaN]);
const libm = median(results.get('library') ?? [NaN]);
console.log(`library / loop cpu: ${(loop / libm).toFixed(2)}x`);

// The tumbling loop's two designs, each in its own process: the dense-id loop of
// bench/jobs/tumbling.ts against a Map of key to accumulator per window (the loop before it).
//   for w in map dense; do npx tsx bench/experiments/tumblingDense.ts $w; done
import { Checksum } from '../checksum.js';
import { batches, DEFAULT_WORKLOAD } from '../workload.js';
import { tumblingLoop, consumeAggRows, type AggRow } from '../jobs/tumbling.js';
import { floorMod, WATERMARK_DELAY_MS } from '../jobs/common.js';

const SIZE_MS = 60_000;
const options = { ...DEFAULT_WORKLOAD, n: 2_000_000 };

/** Map window start -> Map key -> accumulator; eviction walks the open windows. */
function mapLoop(checksum: Checksum): void {
  const windows = new Map<number, Map<string, { sum: number; count: number }>>();
  let lateWm = 0;
  let wm = 0;
  let opWm = Number.NEGATIVE_INFINITY;
  let curStart = Number.NaN;
  let byKey: Map<string, { sum: number; count: number }> | undefined;
  for (const rows of batches(options)) {
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const ts = row.ts;
      if (ts > max) max = ts;
      if (!(ts >= curStart && ts < curStart + SIZE_MS)) {
        const start = ts - floorMod(ts, SIZE_MS);
        if (start + SIZE_MS <= lateWm) continue;
        byKey = windows.get(start);
        if (byKey === undefined) windows.set(start, (byKey = new Map()));
        curStart = start;
      }
      const acc = byKey!.get(row.key);
      if (acc === undefined) byKey!.set(row.key, { sum: row.value, count: 1 });
      else {
        acc.sum += row.value;
        acc.count++;
      }
    }
    curStart = Number.NaN;
    if (max - WATERMARK_DELAY_MS > opWm) opWm = max - WATERMARK_DELAY_MS;
    if (opWm > wm) wm = opWm;
    const out: AggRow[] = [];
    for (const [start, keys] of windows) {
      const end = start + SIZE_MS;
      if (end > wm) continue;
      for (const [key, acc] of keys) out.push({ window: { start, end }, key, sum: acc.sum, count: acc.count });
      windows.delete(start);
    }
    consumeAggRows(checksum, out);
    lateWm = wm;
  }
}

const way = process.argv[2] ?? 'dense';
const checksum = new Checksum();
const c0 = process.cpuUsage();
const t0 = performance.now();
if (way === 'map') mapLoop(checksum);
else tumblingLoop({ options, checksum });
const c = process.cpuUsage(c0);
console.log(`${way.padEnd(6)} wall ${(performance.now() - t0).toFixed(0)} ms cpu ${((c.user + c.system) / 1000).toFixed(0)} ms ${checksum.toString()}`);

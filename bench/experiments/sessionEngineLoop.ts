// The session job's state work alone, warm, on pre-generated batches (2M rows): the loop's core
// (bench/jobs/session.ts without output rows) against SessionEngine.step with the same watermark
// and eviction, each in its own process (`--way loop|engine`), rounds after a warm-up:
//   for w in loop engine; do npx tsx bench/experiments/sessionEngineLoop.ts --way $w; done
import { batches, DEFAULT_WORKLOAD, type Ev } from '../workload.js';
import { SessionEngine } from '../../lib/aggregate/sessionEngine.js';
import { compileAggregates } from '../../lib/aggregate/Aggregator.js';
import { compileKey } from '../../lib/aggregate/groupKey.js';
import { sum } from '../../lib/aggregate/sum.js';
import { count } from '../../lib/aggregate/count.js';

const GAP = 30_000;
const all: Ev[][] = [...batches({ ...DEFAULT_WORKLOAD, n: 2_000_000 })];

interface S {
  start: number;
  end: number;
  sum: number;
  count: number;
}
function loop(): number {
  const byKey = new Map<string, S[]>();
  let lateWm = 0;
  let wm = Number.NEGATIVE_INFINITY;
  let out = 0;
  for (const rows of all) {
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const ts = row.ts;
      if (ts > max) max = ts;
      if (ts + GAP <= lateWm) continue;
      const list = byKey.get(row.key);
      if (list === undefined) {
        byKey.set(row.key, [{ start: ts, end: ts + GAP, sum: row.value, count: 1 }]);
        continue;
      }
      const end = ts + GAP;
      let j = 0;
      while (j < list.length && list[j]!.end < ts) j++;
      const s = list[j];
      if (s === undefined || s.start > end) {
        list.splice(j, 0, { start: ts, end, sum: row.value, count: 1 });
        continue;
      }
      if (ts < s.start) s.start = ts;
      if (end > s.end) s.end = end;
      s.sum += row.value;
      s.count++;
      while (j + 1 < list.length && list[j + 1]!.start <= s.end) {
        const next = list[j + 1]!;
        if (next.end > s.end) s.end = next.end;
        s.sum += next.sum;
        s.count += next.count;
        list.splice(j + 1, 1);
      }
    }
    if (max - 10_000 > wm) wm = max - 10_000;
    for (const [key, list] of byKey) {
      let n = 0;
      while (n < list.length && list[n]!.end <= wm) n++;
      out += n;
      if (n === list.length) byKey.delete(key);
      else if (n > 0) list.splice(0, n);
    }
    lateWm = wm;
  }
  return out;
}

function engine(): number {
  const aggs = compileAggregates<Ev>('x', { sum: sum('value'), count: count() }, ['window', 'key']);
  const e = new SessionEngine<Ev>(aggs, compileKey<Ev>('x', 'key' as never), GAP);
  e.trackUpdates = false;
  const time = { field: 'ts', ms: (r: Ev) => r.ts };
  let wm = Number.NEGATIVE_INFINITY;
  let out = 0;
  for (const rows of all) {
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < rows.length; i++) {
      const t = rows[i]!.ts;
      if (t > max) max = t;
    }
    if (max - 10_000 > wm) wm = max - 10_000;
    out += e.step(rows, time, true, wm, wm, () => undefined).evicted.length;
  }
  return out;
}

const way = process.argv[process.argv.indexOf('--way') + 1] === 'loop' ? loop : engine;
const times: number[] = [];
let result = 0;
for (let k = 0; k < 8; k++) {
  const c = process.cpuUsage();
  result = way();
  const d = process.cpuUsage(c);
  if (k >= 2) times.push((d.user + d.system) / 1000);
}
times.sort((a, b) => a - b);
console.log(`${way === loop ? 'loop  ' : 'engine'} median ${times[times.length >> 1]!.toFixed(0)} ms CPU per 2M rows (sessions closed: ${result})`);

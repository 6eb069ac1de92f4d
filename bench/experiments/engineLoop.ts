// The tumbling job's state work alone, warm, on pre-generated batches (2M rows): the loop's core
// (no output rows) against FixedWindowEngine.step with the same watermark and eviction.
//   npx tsx bench/experiments/engineLoop.ts
import { batches, DEFAULT_WORKLOAD, type Ev } from '../workload.js';
import { FixedWindowEngine } from '../../lib/aggregate/fixedWindowEngine.js';
import { compileAggregates } from '../../lib/aggregate/Aggregator.js';
import { compileKey } from '../../lib/aggregate/groupKey.js';
import { sum } from '../../lib/aggregate/sum.js';
import { count } from '../../lib/aggregate/count.js';
const all: Ev[][] = [...batches({ ...DEFAULT_WORKLOAD, n: 2_000_000 })];
const SIZE = 60000;
function loop(): number {
  const windows = new Map<number, Map<string, { sum: number; count: number }>>();
  let lateWm = 0, wm = -Infinity, cur = NaN, out = 0;
  let byKey: Map<string, { sum: number; count: number }> | undefined;
  for (const rows of all) {
    let max = -Infinity;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!; const ts = row.ts; if (ts > max) max = ts;
      if (!(ts >= cur && ts < cur + SIZE)) { const r = (ts % SIZE + SIZE) % SIZE; const s = ts - r; if (s + SIZE <= lateWm) continue; byKey = windows.get(s); if (!byKey) windows.set(s, (byKey = new Map())); cur = s; }
      const acc = byKey!.get(row.key); if (acc === undefined) byKey!.set(row.key, { sum: row.value, count: 1 }); else { acc.sum += row.value; acc.count++; }
    }
    cur = NaN; if (max - 10000 > wm) wm = max - 10000;
    for (const [s, m] of windows) { if (s + SIZE > wm) continue; out += m.size; windows.delete(s); }
    lateWm = wm;
  }
  return out;
}
function engine(): number {
  const aggs = compileAggregates<Ev>('x', { sum: sum('value'), count: count() }, []);
  const e = new FixedWindowEngine<Ev>(aggs, compileKey<Ev>('x', 'key' as never), 'tumbling', { sizeMs: SIZE, slideMs: SIZE, startMs: 0 } as never, undefined);
  e.trackUpdates = false;
  const time = { field: 'ts', ms: (r: Ev) => r.ts };
  let wm = -Infinity, out = 0;
  for (const rows of all) {
    let max = -Infinity; for (let i = 0; i < rows.length; i++) { const t = rows[i]!.ts; if (t > max) max = t; }
    if (max - 10000 > wm) wm = max - 10000;
    const r = e.step(rows, time, true, wm, wm, () => undefined);
    for (const [, g] of r.evicted) out += g.size;
  }
  return out;
}
const ways: [string, () => number][] = [['loop', loop], ['engine', engine]];
for (let k = 0; k < 9; k++) for (const [name, f] of ways) { const c = process.cpuUsage(); const o = f(); const d = process.cpuUsage(c); console.log(name, ((d.user + d.system) / 1000).toFixed(0), o); }

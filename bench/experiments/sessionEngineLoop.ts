// The session job's state work alone, warm, on pre-generated batches (2M rows): the loop's core
// (bench/jobs/session.ts's addToSessions, without output rows), the same loop over the engine's data
// structures, and SessionEngine.step with the same watermark and eviction, each in its own process
// (`--way loop|structures|engine`), rounds after a warm-up:
//   for w in loop structures engine; do npx tsx bench/experiments/sessionEngineLoop.ts --way $w; done
import { batches, DEFAULT_WORKLOAD, type Ev } from '../workload.js';
import { SessionEngine } from '../../lib/aggregate/sessionEngine.js';
import { compileAggregates } from '../../lib/aggregate/Aggregator.js';
import { compileKey } from '../../lib/aggregate/groupKey.js';
import { sum } from '../../lib/aggregate/sum.js';
import { count } from '../../lib/aggregate/count.js';
import { addToSessions, GAP_MS as GAP, type Session } from '../jobs/session.js';
import { warmCpuMedian } from './warmTimer.js';

const all: Ev[][] = [...batches({ ...DEFAULT_WORKLOAD, n: 2_000_000 })];

function loop(): number {
  const byKey = new Map<string, Session[]>();
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
      if (list === undefined) byKey.set(row.key, [{ start: ts, end: ts + GAP, sum: row.value, count: 1 }]);
      else addToSessions(list, ts, row.value);
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

/** A session as the engine holds it: bounds, an accumulator array, bookkeeping fields. */
interface WorkingLike {
  start: number;
  end: number;
  base: unknown;
  delta: number[];
  listed: number;
  dead: boolean;
}
/** A key as the engine holds it: its sessions and its last one. */
interface KeyLike {
  readonly s: WorkingLike[];
  last: WorkingLike | undefined;
}

/** The loop again, over the engine's data structures (key entries, sessions with accumulator arrays, the last session tried first). */
function structures(): number {
  const byKey = new Map<string, KeyLike>();
  let lateWm = 0;
  let wm = Number.NEGATIVE_INFINITY;
  let out = 0;
  let version = 0;
  for (const rows of all) {
    version++;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const ts = row.ts;
      if (ts > max) max = ts;
      const end = ts + GAP;
      if (end <= lateWm) continue;
      let entry = byKey.get(row.key);
      if (entry === undefined) byKey.set(row.key, (entry = { s: [], last: undefined }));
      const list = entry.s;
      const last = entry.last;
      let s: WorkingLike | undefined;
      if (last !== undefined && ts >= last.start && ts <= last.end) {
        s = last;
        if (end > s.end) s.end = end;
        s.listed = version;
      } else if (last !== undefined && ts > last.end) {
        s = { start: ts, end, base: undefined, delta: [0, 0], listed: version, dead: false };
        list.push(s);
        entry.last = s;
      } else {
        let j = 0;
        while (j < list.length && list[j]!.end < ts) j++;
        s = list[j];
        if (s === undefined || s.start > end) list.splice(j, 0, (s = { start: ts, end, base: undefined, delta: [0, 0], listed: version, dead: false }));
        else {
          if (ts < s.start) s.start = ts;
          if (end > s.end) s.end = end;
        }
        while (j + 1 < list.length && list[j + 1]!.start <= s.end) {
          const next = list[j + 1]!;
          if (next.end > s.end) s.end = next.end;
          s.delta[0] = s.delta[0]! + next.delta[0]!;
          s.delta[1] = s.delta[1]! + next.delta[1]!;
          list.splice(j + 1, 1);
        }
        entry.last = list[list.length - 1];
      }
      s.delta[0] = s.delta[0]! + row.value;
      s.delta[1] = s.delta[1]! + 1;
    }
    if (max - 10_000 > wm) wm = max - 10_000;
    for (const [key, entry] of byKey) {
      const list = entry.s;
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

const ways = { loop, structures, engine } as const;
const name = (process.argv[process.argv.indexOf('--way') + 1] ?? 'engine') as keyof typeof ways;
const { ms, result } = warmCpuMedian(ways[name] ?? engine);
console.log(`${name.padEnd(10)} median ${ms.toFixed(0)} ms CPU per 2M rows (sessions closed: ${result})`);

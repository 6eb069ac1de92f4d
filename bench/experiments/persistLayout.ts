// Experiment behind a docs/performance.md finding: what the persistent
// (Immutable) state of a tumbling aggregation costs per batch, for two state
// layouts, on the bench workload, without RxJS or row building around it.
//
//   npx tsx bench/experiments/persistLayout.ts [--n 5m] [--runs 3]
//
// - mutable:   the hand-written loop's state (Map window -> Map key -> acc), no persistence;
// - perGroup:  the engine's layout today: batch scratch Map window -> Map key -> slot, then one
//              Immutable Map.set per (window, key) touched, with a merged accumulator array;
// - cowColumns: a global append-only key dictionary (key -> dense id) and, per window, one plain
//              column per aggregate indexed by key id, copied once per batch when first touched
//              (copy-on-write) and folded into directly: the state is still a persistent value
//              (Immutable Map window -> frozen columns; old columns are never written again).
import { Map as IMap } from 'immutable';
import { parseFlags, parseCount, workloadFrom } from '../args.js';
import { batches, type Ev } from '../workload.js';

const SIZE_MS = 60_000;
const DELAY_MS = 10_000;

interface Slot {
  readonly k: string;
  readonly a: number[];
}

interface Group {
  readonly k: string;
  readonly a: readonly number[];
}

function windowOf(ts: number): number {
  const r = ts % SIZE_MS;
  return r < 0 ? ts - r - SIZE_MS : ts - r;
}

interface Watermark {
  late: number;
  wm: number;
  op: number;
}

function advance(w: Watermark, max: number): void {
  if (max - DELAY_MS > w.op) w.op = max - DELAY_MS;
  if (w.op > w.wm) w.wm = w.op;
}

function mutable(all: Iterable<Ev[]>): number {
  const windows = new Map<number, Map<string, number[]>>();
  const w: Watermark = { late: 0, wm: 0, op: -Infinity };
  let emitted = 0;
  for (const rows of all) {
    let max = -Infinity;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (row.ts > max) max = row.ts;
      const start = windowOf(row.ts);
      if (start + SIZE_MS <= w.late) continue;
      let byKey = windows.get(start);
      if (byKey === undefined) windows.set(start, (byKey = new Map()));
      const a = byKey.get(row.key);
      if (a === undefined) byKey.set(row.key, [row.value, 1]);
      else {
        a[0]! += row.value;
        a[1]!++;
      }
    }
    advance(w, max);
    for (const [start, byKey] of windows) {
      if (start + SIZE_MS > w.wm) continue;
      emitted += byKey.size;
      windows.delete(start);
    }
    w.late = w.wm;
  }
  return emitted;
}

function perGroup(all: Iterable<Ev[]>): number {
  let state = IMap<number, IMap<string, Group>>();
  const w: Watermark = { late: 0, wm: 0, op: -Infinity };
  let emitted = 0;
  const EMPTY = IMap<string, Group>();
  for (const rows of all) {
    let max = -Infinity;
    const scratch = new Map<number, Map<string, Slot>>();
    let last = NaN;
    let inner: Map<string, Slot> | undefined;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (row.ts > max) max = row.ts;
      const start = windowOf(row.ts);
      if (start + SIZE_MS <= w.late) continue;
      if (start !== last) {
        inner = scratch.get(start);
        if (inner === undefined) scratch.set(start, (inner = new Map()));
        last = start;
      }
      let slot = inner!.get(row.key);
      if (slot === undefined) inner!.set(row.key, (slot = { k: row.key, a: [0, 0] }));
      slot.a[0]! += row.value;
      slot.a[1]!++;
    }
    const outer = state.asMutable();
    for (const [start, slots] of scratch) {
      const groups = (outer.get(start) ?? EMPTY).asMutable();
      for (const slot of slots.values()) {
        const old = groups.get(slot.k);
        groups.set(slot.k, old === undefined ? { k: slot.k, a: slot.a } : { k: old.k, a: [old.a[0]! + slot.a[0]!, old.a[1]! + slot.a[1]!] });
      }
      outer.set(start, groups.asImmutable());
    }
    advance(w, max);
    for (const [start, groups] of outer) {
      if (start + SIZE_MS > w.wm) continue;
      emitted += groups.size;
      outer.remove(start);
    }
    state = outer.asImmutable();
    w.late = w.wm;
  }
  return emitted;
}

interface Columns {
  readonly sums: number[];
  readonly counts: number[];
  /** Key ids present in this window, in first-seen order. */
  readonly ids: number[];
}

function cowColumns(all: Iterable<Ev[]>): number {
  const ids = new Map<string, number>();
  let state = IMap<number, Columns>();
  const w: Watermark = { late: 0, wm: 0, op: -Infinity };
  let emitted = 0;
  for (const rows of all) {
    let max = -Infinity;
    // Columns copied for this batch (window -> writable copy).
    const writable = new Map<number, Columns>();
    let last = NaN;
    let cols: Columns | undefined;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (row.ts > max) max = row.ts;
      const start = windowOf(row.ts);
      if (start + SIZE_MS <= w.late) continue;
      if (start !== last) {
        cols = writable.get(start);
        if (cols === undefined) {
          const old = state.get(start);
          cols = old === undefined ? { sums: [], counts: [], ids: [] } : { sums: old.sums.slice(), counts: old.counts.slice(), ids: old.ids.slice() };
          writable.set(start, cols);
        }
        last = start;
      }
      let id = ids.get(row.key);
      if (id === undefined) ids.set(row.key, (id = ids.size));
      const c = cols!;
      const n = c.counts[id];
      if (n === undefined || n === 0) {
        c.ids.push(id);
        c.sums[id] = row.value;
        c.counts[id] = 1;
      } else {
        c.sums[id]! += row.value;
        c.counts[id] = n + 1;
      }
    }
    const outer = state.asMutable();
    for (const [start, c] of writable) outer.set(start, c);
    advance(w, max);
    for (const [start, c] of outer) {
      if (start + SIZE_MS > w.wm) continue;
      emitted += c.ids.length;
      outer.remove(start);
    }
    state = outer.asImmutable();
    w.late = w.wm;
  }
  return emitted;
}

function main(): void {
  const flags = parseFlags(process.argv.slice(2));
  const workload = workloadFrom(new Map([['n', flags.get('n') ?? '5m']]));
  const runs = parseCount('runs', flags.get('runs') ?? '3');
  // Batches are generated lazily (as in the bench); `source` is the generator alone, to subtract.
  const variants: [string, (b: Iterable<Ev[]>) => number][] = [
    [
      'source',
      (b) => {
        let n = 0;
        for (const rows of b) n += rows.length;
        return n;
      },
    ],
    ['mutable', mutable],
    ['perGroup', perGroup],
    ['cowColumns', cowColumns],
  ];
  for (let run = 1; run <= runs; run++) {
    for (const [name, fn] of variants) {
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      const emitted = fn(batches(workload));
      const ms = performance.now() - start;
      const cpu = process.cpuUsage(cpu0);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      console.log(`run ${run} ${name.padEnd(10)} wall ${ms.toFixed(0).padStart(6)} ms  cpu ${cpuMs.toFixed(0).padStart(6)} ms  ${((workload.n / ms) * 1000 / 1e6).toFixed(2)}M rows/s  groups emitted ${emitted}`);
    }
  }
}

main();

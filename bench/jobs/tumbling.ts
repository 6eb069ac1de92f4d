// Tumbling 60 s window, sum and count of `value` by key, watermark 10 s,
// append mode: a (window, key) row is emitted once, in the batch whose
// watermark reaches the window's end; rows whose window ended at or before the
// previous batch's watermark are dropped as late.
import { Subject, concat, filter, from, groupBy, map, merge, mergeMap, reduce, scan, tap } from 'rxjs';
import { aggRowHash, type Checksum } from '../checksum.js';
import { batches, type Ev } from '../workload.js';
import { Clock, TICK, WATERMARK_DELAY_MS, drain, floorMod, need, type Job, type LibraryModule, type RunContext, type Tick } from './common.js';

const SIZE_MS = 60_000;

interface Acc {
  sum: number;
  count: number;
}

/** An aggregation output row as the library emits it. */
export interface AggRow {
  readonly window: { readonly start: number; readonly end: number };
  readonly key: string;
  readonly sum: number;
  readonly count: number;
}

/** Feeds a batch of output rows to the checksum (what every way's consumer does). */
export function consumeAggRows(checksum: Checksum, rows: readonly AggRow[]): void {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    checksum.add(aggRowHash(r.window.start, r.window.end, r.key, r.sum, r.count));
  }
}

/** One open window of the loop: sum and count per dense key id, and the ids it holds in first-seen order. */
interface DenseWindow {
  sum: Float64Array;
  count: Int32Array;
  readonly present: number[];
}

/**
 * The hand-written loop, the fastest plain JS for this job that we could
 * write: keys get dense ids (one `Map` lookup per row, in a map that stops
 * growing once every key was seen), and an open window holds its sums and
 * counts in typed arrays indexed by id plus the list of ids it holds (the
 * window of the last row cached, as rows mostly come in time order). A
 * `Map` of key to accumulator per window was 10% slower: every window
 * rebuilt a 1,000-entry map and its objects (`bench/experiments/tumblingDense.ts`).
 * Eviction walks the (few) open windows. Like the other ways it builds its
 * output rows (one array per batch) and hands them to the consumer.
 */
export function tumblingLoop(ctx: RunContext, options: { readonly watermark: boolean } = { watermark: true }): void {
  const { checksum } = ctx;
  const ids = new Map<string, number>();
  const names: string[] = [];
  const windows = new Map<number, DenseWindow>();
  let capacity = 1024;
  let lateWm = 0;
  let wm = 0;
  let opWm = Number.NEGATIVE_INFINITY;
  // The window of the last row: consecutive rows mostly share a window.
  let curStart = Number.NaN;
  let cur: DenseWindow | undefined;
  for (const rows of batches(ctx.options)) {
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const ts = row.ts;
      if (ts > max) max = ts;
      if (!(ts >= curStart && ts < curStart + SIZE_MS)) {
        const start = ts - floorMod(ts, SIZE_MS);
        if (start + SIZE_MS <= lateWm) continue;
        cur = windows.get(start);
        if (cur === undefined) windows.set(start, (cur = { sum: new Float64Array(capacity), count: new Int32Array(capacity), present: [] }));
        curStart = start;
      }
      let id = ids.get(row.key);
      if (id === undefined) {
        id = names.length;
        ids.set(row.key, id);
        names.push(row.key);
        if (id === capacity) {
          capacity *= 2;
          for (const w of windows.values()) {
            const sum = new Float64Array(capacity);
            sum.set(w.sum);
            w.sum = sum;
            const count = new Int32Array(capacity);
            count.set(w.count);
            w.count = count;
          }
        }
      }
      const w = cur!;
      if (w.count[id] === 0) w.present.push(id);
      w.sum[id] = w.sum[id]! + row.value;
      w.count[id] = w.count[id]! + 1;
    }
    // The cached window may be evicted below (and would be late next batch).
    curStart = Number.NaN;
    if (!options.watermark) continue;
    if (max - WATERMARK_DELAY_MS > opWm) opWm = max - WATERMARK_DELAY_MS;
    if (opWm > wm) wm = opWm;
    const out: AggRow[] = [];
    for (const [start, w] of windows) {
      const end = start + SIZE_MS;
      if (end > wm) continue;
      emitWindow(out, start, w, names);
      windows.delete(start);
    }
    consumeAggRows(checksum, out);
    lateWm = wm;
  }
  if (!options.watermark) {
    // Complete mode: the final result table (every window ever seen).
    const table: AggRow[] = [];
    for (const [start, w] of windows) emitWindow(table, start, w, names);
    consumeAggRows(checksum, table);
  }
}

function emitWindow(out: AggRow[], start: number, w: DenseWindow, names: readonly string[]): void {
  const end = start + SIZE_MS;
  const { present, sum, count } = w;
  for (let k = 0; k < present.length; k++) {
    const id = present[k]!;
    out.push({ window: { start, end }, key: names[id]!, sum: sum[id]!, count: count[id]! });
  }
}

interface KeyWindows {
  readonly open: Map<number, Acc>;
  closed: AggRow[];
}

const NONE: AggRow[] = [];

/**
 * Per-row RxJS as a user writes it today: flatten the batches into rows plus
 * an end-of-batch tick (`mergeMap`), track the watermark in a `tap`, drop late
 * rows with `filter`, `groupBy` key, and in each group `scan` over the rows
 * merged with the ticks: fold rows into the key's open windows, and on a tick
 * emit (`mergeMap`) and forget the windows the watermark has passed.
 */
function tumblingRxjs(ctx: RunContext): Promise<void> {
  const clock = new Clock(WATERMARK_DELAY_MS);
  const tick$ = new Subject<Tick>();
  const items$ = from(batches(ctx.options)).pipe(
    mergeMap((rows) => concat(rows, [TICK])),
    tap({
      next: (item: Ev | Tick) => {
        if (item === TICK) {
          clock.advance();
          tick$.next(TICK);
        } else clock.see((item as Ev).ts);
      },
      complete: () => tick$.complete(),
    }),
  );
  const out$ = items$.pipe(
    filter((item): item is Ev => item !== TICK),
    filter((row) => row.ts - floorMod(row.ts, SIZE_MS) + SIZE_MS > clock.lateWm),
    groupBy((row) => row.key),
    mergeMap((group) =>
      merge(group, tick$).pipe(
        scan(
          (state: KeyWindows, item: Ev | Tick) => {
            if (item === TICK) {
              state.closed = NONE;
              for (const [start, acc] of state.open) {
                if (start + SIZE_MS > clock.wm) continue;
                if (state.closed === NONE) state.closed = [];
                state.closed.push({ window: { start, end: start + SIZE_MS }, key: group.key, sum: acc.sum, count: acc.count });
                state.open.delete(start);
              }
            } else {
              const row = item as Ev;
              const start = row.ts - floorMod(row.ts, SIZE_MS);
              const acc = state.open.get(start);
              if (acc === undefined) state.open.set(start, { sum: row.value, count: 1 });
              else {
                acc.sum += row.value;
                acc.count++;
              }
              state.closed = NONE;
            }
            return state;
          },
          { open: new Map<number, Acc>(), closed: NONE },
        ),
        mergeMap((state) => state.closed),
      ),
    ),
  );
  return drain(out$, (row) => ctx.checksum.add(aggRowHash(row.window.start, row.window.end, row.key, row.sum, row.count)));
}

/**
 * Per-row RxJS in the windowed-grouping idiom: `groupBy` window and key with a
 * duration that ends the group when the watermark passes the window's end,
 * `reduce` each group. Slower than {@link tumblingRxjs}: every group is a
 * Subject plus a duration subscription, and RxJS removes finished ones from
 * arrays (O(open groups) each).
 */
function tumblingRxjsGroupBy(ctx: RunContext): Promise<void> {
  const clock = new Clock(WATERMARK_DELAY_MS);
  const tick$ = new Subject<void>();
  const items$ = from(batches(ctx.options)).pipe(
    mergeMap((rows) => concat(rows, [TICK])),
    tap((item: Ev | Tick) => {
      if (item === TICK) {
        clock.advance();
        tick$.next();
      } else clock.see((item as Ev).ts);
    }),
  );
  const out$ = items$.pipe(
    filter((item): item is Ev => item !== TICK),
    filter((row) => row.ts - floorMod(row.ts, SIZE_MS) + SIZE_MS > clock.lateWm),
    groupBy((row) => `${row.ts - floorMod(row.ts, SIZE_MS)}|${row.key}`, {
      duration: (group) => {
        const end = Number(group.key.slice(0, group.key.indexOf('|'))) + SIZE_MS;
        return tick$.pipe(filter(() => clock.wm >= end));
      },
    }),
    mergeMap((group) => {
      const bar = group.key.indexOf('|');
      const start = Number(group.key.slice(0, bar));
      const key = group.key.slice(bar + 1);
      return group.pipe(
        reduce((acc, row) => ({ sum: acc.sum + row.value, count: acc.count + 1 }), { sum: 0, count: 0 }),
        // A group that ends because the input completed is not final (its window is still open): not emitted.
        filter(() => clock.wm >= start + SIZE_MS),
        map((acc): AggRow => ({ window: { start, end: start + SIZE_MS }, key, sum: acc.sum, count: acc.count })),
      );
    }),
  );
  return drain(out$, (row) => ctx.checksum.add(aggRowHash(row.window.start, row.window.end, row.key, row.sum, row.count)));
}

/** The library pipeline; `watermark: false` runs it without a watermark in complete mode (the scale curve). */
export function tumblingLibrary(lib: LibraryModule, options: { readonly watermark: boolean } = { watermark: true }): (ctx: RunContext) => Promise<void> {
  const { fromBatches, withWatermark, windowTumbling, outputMode, sum, count } = need(lib, ['fromBatches', 'withWatermark', 'windowTumbling', 'outputMode', 'sum', 'count']);
  return (ctx) => {
    const agg = windowTumbling({ eventTime: 'ts', size: '60 seconds', keyBy: 'key', aggregate: { sum: sum('value'), count: count() } });
    const source$ = fromBatches(batches(ctx.options));
    const { checksum } = ctx;
    if (options.watermark) {
      return drain(source$.pipe(withWatermark('ts', '10 seconds'), agg, outputMode('append')), (batch: { rows: readonly AggRow[] }) => consumeAggRows(checksum, batch.rows));
    }
    // No watermark: nothing is late and nothing is evicted, the state keeps every window (complete-mode
    // semantics). outputMode('complete') would copy the whole table into every batch (O(table) per batch,
    // quadratic over a run); the result table of the last batch (ResultBatch.table, O(1) to reach) is the
    // complete-mode result, so the curve reads that instead.
    let last: Iterable<AggRow> = [];
    return drain(source$.pipe(agg), (batch: { table: Iterable<AggRow> }) => {
      last = batch.table;
    }).then(() => {
      for (const r of last) checksum.add(aggRowHash(r.window.start, r.window.end, r.key, r.sum, r.count));
    });
  };
}

export const tumbling: Job = {
  name: 'tumbling',
  title: 'tumbling 60 s window, sum+count by key, watermark 10 s, append',
  twoSided: false,
  loop: (ctx) => tumblingLoop(ctx),
  rxjs: tumblingRxjs,
  rxjsGroupBy: tumblingRxjsGroupBy,
  library: (lib: LibraryModule) => tumblingLibrary(lib),
};

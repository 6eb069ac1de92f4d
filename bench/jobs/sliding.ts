// Sliding 10 min window every 1 min, sum and count of `value` by key,
// watermark 10 s, append mode. Each row falls into 10 windows; lateness is
// decided per window (window.end <= previous batch's watermark), so some of a
// row's windows may be late while others are not.
import { Subject, concat, filter, from, groupBy, map, merge, mergeMap, reduce, scan, tap } from 'rxjs';
import { aggRowHash } from '../checksum.js';
import { batches, type Ev } from '../workload.js';
import { Clock, TICK, WATERMARK_DELAY_MS, drain, floorMod, need, type Job, type LibraryModule, type RunContext, type Tick } from './common.js';
import { consumeAggRows, type AggRow } from './tumbling.js';

const SIZE_MS = 600_000;
const SLIDE_MS = 60_000;
const PER_ROW = SIZE_MS / SLIDE_MS;

interface Acc {
  sum: number;
  count: number;
}

/** One 1-minute pane of the loop: sum and count per dense key id, and the ids it holds. */
interface Pane {
  sum: number[];
  count: number[];
  readonly ids: number[];
}

/**
 * The hand-written loop, by panes (the fastest plain JS for this job that we
 * could write): each row is added to one partial aggregate, its key's in its
 * 1-minute pane, instead of to its 10 windows. Keys get dense ids (one `Map`
 * lookup per row); a pane holds sums and counts in arrays indexed by id (the
 * current pane cached, as rows mostly come in time order). When the watermark
 * passes a window's end, the window's 10 panes are added up per id into
 * scratch arrays and emitted; a pane is dropped with the last window holding
 * it. Lateness is per window as in Spark: a row counts in its windows that end
 * after the previous watermark, and it is late only when its latest window
 * (the one starting at its pane) has ended.
 */
function slidingLoop(ctx: RunContext): void {
  const { checksum } = ctx;
  const ids = new Map<string, number>();
  const names: string[] = [];
  const panes = new Map<number, Pane>();
  // Per-window scratch, indexed by id (count 0 = the key is not in the window yet).
  const wSum: number[] = [];
  const wCount: number[] = [];
  const wIds: number[] = [];
  let curStart = Number.NaN;
  let cur: Pane | undefined;
  let lateWm = 0;
  let wm = 0;
  let opWm = Number.NEGATIVE_INFINITY;
  for (const rows of batches(ctx.options)) {
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const ts = row.ts;
      if (ts > max) max = ts;
      if (!(ts >= curStart && ts < curStart + SLIDE_MS)) {
        const pane = ts - floorMod(ts, SLIDE_MS);
        if (pane + SIZE_MS <= lateWm) continue; // every window of the row has ended
        cur = panes.get(pane);
        if (cur === undefined) panes.set(pane, (cur = { sum: [], count: [], ids: [] }));
        curStart = pane;
      }
      let id = ids.get(row.key);
      if (id === undefined) {
        id = names.length;
        ids.set(row.key, id);
        names.push(row.key);
        wSum.push(0);
        wCount.push(0);
      }
      const p = cur!;
      while (p.count.length <= id) {
        p.count.push(0);
        p.sum.push(0);
      }
      if (p.count[id] === 0) p.ids.push(id);
      p.sum[id] = p.sum[id]! + row.value;
      p.count[id] = p.count[id]! + 1;
    }
    if (max - WATERMARK_DELAY_MS > opWm) opWm = max - WATERMARK_DELAY_MS;
    if (opWm > wm) wm = opWm;
    const out: AggRow[] = [];
    if (panes.size > 0) {
      let first = Number.POSITIVE_INFINITY;
      for (const p of panes.keys()) if (p < first) first = p;
      // Windows ending in (lateWm, wm] that hold a pane.
      const lo = lateWm - floorMod(lateWm, SLIDE_MS) - SIZE_MS + SLIDE_MS;
      for (let s = Math.max(lo, first - SIZE_MS + SLIDE_MS); s + SIZE_MS <= wm; s += SLIDE_MS) {
        for (let j = 0; j < PER_ROW; j++) {
          const p = panes.get(s + j * SLIDE_MS);
          if (p === undefined) continue;
          const pIds = p.ids;
          for (let k = 0; k < pIds.length; k++) {
            const id = pIds[k]!;
            if (wCount[id] === 0) wIds.push(id);
            wSum[id] = wSum[id]! + p.sum[id]!;
            wCount[id] = wCount[id]! + p.count[id]!;
          }
        }
        const end = s + SIZE_MS;
        for (let k = 0; k < wIds.length; k++) {
          const id = wIds[k]!;
          out.push({ window: { start: s, end }, key: names[id]!, sum: wSum[id]!, count: wCount[id]! });
          wSum[id] = 0;
          wCount[id] = 0;
        }
        wIds.length = 0;
      }
      for (const p of panes.keys()) if (p + SIZE_MS <= wm) panes.delete(p);
    }
    consumeAggRows(checksum, out);
    curStart = Number.NaN; // the cached pane may have been dropped
    lateWm = wm;
  }
}

interface KeyWindows {
  readonly open: Map<number, Acc>;
  closed: AggRow[];
}

const NONE: AggRow[] = [];

/**
 * Per-row RxJS, as the tumbling job: rows and ticks, watermark in a `tap`,
 * `groupBy` key, a `scan` per key adding each row to its non-late windows and
 * emitting the finished ones on each tick.
 */
function slidingRxjs(ctx: RunContext): Promise<void> {
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
    // A row whose latest window is late has only late windows.
    filter((row) => row.ts - floorMod(row.ts, SLIDE_MS) + SIZE_MS > clock.lateWm),
    groupBy((row) => row.key),
    mergeMap((group) =>
      merge(group, tick$).pipe(
        scan(
          (state: KeyWindows, item: Ev | Tick) => {
            state.closed = NONE;
            if (item === TICK) {
              for (const [start, acc] of state.open) {
                if (start + SIZE_MS > clock.wm) continue;
                if (state.closed === NONE) state.closed = [];
                state.closed.push({ window: { start, end: start + SIZE_MS }, key: group.key, sum: acc.sum, count: acc.count });
                state.open.delete(start);
              }
              return state;
            }
            const row = item as Ev;
            const lastStart = row.ts - floorMod(row.ts, SLIDE_MS);
            for (let j = 0; j < PER_ROW; j++) {
              const start = lastStart - j * SLIDE_MS;
              if (start + SIZE_MS <= clock.lateWm) break;
              const acc = state.open.get(start);
              if (acc === undefined) state.open.set(start, { sum: row.value, count: 1 });
              else {
                acc.sum += row.value;
                acc.count++;
              }
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
 * Per-row RxJS in the windowed-grouping idiom: explode each row into its
 * windows (`mergeMap`), drop late ones (`filter`), `groupBy` window and key
 * with a duration that ends the group when the watermark passes the window's
 * end, `reduce` each group. Much slower than {@link slidingRxjs}: every group
 * is a Subject plus a duration subscription, and RxJS removes finished ones
 * from arrays (O(open groups) each).
 */
function slidingRxjsGroupBy(ctx: RunContext): Promise<void> {
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
    mergeMap((row) => {
      const lastStart = row.ts - floorMod(row.ts, SLIDE_MS);
      const out: { start: number; key: string; value: number }[] = [];
      for (let j = 0; j < PER_ROW; j++) out.push({ start: lastStart - j * SLIDE_MS, key: row.key, value: row.value });
      return out;
    }),
    filter((w) => w.start + SIZE_MS > clock.lateWm),
    groupBy((w) => `${w.start}|${w.key}`, {
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
        reduce((acc, w) => ({ sum: acc.sum + w.value, count: acc.count + 1 }), { sum: 0, count: 0 }),
        // A group that ends because the input completed is not final (its window is still open): not emitted.
        filter(() => clock.wm >= start + SIZE_MS),
        map((acc): AggRow => ({ window: { start, end: start + SIZE_MS }, key, sum: acc.sum, count: acc.count })),
      );
    }),
  );
  return drain(out$, (row) => ctx.checksum.add(aggRowHash(row.window.start, row.window.end, row.key, row.sum, row.count)));
}

function slidingLibrary(lib: LibraryModule): (ctx: RunContext) => Promise<void> {
  const { fromBatches, withWatermark, windowSliding, outputMode, sum, count } = need(lib, ['fromBatches', 'withWatermark', 'windowSliding', 'outputMode', 'sum', 'count']);
  return (ctx) => {
    const { checksum } = ctx;
    const out$ = fromBatches(batches(ctx.options)).pipe(
      withWatermark('ts', '10 seconds'),
      windowSliding({ eventTime: 'ts', size: '10 minutes', slide: '1 minute', keyBy: 'key', aggregate: { sum: sum('value'), count: count() } }),
      outputMode('append'),
    );
    return drain(out$, (batch: { rows: readonly AggRow[] }) => consumeAggRows(checksum, batch.rows));
  };
}

export const sliding: Job = {
  name: 'sliding',
  title: 'sliding 10 min window every 1 min, sum+count by key, watermark 10 s, append',
  twoSided: false,
  loop: slidingLoop,
  rxjs: slidingRxjs,
  rxjsGroupBy: slidingRxjsGroupBy,
  library: slidingLibrary,
};

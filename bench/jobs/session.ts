// Session window with a 30 s gap, sum and count of `value` by key, watermark
// 10 s, append mode. Each row opens [ts, ts + gap); sessions of a key that
// overlap or touch merge; a row is late when ts + gap <= the previous batch's
// watermark; a session is emitted (and removed) once its end <= the watermark.
import { Subject, concat, filter, from, groupBy, merge, mergeMap, scan, tap } from 'rxjs';
import { aggRowHash } from '../checksum.js';
import { batches, type Ev } from '../workload.js';
import { Clock, TICK, WATERMARK_DELAY_MS, drain, need, type Job, type LibraryModule, type RunContext, type Tick } from './common.js';
import { consumeAggRows, type AggRow } from './tumbling.js';

export const GAP_MS = 30_000;

/** A session of the hand-written loop. */
export interface Session {
  start: number;
  end: number;
  sum: number;
  count: number;
}

/**
 * Adds [ts, ts + gap) to a key's sessions (sorted by start, pairwise neither
 * overlapping nor touching, hence also sorted by end), merging every session
 * it overlaps or touches.
 */
export function addToSessions(list: Session[], ts: number, value: number): void {
  const end = ts + GAP_MS;
  let i = 0;
  while (i < list.length && list[i]!.end < ts) i++;
  const s = list[i];
  if (s === undefined || s.start > end) {
    list.splice(i, 0, { start: ts, end, sum: value, count: 1 });
    return;
  }
  if (ts < s.start) s.start = ts;
  if (end > s.end) s.end = end;
  s.sum += value;
  s.count++;
  while (i + 1 < list.length && list[i + 1]!.start <= s.end) {
    const next = list[i + 1]!;
    if (next.end > s.end) s.end = next.end;
    s.sum += next.sum;
    s.count += next.count;
    list.splice(i + 1, 1);
  }
}

/** The hand-written loop: Map key -> sorted session list; eviction pops finished sessions off each list's front. */
function sessionLoop(ctx: RunContext): void {
  const { checksum } = ctx;
  const byKey = new Map<string, Session[]>();
  let lateWm = 0;
  let wm = 0;
  let opWm = Number.NEGATIVE_INFINITY;
  for (const rows of batches(ctx.options)) {
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const ts = row.ts;
      if (ts > max) max = ts;
      if (ts + GAP_MS <= lateWm) continue;
      const list = byKey.get(row.key);
      if (list === undefined) byKey.set(row.key, [{ start: ts, end: ts + GAP_MS, sum: row.value, count: 1 }]);
      else addToSessions(list, ts, row.value);
    }
    if (max - WATERMARK_DELAY_MS > opWm) opWm = max - WATERMARK_DELAY_MS;
    if (opWm > wm) wm = opWm;
    const out: AggRow[] = [];
    for (const [key, list] of byKey) {
      let n = 0;
      while (n < list.length && list[n]!.end <= wm) {
        const s = list[n]!;
        out.push({ window: { start: s.start, end: s.end }, key, sum: s.sum, count: s.count });
        n++;
      }
      if (n === list.length) byKey.delete(key);
      else if (n > 0) list.splice(0, n);
    }
    consumeAggRows(checksum, out);
    lateWm = wm;
  }
}

interface KeyState {
  readonly sessions: Session[];
  closed: AggRow[];
}

const NONE: readonly AggRow[] = [];

/**
 * Per-row RxJS: drop late rows with `filter`, `groupBy` key, and in each group
 * `scan` over the rows merged with the end-of-batch ticks, keeping the key's
 * sessions and emitting the finished ones on each tick.
 */
function sessionRxjs(ctx: RunContext): Promise<void> {
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
      // The per-key scans merge the ticks: end them with the input.
      complete: () => tick$.complete(),
    }),
  );
  const out$ = items$.pipe(
    filter((item): item is Ev => item !== TICK),
    filter((row) => row.ts + GAP_MS > clock.lateWm),
    groupBy((row) => row.key),
    mergeMap((group) =>
      merge(group, tick$).pipe(
        scan(
          (state: KeyState, item: Ev | Tick) => {
            if (item === TICK) {
              const closed: AggRow[] = [];
              while (state.sessions.length > 0 && state.sessions[0]!.end <= clock.wm) {
                const s = state.sessions.shift()!;
                closed.push({ window: { start: s.start, end: s.end }, key: group.key, sum: s.sum, count: s.count });
              }
              state.closed = closed;
            } else {
              addToSessions(state.sessions, (item as Ev).ts, (item as Ev).value);
              state.closed = NONE as AggRow[];
            }
            return state;
          },
          { sessions: [], closed: NONE as AggRow[] },
        ),
        mergeMap((state) => state.closed),
      ),
    ),
  );
  return drain(out$, (row) => ctx.checksum.add(aggRowHash(row.window.start, row.window.end, row.key, row.sum, row.count)));
}

function sessionLibrary(lib: LibraryModule): (ctx: RunContext) => Promise<void> {
  const { fromBatches, withWatermark, windowSession, outputMode, sum, count } = need(lib, ['fromBatches', 'withWatermark', 'windowSession', 'outputMode', 'sum', 'count']);
  return (ctx) => {
    const { checksum } = ctx;
    const out$ = fromBatches(batches(ctx.options)).pipe(
      withWatermark('ts', '10 seconds'),
      windowSession({ eventTime: 'ts', gap: '30 seconds', keyBy: 'key', aggregate: { sum: sum('value'), count: count() } }),
      outputMode('append'),
    );
    return drain(out$, (batch: { rows: readonly AggRow[] }) => consumeAggRows(checksum, batch.rows));
  };
}

export const session: Job = {
  name: 'session',
  title: 'session window, 30 s gap, sum+count by key, watermark 10 s, append',
  twoSided: false,
  loop: sessionLoop,
  rxjs: sessionRxjs,
  library: sessionLibrary,
};

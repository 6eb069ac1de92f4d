// dropDuplicates on (key, ts) with a 10 s watermark on ts: the first row of
// each (key, ts) is emitted, later ones dropped; rows with ts <= the previous
// batch's watermark are dropped as late; a key is forgotten once the
// watermark reaches its ts (it can no longer recur without being late).
import { concat, filter, from, map, mergeMap, scan, tap } from 'rxjs';
import { eventHash, type Checksum } from '../checksum.js';
import { batches, type Ev } from '../workload.js';
import { Clock, TICK, WATERMARK_DELAY_MS, drain, need, type Job, type LibraryModule, type RunContext, type Tick } from './common.js';

const BUCKET_MS = 1_000;

function consumeEvents(checksum: Checksum, rows: readonly Ev[]): void {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    checksum.add(eventHash(r.ts, r.key, r.value));
  }
}

/**
 * The hand-written loop: state bucketed by second, Map second -> Map ts ->
 * keys seen at that ts (the current second's map cached: rows mostly come in
 * time order); eviction drops whole buckets below the watermark and trims the
 * one it falls into.
 */
function dedupLoop(ctx: RunContext): void {
  const { checksum } = ctx;
  const buckets = new Map<number, Map<number, string[]>>();
  let lateWm = 0;
  let wm = 0;
  let opWm = Number.NEGATIVE_INFINITY;
  // The second of the last row and its map: consecutive rows mostly share it.
  let lastB = Number.NaN;
  let byTs: Map<number, string[]> | undefined;
  for (const rows of batches(ctx.options)) {
    lastB = Number.NaN; // its bucket may have been dropped
    const out: Ev[] = [];
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const ts = row.ts;
      if (ts > max) max = ts;
      if (ts <= lateWm) continue;
      const b = Math.floor(ts / BUCKET_MS);
      if (b !== lastB) {
        byTs = buckets.get(b);
        if (byTs === undefined) buckets.set(b, (byTs = new Map()));
        lastB = b;
      }
      const seen = byTs!.get(ts);
      if (seen === undefined) byTs!.set(ts, [row.key]);
      else if (seen.includes(row.key)) continue;
      else seen.push(row.key);
      out.push(row);
    }
    consumeEvents(checksum, out);
    if (max - WATERMARK_DELAY_MS > opWm) opWm = max - WATERMARK_DELAY_MS;
    if (opWm > wm) wm = opWm;
    for (const [b, byTs] of buckets) {
      if ((b + 1) * BUCKET_MS - 1 <= wm) buckets.delete(b);
      else if (b * BUCKET_MS <= wm) for (const ts of byTs.keys()) if (ts <= wm) byTs.delete(ts);
    }
    lateWm = wm;
  }
}

interface DedupState {
  readonly seen: Map<string, number>;
  emit: Ev | undefined;
}

/**
 * Per-row RxJS: a `scan` keeps a Map of `key|ts` -> ts (evicted on each
 * end-of-batch tick), `filter` passes first occurrences; late rows are
 * filtered before it.
 */
function dedupRxjs(ctx: RunContext): Promise<void> {
  const clock = new Clock(WATERMARK_DELAY_MS);
  const out$ = from(batches(ctx.options)).pipe(
    mergeMap((rows) => concat(rows, [TICK])),
    tap((item: Ev | Tick) => {
      if (item === TICK) clock.advance();
      else clock.see((item as Ev).ts);
    }),
    filter((item) => item === TICK || (item as Ev).ts > clock.lateWm),
    scan(
      (state: DedupState, item: Ev | Tick) => {
        state.emit = undefined;
        if (item === TICK) {
          for (const [k, ts] of state.seen) if (ts <= clock.wm) state.seen.delete(k);
          return state;
        }
        const row = item as Ev;
        const k = `${row.key}|${row.ts}`;
        if (!state.seen.has(k)) {
          state.seen.set(k, row.ts);
          state.emit = row;
        }
        return state;
      },
      { seen: new Map<string, number>(), emit: undefined },
    ),
    filter((state) => state.emit !== undefined),
    map((state) => state.emit!),
  );
  return drain(out$, (row) => ctx.checksum.add(eventHash(row.ts, row.key, row.value)));
}

function dedupLibrary(lib: LibraryModule): (ctx: RunContext) => Promise<void> {
  const { fromBatches, withWatermark, dropDuplicates } = need(lib, ['fromBatches', 'withWatermark', 'dropDuplicates']);
  return (ctx) => {
    const { checksum } = ctx;
    const out$ = fromBatches(batches(ctx.options)).pipe(withWatermark('ts', '10 seconds'), dropDuplicates(['key', 'ts']));
    return drain(out$, (batch: { rows: readonly Ev[] }) => consumeEvents(checksum, batch.rows));
  };
}

export const dedup: Job = {
  name: 'dedup',
  title: 'dropDuplicates(key, ts), watermark 10 s',
  twoSided: false,
  loop: dedupLoop,
  rxjs: dedupRxjs,
  library: dedupLibrary,
};

// Stream-stream inner join on `key` with 10 s watermarks on both sides and a
// 1-minute time range: left.ts - 1 min <= right.ts <= left.ts. Batches are
// aligned (batch b of both sides is one micro-batch: left rows probe the right
// buffer, then right rows probe the left buffer including this batch's left
// rows, then one watermark step). Rows with ts <= the previous global
// watermark (min of both sides) are late. State cleanup as Spark derives it:
// left rows go once ts <= W - 1 ms, right rows once ts <= W - 1 min - 1 ms.
// (A left row with ts <= W - 1 could only match a right row with ts <= W - 1,
// which is late; likewise for right rows: cleanup bounds memory, it decides no
// output.)
import { concat, connectable, filter, from, groupBy, map, merge, mergeMap, scan, Subject, tap, type Observable } from 'rxjs';
import { pairHash, type Checksum } from '../checksum.js';
import { pairedBatches, type Ev } from '../workload.js';
import { TICK, WATERMARK_DELAY_MS, drain, need, type Job, type LibraryModule, type RunContext, type Tick } from './common.js';

const RANGE_MS = 60_000;

/** Two-input watermark with Spark's min policy (each input's value never below 0). */
class JoinClock {
  lateWm = 0;
  wm = 0;
  private opLeft = Number.NEGATIVE_INFINITY;
  private opRight = Number.NEGATIVE_INFINITY;
  maxLeft = Number.NEGATIVE_INFINITY;
  maxRight = Number.NEGATIVE_INFINITY;

  advance(): void {
    if (this.maxLeft - WATERMARK_DELAY_MS > this.opLeft) this.opLeft = this.maxLeft - WATERMARK_DELAY_MS;
    if (this.maxRight - WATERMARK_DELAY_MS > this.opRight) this.opRight = this.maxRight - WATERMARK_DELAY_MS;
    const chosen = Math.min(Math.max(this.opLeft, 0), Math.max(this.opRight, 0));
    if (chosen > this.wm) this.wm = chosen;
    this.lateWm = this.wm;
    this.maxLeft = Number.NEGATIVE_INFINITY;
    this.maxRight = Number.NEGATIVE_INFINITY;
  }
}

/**
 * Drops buffered rows with ts <= `stateWm` from the front of each key's list
 * (arrival order, so mostly time order): a row behind a newer one that is
 * still kept stays a little longer. That never changes the output: a row past
 * its state watermark can match no row that is not late (see the file
 * comment), so eviction only bounds memory, and the probes' range check does
 * the rest.
 */
function evict(buffer: Map<string, Ev[]>, stateWm: number): void {
  for (const [key, list] of buffer) {
    let p = 0;
    while (p < list.length && list[p]!.ts <= stateWm) p++;
    if (p === list.length) buffer.delete(key);
    else if (p > 0) list.splice(0, p);
  }
}

function consumePairs(checksum: Checksum, rows: readonly Pair[]): void {
  for (let i = 0; i < rows.length; i++) {
    const p = rows[i]!;
    checksum.add(pairHash(p.left.ts, p.left.key, p.left.value, p.right.ts, p.right.value));
  }
}

/**
 * The hand-written loop: per side, Map key -> rows in arrival order; a probe
 * scans the other side's rows of the key with the range check; after each
 * batch both buffers drop what their state watermark expires (each key's list
 * filtered in place).
 */
function joinLoop(ctx: RunContext): void {
  const { checksum } = ctx;
  const left = new Map<string, Ev[]>();
  const right = new Map<string, Ev[]>();
  const clock = new JoinClock();
  for (const [leftRows, rightRows] of pairedBatches(ctx.options)) {
    const out: Pair[] = [];
    const lateWm = clock.lateWm;
    for (let i = 0; i < leftRows.length; i++) {
      const l = leftRows[i]!;
      const ts = l.ts;
      if (ts > clock.maxLeft) clock.maxLeft = ts;
      if (ts <= lateWm) continue;
      const lo = ts - RANGE_MS;
      const candidates = right.get(l.key);
      if (candidates !== undefined) {
        for (let j = 0; j < candidates.length; j++) {
          const r = candidates[j]!;
          if (r.ts >= lo && r.ts <= ts) out.push({ left: l, right: r });
        }
      }
      const list = left.get(l.key);
      if (list === undefined) left.set(l.key, [l]);
      else list.push(l);
    }
    for (let i = 0; i < rightRows.length; i++) {
      const r = rightRows[i]!;
      const ts = r.ts;
      if (ts > clock.maxRight) clock.maxRight = ts;
      if (ts <= lateWm) continue;
      const hi = ts + RANGE_MS;
      const candidates = left.get(r.key);
      if (candidates !== undefined) {
        for (let j = 0; j < candidates.length; j++) {
          const l = candidates[j]!;
          if (l.ts >= ts && l.ts <= hi) out.push({ left: l, right: r });
        }
      }
      const list = right.get(r.key);
      if (list === undefined) right.set(r.key, [r]);
      else list.push(r);
    }
    consumePairs(checksum, out);
    clock.advance();
    evict(left, clock.wm - 1);
    evict(right, clock.wm - RANGE_MS - 1);
  }
}

interface Tagged {
  readonly left: boolean;
  readonly row: Ev;
}

interface Pair {
  readonly left: Ev;
  readonly right: Ev;
}

interface KeyBuffers {
  left: Ev[];
  right: Ev[];
  out: Pair[];
}

const NONE: Pair[] = [];

/**
 * Per-row RxJS: tag each row with its side (`map`), track the watermark in a
 * `tap`, drop late rows (`filter`), `groupBy` key, and in each group `scan`
 * over the rows merged with the end-of-batch ticks: probe the other side's
 * buffer, buffer the row, evict on ticks.
 */
function joinRxjs(ctx: RunContext): Promise<void> {
  const clock = new JoinClock();
  const tick$ = new Subject<Tick>();
  const items$ = from(pairedBatches(ctx.options)).pipe(
    mergeMap(([l, r]) =>
      concat(
        from(l).pipe(map((row): Tagged => ({ left: true, row }))),
        from(r).pipe(map((row): Tagged => ({ left: false, row }))),
        [TICK],
      ),
    ),
    tap({
      next: (item: Tagged | Tick) => {
        if (item === TICK) {
          clock.advance();
          tick$.next(TICK);
        } else {
          const t = item as Tagged;
          if (t.left) {
            if (t.row.ts > clock.maxLeft) clock.maxLeft = t.row.ts;
          } else if (t.row.ts > clock.maxRight) clock.maxRight = t.row.ts;
        }
      },
      // The per-key scans merge the ticks: end them with the input.
      complete: () => tick$.complete(),
    }),
  );
  const out$ = items$.pipe(
    filter((item): item is Tagged => item !== TICK),
    filter((t) => t.row.ts > clock.lateWm),
    groupBy((t) => t.row.key),
    mergeMap((group) =>
      merge(group, tick$).pipe(
        scan(
          (state: KeyBuffers, item: Tagged | Tick) => {
            if (item === TICK) {
              state.left = state.left.filter((l) => l.ts > clock.wm - 1);
              state.right = state.right.filter((r) => r.ts > clock.wm - RANGE_MS - 1);
              state.out = NONE;
            } else {
              const { left, row } = item as Tagged;
              if (left) {
                state.out = state.right.filter((r) => r.ts >= row.ts - RANGE_MS && r.ts <= row.ts).map((r) => ({ left: row, right: r }));
                state.left.push(row);
              } else {
                state.out = state.left.filter((l) => row.ts >= l.ts - RANGE_MS && row.ts <= l.ts).map((l) => ({ left: l, right: row }));
                state.right.push(row);
              }
            }
            return state;
          },
          { left: [], right: [], out: NONE },
        ),
        mergeMap((state) => state.out),
      ),
    ),
  );
  return drain(out$, (p) => ctx.checksum.add(pairHash(p.left.ts, p.left.key, p.left.value, p.right.ts, p.right.value)));
}

function joinLibrary(lib: LibraryModule): (ctx: RunContext) => Promise<void> {
  const { withWatermark, streamJoin } = need(lib, ['withWatermark', 'streamJoin']);
  return (ctx) => {
    const { checksum } = ctx;
    // One generator feeds both sides in step: batch b of the left, then batch b of the right.
    const pairs = connectable(from(pairedBatches(ctx.options)));
    const left$ = pairs.pipe(map(([rows], batchId) => ({ batchId, rows, watermark: 0 })));
    const right$ = pairs.pipe(map(([, rows], batchId) => ({ batchId, rows, watermark: 0 })));
    const out$: Observable<{ rows: readonly Pair[] }> = left$.pipe(
      withWatermark('ts', '10 seconds'),
      streamJoin(right$.pipe(withWatermark('ts', '10 seconds')), {
        on: 'key',
        type: 'inner',
        timeRange: { leftTime: 'ts', rightTime: 'ts', lower: -RANGE_MS, upper: 0 },
        aligned: true,
      }),
    );
    const done = drain(out$, (batch: { rows: readonly Pair[] }) => consumePairs(checksum, batch.rows));
    pairs.connect();
    return done;
  };
}

export const join: Job = {
  name: 'join',
  title: 'stream-stream inner join on key, watermarks 10 s, left.ts - 1 min <= right.ts <= left.ts',
  twoSided: true,
  loop: joinLoop,
  rxjs: joinRxjs,
  library: joinLibrary,
};

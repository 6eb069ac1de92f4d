import { Map as IMap } from 'immutable';
import type { CompiledAggregates } from './Aggregator.js';
import type { CompiledKey } from './groupKey.js';
import type { TimeAccess } from './fixedWindowEngine.js';
import { rowFolder, type RowFolder } from './rowFolder.js';
import { mergeSessionLists, sessionsFromSortedEvents, type Session } from '../window/session.js';

/** A session of one key: `[start, end)` and one accumulator per aggregate. */
export type SessionState = Session<unknown[]>;

/** One key's sessions, sorted by start; they neither overlap nor touch, so their ends ascend too. */
export interface KeySessions {
  readonly k: unknown;
  readonly s: readonly SessionState[];
}

/** The state of a session-window aggregation. */
export interface SessionAggState {
  readonly keys: IMap<unknown, KeySessions>;
  readonly lateWatermarkMs: number;
}

/** What one batch did. */
export interface SessionStepResult<T> {
  readonly state: SessionAggState;
  /** Sessions created or changed by this batch (after merging), with their key. */
  readonly updatedKeys: unknown[];
  readonly updated: SessionState[];
  /** Sessions closed by the watermark, with their key. */
  readonly evictedKeys: unknown[];
  readonly evicted: SessionState[];
  /** Canonical keys whose entry changed (written or removed). */
  readonly changed: unknown[];
  readonly late: T[];
  readonly invalid: number[];
  /** Rows discarded because their gap was null, not a number, or not positive (Spark drops them silently). */
  readonly discardedGap: number;
}

interface KeyBuffer<T> {
  readonly k: unknown;
  times: number[];
  ends: number[];
  rows: T[];
  sorted: boolean;
}

/**
 * A min-heap of (session end, canonical key) so that eviction visits only the
 * keys whose earliest session ends at or before the watermark. Entries may be
 * stale (the key's sessions changed since); they are checked when popped.
 */
class EndHeap {
  private ends: number[] = [];
  private keys: unknown[] = [];

  get size(): number {
    return this.ends.length;
  }

  peek(): number {
    return this.ends.length === 0 ? Number.POSITIVE_INFINITY : this.ends[0]!;
  }

  push(end: number, key: unknown): void {
    const e = this.ends;
    const k = this.keys;
    let i = e.length;
    e.push(end);
    k.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (e[p]! <= end) break;
      e[i] = e[p]!;
      k[i] = k[p];
      i = p;
    }
    e[i] = end;
    k[i] = key;
  }

  pop(): unknown {
    const e = this.ends;
    const k = this.keys;
    const top = k[0];
    const lastEnd = e.pop()!;
    const lastKey = k.pop();
    const n = e.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && e[r]! < e[l]! ? r : l;
        if (e[c]! >= lastEnd) break;
        e[i] = e[c]!;
        k[i] = k[c];
        i = c;
      }
      e[i] = lastEnd;
      k[i] = lastKey;
    }
    return top;
  }
}

/** The engine behind `windowSession`. */
export class SessionEngine<T> {
  state: SessionAggState;
  totalSessions = 0;
  private readonly heap = new EndHeap();

  constructor(
    private readonly aggs: CompiledAggregates<T>,
    private readonly key: CompiledKey<T>,
    /** The gap of a row in ms: a constant, or a function (NaN / <= 0 discards the row). */
    private readonly gapMs: number | ((row: T) => number),
    initial?: SessionAggState,
  ) {
    this.folder = rowFolder(aggs.aggregators);
    this.state = initial ?? { keys: IMap<unknown, KeySessions>(), lateWatermarkMs: 0 };
    for (const [gk, ks] of this.state.keys) {
      this.totalSessions += ks.s.length;
      if (ks.s.length > 0) this.heap.push(ks.s[0]!.end, gk);
    }
  }

  private readonly newAcc = (): unknown[] => {
    const { aggregators } = this.aggs;
    const a = new Array<unknown>(aggregators.length);
    for (let j = 0; j < aggregators.length; j++) a[j] = aggregators[j]!.init();
    return a;
  };

  private readonly folder: RowFolder<T>;

  private readonly addRow = (a: unknown[], row: T): unknown[] => {
    this.folder(a, row);
    return a;
  };

  private readonly mergeAcc = (x: unknown[], y: unknown[]): unknown[] => {
    const { aggregators } = this.aggs;
    const out = new Array<unknown>(aggregators.length);
    for (let j = 0; j < aggregators.length; j++) out[j] = aggregators[j]!.merge(x[j] as never, y[j] as never);
    return out;
  };

  step(rows: readonly T[], time: TimeAccess<T>, lateFiltering: boolean, evictWatermarkMs: number | undefined, nextLateWatermarkMs: number, onInvalid: (row: T, index: number) => void): SessionStepResult<T> {
    const key = this.key;
    const keyField = key.kind === 'field' ? key.fields[0]! : undefined;
    const lateWm = this.state.lateWatermarkMs;
    const gap = this.gapMs;
    const staticGap = typeof gap === 'number' ? gap : Number.NaN;
    const late: T[] = [];
    const invalid: number[] = [];
    let discardedGap = 0;
    const buffers = new Map<unknown, KeyBuffer<T>>();

    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const t = time.ms(row);
      if (t !== t) {
        onInvalid(row, i);
        invalid.push(i);
        continue;
      }
      const g = typeof gap === 'number' ? staticGap : gap(row);
      if (!(g > 0)) {
        discardedGap++;
        continue;
      }
      const end = t + g;
      if (lateFiltering && end <= lateWm) {
        late.push(row);
        continue;
      }
      let k: unknown;
      let gk: unknown;
      if (keyField !== undefined) {
        k = (row as Record<string, unknown>)[keyField];
        gk = typeof k === 'object' && k !== null ? key.canonical(k) : k;
      } else {
        k = key.raw(row);
        gk = key.canonical(k);
      }
      let buf = buffers.get(gk);
      if (buf === undefined) buffers.set(gk, (buf = { k, times: [], ends: [], rows: [], sorted: true }));
      const n = buf.times.length;
      if (n > 0 && buf.times[n - 1]! > t) buf.sorted = false;
      buf.times.push(t);
      buf.ends.push(end);
      buf.rows.push(row);
    }

    const updatedKeys: unknown[] = [];
    const updated: SessionState[] = [];
    const changed: unknown[] = [];
    let keys = this.state.keys;
    if (buffers.size > 0) {
      const m = keys.asMutable();
      for (const [gk, buf] of buffers) {
        if (!buf.sorted) sortBuffer(buf);
        // New sessions from this batch's events (fresh accumulators, so add may mutate them).
        const fresh = sessionsFromSortedEvents(buf.times, buf.ends, buf.rows, this.newAcc, this.addRow);
        const existing = m.get(gk);
        const merged = existing === undefined ? fresh : mergeSessionLists(existing.s, fresh, this.mergeAcc);
        const before = existing?.s.length ?? 0;
        this.totalSessions += merged.length - before;
        m.set(gk, { k: existing?.k ?? buf.k, s: merged });
        changed.push(gk);
        const old = existing?.s;
        for (const s of merged) {
          if (old === undefined || !old.includes(s)) {
            updatedKeys.push(existing?.k ?? buf.k);
            updated.push(s);
          }
        }
        if (existing === undefined || merged[0]!.end !== existing.s[0]?.end) this.heap.push(merged[0]!.end, gk);
      }
      keys = m.asImmutable();
    }

    const evictedKeys: unknown[] = [];
    const evicted: SessionState[] = [];
    if (evictWatermarkMs !== undefined && this.heap.peek() <= evictWatermarkMs) {
      const m = keys.asMutable();
      while (this.heap.peek() <= evictWatermarkMs) {
        const gk = this.heap.pop();
        const ks = m.get(gk);
        if (ks === undefined || ks.s.length === 0 || ks.s[0]!.end > evictWatermarkMs) continue;
        let n = 0;
        while (n < ks.s.length && ks.s[n]!.end <= evictWatermarkMs) {
          evictedKeys.push(ks.k);
          evicted.push(ks.s[n]!);
          n++;
        }
        this.totalSessions -= n;
        changed.push(gk);
        if (n === ks.s.length) m.remove(gk);
        else {
          const rest = ks.s.slice(n);
          m.set(gk, { k: ks.k, s: rest });
          this.heap.push(rest[0]!.end, gk);
        }
      }
      keys = m.asImmutable();
    }
    this.state = { keys, lateWatermarkMs: nextLateWatermarkMs };
    return { state: this.state, updatedKeys, updated, evictedKeys, evicted, changed, late, invalid, discardedGap };
  }

}

function sortBuffer<T>(buf: KeyBuffer<T>): void {
  const idx = buf.times.map((_, i) => i);
  idx.sort((x, y) => buf.times[x]! - buf.times[y]! || x - y);
  buf.times = idx.map((i) => buf.times[i]!);
  buf.ends = idx.map((i) => buf.ends[i]!);
  buf.rows = idx.map((i) => buf.rows[i]!);
}

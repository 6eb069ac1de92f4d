import { Map as IMap } from 'immutable';
import type { CompiledAggregates } from './Aggregator.js';
import { needsCanonical, type CompiledKey } from './groupKey.js';
import type { TimeAccess } from './fixedWindowEngine.js';
import { accumulatorFactory, rowFolder, type RowFolder } from './rowFolder.js';
import type { Session } from '../window/session.js';
import { MinHeap } from '../internal/MinHeap.js';
import { MAX_EVENT_TIME_MS } from '../time/eventTime.js';
import { InvariantViolationError } from '../errors/index.js';

/** A session in a snapshot: `[start, end)` and one accumulator per aggregate. Never changed. */
export type SessionState = Session<unknown[]>;

/** One key's sessions in a snapshot, sorted by start; they neither overlap nor touch, so their ends ascend too. */
export interface KeySessions {
  readonly k: unknown;
  readonly s: readonly SessionState[];
}

/** A snapshot of a session-window aggregation (what checkpoints store). */
export interface SessionAggState {
  readonly keys: IMap<unknown, KeySessions>;
  readonly lateWatermarkMs: number;
  /**
   * Set on a state restored from a checkpoint (`sessionCodec`): `keys` is
   * then a plain `Map` (read through the `get` / `forEach` / `values` /
   * `size` it shares with Immutable's map), which the one engine created from
   * the state reads into its working state without taking a snapshot of it.
   */
  readonly owned?: { adopted: boolean };
}

/**
 * A working session. Its value is `merge(base, delta)`: `base` is an
 * accumulator array a snapshot (or a merge that may share parts with one) can
 * hold, never written; `delta` is owned by the engine and rows are folded into
 * it in place. A session no snapshot has seen has only a `delta`.
 */
export interface WorkingSession {
  start: number;
  end: number;
  base: unknown[] | undefined;
  delta: unknown[] | undefined;
  /** The batch that last listed it as written. */
  listed: number;
  /** Merged into another session (no longer in the state). */
  dead: boolean;
}

interface KeyEntry {
  readonly gk: unknown;
  readonly k: unknown;
  readonly s: WorkingSession[];
  /**
   * The key's last session (`s[s.length - 1]`), kept in the entry so that the
   * common row (in event-time order, joining or following its key's last
   * session) reaches it without loading the list.
   */
  last: WorkingSession | undefined;
  /** The smallest session end pushed to the heap for this key and not popped yet. */
  heapEnd: number;
  /** The batch that last touched the key. */
  touched: number;
}

/** What one batch did. */
export interface SessionStepResult<T> {
  /** Whether the written sessions and changed keys are listed (see {@link SessionEngine.trackUpdates}). */
  readonly tracked: boolean;
  /** Sessions created or changed by this batch (after merging). */
  readonly numUpdated: number;
  /** Sessions created or changed by this batch (after merging), with their key's raw value (when tracked). */
  readonly updatedKeys: unknown[];
  readonly updated: WorkingSession[];
  /** Sessions closed by the watermark, with their key's raw value. */
  readonly evictedKeys: unknown[];
  readonly evicted: WorkingSession[];
  /** Canonical keys whose entry changed (written or removed), and their raw keys (when tracked). */
  readonly changed: unknown[];
  readonly changedRaw: unknown[];
  readonly late: T[];
  readonly invalid: number[];
  /** Rows discarded because their gap was null, not a number, or not positive (Spark drops them silently). */
  readonly discardedGap: number;
}

/**
 * The engine behind `windowSession`: like {@link FixedWindowEngine}, plain
 * working state (key -> sorted sessions) updated in place as rows arrive, and
 * an Immutable snapshot built on demand ({@link seal}), incrementally from the
 * keys the last batch touched when the batch before was sealed too.
 */
export class SessionEngine<T> {
  private readonly byKey = new Map<unknown, KeyEntry>();
  /**
   * (earliest session end, key entry): eviction visits only keys whose earliest session has ended.
   * A filing is current while its time is the entry's `heapEnd` (a removed key's entry is set to
   * `Infinity` first), so the entry itself is filed and no lookup by key is needed.
   */
  private readonly heap = new MinHeap<KeyEntry>();
  private lateWatermarkMs: number;
  totalSessions = 0;
  version = 0;
  /**
   * List the sessions and keys each batch writes (for `ResultBatch.updated`,
   * checkpoints' changed keys and incremental snapshots). An append-mode
   * aggregation without a checkpoint needs only their number.
   */
  trackUpdates = true;
  private snapshot: IMap<unknown, KeySessions>;
  private snapshotVersion = 0;
  /** Sessions the current batch wrote, counted by the row loop (read when the batch is untracked). */
  private folded = 0;
  private last: SessionStepResult<T> | undefined;
  private readonly fold: RowFolder<T>;
  private readonly newAcc: () => unknown[];

  constructor(
    private readonly aggs: CompiledAggregates<T>,
    private readonly key: CompiledKey<T>,
    /** The gap of a row in ms: a constant, or a function (NaN / <= 0 discards the row). */
    private readonly gapMs: number | ((row: T) => number),
    initial?: SessionAggState,
  ) {
    this.fold = rowFolder(aggs.aggregators);
    this.newAcc = accumulatorFactory(aggs.aggregators);
    this.lateWatermarkMs = initial?.lateWatermarkMs ?? 0;
    const owned = initial?.owned;
    if (owned !== undefined) {
      if (owned.adopted) throw new InvariantViolationError('SessionEngine: a restored state was handed to a second engine; each restored state belongs to one subscription.');
      owned.adopted = true;
    }
    const restored = initial?.keys ?? IMap<unknown, KeySessions>();
    // A restored plain map is no snapshot: the first seal builds one from the working state.
    this.snapshot = owned === undefined ? restored : IMap<unknown, KeySessions>();
    if (owned !== undefined) this.snapshotVersion = -1;
    restored.forEach((ks, gk) => {
      const s = ks.s.map((x): WorkingSession => ({ start: x.start, end: x.end, base: x.acc, delta: undefined, listed: 0, dead: false }));
      if (s.length === 0) return;
      const entry: KeyEntry = { gk, k: ks.k, s, last: s[s.length - 1], heapEnd: s[0]!.end, touched: 0 };
      this.byKey.set(gk, entry);
      this.heap.add(entry.heapEnd, entry);
      this.totalSessions += s.length;
    });
  }

  get lateWatermark(): number {
    return this.lateWatermarkMs;
  }

  /** The value of a working session: `merge(base, delta)`. */
  valueOf(s: WorkingSession): unknown[] {
    if (s.base === undefined) return s.delta ?? this.newAcc();
    if (s.delta === undefined) return s.base;
    const { aggregators } = this.aggs;
    const out = new Array<unknown>(aggregators.length);
    for (let j = 0; j < aggregators.length; j++) out[j] = aggregators[j]!.merge(s.base[j] as never, s.delta[j] as never);
    return out;
  }

  /** A key's sessions as a snapshot would hold them, without freezing the working ones (for a checkpoint reading the working state). */
  private sessionsOf(entry: KeyEntry): KeySessions {
    const s: SessionState[] = new Array(entry.s.length);
    for (let i = 0; i < entry.s.length; i++) {
      const w = entry.s[i]!;
      s[i] = { start: w.start, end: w.end, acc: this.valueOf(w) };
    }
    return { k: entry.k, s };
  }

  /**
   * The working state after the last batch, read through the same
   * `keys.get(key)` / `keys.values()` as a snapshot (each key's sessions
   * built when read): for a checkpoint, which reads the changed keys while
   * the operator publishes them, so that checkpointing needs no snapshot.
   */
  working(): SessionAggState {
    const byKey = this.byKey;
    const sessionsOf = (entry: KeyEntry): KeySessions => this.sessionsOf(entry);
    const view = {
      get size(): number {
        return byKey.size;
      },
      get: (gk: unknown): KeySessions | undefined => {
        const entry = byKey.get(gk);
        return entry === undefined ? undefined : sessionsOf(entry);
      },
      *values(): IterableIterator<KeySessions> {
        for (const entry of byKey.values()) yield sessionsOf(entry);
      },
      forEach(visit: (ks: KeySessions, gk: unknown) => void): void {
        for (const entry of byKey.values()) visit(sessionsOf(entry), entry.gk);
      },
    };
    return { keys: view as unknown as SessionAggState['keys'], lateWatermarkMs: this.lateWatermarkMs };
  }

  /** Freezes a key's working sessions into snapshot values; the working sessions keep them as their base. */
  private freezeKey(entry: KeyEntry): KeySessions {
    const s: SessionState[] = new Array(entry.s.length);
    for (let i = 0; i < entry.s.length; i++) {
      const w = entry.s[i]!;
      const acc = this.valueOf(w);
      w.base = acc;
      w.delta = undefined;
      s[i] = { start: w.start, end: w.end, acc };
    }
    return { k: entry.k, s };
  }

  /** Takes a snapshot of the state after the last batch (an Immutable value later batches never change). */
  seal(): SessionAggState {
    if (this.snapshotVersion !== this.version) {
      const last = this.last;
      const incremental = last !== undefined && last.tracked && this.snapshotVersion === this.version - 1;
      const m = (incremental ? this.snapshot : IMap<unknown, KeySessions>()).asMutable();
      const keys = incremental ? last.changed : this.byKey.keys();
      for (const gk of keys) {
        const entry = this.byKey.get(gk);
        if (entry === undefined) m.remove(gk);
        else m.set(gk, this.freezeKey(entry));
      }
      this.snapshot = m.asImmutable();
      this.snapshotVersion = this.version;
    }
    return { keys: this.snapshot, lateWatermarkMs: this.lateWatermarkMs };
  }

  private merge(into: unknown[], from: unknown[]): void {
    const { aggregators } = this.aggs;
    for (let j = 0; j < aggregators.length; j++) into[j] = aggregators[j]!.merge(into[j] as never, from[j] as never);
  }

  /** Merges session `b` (the later one) into `a`: `a`'s value becomes `merge(value(a), value(b))`. */
  private absorb(a: WorkingSession, b: WorkingSession): void {
    if (b.end > a.end) a.end = b.end;
    b.dead = true;
    if (a.base === undefined && b.base === undefined) {
      // Both owned: fold b's delta into a's.
      if (a.delta === undefined) a.delta = b.delta;
      else if (b.delta !== undefined) this.merge(a.delta, b.delta);
      return;
    }
    // A snapshot may hold parts of either: the merged value becomes a base.
    const va = this.valueOf(a);
    const vb = this.valueOf(b);
    const merged = va === a.base || va === a.delta ? va.slice() : va;
    this.merge(merged, vb);
    a.base = merged;
    a.delta = undefined;
  }

  /**
   * Folds one batch in: rows whose session would end at or before the
   * late-events watermark are late (when `lateFiltering`); then, when
   * `evictWatermarkMs` is given, closes every session ending at or before it.
   */
  step(rows: readonly T[], time: TimeAccess<T>, lateFiltering: boolean, evictWatermarkMs: number | undefined, nextLateWatermarkMs: number, onInvalid: (row: T, index: number) => void): SessionStepResult<T> {
    const version = ++this.version;
    const late: T[] = [];
    const invalid: number[] = [];
    const touchedKeys: KeyEntry[] = [];
    const lateWm = lateFiltering ? this.lateWatermarkMs : Number.NEGATIVE_INFINITY;
    const track = this.trackUpdates;
    this.folded = 0;
    const gap = this.gapMs;
    const keyField = this.key.kind === 'field' ? this.key.fields[0] : undefined;
    const discardedGap =
      typeof gap === 'number' && gap > 0 && keyField !== undefined && time.field !== undefined
        ? this.foldFieldRows(rows, time, time.field, keyField, gap, lateWm, version, late, invalid, track ? touchedKeys : undefined, onInvalid)
        : this.foldRows(rows, time, lateWm, version, late, invalid, track ? touchedKeys : undefined, onInvalid);
    const updatedKeys: unknown[] = [];
    const updated: WorkingSession[] = [];
    const changed: unknown[] = [];
    const changedRaw: unknown[] = [];
    // Untracked, the row loop counted the sessions it wrote and filed new first sessions itself.
    const numUpdated = track ? this.afterFold(touchedKeys, version, track, updatedKeys, updated, changed, changedRaw) : this.folded;
    const evictedKeys: unknown[] = [];
    const evicted: WorkingSession[] = [];
    if (evictWatermarkMs !== undefined) this.evict(evictWatermarkMs, version, track, evictedKeys, evicted, changed, changedRaw);
    this.lateWatermarkMs = nextLateWatermarkMs;
    const result: SessionStepResult<T> = { tracked: track, numUpdated, updatedKeys, updated, evictedKeys, evicted, changed, changedRaw, late, invalid, discardedGap };
    this.last = result;
    return result;
  }

  /**
   * The per-row loop. Rows mostly arrive in event-time order, so a row is
   * first tried against its key's last session: at or after that session's
   * start it either joins it (no merge can follow: nothing comes after it) or
   * opens a new last session. Only a row before the last session's start takes
   * the general path (find the first session ending at or after it, join or
   * insert, merge forward). Returns the number of rows discarded for their gap.
   */
  private foldRows(rows: readonly T[], time: TimeAccess<T>, lateWm: number, version: number, late: T[], invalid: number[], touchedKeys: KeyEntry[] | undefined, onInvalid: (row: T, index: number) => void): number {
    const key = this.key;
    const keyField = key.kind === 'field' ? key.fields[0]! : undefined;
    const timeField = time.field;
    const gap = this.gapMs;
    const staticGap = typeof gap === 'number' ? gap : Number.NaN;
    const byKey = this.byKey;
    let discardedGap = 0;
    let lastGk: unknown = undefined;
    let lastEntry: KeyEntry | undefined;

    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      let t: number;
      if (timeField !== undefined) {
        const v = (row as Record<string, unknown>)[timeField];
        t = typeof v === 'number' && v <= MAX_EVENT_TIME_MS && v >= -MAX_EVENT_TIME_MS ? Math.floor(v) : time.ms(row);
      } else t = time.ms(row);
      if (t - t !== 0) {
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
      if (end <= lateWm) {
        late.push(row);
        continue;
      }
      let k: unknown;
      let gk: unknown;
      if (keyField !== undefined) {
        k = (row as Record<string, unknown>)[keyField] ?? null; // a missing key is the SQL null: one group with null
        if (k === 0) k = 0; // -0 is 0, as Spark normalises grouping keys
        gk = needsCanonical(k) ? key.canonical(k) : k;
      } else {
        k = key.raw(row);
        gk = key.canonical(k);
      }
      let entry: KeyEntry | undefined;
      if (lastEntry !== undefined && gk === lastGk) entry = lastEntry;
      else {
        entry = byKey.get(gk);
        if (entry === undefined) {
          entry = { gk, k, s: [], last: undefined, heapEnd: Number.POSITIVE_INFINITY, touched: 0 };
          byKey.set(gk, entry);
        }
        lastGk = gk;
        lastEntry = entry;
      }
      if (touchedKeys !== undefined && entry.touched !== version) {
        entry.touched = version;
        touchedKeys.push(entry);
      }
      const last = entry.last;
      if (last !== undefined && t >= last.start) this.foldAtEnd(entry, last, t, end, version, row);
      else this.insertEarly(entry, t, end, version, row, touchedKeys === undefined);
    }
    return discardedGap;
  }

  /**
   * {@link foldRows} for the common shape, a loop of its own so that it stays
   * small: the time and the key read from one field each and a constant,
   * positive gap (no row is discarded for its gap). Returns 0.
   */
  private foldFieldRows(rows: readonly T[], time: TimeAccess<T>, timeField: string, keyField: string, gap: number, lateWm: number, version: number, late: T[], invalid: number[], touchedKeys: KeyEntry[] | undefined, onInvalid: (row: T, index: number) => void): number {
    const key = this.key;
    const byKey = this.byKey;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const v = (row as Record<string, unknown>)[timeField];
      const t = typeof v === 'number' && v <= MAX_EVENT_TIME_MS && v >= -MAX_EVENT_TIME_MS ? Math.floor(v) : time.ms(row);
      if (t - t !== 0) {
        onInvalid(row, i);
        invalid.push(i);
        continue;
      }
      const end = t + gap;
      if (end <= lateWm) {
        late.push(row);
        continue;
      }
      let k = (row as Record<string, unknown>)[keyField] ?? null; // a missing key is the SQL null: one group with null
      if (k === 0) k = 0; // -0 is 0, as Spark normalises grouping keys
      const gk = needsCanonical(k) ? key.canonical(k) : k;
      let entry = byKey.get(gk);
      if (entry === undefined) {
        entry = { gk, k, s: [], last: undefined, heapEnd: Number.POSITIVE_INFINITY, touched: 0 };
        byKey.set(gk, entry);
      }
      if (touchedKeys !== undefined && entry.touched !== version) {
        entry.touched = version;
        touchedKeys.push(entry);
      }
      const last = entry.last;
      if (last !== undefined && t >= last.start) this.foldAtEnd(entry, last, t, end, version, row);
      else this.insertEarly(entry, t, end, version, row, touchedKeys === undefined);
    }
    return 0;
  }

  /**
   * The row loops' common case: a row at or after its key's last session's
   * start joins that session (no merge can follow: nothing comes after it)
   * or opens a new last session.
   */
  private foldAtEnd(entry: KeyEntry, last: WorkingSession, t: number, end: number, version: number, row: T): void {
    let s: WorkingSession;
    if (t <= last.end) {
      // Joins the last session (it starts at or before t, and t <= its end).
      s = last;
      if (end > s.end) s.end = end;
      if (s.listed !== version) {
        s.listed = version;
        this.folded++;
      }
      if (s.delta === undefined) s.delta = this.newAcc();
    } else {
      // After every session: a new last one.
      s = { start: t, end, base: undefined, delta: this.newAcc(), listed: version, dead: false };
      entry.s.push(s);
      entry.last = s;
      this.totalSessions++;
      this.folded++;
    }
    this.fold(s.delta!, row);
  }

  /** The general path of {@link foldRows}: a row before its key's last session's start. */
  private insertEarly(entry: KeyEntry, t: number, end: number, version: number, row: T, fileFirst: boolean): void {
    const list = entry.s;
    // Find the first session that ends at or after t: the event joins it if it starts at or before `end`.
    let idx = 0;
    while (idx < list.length && list[idx]!.end < t) idx++;
    let s = list[idx];
    if (s === undefined || s.start > end) {
      s = { start: t, end, base: undefined, delta: this.newAcc(), listed: version, dead: false };
      if (idx === list.length) list.push(s);
      else list.splice(idx, 0, s);
      this.totalSessions++;
      this.folded++;
      // A new first session ends before the key's filed time (sessions only grow later): eviction must find it.
      if (fileFirst && idx === 0 && end < entry.heapEnd) {
        entry.heapEnd = end;
        this.heap.add(end, entry);
      }
    } else {
      if (t < s.start) s.start = t;
      if (end > s.end) s.end = end;
      if (s.listed !== version) {
        s.listed = version;
        this.folded++;
      }
      if (s.delta === undefined) s.delta = this.newAcc();
    }
    this.fold(s.delta!, row);
    // The grown session may now overlap or touch the next ones.
    while (idx + 1 < list.length && list[idx + 1]!.start <= s.end) {
      const next = list[idx + 1]!;
      if (next.listed === version) this.folded--;
      this.absorb(s, next);
      list.splice(idx + 1, 1);
      this.totalSessions--;
    }
    entry.last = list[list.length - 1];
  }

  /**
   * After the rows: counts (and, when tracking, lists) the sessions the batch
   * wrote, lists the touched keys as changed, and pushes a key's earliest
   * session end to the heap when it moved earlier. Returns the number written.
   */
  private afterFold(touchedKeys: readonly KeyEntry[], version: number, track: boolean, updatedKeys: unknown[], updated: WorkingSession[], changed: unknown[], changedRaw: unknown[]): number {
    let numUpdated = 0;
    for (let e = 0; e < touchedKeys.length; e++) {
      const entry = touchedKeys[e]!;
      const list = entry.s;
      if (track) {
        changed.push(entry.gk);
        changedRaw.push(entry.k);
      }
      for (let j = 0; j < list.length; j++) {
        const s = list[j]!;
        if (s.listed === version) {
          numUpdated++;
          if (track) {
            updatedKeys.push(entry.k);
            updated.push(s);
          }
        }
      }
      const first = list[0];
      if (first !== undefined && first.end < entry.heapEnd) {
        entry.heapEnd = first.end;
        this.heap.add(first.end, entry);
      }
    }
    return numUpdated;
  }

  /** Closes the sessions ending at or before the watermark, visiting only the keys the heap says have one. */
  private evict(evictWatermarkMs: number, version: number, track: boolean, evictedKeys: unknown[], evicted: WorkingSession[], changed: unknown[], changedRaw: unknown[]): void {
    const byKey = this.byKey;
    const heap = this.heap;
    while (heap.peekTime() <= evictWatermarkMs) {
      const end = heap.peekTime();
      const entry = heap.pop();
      if (end !== entry.heapEnd) continue;
      entry.heapEnd = Number.POSITIVE_INFINITY;
      const gk = entry.gk;
      const list = entry.s;
      let n = 0;
      while (n < list.length && list[n]!.end <= evictWatermarkMs) {
        evictedKeys.push(entry.k);
        evicted.push(list[n]!);
        n++;
      }
      if (n > 0) {
        this.totalSessions -= n;
        if (track && entry.touched !== version) {
          changed.push(gk);
          changedRaw.push(entry.k);
        }
        if (n === list.length) {
          list.length = 0;
          entry.last = undefined;
        } else {
          // Drop the first n in place (splice would allocate the array of the removed sessions).
          const left = list.length - n;
          for (let i = 0; i < left; i++) list[i] = list[i + n]!;
          list.length = left;
        }
      }
      if (list.length === 0) byKey.delete(gk);
      else {
        entry.heapEnd = list[0]!.end;
        heap.add(entry.heapEnd, entry);
      }
    }
  }
}

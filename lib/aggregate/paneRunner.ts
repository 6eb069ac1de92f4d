import type { Batch } from '../batch/Batch.js';
import { resultTable, type ResultTable } from '../batch/ResultBatch.js';
import { InvariantViolationError } from '../errors/index.js';
import type { OutputModeName } from '../internal/pipeline.js';
import type { StateCodec } from '../state/StateStore.js';
import { invalidEventTime, type EventTimeReader } from '../time/eventTime.js';
import type { WindowSpec } from '../window/WindowBounds.js';
import { StepSnapshot, staleRead, stepStats, type AggregationRunner, type AggregationStep } from './aggregationOperator.js';
import type { Aggregator } from './Aggregator.js';
import { FixedWindowEngine, paneSpec, type FixedAggState, type FixedStepResult, type GroupRecord, type TimeAccess } from './fixedWindowEngine.js';
import { fixedChangedKeys, fixedRowBuilder, hintedWorkingState, type FixedCodec, type FixedRunnerOptions } from './fixedRunner.js';
import type { BulkStateCodec, TextStateCodec } from '../checkpoint/stateFiles.js';

/**
 * The state of a sliding-window aggregation. With `paneMs` set, the buckets
 * are panes (`paneMs` long, on the window grid) holding partial aggregates;
 * without it (checkpoints written before panes), the buckets are windows.
 */
export interface SlidingAggState extends FixedAggState {
  readonly paneMs?: number;
}

const PANES_KEY = '$panes';

/** Rough bytes per group for `memoryUsedBytes` (as the fixed-window runner reckons them). */
const GROUP_BYTES = 96;
const ACC_BYTES = 16;

/**
 * The checkpoint codec of a sliding-window state: the fixed-window entries
 * (`<bucket>/<key as JSON>`, `$lateWatermark`) plus `$panes`, the pane
 * length, which tells a pane state from a per-window one when reading.
 */
export function slidingCodec(base: FixedCodec): StateCodec<SlidingAggState> & BulkStateCodec<SlidingAggState> & TextStateCodec<SlidingAggState> {
  return {
    *entries(state) {
      if (state.paneMs !== undefined) yield [PANES_KEY, state.paneMs];
      yield* base.entries(state);
    },
    get(state, entryKey) {
      return entryKey === PANES_KEY ? state.paneMs : base.get(state, entryKey);
    },
    getText(state, entryKey) {
      if (entryKey !== PANES_KEY) return base.getText(state, entryKey);
      return state.paneMs === undefined ? undefined : (JSON.stringify(state.paneMs) ?? 'null');
    },
    fromEntries(entries) {
      let paneMs: number | undefined;
      const rest = (function* () {
        for (const entry of entries) {
          if (entry[0] === PANES_KEY) paneMs = entry[1] as number;
          else yield entry;
        }
      })();
      const state = base.fromEntries(rest);
      return paneMs === undefined ? state : { ...state, paneMs };
    },
    fromStateFiles(files, removed) {
      let paneMs: number | undefined;
      const state = base.restore(files, removed, (entryKey, value) => {
        if (entryKey === PANES_KEY) paneMs = value as number;
      });
      return paneMs === undefined ? state : { ...state, paneMs };
    },
  };
}

/** Whether a restored state must keep the per-window layout (a checkpoint written before panes, holding windows). */
export function isPerWindowState(restored: SlidingAggState | undefined): boolean {
  return restored !== undefined && restored.paneMs === undefined && restored.buckets.size > 0;
}

/** Merges `from`'s accumulators into `into` (slots `0 .. n-1`), unrolled for up to four aggregates like the row folder. */
type GroupMerger = (into: unknown[], from: GroupRecord) => void;

function groupMerger(aggregators: readonly Aggregator<never, unknown, unknown>[]): GroupMerger {
  const [a0, a1, a2, a3] = aggregators;
  switch (aggregators.length) {
    case 1:
      return (w, g) => {
        w[0] = a0!.merge(w[0], g[0]);
      };
    case 2:
      return (w, g) => {
        w[0] = a0!.merge(w[0], g[0]);
        w[1] = a1!.merge(w[1], g[1]);
      };
    case 3:
      return (w, g) => {
        w[0] = a0!.merge(w[0], g[0]);
        w[1] = a1!.merge(w[1], g[1]);
        w[2] = a2!.merge(w[2], g[2]);
      };
    case 4:
      return (w, g) => {
        w[0] = a0!.merge(w[0], g[0]);
        w[1] = a1!.merge(w[1], g[1]);
        w[2] = a2!.merge(w[2], g[2]);
        w[3] = a3!.merge(w[3], g[3]);
      };
    default:
      return (w, g) => {
        for (let j = 0; j < aggregators.length; j++) w[j] = aggregators[j]!.merge(w[j], g[j]);
      };
  }
}

/** The groups of one pane, visited as `Map.forEach` does (group, then key): a working `Map` or a snapshot's Immutable map. */
interface PaneGroups {
  forEach(visit: (group: GroupRecord, gk: unknown) => void): unknown;
}

/**
 * The sliding-window runner by panes, for order-insensitive aggregators: each
 * row is folded into one partial aggregate, that of its key in its pane
 * (`gcd(size, slide)` long), instead of into each of its `size / slide`
 * windows; a window's result is the merge of its panes, taken when the window
 * is emitted (finalized by the watermark, updated, or read in the table).
 * Results are those of the per-window runner: lateness is decided per window
 * as there (a row counts in a window unless that window ended at or before
 * the previous watermark; a row whose windows all ended is late), and every
 * window is built from the same rows.
 *
 * State metrics count the state's rows, which are (pane, key) groups here.
 */
export function paneRunner<T, R>(
  options: FixedRunnerOptions<T>,
  time: TimeAccess<T>,
  reader: EventTimeReader<T> | undefined,
  restored: SlidingAggState | undefined,
  checkpointing: boolean,
  mode: OutputModeName | undefined,
): AggregationRunner<T, R, SlidingAggState> {
  const { op, aggs, key, invalidPolicy } = options;
  const spec: WindowSpec = options.spec!;
  const { sizeMs, slideMs, startMs } = spec;
  const { paneMs } = paneSpec(spec);
  if (restored?.paneMs !== undefined && restored.paneMs !== paneMs) {
    throw new InvariantViolationError(`${op}: the checkpoint holds panes of ${restored.paneMs} ms, but size ${sizeMs} ms and slide ${slideMs} ms need panes of ${paneMs} ms.`);
  }
  const engine = new FixedWindowEngine<T>(aggs, key, 'pane', spec, restored);
  // Pane groups written are needed for update rows and checkpoint deltas only.
  engine.trackUpdates = checkpointing || mode !== 'append';
  const build = fixedRowBuilder<T, R>(aggs, key, sizeMs);
  const n = aggs.aggregators.length;
  const mergeInto = groupMerger(aggs.aggregators as readonly Aggregator<never, unknown, unknown>[]);
  const bytesPerGroup = GROUP_BYTES + ACC_BYTES * n;
  const sealer = {
    get version(): number {
      return engine.version;
    },
    seal: (): SlidingAggState => ({ ...engine.seal(), paneMs }),
  };
  const changedExtra = [PANES_KEY];
  /** The latest window start at or before `t`. */
  const lastStart = (t: number): number => {
    const r = (t - startMs) % slideMs;
    return r < 0 ? t - r - slideMs : t - r;
  };
  /** The earliest window start whose window ends after `t`. */
  const firstStartEndingAfter = (t: number): number => lastStart(t - sizeMs) + slideMs;

  // Scratch for merging a window's panes by key, reused from window to window: a dense id per
  // canonical key, one record per id, and the window each id was last merged into. The ids are
  // dropped when the keys seen outgrow the state (keys that left the state would otherwise stay).
  const ids = new Map<unknown, number>();
  const scratch: unknown[][] = [];
  const mergedIn: number[] = [];
  const listed: GroupRecord[] = [];
  let windowSerial = 0;
  // The ids of a live pane's keys in the pane's iteration order, with the pane's map. A map of the
  // working state only grows at its end (a group written again keeps its place; panes leave
  // whole), so the ids found for it stay valid and a group merged into size / slide windows is
  // looked up once.
  const paneIds = new Map<number, { readonly groups: PaneGroups; readonly ids: number[] }>();

  /** The dense id of a key, assigned on first sight. */
  const idOf = (gk: unknown): number => {
    let id = ids.get(gk);
    if (id === undefined) {
      id = scratch.length;
      ids.set(gk, id);
      scratch.push(new Array<unknown>(n + 1));
      mergedIn.push(0);
    }
    return id;
  };

  /**
   * Emits every window `s` with `lo < s + size <= hi` that holds any group,
   * from the ascending pane starts `panes[from ..]`: the merge of its panes'
   * groups by key, as records `[acc…, raw key]` in the order their keys first
   * appear. `live`: the panes are the working state's (their key ids are
   * cached), else a sealed snapshot's. The records and their list are
   * scratch: read them in `emit`, and keep none.
   */
  const windows = (panes: readonly number[], from: number, lo: number, hi: number, live: boolean, groupsOf: (pane: number) => PaneGroups | undefined, emit: (start: number, groups: readonly GroupRecord[]) => void): void => {
    if (ids.size > 2 * engine.totalGroups + 1024) {
      ids.clear();
      scratch.length = 0;
      mergedIn.length = 0;
      paneIds.clear();
    }
    if (live) for (const p of paneIds.keys()) if (engine.bucketGroups(p) === undefined) paneIds.delete(p);
    let idx = from;
    let s = lo === Number.NEGATIVE_INFINITY ? lo : firstStartEndingAfter(lo);
    const len = panes.length;
    let serial = 0;
    let paneCache: number[] | undefined;
    let at = 0;
    const visit = (g: GroupRecord, gk: unknown): void => {
      let id: number;
      if (paneCache === undefined) id = idOf(gk);
      else if (at < paneCache.length) id = paneCache[at++]!;
      else {
        id = idOf(gk);
        paneCache.push(id);
        at++;
      }
      const w = scratch[id]!;
      if (mergedIn[id] !== serial) {
        mergedIn[id] = serial;
        for (let j = 0; j <= n; j++) w[j] = g[j];
        listed.push(w);
      } else mergeInto(w, g);
    };
    for (;;) {
      while (idx < len && panes[idx]! < s) idx++;
      if (idx >= len) return;
      const first = panes[idx]!;
      if (first >= s + sizeMs) s = firstStartEndingAfter(first);
      if (s + sizeMs > hi) return;
      const end = s + sizeMs;
      serial = ++windowSerial;
      listed.length = 0;
      for (let q = idx; q < len && panes[q]! < end; q++) {
        const pane = panes[q]!;
        const groups = groupsOf(pane);
        if (groups === undefined) continue;
        if (live) {
          let cached = paneIds.get(pane);
          if (cached === undefined || cached.groups !== groups) paneIds.set(pane, (cached = { groups, ids: [] }));
          paneCache = cached.ids;
          at = 0;
        }
        groups.forEach(visit);
      }
      emit(s, listed);
      s += slideMs;
    }
  };
  const liveGroups = (pane: number): ReadonlyMap<unknown, GroupRecord> | undefined => engine.bucketGroups(pane);

  /** The (window, key) results that a batch's written pane groups changed, in the order the groups were first written. */
  const updatedRows = (r: FixedStepResult<T>, lateWm: number): R[] => {
    const out: R[] = [];
    const seen = new Map<number, Set<unknown>>();
    const firstOpen = lateWm === Number.NEGATIVE_INFINITY ? lateWm : firstStartEndingAfter(lateWm);
    for (let i = 0; i < r.updatedBuckets.length; i++) {
      const p = r.updatedBuckets[i]!;
      const gk = r.updatedKeys[i];
      const lo = Math.max(firstStartEndingAfter(p), firstOpen);
      for (let s = lo; s <= p; s += slideMs) {
        let keys = seen.get(s);
        if (keys === undefined) seen.set(s, (keys = new Set()));
        if (keys.has(gk)) continue;
        keys.add(gk);
        let w: unknown[] | undefined;
        for (let q = s; q < s + sizeMs; q += paneMs) {
          const g = engine.bucketGroups(q)?.get(gk);
          if (g === undefined) continue;
          if (w === undefined) w = g.slice(0, n + 1);
          else mergeInto(w, g);
        }
        out.push(build(s, w!));
      }
    }
    return out;
  };

  const invalidHandler = (batchId: number) => (row: T, index: number): void => {
    if (reader !== undefined) invalidEventTime(op, reader, row, batchId, index, invalidPolicy);
  };
  const buildFinalized = mode !== 'update' && mode !== 'complete';
  const buildUpdated = mode !== 'append';

  return {
    step(batch: Batch<T>, lateFiltering, evictWatermarkMs): AggregationStep<T, R, SlidingAggState> {
      const lateWatermarkMs = engine.lateWatermark;
      let finalized: R[] = [];
      let updated: R[] | undefined;
      // Windows are built from the panes before the watermark evicts any: the
      // ones it finalizes, then (update mode) the ones this batch changed.
      const beforeEvict = (r: FixedStepResult<T>): void => {
        if (buildUpdated && r.tracked) updated = updatedRows(r, lateFiltering ? lateWatermarkMs : Number.NEGATIVE_INFINITY);
        if (evictWatermarkMs === undefined || !buildFinalized) return;
        const { list, from } = engine.bucketList();
        const rows: R[] = [];
        windows(list, from, lateWatermarkMs, evictWatermarkMs, true, liveGroups, (s, groups) => {
          for (let i = 0; i < groups.length; i++) rows.push(build(s, groups[i]!));
        });
        finalized = rows;
      };
      const r = engine.step(batch.rows, time, lateFiltering, evictWatermarkMs, batch.watermark, invalidHandler(batch.batchId), beforeEvict);
      // A checkpoint reads the changed groups from the working state while the step is published;
      // the Immutable snapshot is taken only if the result table is read.
      const snapshot = new StepSnapshot<SlidingAggState>(sealer, op, false);
      const total = engine.totalGroups;
      const published = checkpointing ? hintedWorkingState(engine as FixedWindowEngine<unknown>, { paneMs }) : undefined;
      return {
        ...stepStats<T, SlidingAggState>(published, lateWatermarkMs, r, r.numRemoved, total, bytesPerGroup),
        changedKeys: fixedChangedKeys(r as FixedStepResult<unknown>, n, published, changedExtra),
        updated: () => {
          if (updated === undefined) staleRead(op, 'updated');
          return updated;
        },
        finalized: () => finalized,
        table: (): ResultTable<R> => {
          const state = snapshot.get('table');
          const panes = [...state.buckets.keys()].sort((a, b) => a - b);
          const sealedGroups = (pane: number): PaneGroups | undefined => state.buckets.get(pane);
          const rows: R[] = [];
          windows(panes, 0, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, false, sealedGroups, (s, groups) => {
            for (let i = 0; i < groups.length; i++) rows.push(build(s, groups[i]!));
          });
          return resultTable(rows.length, () => rows[Symbol.iterator]());
        },
      };
    },
  };
}

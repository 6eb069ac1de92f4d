import type { Batch } from '../batch/Batch.js';
import { UnsupportedOperationError } from '../errors/index.js';
import { lateValueReader } from '../internal/lateValueReader.js';
import { TimeIndex } from '../dedupe/TimeIndex.js';
import { encodeStableKey, type ResolvedKey, type StableKey } from '../internal/keySpec.js';
import { UNSUPPORTED } from '../query/unsupportedOperations.js';
import { changedEntries, type KeyedStepResult } from '../state/KeyedStepResult.js';
import { GroupStateImpl, NO_TIMEOUT, type GroupEntry, type GroupState, type GroupStateTimeout } from './GroupState.js';
import { GroupStateStore } from './GroupStateStore.js';

/** Calls the user function for one key and hands its output rows to `emit`. */
export type GroupInvoker<T, R> = (key: unknown, rows: readonly T[], state: GroupState<unknown>, emit: (row: R) => void) => void;

/** What one batch did. */
export interface GroupsStepResult<T, R> extends KeyedStepResult<T, R> {
  /** Keys whose state was written (value or timeout). */
  readonly numUpdated: number;
  /** Keys whose state was removed. */
  readonly numRemoved: number;
  /** Keys invoked because they timed out. */
  readonly numTimedOut: number;
}

const ENTRY_BYTES = 160;

/**
 * The batch step of `mapGroupsWithState` / `flatMapGroupsWithState`, one
 * instance per subscription, following Spark's `FlatMapGroupsWithStateExec`:
 *
 * 1. with an event-time timeout, rows at or below the previous batch's
 *    watermark are dropped as late (Spark filters late rows only then);
 * 2. the rows are grouped by key (keys in order of first appearance, rows in
 *    arrival order) and the user function is called once per key with the
 *    key's state; the timeout is reset at every call;
 * 3. then every key whose timeout deadline is strictly before the batch's
 *    processing time (processing-time timeout) or eviction watermark
 *    (event-time timeout) is called with no rows and `hasTimedOut` true,
 *    earliest deadline first.
 *
 * State is the Immutable {@link GroupStateStore}, written once per invoked key
 * (one `asMutable` copy per batch). A {@link TimeIndex} of deadlines, derived
 * from it and rebuilt on recovery, finds the keys due without a scan; its
 * stale entries (a deadline replaced later) are skipped.
 */
export class GroupsWithStateRunner<T, R> {
  private current: GroupStateStore;
  private readonly deadlines = new TimeIndex();
  private readonly readerFor = lateValueReader();

  constructor(
    private readonly operator: string,
    private readonly key: ResolvedKey<T>,
    private readonly timeout: GroupStateTimeout,
    private readonly invoke: GroupInvoker<T, R>,
    restored?: GroupStateStore,
  ) {
    this.current = restored ?? GroupStateStore();
    for (const [k, entry] of this.current.groups) if (entry.timeoutAt !== NO_TIMEOUT) this.deadlines.add(entry.timeoutAt, k);
  }

  /** The state after the last batch. */
  get state(): GroupStateStore {
    return this.current;
  }

  /** Approximate bytes held by the state (a fixed estimate per key). */
  get memoryUsedBytes(): number {
    return this.current.groups.size * ENTRY_BYTES;
  }

  /** Processes one batch at processing time `nowMs`. */
  step(batch: Batch<T>, nowMs: number, collectLate: boolean): GroupsStepResult<T, R> {
    const op = this.operator;
    const marker = batch.eventTime;
    const eventTimeTimeout = this.timeout === 'eventTime';
    if (eventTimeTimeout && marker === undefined) throw new UnsupportedOperationError(op, UNSUPPORTED.eventTimeTimeoutWithoutWatermark);
    const watermarkPresent = marker !== undefined;
    const watermarkMs = batch.watermark;
    const lateW = this.current.watermarkMs;
    const rows = batch.rows;
    const n = rows.length;
    const keyOf = this.key.keyOf;
    const valueOf = this.key.valueOf;

    // Group the batch's rows by key, dropping late rows first when timeouts follow event time.
    const groups = new Map<StableKey, T[]>();
    const order: StableKey[] = [];
    const keyValues: unknown[] = [];
    let late: T[] | undefined;
    let numLate = 0;
    const read = eventTimeTimeout ? this.readerFor(marker!) : undefined;
    for (let i = 0; i < n; i++) {
      const row = rows[i]!;
      if (read !== undefined && read(row) <= lateW) {
        numLate++;
        if (collectLate) (late ??= []).push(row);
        continue;
      }
      const k = keyOf(row);
      const group = groups.get(k);
      if (group === undefined) {
        groups.set(k, [row]);
        order.push(k);
        keyValues.push(valueOf(row));
      } else group.push(row);
    }

    const m = this.current.groups.asMutable();
    const out: R[] = [];
    const emit = (row: R): void => {
      out.push(row);
    };
    const written: StableKey[] = [];
    const removedKeys: StableKey[] = [];
    const refile: StableKey[] = [];
    const refileAt: number[] = [];
    const apply = (k: StableKey, before: GroupEntry | undefined, handle: GroupStateImpl<unknown>): void => {
      const after = handle.toEntry();
      if (after === undefined) {
        if (before !== undefined) {
          m.remove(k);
          removedKeys.push(k);
        }
        return;
      }
      if (handle.updated || handle.removed || before === undefined || after.timeoutAt !== before.timeoutAt) {
        m.set(k, after);
        written.push(k);
        if (after.timeoutAt !== NO_TIMEOUT) {
          refile.push(k);
          refileAt.push(after.timeoutAt);
        }
      }
    };

    for (let g = 0; g < order.length; g++) {
      const k = order[g]!;
      const before = m.get(k);
      const userKey = before === undefined ? keyValues[g] : before.key;
      // Data calls run in the batch itself, where Spark's watermark is still the previous batch's (the late-events watermark);
      // the timeouts below run in the eviction pass that Spark's following no-data batch makes with this batch's watermark.
      const handle = new GroupStateImpl<unknown>(op, userKey, before, nowMs, Math.max(lateW, 0), watermarkPresent, this.timeout, false);
      this.invoke(userKey, groups.get(k)!, handle, emit);
      apply(k, before, handle);
    }

    // Keys whose deadline has passed: strictly before the processing time or the eviction watermark.
    let numTimedOut = 0;
    if (this.timeout !== 'none') {
      const threshold = eventTimeTimeout ? watermarkMs : nowMs;
      const due: StableKey[] = [];
      const dueAt: number[] = [];
      this.deadlines.drain(threshold, true, (k, time) => {
        due.push(k);
        dueAt.push(time);
      });
      for (let i = 0; i < due.length; i++) {
        const k = due[i]!;
        const before = m.get(k);
        if (before === undefined || before.timeoutAt !== dueAt[i]) continue; // stale: replaced or removed since
        numTimedOut++;
        const handle = new GroupStateImpl<unknown>(op, before.key, before, nowMs, watermarkMs, watermarkPresent, this.timeout, true);
        this.invoke(before.key, [], handle, emit);
        apply(k, before, handle);
      }
    }
    for (let i = 0; i < refile.length; i++) this.deadlines.add(refileAt[i]!, refile[i]!);

    const nextWatermarkMs = Math.max(lateW, watermarkMs);
    const watermarkChanged = nextWatermarkMs !== lateW;
    this.current = GroupStateStore({ watermarkMs: nextWatermarkMs, groups: m.asImmutable() });
    return {
      rows: out,
      lateRows: late,
      numLate,
      lateWatermarkMs: lateW,
      numUpdated: written.length,
      numRemoved: removedKeys.length,
      numTimedOut,
      changedKeys: changedEntries(watermarkChanged, encodeStableKey, written, removedKeys),
    };
  }
}

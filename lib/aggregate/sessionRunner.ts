import { setColumn } from '../internal/columns.js';
import { Map as IMap } from 'immutable';
import type { Batch } from '../batch/Batch.js';
import { resultTable, type ResultTable } from '../batch/ResultBatch.js';
import type { StateCodec } from '../state/StateStore.js';
import { invalidEventTime, type EventTimeReader } from '../time/eventTime.js';
import type { InvalidEventTimePolicy } from '../types.js';
import { StepSnapshot, staleRead, stepStats, type AggregationRunner, type AggregationStep } from './aggregationOperator.js';
import type { CompiledAggregates } from './Aggregator.js';
import type { TimeAccess } from './fixedWindowEngine.js';
import { decodeKeyValue, encodeKeyValue, keyFromJson, keyToJson, type CompiledKey } from './groupKey.js';
import { SessionEngine, type KeySessions, type SessionAggState, type WorkingSession } from './sessionEngine.js';
import type { OutputModeName } from '../internal/pipeline.js';

const LATE_WATERMARK_KEY = '$lateWatermark';
const SESSION_BYTES = 112;
const ACC_BYTES = 16;

/** The checkpoint codec of a session state: one entry per key (its key as JSON) holding its sessions, plus the late-events watermark. */
export function sessionCodec<T>(aggs: CompiledAggregates<T>, key: CompiledKey<T>): StateCodec<SessionAggState> {
  const { aggregators } = aggs;
  const encode = (ks: KeySessions): unknown => ({
    k: encodeKeyValue(ks.k),
    s: ks.s.map((s) => [s.start, s.end, s.acc.map((acc, j) => (aggregators[j]!.encode === undefined ? acc : aggregators[j]!.encode!(acc as never)))]),
  });
  const decode = (json: unknown): KeySessions => {
    const v = json as { k: unknown; s: [number, number, unknown[]][] };
    return { k: decodeKeyValue(v.k), s: v.s.map(([start, end, accs]) => ({ start, end, acc: accs.map((acc, j) => (aggregators[j]!.decode === undefined ? acc : aggregators[j]!.decode!(acc))) })) };
  };
  return {
    *entries(state) {
      yield [LATE_WATERMARK_KEY, state.lateWatermarkMs];
      for (const ks of state.keys.values()) yield [keyToJson(ks.k), encode(ks)];
    },
    get(state, entryKey) {
      if (entryKey === LATE_WATERMARK_KEY) return state.lateWatermarkMs;
      const ks = state.keys.get(key.canonical(keyFromJson(entryKey)));
      return ks === undefined ? undefined : encode(ks);
    },
    fromEntries(entries) {
      let lateWatermarkMs = 0;
      const keys = IMap<unknown, KeySessions>().asMutable();
      for (const [entryKey, value] of entries) {
        if (entryKey === LATE_WATERMARK_KEY) lateWatermarkMs = value as number;
        else keys.set(key.canonical(keyFromJson(entryKey)), decode(value));
      }
      return { keys: keys.asImmutable(), lateWatermarkMs };
    },
  };
}

/** The per-subscription runner of `windowSession`. */
export function sessionRunner<T, R>(
  op: string,
  aggs: CompiledAggregates<T>,
  key: CompiledKey<T>,
  gapMs: number | ((row: T) => number),
  time: TimeAccess<T>,
  reader: EventTimeReader<T>,
  invalidPolicy: InvalidEventTimePolicy,
  restored: SessionAggState | undefined,
  checkpointing: boolean,
  mode?: OutputModeName,
): AggregationRunner<T, R, SessionAggState> {
  const engine = new SessionEngine<T>(aggs, key, gapMs, restored);
  // Append mode without a checkpoint reads only the finalized sessions: the engine need not list the written ones.
  engine.trackUpdates = checkpointing || mode !== 'append';
  const { names, aggregators } = aggs;
  const keyField = key.kind === 'field' ? key.fields[0]! : undefined;
  const [n0, n1] = names as [string, string | undefined];
  const [a0, a1] = aggregators;
  // The common shapes as one object literal per row (one hidden class for all rows).
  const build: (k: unknown, start: number, end: number, acc: readonly unknown[]) => R =
    keyField !== undefined && names.length === 1
      ? (k, start, end, acc) => ({ window: { start, end }, [keyField]: k, [n0]: a0!.result(acc[0] as never) }) as R
      : keyField !== undefined && names.length === 2
        ? (k, start, end, acc) => ({ window: { start, end }, [keyField]: k, [n0]: a0!.result(acc[0] as never), [n1!]: a1!.result(acc[1] as never) }) as R
        : (k, start, end, acc) => {
            const row: Record<string, unknown> = { window: { start, end } };
            key.write(row, k);
            for (let j = 0; j < names.length; j++) setColumn(row, names[j]!, aggregators[j]!.result(acc[j] as never));
            return row as R;
          };
  const buildWorking = (k: unknown, s: WorkingSession): R => build(k, s.start, s.end, engine.valueOf(s));
  const bytesPerSession = SESSION_BYTES + ACC_BYTES * aggregators.length;
  // Built outside `step`: a closure there would put `batch` in the context that the
  // step's lazy results (held by the emitted ResultBatch) share, keeping the input rows
  // reachable for as long as the ResultBatch lives.
  const invalidHandler =
    (batchId: number) =>
    (row: T, index: number): void =>
      invalidEventTime(op, reader, row, batchId, index, invalidPolicy);
  return {
    step(batch: Batch<T>, lateFiltering, evictWatermarkMs): AggregationStep<T, R, SessionAggState> {
      const lateWatermarkMs = engine.lateWatermark;
      const r = engine.step(batch.rows, time, lateFiltering, evictWatermarkMs, batch.watermark, invalidHandler(batch.batchId));
      const snapshot = new StepSnapshot<SessionAggState>(engine, op, checkpointing);
      const total = engine.totalSessions;
      return {
        ...stepStats(snapshot.current, lateWatermarkMs, r, r.evicted.length, total, bytesPerSession),
        ...(r.discardedGap > 0 ? { customMetrics: { numRowsDiscardedByGap: r.discardedGap } } : {}),
        changedKeys: {
          *[Symbol.iterator]() {
            // The late-rows watermark decides which rows a restarted query drops: in every delta, not only in snapshots.
            yield LATE_WATERMARK_KEY;
            for (const k of r.changedRaw) yield keyToJson(k);
          },
        },
        updated: () => {
          snapshot.assertReadable('updated');
          if (!r.tracked) staleRead(op, 'updated');
          return r.updated.map((s, i) => buildWorking(r.updatedKeys[i], s));
        },
        // Evicted sessions left the state: nothing writes to them any more.
        finalized: () => {
          const out = new Array<R>(r.evicted.length);
          for (let i = 0; i < out.length; i++) {
            const s = r.evicted[i]!;
            out[i] = build(r.evictedKeys[i], s.start, s.end, engine.valueOf(s));
          }
          return out;
        },
        table: (): ResultTable<R> => {
          const state = snapshot.get('table');
          return resultTable(total, function* () {
            for (const ks of state.keys.values()) for (const s of ks.s) yield build(ks.k, s.start, s.end, s.acc);
          });
        },
      };
    },
  };
}

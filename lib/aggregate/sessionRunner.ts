import { Map as IMap } from 'immutable';
import type { Batch } from '../batch/Batch.js';
import { resultTable, type ResultTable } from '../batch/ResultBatch.js';
import type { StateCodec } from '../state/StateStore.js';
import { invalidEventTime, type EventTimeReader } from '../time/eventTime.js';
import type { InvalidEventTimePolicy } from '../types.js';
import type { AggregationRunner, AggregationStep } from './aggregationOperator.js';
import type { CompiledAggregates } from './Aggregator.js';
import type { TimeAccess } from './fixedWindowEngine.js';
import type { CompiledKey } from './groupKey.js';
import { SessionEngine, type KeySessions, type SessionAggState, type SessionState } from './sessionEngine.js';

const LATE_WATERMARK_KEY = '$lateWatermark';
const SESSION_BYTES = 112;
const ACC_BYTES = 16;

/** The checkpoint codec of a session state: one entry per key (its key as JSON) holding its sessions, plus the late-events watermark. */
export function sessionCodec<T>(aggs: CompiledAggregates<T>, key: CompiledKey<T>): StateCodec<SessionAggState> {
  const { aggregators } = aggs;
  const encode = (ks: KeySessions): unknown => ({
    k: ks.k,
    s: ks.s.map((s) => [s.start, s.end, s.acc.map((acc, j) => (aggregators[j]!.encode === undefined ? acc : aggregators[j]!.encode!(acc as never)))]),
  });
  const decode = (json: unknown): KeySessions => {
    const v = json as { k: unknown; s: [number, number, unknown[]][] };
    return { k: v.k, s: v.s.map(([start, end, accs]) => ({ start, end, acc: accs.map((acc, j) => (aggregators[j]!.decode === undefined ? acc : aggregators[j]!.decode!(acc))) })) };
  };
  return {
    *entries(state) {
      yield [LATE_WATERMARK_KEY, state.lateWatermarkMs];
      for (const ks of state.keys.values()) yield [JSON.stringify(ks.k), encode(ks)];
    },
    get(state, entryKey) {
      if (entryKey === LATE_WATERMARK_KEY) return state.lateWatermarkMs;
      const ks = state.keys.get(key.canonical(JSON.parse(entryKey)));
      return ks === undefined ? undefined : encode(ks);
    },
    fromEntries(entries) {
      let lateWatermarkMs = 0;
      const keys = IMap<unknown, KeySessions>().asMutable();
      for (const [entryKey, value] of entries) {
        if (entryKey === LATE_WATERMARK_KEY) lateWatermarkMs = value as number;
        else keys.set(key.canonical(JSON.parse(entryKey)), decode(value));
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
): AggregationRunner<T, R, SessionAggState> {
  const engine = new SessionEngine<T>(aggs, key, gapMs, restored);
  const { names, aggregators } = aggs;
  const build = (k: unknown, s: SessionState): R => {
    const row: Record<string, unknown> = { window: { start: s.start, end: s.end } };
    key.write(row, k);
    for (let j = 0; j < names.length; j++) row[names[j]!] = aggregators[j]!.result(s.acc[j] as never);
    return row as R;
  };
  const bytesPerSession = SESSION_BYTES + ACC_BYTES * aggregators.length;
  return {
    step(batch: Batch<T>, lateFiltering, evictWatermarkMs): AggregationStep<T, R, SessionAggState> {
      const lateWatermarkMs = engine.state.lateWatermarkMs;
      const onInvalid = (row: T, index: number): void => invalidEventTime(op, reader, row, batch.batchId, index, invalidPolicy);
      const r = engine.step(batch.rows, time, lateFiltering, evictWatermarkMs, batch.watermark, onInvalid);
      const state = r.state;
      const total = engine.totalSessions;
      return {
        state,
        lateWatermarkMs,
        late: r.late,
        numInvalid: r.invalid.length,
        numUpdated: r.updated.length,
        numRemoved: r.evicted.length,
        numTotal: total,
        memoryUsedBytes: total * bytesPerSession,
        ...(r.discardedGap > 0 ? { customMetrics: { numRowsDiscardedByGap: r.discardedGap } } : {}),
        changedKeys: {
          *[Symbol.iterator]() {
            for (const gk of r.changed) {
              const ks = state.keys.get(gk);
              if (ks !== undefined) yield JSON.stringify(ks.k);
            }
            for (const k of r.evictedKeys) yield JSON.stringify(k);
          },
        },
        updated: () => r.updated.map((s, i) => build(r.updatedKeys[i], s)),
        finalized: () => r.evicted.map((s, i) => build(r.evictedKeys[i], s)),
        table: (): ResultTable<R> =>
          resultTable(total, function* () {
            for (const ks of state.keys.values()) for (const s of ks.s) yield build(ks.k, s);
          }),
      };
    },
  };
}

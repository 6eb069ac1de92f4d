import { Map as IMap } from 'immutable';
import type { Batch } from '../batch/Batch.js';
import { resultTable, type ResultTable } from '../batch/ResultBatch.js';
import type { StateCodec } from '../state/StateStore.js';
import { invalidEventTime, type EventTimeReader } from '../time/eventTime.js';
import type { InvalidEventTimePolicy } from '../types.js';
import type { WindowSpec } from '../window/WindowBounds.js';
import type { AggregationRunner, AggregationStep } from './aggregationOperator.js';
import type { CompiledAggregates } from './Aggregator.js';
import { FixedWindowEngine, type BucketGroups, type Bucketing, type FixedAggState, type GroupState, type TimeAccess } from './fixedWindowEngine.js';
import type { CompiledKey } from './groupKey.js';

const LATE_WATERMARK_KEY = '$lateWatermark';

/** Rough bytes per group for `memoryUsedBytes`: the map entry, the group object and its accumulator array. */
const GROUP_BYTES = 96;
const ACC_BYTES = 16;

/** Builds the result row of one group. */
export type FixedRowBuilder<R> = (bucket: number, group: GroupState) => R;

/** Everything a fixed-window runner needs, fixed when the operator is built. */
export interface FixedRunnerOptions<T> {
  readonly op: string;
  readonly aggs: CompiledAggregates<T>;
  readonly key: CompiledKey<T>;
  readonly spec: WindowSpec | undefined;
  readonly invalidPolicy: InvalidEventTimePolicy;
}

/** The result-row builder: `{ window?, ...keyFields, ...aggregates }`. */
export function fixedRowBuilder<T, R>(aggs: CompiledAggregates<T>, key: CompiledKey<T>, sizeMs: number | undefined): FixedRowBuilder<R> {
  const { names, aggregators } = aggs;
  const n = names.length;
  return (bucket, g) => {
    const row: Record<string, unknown> = sizeMs === undefined ? {} : { window: { start: bucket, end: bucket + sizeMs } };
    key.write(row, g.k);
    for (let j = 0; j < n; j++) row[names[j]!] = aggregators[j]!.result(g.a[j] as never);
    return row as R;
  };
}

/** The checkpoint codec of a fixed-window state: one entry `<bucket>/<key as JSON>` per group, plus the late-events watermark. */
export function fixedCodec<T>(aggs: CompiledAggregates<T>, key: CompiledKey<T>): StateCodec<FixedAggState> {
  const { aggregators } = aggs;
  const encodeGroup = (g: GroupState): unknown => ({ k: g.k, a: g.a.map((acc, j) => (aggregators[j]!.encode === undefined ? acc : aggregators[j]!.encode!(acc as never))) });
  const decodeGroup = (json: unknown): GroupState => {
    const v = json as { k: unknown; a: unknown[] };
    return { k: v.k, a: v.a.map((acc, j) => (aggregators[j]!.decode === undefined ? acc : aggregators[j]!.decode!(acc))) };
  };
  const parseKey = (entryKey: string): [number, unknown] => {
    const slash = entryKey.indexOf('/');
    return [Number(entryKey.slice(0, slash)), key.canonical(JSON.parse(entryKey.slice(slash + 1)))];
  };
  return {
    *entries(state) {
      yield [LATE_WATERMARK_KEY, state.lateWatermarkMs];
      for (const [bucket, groups] of state.buckets) for (const g of groups.values()) yield [`${bucket}/${JSON.stringify(g.k)}`, encodeGroup(g)];
    },
    get(state, entryKey) {
      if (entryKey === LATE_WATERMARK_KEY) return state.lateWatermarkMs;
      const [bucket, gk] = parseKey(entryKey);
      const g = state.buckets.get(bucket)?.get(gk);
      return g === undefined ? undefined : encodeGroup(g);
    },
    fromEntries(entries) {
      let lateWatermarkMs = 0;
      const buckets = IMap<number, BucketGroups>().asMutable();
      for (const [entryKey, value] of entries) {
        if (entryKey === LATE_WATERMARK_KEY) {
          lateWatermarkMs = value as number;
          continue;
        }
        const [bucket, gk] = parseKey(entryKey);
        buckets.set(bucket, (buckets.get(bucket) ?? IMap<unknown, GroupState>()).set(gk, decodeGroup(value)));
      }
      return { buckets: buckets.asImmutable(), lateWatermarkMs };
    },
  };
}

/** The per-subscription runner of `windowTumbling`, `windowSliding` and `groupAggregate`. */
export function fixedRunner<T, R>(
  options: FixedRunnerOptions<T>,
  bucketing: Bucketing,
  time: TimeAccess<T>,
  reader: EventTimeReader<T> | undefined,
  restored: FixedAggState | undefined,
): AggregationRunner<T, R, FixedAggState> {
  const { op, aggs, key, spec, invalidPolicy } = options;
  const engine = new FixedWindowEngine<T>(aggs, key, bucketing, spec, restored);
  const build = fixedRowBuilder<T, R>(aggs, key, bucketing === 'tumbling' || bucketing === 'sliding' ? spec!.sizeMs : undefined);
  const bytesPerGroup = GROUP_BYTES + ACC_BYTES * aggs.aggregators.length;
  return {
    step(batch: Batch<T>, lateFiltering, evictWatermarkMs): AggregationStep<T, R, FixedAggState> {
      const lateWatermarkMs = engine.state.lateWatermarkMs;
      const onInvalid = (row: T, index: number): void => {
        if (reader !== undefined) invalidEventTime(op, reader, row, batch.batchId, index, invalidPolicy);
      };
      const r = engine.step(batch.rows, time, lateFiltering, evictWatermarkMs, batch.watermark, onInvalid);
      const state = r.state;
      const total = engine.totalGroups;
      return {
        state,
        lateWatermarkMs,
        late: r.late,
        numInvalid: r.invalid.length,
        numUpdated: r.updatedGroups.length,
        numRemoved: r.numRemoved,
        numTotal: total,
        memoryUsedBytes: total * bytesPerGroup,
        changedKeys: {
          *[Symbol.iterator]() {
            for (let i = 0; i < r.updatedGroups.length; i++) yield `${r.updatedBuckets[i]!}/${JSON.stringify(r.updatedGroups[i]!.k)}`;
            for (const [bucket, groups] of r.evicted) for (const g of groups.values()) yield `${bucket}/${JSON.stringify(g.k)}`;
          },
        },
        updated: () => {
          const out = new Array<R>(r.updatedGroups.length);
          for (let i = 0; i < out.length; i++) out[i] = build(r.updatedBuckets[i]!, r.updatedGroups[i]!);
          return out;
        },
        finalized: () => {
          const out: R[] = [];
          for (const [bucket, groups] of r.evicted) for (const g of groups.values()) out.push(build(bucket, g));
          return out;
        },
        table: (): ResultTable<R> =>
          resultTable(total, function* () {
            const bucketIds = [...state.buckets.keys()].sort((a, b) => a - b);
            for (const bucket of bucketIds) for (const g of state.buckets.get(bucket)!.values()) yield build(bucket, g);
          }),
      };
    },
  };
}

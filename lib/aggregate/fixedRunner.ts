import { setColumn } from '../internal/columns.js';
import { Map as IMap } from 'immutable';
import type { Batch } from '../batch/Batch.js';
import { resultTable, type ResultTable } from '../batch/ResultBatch.js';
import type { StateCodec } from '../state/StateStore.js';
import type { OutputModeName } from '../internal/pipeline.js';
import { invalidEventTime, type EventTimeReader } from '../time/eventTime.js';
import type { InvalidEventTimePolicy } from '../types.js';
import type { WindowSpec } from '../window/WindowBounds.js';
import { StepSnapshot, staleRead, stepStats, type AggregationRunner, type AggregationStep } from './aggregationOperator.js';
import type { CompiledAggregates } from './Aggregator.js';
import { FixedWindowEngine, type BucketGroups, type Bucketing, type FixedAggState, type GroupRecord, type TimeAccess } from './fixedWindowEngine.js';
import { decodeKeyValue, encodeKeyValue, keyFromJson, keyToJson, type CompiledKey } from './groupKey.js';

const LATE_WATERMARK_KEY = '$lateWatermark';

/** Rough bytes per group for `memoryUsedBytes`: the map entry, the group object and its accumulator array. */
const GROUP_BYTES = 96;
const ACC_BYTES = 16;

/** Builds the result row of one group. */
export type FixedRowBuilder<R> = (bucket: number, group: GroupRecord) => R;

/** Everything a fixed-window runner needs, fixed when the operator is built. */
export interface FixedRunnerOptions<T> {
  readonly op: string;
  readonly aggs: CompiledAggregates<T>;
  readonly key: CompiledKey<T>;
  readonly spec: WindowSpec | undefined;
  readonly invalidPolicy: InvalidEventTimePolicy;
}

/**
 * The result-row builder: `{ window?, ...keyFields, ...aggregates }`. The row
 * is built with its fields in one fixed order, so every row of an operator
 * shares one object shape.
 */
export function fixedRowBuilder<T, R>(aggs: CompiledAggregates<T>, key: CompiledKey<T>, sizeMs: number | undefined): FixedRowBuilder<R> {
  const { names, aggregators } = aggs;
  const n = names.length;
  const keyField = key.kind === 'field' ? key.fields[0]! : undefined;
  const write = key.write;
  const size = sizeMs ?? 0;
  // The common shape (a window, one key field, up to three aggregates) as one
  // object literal per row: every row gets the same hidden class at once.
  if (sizeMs !== undefined && keyField !== undefined && n <= 3) {
    const [n0, n1, n2] = names as [string, string | undefined, string | undefined];
    const [a0, a1, a2] = aggregators;
    if (n === 1) return (bucket, g) => ({ window: { start: bucket, end: bucket + size }, [keyField]: g[1], [n0]: a0!.result(g[0] as never) }) as R;
    if (n === 2) return (bucket, g) => ({ window: { start: bucket, end: bucket + size }, [keyField]: g[2], [n0]: a0!.result(g[0] as never), [n1!]: a1!.result(g[1] as never) }) as R;
    return (bucket, g) => ({ window: { start: bucket, end: bucket + size }, [keyField]: g[3], [n0]: a0!.result(g[0] as never), [n1!]: a1!.result(g[1] as never), [n2!]: a2!.result(g[2] as never) }) as R;
  }
  return (bucket, g) => {
    const row: Record<string, unknown> = sizeMs !== undefined ? { window: { start: bucket, end: bucket + size } } : {};
    if (keyField !== undefined) row[keyField] = g[n];
    else write(row, g[n]);
    for (let j = 0; j < n; j++) setColumn(row, names[j]!, aggregators[j]!.result(g[j] as never));
    return row as R;
  };
}

/** The checkpoint codec of a fixed-window state: one entry `<bucket>/<key as JSON>` per group, plus the late-events watermark. */
export function fixedCodec<T>(aggs: CompiledAggregates<T>, key: CompiledKey<T>): StateCodec<FixedAggState> {
  const { aggregators } = aggs;
  const n = aggregators.length;
  const encodeGroup = (g: GroupRecord): unknown => {
    const a = new Array<unknown>(n);
    for (let j = 0; j < n; j++) a[j] = aggregators[j]!.encode === undefined ? g[j] : aggregators[j]!.encode!(g[j] as never);
    return { k: encodeKeyValue(g[n]), a };
  };
  const decodeGroup = (json: unknown): GroupRecord => {
    const v = json as { k: unknown; a: unknown[] };
    const g = new Array<unknown>(n + 1);
    for (let j = 0; j < n; j++) g[j] = aggregators[j]!.decode === undefined ? v.a[j] : aggregators[j]!.decode!(v.a[j]);
    g[n] = decodeKeyValue(v.k);
    return g;
  };
  const parseKey = (entryKey: string): [number, unknown] => {
    const slash = entryKey.indexOf('/');
    return [Number(entryKey.slice(0, slash)), key.canonical(keyFromJson(entryKey.slice(slash + 1)))];
  };
  return {
    *entries(state) {
      yield [LATE_WATERMARK_KEY, state.lateWatermarkMs];
      for (const [bucket, groups] of state.buckets) for (const g of groups.values()) yield [`${bucket}/${keyToJson(g[n])}`, encodeGroup(g)];
    },
    get(state, entryKey) {
      if (entryKey === LATE_WATERMARK_KEY) return state.lateWatermarkMs;
      const [bucket, gk] = parseKey(entryKey);
      const g = state.buckets.get(bucket)?.get(gk);
      return g === undefined ? undefined : encodeGroup(g);
    },
    fromEntries(entries) {
      let lateWatermarkMs = 0;
      // One mutable map per bucket, sealed once at the end (not a persistent update per entry).
      const groups = new Map<number, BucketGroups>();
      let lastBucket = Number.NaN;
      let last: BucketGroups | undefined;
      for (const [entryKey, value] of entries) {
        if (entryKey === LATE_WATERMARK_KEY) {
          lateWatermarkMs = value as number;
          continue;
        }
        const bucket = Number(entryKey.slice(0, entryKey.indexOf('/')));
        const g = decodeGroup(value);
        // The raw key is in the value too (`k`): the same JSON round trip as the entry key's, without parsing it again.
        const gk = key.canonical(g[n]);
        if (bucket !== lastBucket || last === undefined) {
          lastBucket = bucket;
          last = groups.get(bucket);
          if (last === undefined) {
            last = IMap<unknown, GroupRecord>().asMutable();
            groups.set(bucket, last);
          }
        }
        last.set(gk, g);
      }
      const buckets = IMap<number, BucketGroups>().asMutable();
      for (const [bucket, inner] of groups) buckets.set(bucket, inner.asImmutable());
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
  checkpointing: boolean,
  mode: OutputModeName | undefined,
): AggregationRunner<T, R, FixedAggState> {
  const { op, aggs, key, spec, invalidPolicy } = options;
  const engine = new FixedWindowEngine<T>(aggs, key, bucketing, spec, restored);
  engine.trackUpdates = checkpointing || mode !== 'append';
  const build = fixedRowBuilder<T, R>(aggs, key, bucketing === 'tumbling' || bucketing === 'sliding' ? spec!.sizeMs : undefined);
  const bytesPerGroup = GROUP_BYTES + ACC_BYTES * aggs.aggregators.length;
  const n = aggs.aggregators.length;
  // Built outside `step`: a closure there would put `batch` in the context that the
  // step's lazy results (held by the emitted ResultBatch) share, keeping the input rows
  // reachable for as long as the ResultBatch lives.
  const invalidHandler = (batchId: number) => (row: T, index: number): void => {
    if (reader !== undefined) invalidEventTime(op, reader, row, batchId, index, invalidPolicy);
  };
  return {
    step(batch: Batch<T>, lateFiltering, evictWatermarkMs): AggregationStep<T, R, FixedAggState> {
      const lateWatermarkMs = engine.lateWatermark;
      const r = engine.step(batch.rows, time, lateFiltering, evictWatermarkMs, batch.watermark, invalidHandler(batch.batchId));
      // A checkpoint reads the changed groups from the working state when the step is published;
      // the Immutable snapshot is taken only if the result table is read.
      const snapshot = new StepSnapshot<FixedAggState>(engine, op, false);
      const total = engine.totalGroups;
      return {
        ...stepStats(checkpointing ? engine.working() : undefined, lateWatermarkMs, r, r.numRemoved, total, bytesPerGroup),
        changedKeys: {
          *[Symbol.iterator]() {
            // The late-rows watermark decides which rows a restarted query drops: in every delta, not only in snapshots.
            yield LATE_WATERMARK_KEY;
            for (let i = 0; i < r.updatedGroups.length; i++) yield `${r.updatedBuckets[i]!}/${keyToJson(r.updatedGroups[i]![n])}`;
            for (const [bucket, groups] of r.evicted) for (const g of groups.values()) yield `${bucket}/${keyToJson(g[n])}`;
          },
        },
        updated: () => {
          snapshot.assertReadable('updated');
          if (!r.tracked) staleRead(op, 'updated');
          const out = new Array<R>(r.updatedGroups.length);
          for (let i = 0; i < out.length; i++) out[i] = build(r.updatedBuckets[i]!, r.updatedGroups[i]!);
          return out;
        },
        finalized: () => {
          const out: R[] = [];
          for (const [bucket, groups] of r.evicted) groups.forEach((g) => void out.push(build(bucket, g)));
          return out;
        },
        table: (): ResultTable<R> => {
          const state = snapshot.get('table');
          return resultTable(total, function* () {
            const bucketIds = [...state.buckets.keys()].sort((a, b) => a - b);
            for (const bucket of bucketIds) {
              const rows: R[] = [];
              state.buckets.get(bucket)!.forEach((g) => void rows.push(build(bucket, g)));
              yield* rows;
            }
          });
        },
      };
    },
  };
}

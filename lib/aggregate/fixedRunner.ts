import { setColumn } from '../internal/columns.js';
import { InvariantViolationError, describeValue } from '../errors/index.js';
import type { Batch } from '../batch/Batch.js';
import { resultTable, type ResultTable } from '../batch/ResultBatch.js';
import type { StateCodec } from '../state/StateStore.js';
import type { OutputModeName } from '../internal/pipeline.js';
import { invalidEventTime, type EventTimeReader } from '../time/eventTime.js';
import type { InvalidEventTimePolicy } from '../types.js';
import type { WindowSpec } from '../window/WindowBounds.js';
import { StepSnapshot, staleRead, stepStats, type AggregationRunner, type AggregationStep } from './aggregationOperator.js';
import type { CompiledAggregates } from './Aggregator.js';
import { FixedStateBuilder, FixedWindowEngine, type Bucketing, type FixedAggState, type FixedStepResult, type GroupRecord, type TimeAccess } from './fixedWindowEngine.js';
import type { BulkStateCodec, StateFileEntries, TextStateCodec } from '../checkpoint/stateFiles.js';
import { encodeDouble } from './numericInput.js';
import { decodeRawKey, encodeRawKey, keyFromJson, keyToJson, type CompiledKey } from './groupKey.js';
import { denseCodecPart, denseRunner, isDenseState } from './denseRunner.js';
import { isDenseEligible } from './denseGroupEngine.js';
import type { BinaryStateCodec } from '../checkpoint/stateFiles.js';
import { CheckpointIncompatibleError } from '../errors/CheckpointError.js';

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

/**
 * A state handed to a checkpoint while the changed-keys iterator runs: the
 * working state, plus the group behind the entry key the iterator yielded
 * last, so that the codec's `get` of that key (which the checkpoint calls
 * right after each key) needs no parsing and no lookup.
 */
export interface HintedFixedState extends FixedAggState {
  hintKey: string | undefined;
  hintBucket: number;
  hintGroup: GroupRecord | undefined;
}

/** A {@link HintedFixedState} over the engine's working state after the last batch. */
export function hintedWorkingState(engine: FixedWindowEngine<unknown>, extra?: object): HintedFixedState {
  return { ...engine.working(), ...extra, hintKey: undefined, hintBucket: 0, hintGroup: undefined };
}

/** Sets the hint of `state` (if any) and returns the entry key. */
function hinted(state: HintedFixedState | undefined, entryKey: string, bucket: number, group: GroupRecord | undefined): string {
  if (state !== undefined) {
    state.hintKey = entryKey;
    state.hintBucket = bucket;
    state.hintGroup = group;
  }
  return entryKey;
}

/**
 * The changed entry keys of a fixed-window step (the late-rows watermark,
 * `extra`, then every group written and every group evicted), hinting each
 * one's group to the codec through `state`.
 */
export function fixedChangedKeys(r: FixedStepResult<unknown>, n: number, state: HintedFixedState | undefined, extra: readonly string[] = []): Iterable<string> {
  return {
    *[Symbol.iterator]() {
      if (state !== undefined) state.hintKey = undefined;
      yield* extra;
      // The late-rows watermark decides which rows a restarted query drops: in every delta, not only in snapshots.
      yield LATE_WATERMARK_KEY;
      for (let i = 0; i < r.updatedGroups.length; i++) {
        const g = r.updatedGroups[i] as unknown[];
        // The entry key is kept in the record (slot n + 3): built once per group, not once per batch.
        let entryKey = g[n + 3] as string | undefined;
        if (entryKey === undefined) g[n + 3] = entryKey = `${r.updatedBuckets[i]!}/${JSON.stringify(encodeRawKey(g[n]))}`;
        yield hinted(state, entryKey, r.updatedBuckets[i]!, g);
      }
      for (const [bucket, groups] of r.evicted) for (const g of groups.values()) yield hinted(state, (g[n + 3] as string | undefined) ?? `${bucket}/${JSON.stringify(encodeRawKey(g[n]))}`, bucket, undefined);
      if (state !== undefined) state.hintKey = undefined;
    },
  };
}

/** A fixed-window codec, with the bulk restore, the text reader and a hook for entries that are not groups (see {@link slidingCodec}). */
export interface FixedCodec extends StateCodec<FixedAggState>, BulkStateCodec<FixedAggState>, TextStateCodec<FixedAggState>, BinaryStateCodec<FixedAggState> {
  /** {@link BulkStateCodec.fromStateFiles}, handing entries it does not know (keys starting with `$`) to `other`. */
  restore(files: readonly StateFileEntries[], removed: unknown, other: ((entryKey: string, value: unknown) => void) | undefined): FixedAggState;
}

/**
 * The checkpoint codec of a fixed-window state: one entry `<bucket>/<key as
 * JSON>` per group, valued `[...accumulators, raw key, bucket, 0]` (the
 * engine's record layout, the bucket and a 0 in its two bookkeeping slots),
 * plus the late-events watermark. States are restored in the engine's
 * working layout ({@link FixedStateBuilder}) from the values alone: each
 * parsed value array becomes the group's record, and the key column is read
 * only for removed and `$` entries.
 * Values of the earlier format `{ k: raw key, a: accumulators }` are read
 * too (their bucket comes from the entry key).
 */
export function fixedCodec<T>(aggs: CompiledAggregates<T>, key: CompiledKey<T>): FixedCodec {
  const { aggregators } = aggs;
  const n = aggregators.length;
  const encoders = aggregators.map((a) => (a.encode === undefined ? undefined : (acc: unknown) => a.encode!(acc as never)));
  const decoders = aggregators.map((a) => (a.decode === undefined ? undefined : (json: unknown) => a.decode!(json)));
  const plain = encoders.every((e) => e === undefined) && decoders.every((d) => d === undefined);
  // The value is laid out as the engine's record, so that a restore can keep the parsed array as the record.
  const encodeGroup = (bucket: number, g: GroupRecord): unknown => {
    const a = new Array<unknown>(n + 3);
    for (let j = 0; j < n; j++) a[j] = encoders[j] === undefined ? g[j] : encoders[j]!(g[j]);
    a[n] = encodeRawKey(g[n]);
    a[n + 1] = bucket;
    a[n + 2] = 0;
    return a;
  };
  // The JSON text of a group's value, written directly: an accumulator that is a finite number and
  // is encoded as itself (no encoder, or sum's encodeDouble) is its decimal text, as JSON.stringify writes it.
  const asItself = aggregators.map((a) => a.encode === undefined || a.encode === (encodeDouble as unknown));
  const accText = (j: number, acc: unknown): string => {
    if (typeof acc === 'number' && asItself[j] && Number.isFinite(acc) && !Object.is(acc, -0)) return `${acc}`;
    return JSON.stringify(encoders[j] === undefined ? acc : encoders[j]!(acc)) ?? 'null';
  };
  const groupText = (bucket: number, g: GroupRecord): string => {
    let text = '[';
    for (let j = 0; j < n; j++) text += `${accText(j, g[j])},`;
    return `${text}${JSON.stringify(encodeRawKey(g[n])) ?? 'null'},${bucket},0]`;
  };
  const parseKey = (entryKey: string): [number, unknown] => {
    const slash = entryKey.indexOf('/');
    return [Number(entryKey.slice(0, slash)), key.canonical(keyFromJson(entryKey.slice(slash + 1)))];
  };
  const restore = (files: readonly StateFileEntries[], removed: unknown, other: ((entryKey: string, value: unknown) => void) | undefined): FixedAggState => {
    const builder = new FixedStateBuilder(n);
    for (const file of files) {
      const { values, count } = file;
      for (let i = 0; i < count; i++) {
        const v = values[i];
        if (Array.isArray(v) && v.length === n + 3) {
          // [...accumulators, raw key, bucket, 0]: the parsed array becomes the record.
          const g = v as unknown[];
          if (!plain) for (let j = 0; j < n; j++) if (decoders[j] !== undefined) g[j] = decoders[j]!(g[j]);
          const bucket = g[n + 1] as number;
          builder.restored(g);
          const k = decodeRawKey(g[n]);
          g[n] = k;
          builder.set(bucket, key.canonical(k), g);
          continue;
        }
        const entryKey = file.key(i);
        if (entryKey.charCodeAt(0) === 36 /* $ */) {
          if (v === removed) continue;
          if (entryKey === LATE_WATERMARK_KEY) builder.lateWatermarkMs = v as number;
          else other?.(entryKey, v);
        } else if (v === removed) {
          const [bucket, gk] = parseKey(entryKey);
          builder.remove(bucket, gk);
        } else {
          // The earlier format: { k, a }, the bucket in the entry key.
          const old = v as { k: unknown; a: unknown[] };
          if (typeof v !== 'object' || v === null || !Array.isArray(old.a)) throw new InvariantViolationError(`fixed-window state: the checkpoint entry ${entryKey} holds ${describeValue(v)}, which is not a group of ${n} aggregates.`);
          const g = builder.record();
          for (let j = 0; j < n; j++) g[j] = decoders[j] === undefined ? old.a[j] : decoders[j]!(old.a[j]);
          g[n] = decodeRawKey(old.k);
          builder.set(Number(entryKey.slice(0, entryKey.indexOf('/'))), key.canonical(g[n]), g);
        }
      }
    }
    return builder.finish();
  };
  const dense = denseCodecPart(aggs, key);
  return {
    *entries(state) {
      if (isDenseState(state)) {
        yield* dense.entries(state, encodeGroup);
        return;
      }
      yield [LATE_WATERMARK_KEY, state.lateWatermarkMs];
      for (const [bucket, groups] of state.buckets) for (const g of groups.values()) yield [`${bucket}/${keyToJson(g[n])}`, encodeGroup(bucket, g)];
    },
    get(state, entryKey) {
      if (isDenseState(state)) return dense.get(state, entryKey, encodeGroup, (ms) => ms);
      const h = state as Partial<HintedFixedState>;
      if (h.hintKey === entryKey && entryKey !== undefined) return h.hintGroup === undefined ? undefined : encodeGroup(h.hintBucket!, h.hintGroup);
      if (entryKey === LATE_WATERMARK_KEY) return state.lateWatermarkMs;
      const [bucket, gk] = parseKey(entryKey);
      const g = state.buckets.get(bucket)?.get(gk);
      return g === undefined ? undefined : encodeGroup(bucket, g);
    },
    getText(state, entryKey) {
      if (isDenseState(state)) return dense.get(state, entryKey, groupText, (ms) => JSON.stringify(ms) ?? 'null');
      const h = state as Partial<HintedFixedState>;
      if (h.hintKey === entryKey && entryKey !== undefined) return h.hintGroup === undefined ? undefined : groupText(h.hintBucket!, h.hintGroup);
      if (entryKey === LATE_WATERMARK_KEY) return JSON.stringify(state.lateWatermarkMs) ?? 'null';
      const [bucket, gk] = parseKey(entryKey);
      const g = state.buckets.get(bucket)?.get(gk);
      return g === undefined ? undefined : groupText(bucket, g);
    },
    fromEntries(entries) {
      const keys: string[] = [];
      const values: unknown[] = [];
      for (const [entryKey, value] of entries) {
        keys.push(entryKey);
        values.push(value);
      }
      return restore([{ count: keys.length, values, key: (i) => keys[i]! }], NOT_REMOVED, undefined);
    },
    fromStateFiles(files, removed) {
      return restore(files, removed, undefined);
    },
    binaryDelta: dense.binaryDelta,
    fromBinaryFiles: dense.fromBinaryFiles,
    restore,
  };
}

/** A marker no entry value is: `fromEntries` has no removed entries. */
const NOT_REMOVED = Symbol('not removed');

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
  // groupAggregate without a watermark, over count / sum / avg / min / max and one key field: columns by dense key id.
  if (bucketing === 'none' && isDenseEligible(aggs, key)) return denseRunner<T, R>(op, aggs, key, fixedRowBuilder<T, R>(aggs, key, undefined), restored, checkpointing);
  if (isDenseState(restored)) {
    throw new CheckpointIncompatibleError(
      `${op}: the checkpoint holds this operator's state as columns by key (written while it had no watermark on a key column); got a pipeline where ${bucketing === 'eventTime' ? 'a key column is watermarked' : 'the state is kept by window'}. Keep the pipeline's watermarks as they were, or start the query with a new checkpoint location.`,
      op,
      op,
    );
  }
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
      const published = checkpointing ? hintedWorkingState(engine as FixedWindowEngine<unknown>) : undefined;
      return {
        ...stepStats(published, lateWatermarkMs, r, r.numRemoved, total, bytesPerGroup),
        changedKeys: fixedChangedKeys(r as FixedStepResult<unknown>, n, published),
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

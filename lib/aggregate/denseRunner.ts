import type { Batch } from '../batch/Batch.js';
import { resultTable, type ResultTable } from '../batch/ResultBatch.js';
import type { BinaryStateFile, StateFileHeader } from '../checkpoint/stateFiles.js';
import { CheckpointIncompatibleError } from '../errors/CheckpointError.js';
import { InvariantViolationError } from '../errors/index.js';
import { staleRead, type AggregationRunner, type AggregationStep } from './aggregationOperator.js';
import type { CompiledAggregates } from './Aggregator.js';
import { DenseGroupEngine, isDenseEligible } from './denseGroupEngine.js';
import type { FixedAggState, GroupRecord } from './fixedWindowEngine.js';
import { encodeRawKey, keyFromJson, type CompiledKey } from './groupKey.js';

const LATE_WATERMARK_KEY = '$lateWatermark';

/**
 * A `groupAggregate` state kept by a {@link DenseGroupEngine}: what the
 * runner publishes to a checkpoint and what a binary restore gives. It reads
 * as an empty {@link FixedAggState} to code that does not know it (its
 * `buckets` are empty); the fixed-window codec and runners check for it.
 */
export interface DenseAggState extends FixedAggState {
  readonly dense: DenseHandle;
}

interface DenseHandle {
  readonly engine: DenseGroupEngine<unknown>;
  /** A restored state belongs to one subscription. */
  adopted: boolean;
  /** The entry key the changed-keys iterator yielded last, and its group (see `HintedFixedState`). */
  hintKey: string | undefined;
  hintId: number;
  hintRaw: unknown;
}

const NO_BUCKETS = { get: () => undefined, forEach: () => 0, values: () => [][Symbol.iterator](), keys: () => [][Symbol.iterator](), size: 0, [Symbol.iterator]: () => [][Symbol.iterator]() };

function denseState(engine: DenseGroupEngine<unknown>): DenseAggState {
  const handle: DenseHandle = { engine, adopted: false, hintKey: undefined, hintId: -1, hintRaw: undefined };
  return {
    dense: handle,
    buckets: NO_BUCKETS as unknown as FixedAggState['buckets'],
    get lateWatermarkMs() {
      return engine.lateWatermarkMs;
    },
  };
}

/** Whether a fixed-window state is a dense one. */
export function isDenseState(state: unknown): state is DenseAggState {
  return typeof state === 'object' && state !== null && 'dense' in state;
}

/** The entry key of a group (the fixed-window codec's: bucket 0, the raw key as JSON). */
function entryKeyOf(raw: unknown): string {
  return `0/${JSON.stringify(encodeRawKey(raw))}`;
}

/** How the fixed-window codec writes one group (`encodeGroup` / `groupText`), for the dense codec part. */
export type GroupWriter<V> = (bucket: number, group: GroupRecord) => V;

/** The dense part of `fixedCodec`: a dense state's entries, one entry, its binary delta, and the binary restore. */
export interface DenseCodecPart {
  entries(state: DenseAggState, encode: GroupWriter<unknown>): Iterable<readonly [string, unknown]>;
  get<V>(state: DenseAggState, entryKey: string, write: GroupWriter<V>, lateWatermark: (ms: number) => V): V | undefined;
  binaryDelta(state: FixedAggState, header: (full: boolean) => StateFileHeader): Uint8Array | undefined;
  fromBinaryFiles(files: readonly BinaryStateFile[]): DenseAggState;
}

/** {@link DenseCodecPart} for an operator's aggregates and key. */
export function denseCodecPart<T>(aggs: CompiledAggregates<T>, key: CompiledKey<T>): DenseCodecPart {
  return {
    *entries(state, encode) {
      const engine = state.dense.engine;
      yield [LATE_WATERMARK_KEY, engine.lateWatermarkMs];
      for (let id = 0; id < engine.size; id++) {
        const raw = engine.rawKey(id);
        yield [entryKeyOf(raw), encode(0, engine.record(id, raw))];
      }
    },
    get(state, entryKey, write, lateWatermark) {
      const h = state.dense;
      const engine = h.engine;
      if (h.hintKey === entryKey && entryKey !== undefined) return write(0, engine.record(h.hintId, h.hintRaw));
      if (entryKey === LATE_WATERMARK_KEY) return lateWatermark(engine.lateWatermarkMs);
      const slash = entryKey.indexOf('/');
      if (entryKey.slice(0, slash) !== '0') return undefined;
      const id = engine.find(keyFromJson(entryKey.slice(slash + 1)));
      return id < 0 ? undefined : write(0, engine.record(id));
    },
    binaryDelta(state, header) {
      return isDenseState(state) ? state.dense.engine.encodeDelta(header) : undefined;
    },
    fromBinaryFiles(files) {
      const first = files[0];
      if (!isDenseEligible(aggs, key)) {
        const operator = String(first?.header.operator ?? '');
        throw new CheckpointIncompatibleError(
          `checkpoint: stateful operator ${operator} cannot read its state; got binary state files (columns of numbers, layout ${JSON.stringify(first?.header['layout'])}) for aggregates that are not all count, sum, avg, min or max over one key field. The operator's aggregates changed in a way its descriptor does not show; start the query with a new checkpoint location.`,
          first?.path ?? '',
          operator,
        );
      }
      const engine = new DenseGroupEngine<unknown>(aggs as CompiledAggregates<unknown>, key as CompiledKey<unknown>, Math.max(1024, first?.header.count ?? 0));
      engine.restoreBinary(files);
      return denseState(engine);
    },
  };
}

/** Rough bytes per group for `memoryUsedBytes` (the figure the generic engine reports, kept so metrics do not move with the layout). */
const GROUP_BYTES = 96;
const ACC_BYTES = 16;

/**
 * The per-subscription runner of a `groupAggregate` without a watermark whose
 * state fits {@link DenseGroupEngine} (see {@link isDenseEligible}). A state
 * restored from text files (older checkpoints, format versions 1 and 2) is
 * converted once, and its first delta holds every group, in the binary
 * format, starting a new chain.
 */
export function denseRunner<T, R>(
  op: string,
  aggs: CompiledAggregates<T>,
  key: CompiledKey<T>,
  build: (bucket: number, group: GroupRecord) => R,
  restored: FixedAggState | undefined,
  checkpointing: boolean,
): AggregationRunner<T, R, FixedAggState> {
  const keyField = key.fields[0]!;
  let engine: DenseGroupEngine<T>;
  let published: DenseAggState;
  if (isDenseState(restored)) {
    if (restored.dense.adopted) throw new InvariantViolationError(`${op}: a restored state was handed to a second engine; each restored state belongs to one subscription.`);
    restored.dense.adopted = true;
    engine = restored.dense.engine as DenseGroupEngine<T>;
    published = restored;
  } else {
    engine = new DenseGroupEngine<T>(aggs, key);
    published = denseState(engine as DenseGroupEngine<unknown>);
    if (restored !== undefined) {
      // A state from text files: converted group by group, in its order; the next delta restarts the chain in binary.
      const n = aggs.aggregators.length;
      const groups = restored.owned?.groups.get(0) ?? restored.buckets.get(0);
      groups?.forEach((g: GroupRecord) => {
        const id = engine.idOf(g[n]);
        for (let j = 0; j < n; j++) engine.setAccumulator(id, j, g[j]);
      });
      if (restored.owned !== undefined) restored.owned.adopted = true;
      engine.lateWatermarkMs = restored.lateWatermarkMs;
      engine.needsFull = true;
    }
  }
  const handle = published.dense;
  const bytesPerGroup = GROUP_BYTES + ACC_BYTES * aggs.aggregators.length;
  const n = aggs.aggregators.length;
  return {
    step(batch: Batch<T>): AggregationStep<T, R, FixedAggState> {
      const lateWatermarkMs = engine.lateWatermarkMs;
      engine.step(batch.rows, keyField, batch.watermark);
      const version = engine.version;
      const numUpdated = engine.changedCount;
      const total = engine.size;
      const readable = (what: string): void => {
        if (engine.version !== version) staleRead(op, what);
      };
      const changedKeys: Iterable<string> = {
        *[Symbol.iterator]() {
          readable('changedKeys');
          handle.hintKey = undefined;
          yield LATE_WATERMARK_KEY;
          for (let i = 0; i < numUpdated; i++) {
            const raw = engine.changedRawKey(i);
            const entryKey = entryKeyOf(raw);
            handle.hintKey = entryKey;
            handle.hintId = engine.changed[i]!;
            handle.hintRaw = raw;
            yield entryKey;
          }
          handle.hintKey = undefined;
        },
      };
      return {
        state: checkpointing ? published : undefined,
        lateWatermarkMs,
        late: [],
        numInvalid: 0,
        numUpdated,
        numRemoved: 0,
        numTotal: total,
        memoryUsedBytes: total * bytesPerGroup,
        changedKeys,
        updated: () => {
          readable('updated');
          const out = new Array<R>(numUpdated);
          const g = new Array<unknown>(n + 1);
          const changed = engine.changed;
          for (let i = 0; i < numUpdated; i++) {
            const id = changed[i]!;
            for (let j = 0; j < n; j++) g[j] = engine.accumulator(id, j);
            g[n] = engine.changedRawKey(i);
            out[i] = build(0, g);
          }
          return out;
        },
        finalized: () => [],
        table: (): ResultTable<R> => {
          readable('table');
          // Built now: the columns change with the next batch, the rows do not.
          const rows = new Array<R>(total);
          const g = new Array<unknown>(n + 1);
          for (let id = 0; id < total; id++) {
            for (let j = 0; j < n; j++) g[j] = engine.accumulator(id, j);
            g[n] = engine.rawKey(id);
            rows[id] = build(0, g);
          }
          return resultTable(total, () => rows[Symbol.iterator]());
        },
      };
    },
  };
}

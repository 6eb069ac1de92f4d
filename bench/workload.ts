// Deterministic workload for the benchmarks: N events { ts, key, value } over
// K keys, a fraction of them out of order by up to a lateness bound, a fraction
// redelivered (exact duplicates of a recent event, for the dedup job), cut into
// batches of B rows. Events are generated lazily, batch by batch, from a seeded
// PRNG, so 20M events never sit in memory at once and every run of every way
// sees exactly the same rows.

/** One input event. `ts` is epoch milliseconds, `value` a small integer (sums stay exact whatever the order). */
export interface Ev {
  readonly ts: number;
  readonly key: string;
  readonly value: number;
}

/** Workload parameters (all overridable from the command line). */
export interface WorkloadOptions {
  /** Number of events (left side for the join). */
  readonly n: number;
  /** Number of distinct keys. */
  readonly keys: number;
  /** Fraction of events that are out of order. */
  readonly outOfOrder: number;
  /** How far back an out-of-order event may be, in ms (uniform in [1, lateness]). */
  readonly latenessMs: number;
  /** Rows per batch. */
  readonly batchSize: number;
  /** Mean event-time distance between consecutive events, in ms (100 events per second of event time by default). */
  readonly stepMs: number;
  /** Fraction of events that are redeliveries of one of the previous 256 events. */
  readonly dupFraction: number;
  /** Size of the join's right stream relative to the left (same event-time span, same number of batches). */
  readonly rightRatio: number;
  /** PRNG seed. */
  readonly seed: number;
}

export const DEFAULT_WORKLOAD: WorkloadOptions = {
  n: 5_000_000,
  keys: 1_000,
  outOfOrder: 0.05,
  latenessMs: 30_000,
  batchSize: 10_000,
  stepMs: 10,
  dupFraction: 0.05,
  rightRatio: 0.1,
  seed: 20_240_601,
};

/** Event time of event 0: 2023-11-14T22:13:20Z. */
export const T0 = 1_700_000_000_000;

/** mulberry32: a small, fast, well-mixed 32-bit PRNG; returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const keyNameCache = new Map<number, readonly string[]>();

/** The key strings `k0 … k<K-1>`, built once so that generating a row allocates only the row. */
export function keyNames(k: number): readonly string[] {
  let names = keyNameCache.get(k);
  if (names === undefined) {
    names = Array.from({ length: k }, (_, i) => `k${i}`);
    keyNameCache.set(k, names);
  }
  return names;
}

interface StreamParams {
  readonly stepMs: number;
  readonly dupFraction: number;
  readonly seed: number;
}

/**
 * An incremental generator for one stream: `next(count)` returns the next
 * `count` events as a fresh array.
 */
function streamGenerator(options: WorkloadOptions, params: StreamParams): (count: number) => Ev[] {
  const rand = prng(params.seed);
  const names = keyNames(options.keys);
  const k = options.keys;
  const { stepMs, dupFraction } = params;
  const oooFraction = options.outOfOrder;
  const lateness = options.latenessMs;
  const RING = 256;
  const ring: Ev[] = [];
  let index = 0;
  return (count) => {
    const rows = new Array<Ev>(count);
    for (let j = 0; j < count; j++) {
      const i = index++;
      const u = rand();
      let ev: Ev;
      if (u < dupFraction && ring.length > 0) {
        // A redelivery: an exact copy of a recent event.
        const src = ring[Math.floor(rand() * ring.length)]!;
        ev = { ts: src.ts, key: src.key, value: src.value };
      } else {
        const nominal = T0 + Math.floor(i * stepMs);
        let ts = nominal + Math.floor(rand() * Math.max(1, Math.floor(stepMs)));
        if (rand() < oooFraction) ts = nominal - 1 - Math.floor(rand() * lateness);
        ev = { ts, key: names[Math.floor(rand() * k)]!, value: Math.floor(rand() * 1000) };
      }
      if (ring.length < RING) ring.push(ev);
      else ring[i % RING] = ev;
      rows[j] = ev;
    }
    return rows;
  };
}

/** The number of batches the (left) stream is cut into. */
export function batchCount(options: WorkloadOptions): number {
  return Math.ceil(options.n / options.batchSize);
}

/** The main (left) stream, lazily, one array per batch. */
export function* batches(options: WorkloadOptions): Generator<Ev[]> {
  const next = streamGenerator(options, { stepMs: options.stepMs, dupFraction: options.dupFraction, seed: options.seed });
  for (let done = 0; done < options.n; done += options.batchSize) yield next(Math.min(options.batchSize, options.n - done));
}

/** The number of events in the join's right stream. */
export function rightCount(options: WorkloadOptions): number {
  return Math.floor(options.n * options.rightRatio);
}

/**
 * The join's two streams in step: batch b of the left and batch b of the right
 * cover the same stretch of event time (the right stream is `rightRatio` times
 * as dense, with its own seed and no redeliveries).
 */
export function* pairedBatches(options: WorkloadOptions): Generator<[Ev[], Ev[]]> {
  const left = streamGenerator(options, { stepMs: options.stepMs, dupFraction: options.dupFraction, seed: options.seed });
  const ratio = options.rightRatio;
  const right = streamGenerator(options, { stepMs: options.stepMs / ratio, dupFraction: 0, seed: options.seed ^ 0x5bd1e995 });
  let rightDone = 0;
  for (let done = 0; done < options.n; done += options.batchSize) {
    const leftCount = Math.min(options.batchSize, options.n - done);
    const rightEnd = Math.floor((done + leftCount) * ratio);
    const r = right(rightEnd - rightDone);
    rightDone = rightEnd;
    yield [left(leftCount), r];
  }
}

/** Total input events of a job's workload (both sides for the join). */
export function inputEvents(options: WorkloadOptions, twoSided: boolean): number {
  return twoSided ? options.n + rightCount(options) : options.n;
}

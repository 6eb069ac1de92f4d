/**
 * The scenarios of the restart-equivalence matrix (`restartMatrix.ts`): one
 * query per stateful operator (and a few chains), each over a small seeded
 * input of one file per batch with rows near window boundaries, late rows and
 * duplicates. `runScenario` runs one of them over a directory source into a
 * file sink with a checkpoint, in this process or in a child process
 * (`restartChild.ts`), and can stop it gracefully after a given batch or call
 * hooks at each step so that a child can SIGKILL itself at an exact point.
 *
 * Depends only on the library and Node, so that it can be bundled for the
 * child process.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asyncScheduler, map, tap, type MonoTypeOperatorFunction, type Observable, type SchedulerLike } from 'rxjs';
import type { Batch } from '../../../lib/batch/Batch.js';
import { count } from '../../../lib/aggregate/count.js';
import { sum } from '../../../lib/aggregate/sum.js';
import { max } from '../../../lib/aggregate/max.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import type { WritePhase } from '../../../lib/checkpoint/atomicWrite.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import type { StreamingQuery } from '../../../lib/query/StreamingQuery.js';
import type { Sink } from '../../../lib/sinks/Sink.js';
import { fromDirectory } from '../../../lib/sources/fromDirectory.js';
import type { GroupState } from '../../../lib/groupState/GroupState.js';
import { assignWindows } from '../../../operators/assignWindows.js';
import { dropDuplicates } from '../../../operators/dropDuplicates.js';
import { dropDuplicatesWithinWatermark } from '../../../operators/dropDuplicatesWithinWatermark.js';
import { flatMapGroupsWithState } from '../../../operators/flatMapGroupsWithState.js';
import { groupAggregate } from '../../../operators/groupAggregate.js';
import { mapGroupsWithState } from '../../../operators/mapGroupsWithState.js';
import { outputMode } from '../../../operators/outputMode.js';
import { streamJoin } from '../../../operators/streamJoin.js';
import { windowSession } from '../../../operators/windowSession.js';
import { windowSliding } from '../../../operators/windowSliding.js';
import { windowTumbling } from '../../../operators/windowTumbling.js';
import { withWatermark } from '../../../operators/withWatermark.js';
import { prng } from '../../helpers/prng.js';

/** One input row. `side` splits the input into the two sides of a join. */
export interface Row {
  readonly id: number;
  readonly k: string;
  readonly ts: number;
  readonly v: number;
  readonly side: 'L' | 'R';
}

type Pipeline = (batches$: Observable<Batch<Row>>, clock: BatchClock) => Observable<Batch<unknown>>;

/** One scenario: its input (rows per batch) and its pipeline. */
export interface Scenario {
  readonly name: string;
  readonly batches: readonly (readonly Row[])[];
  readonly pipeline: Pipeline;
}

/**
 * A processing-time clock that reads the same at every run of a batch: set
 * from the batch id when the batch enters the pipeline, so that
 * processing-time timeouts fire at the same batches after any restart.
 */
export interface BatchClock {
  readonly scheduler: SchedulerLike;
  set(batchId: number): void;
}

function batchClock(): BatchClock {
  let nowMs = 0;
  const scheduler: SchedulerLike = { now: () => nowMs, schedule: asyncScheduler.schedule.bind(asyncScheduler) as SchedulerLike['schedule'] };
  return { scheduler, set: (batchId) => void (nowMs = 1_000_000 + batchId * 1000) };
}

/** Batch count of the generated inputs: past a snapshot at version 9 with a snapshot every 10 batches. */
export const BATCHES = 12;

/**
 * A seeded input: event time advances ~3 s a batch; some rows sit exactly on
 * (or 1 ms around) 5 s boundaries, some are 8–12 s late, some repeat an
 * earlier row's key and time, and a few batches are empty.
 */
export function generateInput(seed: number, batches = BATCHES): Row[][] {
  const random = prng(seed);
  const out: Row[][] = [];
  const earlier: Row[] = [];
  let id = 0;
  for (let b = 0; b < batches; b++) {
    const rows: Row[] = [];
    const n = random() < 0.08 ? 0 : 2 + Math.floor(random() * 4);
    const base = 10_000 + b * 3000;
    for (let r = 0; r < n; r++) {
      const kind = random();
      let ts = base + Math.floor(random() * 4000) - 2000;
      if (kind < 0.15) ts = base - 8000 - Math.floor(random() * 4000); // late
      else if (kind < 0.35) ts = Math.round(ts / 5000) * 5000 + (Math.floor(random() * 3) - 1); // on a boundary, or 1 ms off
      const k = `k${Math.floor(random() * 3)}`;
      const side = random() < 0.5 ? 'L' : 'R';
      if (kind > 0.88 && earlier.length > 0) {
        const e = earlier[Math.floor(random() * earlier.length)]!;
        rows.push({ ...e, id: id++ }); // the same key and time again
      } else {
        rows.push({ id: id++, k, ts: Math.max(0, ts), v: Math.floor(random() * 10), side });
      }
    }
    for (const row of rows) earlier.push(row);
    out.push(rows);
  }
  return out;
}

/** A hook after the source: sets the batch clock (and reports the batch to `onPoint`). */
function enter(clock: BatchClock, onBatch: (batchId: number) => void): MonoTypeOperatorFunction<Batch<Row>> {
  // A plain RxJS tap: the pipeline information travels with the batches and through the tap's source link.
  return (source) =>
    source.pipe(
      tap((batch) => {
        clock.set(batch.batchId);
        onBatch(batch.batchId);
      }),
    );
}

function side(which: 'L' | 'R'): MonoTypeOperatorFunction<Batch<Row>> {
  return (source) => source.pipe(map((batch) => ({ ...batch, rows: batch.rows.filter((r) => r.side === which) })));
}

const WM = '4 seconds';
const agg = { n: count(), total: sum<Row>('v') };

function joinScenario(name: string, type: 'inner' | 'leftOuter' | 'rightOuter' | 'fullOuter' | 'leftSemi', seed: number): Scenario {
  return {
    name,
    batches: generateInput(seed),
    pipeline: (b$) => {
      const left$ = b$.pipe(side('L'), withWatermark<Row>('ts', WM, { name: 'wmL' }));
      const right$ = b$.pipe(side('R'), withWatermark<Row>('ts', WM, { name: 'wmR' }));
      return left$.pipe(
        streamJoin(right$, {
          on: 'k',
          type,
          aligned: true,
          timeRange: { leftTime: 'ts', rightTime: 'ts', lower: -2000, upper: 2000 },
          select: (l: Row | null, r: Row | null) => ({ l: l?.id ?? null, r: r?.id ?? null }),
        }),
      ) as Observable<Batch<unknown>>;
    },
  };
}

/** Every scenario of the matrix. */
export const SCENARIOS: readonly Scenario[] = [
  {
    // The case of the issue: 5 s watermark, 5 s tumbling count, append.
    name: 'reported',
    batches: [
      [{ id: 0, k: 'a', ts: 10_000, v: 0, side: 'L' }, { id: 1, k: 'a', ts: 11_000, v: 0, side: 'L' }],
      [{ id: 2, k: 'a', ts: 25_000, v: 0, side: 'L' }],
      [{ id: 3, k: 'a', ts: 12_000, v: 0, side: 'L' }, { id: 4, k: 'a', ts: 26_000, v: 0, side: 'L' }],
    ],
    pipeline: (b$) => b$.pipe(withWatermark<Row>('ts', '5 seconds'), windowTumbling({ eventTime: 'ts', size: '5 seconds', aggregate: { n: count() } }), outputMode('append')),
  },
  { name: 'windowTumbling/append', batches: generateInput(1), pipeline: (b$) => b$.pipe(withWatermark<Row>('ts', WM), windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'k', aggregate: agg }), outputMode('append')) },
  { name: 'windowTumbling/update', batches: generateInput(2), pipeline: (b$) => b$.pipe(withWatermark<Row>('ts', WM), windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'k', aggregate: agg }), outputMode('update')) },
  { name: 'windowSliding/append', batches: generateInput(3), pipeline: (b$) => b$.pipe(withWatermark<Row>('ts', WM), windowSliding({ eventTime: 'ts', size: '6 seconds', slide: '3 seconds', keyBy: 'k', aggregate: agg }), outputMode('append')) },
  { name: 'windowSliding/update', batches: generateInput(4), pipeline: (b$) => b$.pipe(withWatermark<Row>('ts', WM), windowSliding({ eventTime: 'ts', size: '6 seconds', slide: '3 seconds', keyBy: 'k', aggregate: agg }), outputMode('update')) },
  { name: 'windowSession/append', batches: generateInput(5), pipeline: (b$) => b$.pipe(withWatermark<Row>('ts', WM), windowSession({ eventTime: 'ts', gap: '2500 ms', keyBy: 'k', aggregate: agg }), outputMode('append')) },
  { name: 'windowSession/complete', batches: generateInput(6), pipeline: (b$) => b$.pipe(withWatermark<Row>('ts', WM), windowSession({ eventTime: 'ts', gap: '2500 ms', keyBy: 'k', aggregate: agg }), outputMode('complete')) },
  {
    name: 'groupAggregate/update (window column)',
    batches: generateInput(7),
    pipeline: (b$) => b$.pipe(withWatermark<Row>('ts', WM), assignWindows({ eventTime: 'ts', size: '5 seconds' }), groupAggregate({ keyBy: ['window', 'k'], aggregate: agg }), outputMode('update')),
  },
  { name: 'groupAggregate/complete', batches: generateInput(8), pipeline: (b$) => b$.pipe(groupAggregate({ keyBy: 'k', aggregate: { ...agg, last: max('ts') } }), outputMode('complete')) },
  { name: 'dropDuplicates', batches: generateInput(9), pipeline: (b$) => b$.pipe(withWatermark<Row>('ts', WM), dropDuplicates<Row>(['k', 'ts'])) },
  { name: 'dropDuplicatesWithinWatermark', batches: generateInput(10), pipeline: (b$) => b$.pipe(withWatermark<Row>('ts', WM), dropDuplicatesWithinWatermark<Row>(['k', 'v'])) },
  joinScenario('streamJoin/inner', 'inner', 11),
  joinScenario('streamJoin/leftOuter', 'leftOuter', 12),
  joinScenario('streamJoin/rightOuter', 'rightOuter', 13),
  joinScenario('streamJoin/fullOuter', 'fullOuter', 14),
  joinScenario('streamJoin/leftSemi', 'leftSemi', 15),
  {
    name: 'flatMapGroupsWithState/eventTime',
    batches: generateInput(16),
    pipeline: (b$) =>
      b$.pipe(
        withWatermark<Row>('ts', WM),
        flatMapGroupsWithState({ keyBy: 'k', outputMode: 'update', timeout: 'eventTime' }, (key: string, rows: readonly Row[], state: GroupState<{ n: number; maxTs: number }>) => {
          if (state.hasTimedOut) {
            const s = state.get();
            state.remove();
            return [{ k: key, n: s.n, closed: true }];
          }
          const s = state.getOption() ?? { n: 0, maxTs: 0 };
          const next = { n: s.n + rows.length, maxTs: Math.max(s.maxTs, ...rows.map((r) => r.ts)) };
          state.update(next);
          state.setTimeoutTimestamp(Math.max(next.maxTs + 3000, state.getCurrentWatermarkMs() + 1000));
          return [{ k: key, n: next.n, closed: false }];
        }),
      ),
  },
  {
    name: 'mapGroupsWithState/processingTime',
    batches: generateInput(17),
    pipeline: (b$, clock) =>
      b$.pipe(
        mapGroupsWithState({ keyBy: 'k', timeout: 'processingTime', scheduler: clock.scheduler }, (key: string, rows: readonly Row[], state: GroupState<number>) => {
          if (state.hasTimedOut) {
            const n = state.get();
            state.remove();
            return { k: key, n, closed: true, at: state.getCurrentProcessingTimeMs() };
          }
          const n = (state.getOption() ?? 0) + rows.length;
          state.update(n);
          state.setTimeoutDuration('2500 ms');
          return { k: key, n, closed: false, at: state.getCurrentProcessingTimeMs() };
        }),
      ),
  },
  {
    name: 'chain: dropDuplicates → windowTumbling/append',
    batches: generateInput(18),
    pipeline: (b$) => b$.pipe(withWatermark<Row>('ts', WM), dropDuplicates<Row>(['k', 'ts']), windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'k', aggregate: agg }), outputMode('append')),
  },
  {
    name: 'chain: windowTumbling/append → windowTumbling/append',
    batches: generateInput(19),
    pipeline: (b$) =>
      b$.pipe(
        withWatermark<Row>('ts', WM),
        windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'k', aggregate: { n: count() } }),
        outputMode('append'),
        windowTumbling({ eventTime: 'window', size: '15 seconds', aggregate: { windows: count(), n: sum<{ n: number }>('n') } }),
        outputMode('append'),
      ) as Observable<Batch<unknown>>,
  },
  {
    // Spark's MultiStatefulOperatorsSuite "join -> window agg, append mode": the joined rows keep the left side's watermarked ts.
    name: 'chain: streamJoin/inner → windowTumbling/append',
    batches: generateInput(20),
    pipeline: (b$) => {
      const left$ = b$.pipe(side('L'), withWatermark<Row>('ts', WM, { name: 'wmL' }));
      const right$ = b$.pipe(side('R'), withWatermark<Row>('ts', WM, { name: 'wmR' }));
      return left$.pipe(
        streamJoin(right$, { on: 'k', aligned: true, timeRange: { leftTime: 'ts', rightTime: 'ts', lower: -2000, upper: 2000 }, select: (l: Row, r: Row) => ({ k: l.k, ts: l.ts, v: l.v + r.v }) }),
        windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'k', aggregate: { n: count(), total: sum<{ v: number }>('v') } }),
        outputMode('append'),
      ) as Observable<Batch<unknown>>;
    },
  },
];

/** The scenario named `name`. */
export function scenario(name: string): Scenario {
  const found = SCENARIOS.find((s) => s.name === name);
  if (found === undefined) throw new Error(`restart matrix: no scenario named ${JSON.stringify(name)}`);
  return found;
}

/** Writes a scenario's input: one JSON-lines file per batch, with increasing modification times. */
export function writeScenarioInput(dir: string, s: Scenario): void {
  mkdirSync(dir, { recursive: true });
  const base = Math.floor(Date.UTC(2024, 0, 1) / 1000);
  s.batches.forEach((rows, b) => {
    const file = join(dir, `batch-${String(b).padStart(3, '0')}.json`);
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length > 0 ? '\n' : ''));
    utimesSync(file, base + b, base + b);
  });
}

/** The directories of one run. */
export interface RunDirs {
  readonly input: string;
  readonly output: string;
  readonly checkpoint: string;
}

/** Options of {@link runScenario}. */
export interface RunOptions {
  readonly snapshotInterval: number;
  /** Stop gracefully (`query.stop()`) once the sink has written this batch. */
  readonly stopAfter?: number;
  /** Called synchronously at each step: `batch-start`, `sink-done`, and `<file>-<phase>` of every checkpoint write (see `crashQuery.ts`). */
  readonly onPoint?: (point: string, batchId: number) => void;
}

function writePoint(onPoint: (point: string, batchId: number) => void): (phase: WritePhase, path: string) => void {
  return (phase, path) => {
    const match = /^(offsets|commits)\/(\d+)$/.exec(path) ?? /^state\/[^/]+\/(\d+)\.(delta|snapshot)$/.exec(path);
    if (match === null) return;
    const [file, batchId] = match[1] === 'offsets' || match[1] === 'commits' ? [match[1] === 'commits' ? 'commit' : 'offsets', Number(match[2])] : [match[2]!, Number(match[1])];
    onPoint(`${file}-${phase}`, batchId);
  };
}

/**
 * The matrix's sink: batch N's rows go to `part-N.json`, written to a hidden
 * temporary file and renamed, so a replayed batch replaces the file of its
 * first run (idempotent by batch id, in every output mode).
 */
function writeBatchFile(dir: string, batchId: number, rows: readonly unknown[]): void {
  mkdirSync(dir, { recursive: true });
  const temporary = join(dir, `.part-${batchId}.json.tmp`);
  writeFileSync(temporary, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  renameSync(temporary, join(dir, `part-${batchId}.json`));
}

/** Runs a scenario from its checkpoint until the input is processed (or `stopAfter`); rejects with the query's error. */
export async function runScenario(s: Scenario, dirs: RunDirs, options: RunOptions): Promise<void> {
  const onPoint = options.onPoint ?? (() => undefined);
  const clock = batchClock();
  let query: StreamingQuery | undefined;
  const sink: Sink<unknown> = {
    description: `restart-matrix sink [${dirs.output}]`,
    supportedModes: ['append', 'update', 'complete'],
    idempotent: true,
    addBatch: async (batchId, rows) => {
      writeBatchFile(dirs.output, batchId, rows);
      onPoint('sink-done', batchId);
      if (options.stopAfter !== undefined && batchId >= options.stopAfter) void query?.stop();
    },
  };
  query = startQuery<Row, unknown>({
    name: `restart-matrix ${s.name} ${dirs.checkpoint}`,
    source: fromDirectory<Row>(dirs.input, { format: 'json', maxFilesPerTrigger: 1, watch: false }),
    pipeline: (b$) => s.pipeline(b$.pipe(enter(clock, (batchId) => onPoint('batch-start', batchId))), clock),
    sink,
    trigger: { availableNow: true },
    // Ratio 0: a snapshot every `snapshotInterval` versions, so that the trials restore from snapshots as often as the interval says.
    checkpoint: openCheckpoint(dirs.checkpoint, { snapshotInterval: options.snapshotInterval, snapshotDeltaRatio: 0, fsync: false, onWritePhase: writePoint(onPoint) }),
  });
  await query.awaitTermination();
}

/** Every row of the visible output files, as canonical JSON text → how many times it was written. */
export function outputRows(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('_') || name.startsWith('.')) continue;
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (line.length === 0) continue;
      const text = canonical(JSON.parse(line) as unknown);
      out.set(text, (out.get(text) ?? 0) + 1);
    }
  }
  return out;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** How two multisets of rows differ: rows missing from `actual`, rows written more often than in `expected`. */
export function diffRows(expected: Map<string, number>, actual: Map<string, number>): { missing: string[]; extra: string[] } {
  const missing: string[] = [];
  const extra: string[] = [];
  for (const [row, n] of expected) for (let i = actual.get(row) ?? 0; i < n; i++) missing.push(row);
  for (const [row, n] of actual) for (let i = expected.get(row) ?? 0; i < n; i++) extra.push(row);
  return { missing, extra };
}

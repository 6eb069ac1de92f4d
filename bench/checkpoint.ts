import type { Observable } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
/**
 * What a checkpoint costs with a large state, through `startQuery`:
 * `groupAggregate` (count and sum per key) over --keys keys, loaded by batch
 * 0, then --batches batches that each change --changed of the keys, run
 * back to back (the default trigger) into a sink that counts rows.
 *
 *   npm run bench:checkpoint -- [--keys 1000000] [--changed 0.01] [--batches 120] [--runs 3] [--snapshot-interval 10] [--snapshot-delta-ratio <the default>]
 *
 * One query child alone, with a CPU profile of its main thread over batches 1..N
 * (summarise it with `npx tsx bench/profileSummary.ts <file>`):
 *
 *   npx tsx bench/checkpoint.ts --role query [--dir <new checkpoint dir>] --profile-steady <file.cpuprofile> [settings]
 *
 * The source makes each batch when the query asks for it, and the time it
 * takes is left out of every figure (it is the same with and without the
 * checkpoint); a prepared input held 2.2M rows in memory for every GC to mark.
 *
 * Each run is two child processes, the same query without and with a
 * `checkpoint` (a directory, fsync on), in alternating order, so that the
 * load of a shared machine hits both alike; a third child restarts the query
 * from the checkpoint the second left behind. Printed per run and as medians:
 *
 * - the time per batch without and with the checkpoint (the wall time of
 *   the N batches run back to back, divided by N) and their ratio, and the
 *   same for the CPU time of the process (all threads, so the snapshot
 *   worker's work counts too; steadier than wall time on a busy machine);
 * - the checkpoint phases of `durationMs` (median per batch);
 * - bytes written per batch (offsets + deltas + commit), and the snapshots
 *   (version, size) with the snapshot lag the last progress report shows;
 * - how long `stop()` takes right after the last batch;
 * - recovery: `startQuery` to `ready` on the checkpoint, then the first batch
 *   after the restart.
 *
 * Not a test: it never asserts; it prints figures.
 */
import { spawnSync } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { count } from '../lib/aggregate/count.js';
import { sum } from '../lib/aggregate/sum.js';
import { openCheckpoint } from '../lib/checkpoint/openCheckpoint.js';
import type { StreamingQueryProgress } from '../lib/query/progress.js';
import { startQuery } from '../lib/query/startQuery.js';
import type { Sink } from '../lib/sinks/Sink.js';
import type { Source } from '../lib/sources/Source.js';
import { groupAggregate } from '../operators/groupAggregate.js';
import { outputMode } from '../operators/outputMode.js';
import { parseCount, parseFlags } from './args.js';
import { prng } from './workload.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const RESULT_PREFIX = 'CKPT_RESULT ';

interface Row {
  readonly k: string;
  readonly v: number;
}

interface Settings {
  readonly keys: number;
  readonly changed: number;
  readonly batches: number;
  readonly snapshotInterval: number;
  /** `undefined`: the checkpoint's default. */
  readonly snapshotDeltaRatio: number | undefined;
}


/** Batch 0 loads every key; batch i > 0 writes `changed × keys` distinct keys picked by a generator seeded with i. */
const keyName = (i: number): string => `key-${String(i).padStart(7, '0')}`;

/**
 * Batch `b` of the workload, made when the source is asked for it (the same rows every time): batch 0
 * holds every key once, every later batch `changed` of the keys, drawn with `prng(b)`. Nothing is
 * prepared ahead, so that the process holds no more than a real source would: prepared input (2.2M
 * rows for a 120-batch run) made every major GC of the run, and of a recovery, mark it.
 */
function makeBatch(s: Settings, b: number): Row[] {
  if (b === 0) return Array.from({ length: s.keys }, (_, i) => ({ k: keyName(i), v: 1 }));
  const perBatch = Math.round(s.keys * s.changed);
  const random = prng(b);
  const picked = new Set<number>();
  while (picked.size < perBatch) picked.add(Math.floor(random() * s.keys));
  return [...picked].map((i) => ({ k: keyName(i), v: Math.floor(random() * 100) }));
}

/**
 * A replayable source over batches 0..last (made on demand): the offset is the index of the last batch
 * read; one batch per trigger. `madeMs` is the time spent making each batch, which the figures leave out
 * (the source's own work, the same with and without a checkpoint).
 */
function batchSource(s: Settings, last: number): Source<Row, number> & { readonly madeMs: Map<number, number> } {
  const madeMs = new Map<number, number>();
  const made = (b: number): Row[] => {
    const t0 = performance.now();
    const rows = makeBatch(s, b);
    madeMs.set(b, (madeMs.get(b) ?? 0) + performance.now() - t0);
    return rows;
  };
  const batch = (from: number, to: number): Row[] => (to === from ? made(to) : Array.from({ length: to - from + 1 }, (_, i) => made(from + i)).flat());
  return {
    madeMs,
    description: 'BenchSource',
    start: async () => undefined,
    latestOffset: async (start) => Math.min((start ?? -1) + 1, last),
    getBatch: async (start, end) => batch((start ?? -1) + 1, end),
    commit: async () => undefined,
    stop: async () => undefined,
    sameOffset: (a, b) => a === b,
  };
}

function countingSink(): Sink<unknown> & { rows: number } {
  const sink = {
    description: 'CountingSink',
    supportedModes: ['append', 'update', 'complete'] as const,
    idempotent: true,
    rows: 0,
    addBatch: async (_batchId: number, rows: readonly unknown[]) => {
      sink.rows += rows.length;
    },
  };
  return sink;
}

const pipeline = (batches$: Observable<Batch<Row>>) =>
  batches$.pipe(groupAggregate({ keyBy: 'k', aggregate: { n: count(), total: sum('v') } }), outputMode('update'));

interface QueryResult {
  readonly role: 'query';
  readonly checkpoint: boolean;
  /** `durationMs.triggerExecution` of batches 1..N. */
  readonly batchMs: number[];
  /** From the start of batch 1 to the end of batch N. */
  readonly wallMs: number;
  /** CPU time of the process (every thread: main, snapshot worker, I/O and GC threads) over the same span. */
  readonly cpuMs: number;
  /** Time the main thread's event loop was busy over the same span (`performance.eventLoopUtilization`). */
  readonly mainBusyMs: number;
  readonly loadMs: number;
  readonly stopMs: number;
  readonly outputRows: number;
  /** Median per batch of every `durationMs` phase over batches 1..N. */
  readonly phases: Record<string, number>;
  readonly lastProgress: StreamingQueryProgress | undefined;
}

interface RecoveryResult {
  readonly role: 'recover';
  readonly readyMs: number;
  readonly firstBatchMs: number;
  readonly lastCommitted: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** `--profile-steady <file>`: a CPU profile of the main thread from the end of batch 0 to the end of the last batch. */
async function steadyProfiler(file: string | undefined): Promise<{ start(): void; stop(): Promise<void> }> {
  if (file === undefined) return { start: () => undefined, stop: async () => undefined };
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  let started: Promise<unknown> | undefined;
  return {
    start: () => {
      started ??= session.post('Profiler.start');
    },
    stop: async () => {
      await started;
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

function checkpointOptions(s: Settings): { readonly snapshotInterval: number; readonly snapshotDeltaRatio?: number } {
  return { snapshotInterval: s.snapshotInterval, ...(s.snapshotDeltaRatio === undefined ? {} : { snapshotDeltaRatio: s.snapshotDeltaRatio }) };
}

async function runQuery(s: Settings, dir: string | undefined, profileFile?: string): Promise<QueryResult> {
  const profiler = await steadyProfiler(profileFile);
  const sink = countingSink();
  const progress: StreamingQueryProgress[] = [];
  let firstStart = 0;
  let firstCpu = 0;
  let firstElu = performance.eventLoopUtilization();
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const source = batchSource(s, s.batches);
  const query = startQuery<Row, unknown>({
    source,
    pipeline,
    sink,
    ...(dir === undefined ? {} : { checkpoint: openCheckpoint(dir, checkpointOptions(s)) }),
  });
  query.progress$.subscribe((p) => {
    progress.push(p);
    if (p.batchId === 0) {
      profiler.start();
      firstStart = performance.now();
      firstCpu = cpu();
      firstElu = performance.eventLoopUtilization();
    }
  });
  await query.ready;
  await query.processAllAvailable();
  const lastEnd = performance.now();
  const lastCpu = cpu();
  const elu = performance.eventLoopUtilization(firstElu);
  await profiler.stop();
  const s0 = performance.now();
  await query.stop();
  const stopMs = performance.now() - s0;
  const steady = progress.filter((p) => p.batchId >= 1);
  const phases: Record<string, number> = {};
  for (const name of Object.keys(steady[0]?.durationMs ?? {})) phases[name] = median(steady.map((p) => (p.durationMs as unknown as Record<string, number>)[name] ?? 0));
  // Making the input (the source's work, on the main thread) is left out of every figure.
  const made = (b: number): number => source.madeMs.get(b) ?? 0;
  let madeSteady = 0;
  for (let b = 1; b <= s.batches; b++) madeSteady += made(b);
  return {
    role: 'query',
    checkpoint: dir !== undefined,
    batchMs: steady.map((p) => p.durationMs.triggerExecution - made(p.batchId)),
    wallMs: lastEnd - firstStart - madeSteady,
    cpuMs: lastCpu - firstCpu - madeSteady,
    mainBusyMs: elu.active - madeSteady,
    loadMs: (progress[0]?.durationMs.triggerExecution ?? 0) - made(0),
    stopMs,
    outputRows: sink.rows,
    phases,
    lastProgress: progress[progress.length - 1],
  };
}

async function runRecovery(s: Settings, dir: string): Promise<RecoveryResult> {
  // One batch more than the checkpointed run: the restarted query runs it.
  const sink = countingSink();
  const r0 = performance.now();
  const checkpoint = openCheckpoint(dir, checkpointOptions(s));
  const source = batchSource(s, s.batches + 1);
  const query = startQuery<Row, unknown>({ source, pipeline, sink, checkpoint });
  const firstBatch = new Promise<number>((resolve) => {
    query.progress$.subscribe((p) => resolve(p.durationMs.triggerExecution - (source.madeMs.get(p.batchId) ?? 0)));
  });
  await query.ready;
  const readyMs = performance.now() - r0;
  const lastCommitted = checkpoint.recovered?.lastCommittedBatchId ?? -1;
  if (lastCommitted > s.batches) {
    // A checkpoint that was recovered (and ran its extra batch) before: nothing is left for a first batch.
    console.error(`bench: the checkpoint at ${dir} already holds batch ${lastCommitted}; no batch is left to time after the restart (use a fresh copy)`);
    await query.stop();
    return { role: 'recover', readyMs, firstBatchMs: Number.NaN, lastCommitted };
  }
  const firstBatchMs = await firstBatch;
  await query.stop();
  return { role: 'recover', readyMs, firstBatchMs, lastCommitted };
}

// ---------------------------------------------------------------- parent

function child(args: readonly string[]): QueryResult | RecoveryResult {
  const result = spawnSync(process.execPath, ['--max-old-space-size=8192', '--import', 'tsx', join(HERE, 'checkpoint.ts'), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = result.stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (result.status !== 0 || line === undefined) throw new Error(`bench: child ${args.join(' ')} failed (status ${result.status}):\n${result.stderr}`);
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as QueryResult | RecoveryResult;
}

function filesOf(dir: string): Array<{ path: string; bytes: number }> {
  const out: Array<{ path: string; bytes: number }> = [];
  const walk = (d: string, prefix: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p, `${prefix}${name}/`);
      else out.push({ path: `${prefix}${name}`, bytes: st.size });
    }
  };
  walk(dir, '');
  return out;
}

/** Bytes of `offsets/N`, `commits/N` and `state/<op>/N.delta` for each batch N >= 1; snapshots separately. */
function bytesPerBatch(dir: string, batches: number): { perBatch: number[]; snapshots: Array<{ version: number; bytes: number }> } {
  const perBatch = new Array<number>(batches).fill(0);
  const snapshots: Array<{ version: number; bytes: number }> = [];
  for (const f of filesOf(dir)) {
    const m = /^(?:offsets|commits)\/(\d+)$/.exec(f.path) ?? /^state\/[^/]+\/(\d+)\.delta$/.exec(f.path);
    const snap = /^state\/[^/]+\/(\d+)\.snapshot$/.exec(f.path);
    if (snap !== null) snapshots.push({ version: Number(snap[1]), bytes: f.bytes });
    else if (m !== null && Number(m[1]) >= 1 && Number(m[1]) <= batches) perBatch[Number(m[1]) - 1]! += f.bytes;
  }
  snapshots.sort((a, b) => a.version - b.version);
  return { perBatch, snapshots };
}

const fmtMs = (ms: number): string => `${ms.toFixed(1)} ms`;
const fmtBytes = (b: number): string => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`);

function main(): void {
  const flags = parseFlags(process.argv.slice(2));
  const settings: Settings = {
    keys: parseCount('keys', flags.get('keys') ?? '1000000'),
    changed: Number(flags.get('changed') ?? '0.01'),
    batches: parseCount('batches', flags.get('batches') ?? '120'),
    snapshotInterval: parseCount('snapshot-interval', flags.get('snapshot-interval') ?? '10'),
    snapshotDeltaRatio: flags.has('snapshot-delta-ratio') ? Number(flags.get('snapshot-delta-ratio')) : undefined,
  };
  const settingsArgs = ['--keys', String(settings.keys), '--changed', String(settings.changed), '--batches', String(settings.batches), '--snapshot-interval', String(settings.snapshotInterval), ...(settings.snapshotDeltaRatio === undefined ? [] : ['--snapshot-delta-ratio', String(settings.snapshotDeltaRatio)])];
  const role = flags.get('role');
  if (role === 'query' || role === 'recover') {
    const dir = flags.get('dir');
    const work = role === 'query' ? runQuery(settings, dir, flags.get('profile-steady')) : runRecovery(settings, dir!);
    work.then(
      (r) => {
        process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(r)}\n`);
        process.exit(0);
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
    return;
  }

  const runs = parseCount('runs', flags.get('runs') ?? '3');
  const perBatch = Math.round(settings.keys * settings.changed);
  console.log(
    `checkpoint benchmark: groupAggregate(count, sum) over ${settings.keys.toLocaleString()} keys, then ${settings.batches} batches of ${perBatch.toLocaleString()} changed keys (${(settings.changed * 100).toFixed(2)}%), back to back through startQuery; checkpoint in a directory, fsync on, a snapshot due after ${settings.snapshotInterval} versions at least, once the deltas since the last add up to ${settings.snapshotDeltaRatio === undefined ? 'snapshotDeltaRatio (the default)' : settings.snapshotDeltaRatio} of its size`,
  );
  console.log(`node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${runs} runs`);
  const summary: Array<{ ratio: number; wallRatio: number; cpuRatio: number; busyRatio: number; off: QueryResult; on: QueryResult; rec: RecoveryResult; bytes: number; snapshots: Array<{ version: number; bytes: number }> }> = [];
  for (let run = 1; run <= runs; run++) {
    const dir = mkdtempSync(join(tmpdir(), 'rss-bench-ckpt-'));
    const ckptDir = join(dir, 'checkpoint');
    let off: QueryResult;
    let on: QueryResult;
    if (run % 2 === 1) {
      off = child(['--role', 'query', ...settingsArgs]) as QueryResult;
      on = child(['--role', 'query', '--dir', ckptDir, ...settingsArgs]) as QueryResult;
    } else {
      on = child(['--role', 'query', '--dir', ckptDir, ...settingsArgs]) as QueryResult;
      off = child(['--role', 'query', ...settingsArgs]) as QueryResult;
    }
    const { perBatch: bytes, snapshots } = bytesPerBatch(ckptDir, settings.batches);
    const rec = child(['--role', 'recover', '--dir', ckptDir, ...settingsArgs]) as RecoveryResult;
    rmSync(dir, { recursive: true, force: true });
    const ratio = median(on.batchMs) / median(off.batchMs);
    const wallRatio = on.wallMs / off.wallMs;
    const cpuRatio = on.cpuMs / off.cpuMs;
    const busyRatio = on.mainBusyMs / off.mainBusyMs;
    summary.push({ ratio, wallRatio, cpuRatio, busyRatio, off, on, rec, bytes: median(bytes), snapshots });
    console.log(`\nrun ${run}:`);
    console.log(`  per batch, back to back (wall of all ${settings.batches} / ${settings.batches}): ${fmtMs(off.wallMs / settings.batches)} without, ${fmtMs(on.wallMs / settings.batches)} with the checkpoint: ${wallRatio.toFixed(2)}x`);
    console.log(`  main thread busy per batch (event-loop utilisation): ${fmtMs(off.mainBusyMs / settings.batches)} without, ${fmtMs(on.mainBusyMs / settings.batches)} with: ${busyRatio.toFixed(2)}x`);
    console.log(`  CPU of the process over those batches (all threads, the snapshot worker's too): ${fmtMs(off.cpuMs)} without, ${fmtMs(on.cpuMs)} with: ${cpuRatio.toFixed(2)}x`);
    console.log(`  durationMs.triggerExecution (median; with a checkpoint it runs until the commit, which overlaps the next batch): ${fmtMs(median(off.batchMs))} / ${fmtMs(median(on.batchMs))}; initial load (batch 0): ${fmtMs(off.loadMs)} / ${fmtMs(on.loadMs)}`);
    console.log(`  durationMs with the checkpoint (median per batch): ${Object.entries(on.phases).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
    console.log(`  bytes written per batch (median): ${fmtBytes(median(bytes))} (${(median(bytes) / perBatch).toFixed(1)} per changed key)`);
    console.log(`  snapshots on disk: ${snapshots.map((x) => `v${x.version} ${fmtBytes(x.bytes)}`).join(', ') || 'none'}; snapshot lag in the last report: ${JSON.stringify((on.lastProgress as { checkpoint?: unknown } | undefined)?.checkpoint ?? null)}`);
    console.log(`  stop() right after the last batch: ${fmtMs(on.stopMs)} (without a checkpoint ${fmtMs(off.stopMs)})`);
    console.log(`  recovery of ${settings.keys.toLocaleString()} keys at batch ${rec.lastCommitted}: startQuery to ready ${fmtMs(rec.readyMs)}, then the first batch ${fmtMs(rec.firstBatchMs)}`);
    if (off.outputRows !== on.outputRows) console.log(`  OUTPUT DIFFERS: ${off.outputRows} rows without, ${on.outputRows} with the checkpoint`);
  }
  const m = (f: (x: (typeof summary)[number]) => number): number => median(summary.map(f));
  console.log(`\nmedians over ${runs} runs:`);
  console.log(`  per batch with / without the checkpoint (wall, back to back): ${m((x) => x.wallRatio).toFixed(2)}x (per run: ${summary.map((x) => x.wallRatio.toFixed(2)).join(', ')}); main thread busy ${m((x) => x.busyRatio).toFixed(2)}x (per run: ${summary.map((x) => x.busyRatio.toFixed(2)).join(', ')}); process CPU ${m((x) => x.cpuRatio).toFixed(2)}x (per run: ${summary.map((x) => x.cpuRatio.toFixed(2)).join(', ')})`);
  console.log(`  per batch: ${fmtMs(m((x) => x.off.wallMs / settings.batches))} without, ${fmtMs(m((x) => x.on.wallMs / settings.batches))} with`);
  console.log(`  bytes written per batch: ${fmtBytes(m((x) => x.bytes))}`);
  console.log(`  stop(): ${fmtMs(m((x) => x.on.stopMs))}`);
  console.log(`  recovery: startQuery to ready ${fmtMs(m((x) => x.rec.readyMs))}, first batch after it ${fmtMs(m((x) => x.rec.firstBatchMs))}`);
}

main();

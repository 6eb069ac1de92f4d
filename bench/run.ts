// `npm run bench [-- flags]`: runs every job three ways (library, hand-written
// loop, per-row RxJS) plus the bare input generator, each run in its own child
// process (peak RSS is per way), interleaved run by run so that background load
// hits every way alike; prints events/s, the ratio to the loop, peak RSS (min
// and median over the runs) and an order-independent checksum of the output
// rows per way; then the scale curve of the tumbling job, then the checkpoint
// benchmark (bench/checkpoint.ts: overhead per batch, snapshots, recovery). Try `--help`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKLOAD_FLAGS, parseCount, parseFlags, workloadFrom, workloadToArgs } from './args.js';
import { JOBS } from './jobs/index.js';
import { summarise } from './profileSummary.js';
import { formatTable, type Column } from './table.js';
import type { WorkerResult } from './worker.js';
import type { WorkloadOptions } from './workload.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const OUT_DIR = join(ROOT, '.bench-out');
const RESULT_PREFIX = 'BENCH_RESULT ';
const BUNDLE = join(OUT_DIR, 'bundle', 'worker.mjs');

/** Bundles the worker with esbuild (dependencies stay external, resolved from node_modules) for profiled runs. */
function bundleWorker(): void {
  const esbuild = join(ROOT, 'node_modules', '.bin', 'esbuild');
  const result = spawnSync(esbuild, [join(HERE, 'worker.ts'), '--bundle', '--platform=node', '--format=esm', '--sourcemap', `--outfile=${BUNDLE}`, '--packages=external', '--log-level=warning'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`bench: could not bundle the worker for profiling: ${result.stderr || result.error?.message || ''}`);
}
/** Ways run by default; `rxjs-groupby` (slow: minutes at 5M events) only on request. */
const DEFAULT_WAYS = ['source', 'loop', 'library', 'rxjs'] as const;
const WAYS = [...DEFAULT_WAYS, 'rxjs-groupby'] as const;
/** Library events/s over loop events/s that the issue asks for. */
// Issue 13's targets (library / the fastest hand-written loop, median of the runs).
const LOOP_TARGETS: Readonly<Record<string, number>> = { tumbling: 0.85, session: 0.7, sliding: 0.6, dedup: 0.7, join: 0.6 };
const RXJS_TARGET = 15;
const RSS_FLATNESS_TARGET = 1.25;
/**
 * V8 flags of the scale-curve children: the young generation pinned at its
 * largest size. By default V8 starts it small and grows it while a process
 * allocates, so a 20M-event run ends with a bigger young generation (tens of
 * MB of RSS) than a 1M-event run even when the live state is the same; pinned,
 * RSS compares the state.
 */
const SCALE_V8_FLAGS = ['--min-semi-space-size=16', '--max-semi-space-size=16'];

const HELP = `npm run bench -- [flags]

  --jobs a,b        jobs to run: ${JOBS.map((j) => j.name).join(', ')} [all]
  --ways a,b        ways to run: ${WAYS.join(', ')} [${DEFAULT_WAYS.join(',')}]
  --runs N          runs per way (min and median are reported) [3]
  --no-scale        skip the scale curve
  --scale-only      run only the scale curve
  --scale-n a,b,c   scale-curve sizes [1m,5m,20m]
  --scale-runs N    runs per scale-curve point (RSS verdicts use the median) [3]
  --profile         write a CPU profile of each library run (first run) to .bench-out/profiles and summarise it
  --no-checkpoint   skip the checkpoint benchmark (checkpoint overhead per batch, snapshots, recovery time)
  --checkpoint-runs N  runs of the checkpoint benchmark (\`npm run bench:checkpoint\`, default settings) [2]
  --help

workload:
${WORKLOAD_FLAGS.map(([flag, text]) => `  --${flag.padEnd(15)} ${text}`).join('\n')}

Each run is a child process: node --expose-gc --import tsx bench/worker.ts --job <job> --way <way> <workload flags>.
`;

interface RunRecord extends WorkerResult {
  readonly run: number;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Runs one child and returns what it reported. */
function runChild(job: string, way: string, workload: WorkloadOptions, profileDir: string | undefined, v8Flags: readonly string[] = []): WorkerResult {
  // A profiled run executes the esbuild bundle of the worker (with its source map), so that the
  // profile summary can map hot spots back to TypeScript lines; other runs go through tsx.
  // --expose-gc: the worker collects its heap before the measured run (what loading the code left behind).
  const nodeArgs = profileDir === undefined ? ['--max-old-space-size=8192', '--expose-gc', ...v8Flags, '--import', 'tsx', join(HERE, 'worker.ts')] : ['--max-old-space-size=8192', '--expose-gc', ...v8Flags, '--cpu-prof', '--cpu-prof-dir', profileDir, BUNDLE];
  const child = spawnSync(process.execPath, [...nodeArgs, '--job', job, '--way', way, ...workloadToArgs(workload)], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (child.status !== 0 || line === undefined) {
    const reason = (child.stderr || child.error?.message || `exit ${String(child.status)}`).trim().split('\n').slice(0, 6).join(' | ');
    return { job, way, events: 0, ms: 0, cpuMs: 0, checksum: '', outputRows: 0, maxRssKb: 0, unavailable: `failed: ${reason}` };
  }
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as WorkerResult;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface WayStats {
  readonly way: string;
  readonly available: boolean;
  readonly note: string;
  readonly events: number;
  readonly minMs: number;
  readonly medMs: number;
  readonly medCpuMs: number;
  readonly minRssMb: number;
  readonly medRssMb: number;
  readonly checksum: string;
  readonly outputRows: number;
  /** Checksums differ between runs of this way. */
  readonly unstable: boolean;
}

function statsOf(way: string, records: readonly RunRecord[]): WayStats {
  const ok = records.filter((r) => r.unavailable === undefined);
  if (ok.length === 0) {
    return { way, available: false, note: records[0]?.unavailable ?? 'not run', events: 0, minMs: NaN, medMs: NaN, medCpuMs: NaN, minRssMb: NaN, medRssMb: NaN, checksum: '', outputRows: 0, unstable: false };
  }
  const ms = ok.map((r) => r.ms);
  const rss = ok.map((r) => r.maxRssKb / 1024);
  const sums = new Set(ok.map((r) => r.checksum));
  return {
    way,
    available: true,
    note: ok.length < records.length ? `${records.length - ok.length} run(s) failed` : '',
    events: ok[0]!.events,
    minMs: Math.min(...ms),
    medMs: median(ms),
    medCpuMs: median(ok.map((r) => r.cpuMs)),
    minRssMb: Math.min(...rss),
    medRssMb: median(rss),
    checksum: ok[0]!.checksum,
    outputRows: ok[0]!.outputRows,
    unstable: sums.size > 1,
  };
}

const fmtRate = (events: number, ms: number): string => (Number.isFinite(ms) && ms > 0 ? `${((events / ms) * 1000 / 1e6).toFixed(2)}M` : '-');
const fmtRatio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '-');
const fmtMs = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '-');
const fmtMb = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '-');
const fmtCount = (n: number): string => (n >= 1e6 ? `${+(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${+(n / 1e3).toFixed(1)}k` : String(n));

interface JobSummary {
  readonly job: string;
  readonly ways: readonly WayStats[];
  readonly libVsLoopBest: number;
  readonly libVsLoopMedian: number;
  readonly libVsLoopNet: number;
  readonly libVsLoopCpu: number;
  readonly libVsRxjsBest: number;
  readonly libVsRxjsGroupByBest: number;
  readonly mismatch: boolean;
}

function summariseJob(job: string, records: readonly RunRecord[], ways: readonly string[]): JobSummary {
  const stats = ways.map((way) => statsOf(way, records.filter((r) => r.job === job && r.way === way)));
  const get = (way: string): WayStats | undefined => stats.find((s) => s.way === way && s.available);
  const loop = get('loop');
  const lib = get('library');
  const rx = get('rxjs');
  const rxg = get('rxjs-groupby');
  const src = get('source');
  const reference = loop ?? rx ?? lib;
  let mismatch = false;
  for (const s of stats) if (s.available && s.way !== 'source' && (s.unstable || (reference !== undefined && s.checksum !== reference.checksum))) mismatch = true;
  const ratio = (a: WayStats | undefined, b: WayStats | undefined, pick: (s: WayStats) => number): number => (a === undefined || b === undefined ? NaN : pick(b) / pick(a));
  // Net of the input generator: what each way spends beyond producing the rows.
  const net = loop !== undefined && lib !== undefined && src !== undefined ? (loop.minMs - src.minMs) / (lib.minMs - src.minMs) : NaN;
  return {
    job,
    ways: stats,
    libVsLoopBest: ratio(lib, loop, (s) => s.minMs),
    libVsLoopMedian: ratio(lib, loop, (s) => s.medMs),
    libVsLoopNet: net,
    libVsLoopCpu: ratio(lib, loop, (s) => s.medCpuMs),
    libVsRxjsBest: ratio(lib, rx, (s) => s.minMs),
    libVsRxjsGroupByBest: ratio(lib, rxg, (s) => s.minMs),
    mismatch,
  };
}

function printMain(summaries: readonly JobSummary[], runs: number): string {
  const columns: Column[] = [
    { title: 'job' },
    { title: 'way' },
    { title: 'events/s best', right: true },
    { title: 'events/s median', right: true },
    { title: 'min ms', right: true },
    { title: 'median ms', right: true },
    { title: 'cpu ms median', right: true },
    { title: 'vs loop best', right: true },
    { title: 'vs loop median', right: true },
    { title: 'vs loop cpu', right: true },
    { title: 'RSS MB min', right: true },
    { title: 'RSS MB median', right: true },
    { title: 'out rows', right: true },
    { title: 'checksum' },
  ];
  const rows: string[][] = [];
  for (const s of summaries) {
    const loop = s.ways.find((w) => w.way === 'loop' && w.available);
    for (const w of s.ways) {
      if (!w.available) {
        rows.push([s.job, w.way, '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-', `n/a: ${w.note.slice(0, 90)}`]);
        continue;
      }
      const vsLoop = (pick: (x: WayStats) => number): string => (loop === undefined ? '-' : fmtRatio(pick(loop) / pick(w)));
      const bad = w.way !== 'source' && (w.unstable || (loop !== undefined && w.checksum !== loop.checksum));
      rows.push([
        s.job,
        w.way,
        fmtRate(w.events, w.minMs),
        fmtRate(w.events, w.medMs),
        fmtMs(w.minMs),
        fmtMs(w.medMs),
        fmtMs(w.medCpuMs),
        vsLoop((x) => x.minMs),
        vsLoop((x) => x.medMs),
        vsLoop((x) => x.medCpuMs),
        fmtMb(w.minRssMb),
        fmtMb(w.medRssMb),
        w.way === 'source' ? '' : String(w.outputRows),
        w.way === 'source' ? '(input only)' : `${w.checksum}${bad ? (w.unstable ? '  <<< MISMATCH between runs' : '  <<< MISMATCH vs loop') : ''}`,
      ]);
    }
  }
  let out = `Jobs (${runs} run(s) per way, each in its own process; "vs loop" = loop time / way time):\n`;
  out += formatTable(columns, rows);
  out += '\nTargets (library events/s over the loop; verdicts on the median run; "net" subtracts the input generator from both, "cpu" compares median CPU time):\n';
  const targetRows: string[][] = [];
  for (const s of summaries) {
    const target = LOOP_TARGETS[s.job];
    const lib = s.ways.find((w) => w.way === 'library');
    if (lib === undefined || !lib.available) {
      targetRows.push([s.job, target === undefined ? '-' : `>= ${target.toFixed(2)}`, '-', '-', '-', '-', 'n/a', '-', `>= ${RXJS_TARGET}x`, 'n/a', '-']);
      continue;
    }
    const verdict = (x: number, t: number | undefined): string => (t === undefined || !Number.isFinite(x) ? '-' : x >= t ? 'PASS' : 'MISS');
    targetRows.push([
      s.job,
      target === undefined ? '-' : `>= ${target.toFixed(2)}`,
      fmtRatio(s.libVsLoopBest),
      fmtRatio(s.libVsLoopMedian),
      fmtRatio(s.libVsLoopNet),
      fmtRatio(s.libVsLoopCpu),
      verdict(s.libVsLoopMedian, target),
      fmtRatio(s.libVsRxjsBest),
      `>= ${RXJS_TARGET}x`,
      verdict(s.libVsRxjsBest, RXJS_TARGET),
      fmtRatio(s.libVsRxjsGroupByBest),
    ]);
  }
  out += formatTable(
    [
      { title: 'job' },
      { title: 'target' },
      { title: 'lib/loop best', right: true },
      { title: 'lib/loop median', right: true },
      { title: 'lib/loop net', right: true },
      { title: 'lib/loop cpu', right: true },
      { title: 'loop target' },
      { title: 'lib/rxjs best', right: true },
      { title: 'target' },
      { title: 'rxjs target' },
      { title: 'lib/rxjs-groupby best', right: true },
    ],
    targetRows,
  );
  const bad = summaries.filter((s) => s.mismatch);
  if (bad.length > 0) {
    out += `\n${'!'.repeat(78)}\n!!! CHECKSUM MISMATCH in ${bad.map((s) => s.job).join(', ')}: the ways do not produce the same rows.\n${'!'.repeat(78)}\n`;
  } else out += '\nAll ways that ran produced the same rows (checksums agree).\n';
  return out;
}

interface ScalePoint {
  readonly mode: string;
  readonly n: number;
  readonly way: string;
  readonly stats: WayStats;
}

function printScale(points: readonly ScalePoint[]): string {
  const rows = points.map((p) => [
    p.mode,
    p.way,
    fmtCount(p.n),
    p.stats.available ? fmtRate(p.stats.events, p.stats.minMs) : '-',
    p.stats.available ? fmtMs(p.stats.minMs) : '-',
    p.stats.available ? fmtMb(p.stats.minRssMb) : '-',
    p.stats.available ? fmtMb(p.stats.medRssMb) : '-',
    p.stats.available ? String(p.stats.outputRows) : `n/a: ${p.stats.note.slice(0, 80)}`,
  ]);
  let out = `\nScale curve (tumbling job; "watermark" = append with a 10 s watermark, "no watermark" = complete mode, state keeps every window; node ${SCALE_V8_FLAGS.join(' ')}):\n`;
  out += formatTable(
    [{ title: 'mode' }, { title: 'way' }, { title: 'N' }, { title: 'events/s', right: true }, { title: 'min ms', right: true }, { title: 'RSS MB min', right: true }, { title: 'RSS MB median', right: true }, { title: 'out rows' }],
    rows,
  );
  for (const mode of new Set(points.map((p) => p.mode))) {
    for (const way of new Set(points.map((p) => p.way))) {
      const series = points.filter((p) => p.mode === mode && p.way === way && p.stats.available).sort((a, b) => a.n - b.n);
      if (series.length < 2) continue;
      const first = series[0]!;
      const last = series[series.length - 1]!;
      const growth = last.stats.medRssMb / first.stats.medRssMb;
      const growthMin = last.stats.minRssMb / first.stats.minRssMb;
      const verdict = mode === 'watermark' ? (growth <= RSS_FLATNESS_TARGET ? `PASS (<= ${RSS_FLATNESS_TARGET}x)` : `MISS (> ${RSS_FLATNESS_TARGET}x)`) : '(grows, as expected without a watermark)';
      out += `  ${mode}, ${way}: RSS at ${fmtCount(last.n)} / RSS at ${fmtCount(first.n)} = ${growth.toFixed(2)}x (medians) ${verdict}; ${growthMin.toFixed(2)}x (smallest runs)\n`;
    }
  }
  return out;
}

function profileReport(dir: string, label: string): string {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return '';
  }
  let out = '';
  for (const file of files) {
    const { total, functions, lines } = summarise(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Parameters<typeof summarise>[0]);
    if (total < 50) continue; // a loader thread
    out += `\nCPU profile, ${label} (${join(dir, file)}; ${total.toFixed(0)} ms sampled), top self time by function:\n`;
    for (const f of functions.slice(0, 15)) out += `  ${(f.share * 100).toFixed(1).padStart(5)}% ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.name}  ${f.location}\n`;
    out += 'top self time by source line:\n';
    for (const l of lines.slice(0, 12)) out += `  ${(l.share * 100).toFixed(1).padStart(5)}% ${l.selfMs.toFixed(0).padStart(7)} ms  ${l.location}  (${l.name})\n`;
  }
  return out;
}

/**
 * Which code is measured: `BENCH_SOURCE` when set (e.g. the commit a snapshot
 * was exported from), else the git commit of this checkout and whether the
 * library's files have uncommitted changes.
 */
function sourceRevision(): string {
  const fromEnv = process.env['BENCH_SOURCE'];
  if (fromEnv !== undefined && fromEnv.length > 0) return fromEnv;
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  if (head.status !== 0) return '(not a git checkout)';
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'lib', 'operators'], { cwd: ROOT, encoding: 'utf8' });
  const changed = dirty.stdout.split('\n').filter((l) => l.trim().length > 0).length;
  return `commit ${head.stdout.trim()}${changed > 0 ? ` + ${changed} uncommitted file(s) in lib/ and operators/` : ''}`;
}

function main(): void {
  const flags = parseFlags(process.argv.slice(2));
  if (flags.has('help')) {
    process.stdout.write(HELP);
    return;
  }
  const workload = workloadFrom(flags);
  const jobNames = (flags.get('jobs') ?? JOBS.map((j) => j.name).join(',')).split(',').filter((s) => s.length > 0);
  for (const name of jobNames) if (!JOBS.some((j) => j.name === name)) throw new Error(`bench: unknown job ${JSON.stringify(name)}; jobs: ${JOBS.map((j) => j.name).join(', ')}.`);
  const ways = (flags.get('ways') ?? DEFAULT_WAYS.join(',')).split(',').filter((s) => s.length > 0);
  for (const way of ways) if (!(WAYS as readonly string[]).includes(way)) throw new Error(`bench: unknown way ${JSON.stringify(way)}; ways: ${WAYS.join(', ')}.`);
  const runs = parseCount('runs', flags.get('runs') ?? '3');
  const scaleOnly = flags.has('scale-only');
  const doScale = scaleOnly || !flags.has('no-scale');
  const scaleNs = (flags.get('scale-n') ?? '1m,5m,20m').split(',').map((s) => parseCount('scale-n', s));
  const scaleRuns = parseCount('scale-runs', flags.get('scale-runs') ?? '3');
  const profile = flags.has('profile');
  const doCheckpoint = !scaleOnly && !flags.has('no-checkpoint');
  const checkpointRuns = parseCount('checkpoint-runs', flags.get('checkpoint-runs') ?? '2');
  const started = new Date();
  mkdirSync(OUT_DIR, { recursive: true });
  const profileRoot = join(OUT_DIR, 'profiles');
  if (profile) {
    rmSync(profileRoot, { recursive: true, force: true });
    bundleWorker();
  }

  const source = sourceRevision();
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}`;
  let report = `rxjs-structured-streaming bench — ${started.toISOString()}\nmachine: ${machine}; load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`;
  report += `workload: n=${workload.n} keys=${workload.keys} outOfOrder=${workload.outOfOrder} lateness=${workload.latenessMs}ms batch=${workload.batchSize} step=${workload.stepMs}ms dup=${workload.dupFraction} rightRatio=${workload.rightRatio} seed=${workload.seed}\n`;
  report += `library source: ${source}\n`;
  report += `command: npm run bench --${process.argv.slice(2).length > 0 ? ` ${process.argv.slice(2).join(' ')}` : ''}\n\n`;
  log(report.trimEnd());

  const records: RunRecord[] = [];
  let mainText = '';
  let summaries: JobSummary[] = [];
  if (!scaleOnly) {
    for (let run = 1; run <= runs; run++) {
      for (const job of jobNames) {
        for (const way of ways) {
          const dir = profile && run === 1 && way === 'library' ? join(profileRoot, job) : undefined;
          const result = runChild(job, way, workload, dir);
          records.push({ ...result, run });
          log(
            result.unavailable !== undefined
              ? `run ${run}/${runs} ${job.padEnd(9)} ${way.padEnd(8)} n/a: ${result.unavailable.slice(0, 160)}`
              : `run ${run}/${runs} ${job.padEnd(9)} ${way.padEnd(8)} ${result.ms.toFixed(0).padStart(7)} ms ${fmtRate(result.events, result.ms).padStart(7)} ev/s  RSS ${(result.maxRssKb / 1024).toFixed(0)} MB  ${result.checksum}`,
          );
        }
      }
    }
    summaries = jobNames.map((job) => summariseJob(job, records, ways));
    mainText = printMain(summaries, runs);
    if (profile) for (const job of jobNames) mainText += profileReport(join(profileRoot, job), `${job} library`);
  }

  const scalePoints: ScalePoint[] = [];
  let scaleText = '';
  if (doScale) {
    const modes = [
      { mode: 'watermark', job: 'tumbling' },
      { mode: 'no watermark', job: 'tumbling-complete' },
    ];
    for (const { mode, job } of modes) {
      for (const n of scaleNs) {
        for (const way of ['loop', 'library']) {
          const recs: RunRecord[] = [];
          for (let run = 1; run <= scaleRuns; run++) {
            const result = runChild(job, way, { ...workload, n }, undefined, SCALE_V8_FLAGS);
            recs.push({ ...result, run });
            log(
              result.unavailable !== undefined
                ? `scale ${mode} ${way} n=${n}: n/a: ${result.unavailable.slice(0, 160)}`
                : `scale ${mode.padEnd(12)} ${way.padEnd(8)} n=${String(n).padStart(9)} ${result.ms.toFixed(0).padStart(7)} ms  RSS ${(result.maxRssKb / 1024).toFixed(0)} MB  ${result.checksum}`,
            );
          }
          scalePoints.push({ mode, n, way, stats: statsOf(way, recs) });
        }
      }
    }
    scaleText = printScale(scalePoints);
    // The loop and the library must agree at every size too.
    for (const mode of new Set(scalePoints.map((p) => p.mode))) {
      for (const n of scaleNs) {
        const pair = scalePoints.filter((p) => p.mode === mode && p.n === n && p.stats.available);
        if (pair.length === 2 && pair[0]!.stats.checksum !== pair[1]!.stats.checksum) scaleText += `!!! CHECKSUM MISMATCH in the scale curve (${mode}, n=${n}): loop ${pair[0]!.stats.checksum}, library ${pair[1]!.stats.checksum}\n`;
      }
    }
  }

  let checkpointText = '';
  if (doCheckpoint) {
    // The checkpoint benchmark in its own children (bench/checkpoint.ts): its medians close the report.
    log(`checkpoint benchmark (${checkpointRuns} runs)…`);
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(HERE, 'checkpoint.ts'), '--runs', String(checkpointRuns)], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (result.status !== 0) throw new Error(`bench: the checkpoint benchmark failed (status ${result.status}):\n${result.stderr}`);
    const lines = result.stdout.split('\n');
    const at = lines.findIndex((line) => line.startsWith('medians over'));
    checkpointText = `\nCheckpoint overhead and recovery (\`npm run bench:checkpoint -- --runs ${checkpointRuns}\`; ${lines[0] ?? ''}):\n${lines.slice(at).join('\n')}\n`;
  }

  const finished = new Date();
  const footer = `\nfinished ${finished.toISOString()} (${((finished.getTime() - started.getTime()) / 1000).toFixed(0)} s); load average at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`;
  const text = `${report}${mainText}${scaleText}${checkpointText}${footer}`;
  process.stdout.write(`\n${mainText}${scaleText}${checkpointText}${footer}`);
  writeFileSync(join(OUT_DIR, 'last.txt'), text);
  writeFileSync(join(OUT_DIR, 'last.json'), JSON.stringify({ started, machine, workload, records, summaries, scalePoints }, null, 2));
  log(`(written to ${join(OUT_DIR, 'last.txt')} and last.json)`);
}

main();

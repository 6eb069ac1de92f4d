// One measured run in its own process (so that peak RSS belongs to one way of
// one job): `node --expose-gc --import tsx bench/worker.ts --job tumbling --way library …`.
// Prints one line `BENCH_RESULT {json}` on stdout.
import { performance } from 'node:perf_hooks';
import { parseFlags, workloadFrom } from './args.js';
import { Checksum } from './checksum.js';
import { LOAD_ERRORS, type LibraryModule, type Runner } from './jobs/common.js';
import { jobNamed } from './jobs/index.js';
import { tumblingLibrary, tumblingLoop } from './jobs/tumbling.js';
import { batches, inputEvents, pairedBatches } from './workload.js';

/** What a child reports. */
export interface WorkerResult {
  readonly job: string;
  readonly way: string;
  readonly events: number;
  readonly ms: number;
  /** CPU time (user + system, all threads incl. GC helpers) spent in the measured section, ms: less sensitive than wall time to other processes on a busy machine. */
  readonly cpuMs: number;
  readonly checksum: string;
  readonly outputRows: number;
  /** Peak resident set size of the child, in KiB (`process.resourceUsage().maxRSS`). */
  readonly maxRssKb: number;
  /** Set when the way could not run (e.g. an operator not written yet). */
  readonly unavailable?: string;
}

export const RESULT_PREFIX = 'BENCH_RESULT ';

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const jobName = flags.get('job') ?? 'tumbling';
  const way = flags.get('way') ?? 'loop';
  const options = workloadFrom(flags);
  const checksum = new Checksum();
  const report = (result: Omit<WorkerResult, 'maxRssKb'>): void => {
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify({ ...result, maxRssKb: process.resourceUsage().maxRSS })}\n`);
  };

  let runner: Runner;
  let twoSided = false;
  if (jobName === 'tumbling-complete') {
    // The scale curve without a watermark: complete mode, state keeps every window.
    if (way === 'loop') runner = (ctx) => tumblingLoop(ctx, { watermark: false });
    else if (way === 'library') runner = tumblingLibrary(await loadLibrary(), { watermark: false });
    else throw new Error(`bench: job tumbling-complete runs only as loop or library; got way ${way}.`);
  } else {
    const job = jobNamed(jobName);
    if (job === undefined) throw new Error(`bench: unknown job ${JSON.stringify(jobName)}.`);
    twoSided = job.twoSided;
    if (way === 'loop') runner = job.loop;
    else if (way === 'rxjs') runner = job.rxjs;
    else if (way === 'rxjs-groupby') {
      if (job.rxjsGroupBy === undefined) {
        report({ job: jobName, way, events: 0, ms: 0, cpuMs: 0, checksum: '', outputRows: 0, unavailable: `no groupBy-idiom variant for ${jobName}` });
        return;
      }
      runner = job.rxjsGroupBy;
    }
    else if (way === 'source') {
      // Only generates the input (the floor every way pays).
      runner = twoSided
        ? () => {
            for (const pair of pairedBatches(options)) checksum.rows += pair[0].length + pair[1].length;
          }
        : () => {
            for (const rows of batches(options)) checksum.rows += rows.length;
          };
    } else if (way === 'library') {
      try {
        runner = job.library(await loadLibrary());
      } catch (error) {
        if (error instanceof Error && error.name === 'NotAvailableError') {
          report({ job: jobName, way, events: 0, ms: 0, cpuMs: 0, checksum: '', outputRows: 0, unavailable: error.message });
          return;
        }
        throw error;
      }
    } else throw new Error(`bench: unknown way ${JSON.stringify(way)}; use loop, library, rxjs, rxjs-groupby or source.`);
  }

  const events = inputEvents(options, twoSided);
  // Every way starts from a collected heap: loading the library's modules (the library way only) leaves
  // garbage in the old generation that a major GC would otherwise collect during the measured run.
  (globalThis as { gc?: () => void }).gc?.();
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  await runner({ options, checksum });
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  report({ job: jobName, way, events, ms, cpuMs, checksum: way === 'source' ? '' : checksum.toString(), outputRows: way === 'source' ? 0 : checksum.rows });
}

/**
 * The library's exports the jobs use, each loaded from its own file (static
 * paths, so the profiling bundle includes them): a file another engineer is
 * in the middle of editing then only takes out the jobs that need it, and the
 * error says which file failed.
 */
const LIBRARY_FILES: readonly (() => Promise<unknown>)[] = [
  () => import('../lib/batch/fromBatches.js'),
  () => import('../operators/withWatermark.js'),
  () => import('../operators/windowTumbling.js'),
  () => import('../operators/windowSliding.js'),
  () => import('../operators/windowSession.js'),
  () => import('../operators/outputMode.js'),
  () => import('../operators/dropDuplicates.js'),
  () => import('../operators/streamJoin.js'),
  () => import('../lib/aggregate/sum.js'),
  () => import('../lib/aggregate/count.js'),
];

async function loadLibrary(): Promise<LibraryModule> {
  const settled = await Promise.allSettled(LIBRARY_FILES.map((load) => load()));
  const exports: Record<string, unknown> = {};
  const failures: string[] = [];
  for (const s of settled) {
    if (s.status === 'fulfilled') Object.assign(exports, s.value);
    else failures.push(s.reason instanceof Error ? s.reason.message.split('\n')[0]! : String(s.reason));
  }
  if (failures.length > 0) exports[LOAD_ERRORS] = failures.join(' | ');
  return exports;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});

/**
 * The restart-equivalence matrix: every scenario of `restartScenarios.ts` ×
 * a restart after every batch × a snapshot every batch and every 10 batches ×
 * a graceful `stop()` (in this process) and a SIGKILL at a checkpoint or
 * pipeline step (in a child process, deterministic: the child kills itself at
 * a hook). Each trial's output, as a multiset of rows, is compared with the
 * output of an uninterrupted run.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildSync } from 'esbuild';
import { diffRows, outputRows, runScenario, writeScenarioInput, type RunDirs, type Scenario } from './restartScenarios.js';

/** One trial and how it came out. */
export interface TrialResult {
  readonly scenario: string;
  readonly kind: 'graceful' | 'sigkill';
  readonly snapshotInterval: number;
  /** The batch after which the first run stopped (graceful), or from which the kill point was armed; `every` for a stop after each batch. */
  readonly after: number | 'every';
  /** The kill point (SIGKILL trials). */
  readonly point?: string;
  /** SIGKILL trials: whether the child really died by SIGKILL (else it finished before the point came). */
  readonly killed?: boolean;
  readonly exact: boolean;
  readonly missing: readonly string[];
  readonly extra: readonly string[];
}

/** The points a child kills itself at, in the order trials take them. */
export const KILL_POINTS = [
  'commit-renamed', // the commit is durable, its background snapshot not yet written
  'batch-start',
  'offsets-partial',
  'offsets-renamed',
  'delta-partial',
  'delta-renamed',
  'sink-done',
  'commit-open',
  'commit-partial',
  'snapshot-open',
  'snapshot-partial',
  'snapshot-renamed',
] as const;

const here = (): string => {
  // The folder of this file under jest (CommonJS) and tsx alike: found from the working directory.
  let dir = process.cwd();
  const rel = join('test', 'integration', 'recovery', 'restartChild.ts');
  while (!existsSync(join(dir, rel))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`restart matrix: cannot find ${rel} at or above ${process.cwd()}`);
    dir = parent;
  }
  return join(dir, 'test', 'integration', 'recovery');
};

/** Bundles a child process script of this folder (`restartChild` by default) into `outDir` (one file, so that each child starts fast); returns its path. */
export function bundleChild(outDir: string, name = 'restartChild'): string {
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${name}.cjs`);
  buildSync({ entryPoints: [join(here(), `${name}.ts`)], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile, logLevel: 'silent' });
  return outfile;
}

function dirsOf(work: string, input: string, name: string): RunDirs {
  return { input, output: join(work, name, 'out'), checkpoint: join(work, name, 'ckpt') };
}

function result(base: Omit<TrialResult, 'exact' | 'missing' | 'extra'>, expected: Map<string, number>, dirs: RunDirs): TrialResult {
  const { missing, extra } = diffRows(expected, outputRows(dirs.output));
  return { ...base, exact: missing.length === 0 && extra.length === 0, missing, extra };
}

/** Writes the scenario's input under `work` and runs it uninterrupted; returns the input folder and the expected output. */
export async function reference(s: Scenario, work: string): Promise<{ input: string; expected: Map<string, number> }> {
  const input = join(work, 'input');
  writeScenarioInput(input, s);
  const dirs = dirsOf(work, input, 'reference');
  await runScenario(s, dirs, { snapshotInterval: 10 });
  return { input, expected: outputRows(dirs.output) };
}

/** Graceful trials in this process: stop after batch k, for every k, then restart to the end; and a stop after every batch. */
export async function gracefulTrials(s: Scenario, work: string, input: string, expected: Map<string, number>, snapshotInterval: number): Promise<TrialResult[]> {
  const out: TrialResult[] = [];
  const batches = s.batches.length;
  for (let k = 0; k < batches - 1; k++) {
    const dirs = dirsOf(work, input, `graceful-${snapshotInterval}-${k}`);
    await runScenario(s, dirs, { snapshotInterval, stopAfter: k });
    await runScenario(s, dirs, { snapshotInterval });
    out.push(result({ scenario: s.name, kind: 'graceful', snapshotInterval, after: k }, expected, dirs));
    rmSync(join(work, `graceful-${snapshotInterval}-${k}`), { recursive: true, force: true });
  }
  const dirs = dirsOf(work, input, `graceful-${snapshotInterval}-every`);
  for (let k = 0; k < batches; k++) await runScenario(s, dirs, { snapshotInterval, stopAfter: k });
  out.push(result({ scenario: s.name, kind: 'graceful', snapshotInterval, after: 'every' }, expected, dirs));
  rmSync(join(work, `graceful-${snapshotInterval}-every`), { recursive: true, force: true });
  return out;
}

function runChild(child: string, s: Scenario, dirs: RunDirs, snapshotInterval: number, point: string, batchId: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, RSS_CRASH_AT: `${point}:${batchId}` };
    const proc = spawn(process.execPath, [child, s.name, dirs.input, dirs.output, dirs.checkpoint, String(snapshotInterval)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    proc.on('error', reject);
    proc.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** The kill point of trial `k` of a scenario: rotates through {@link KILL_POINTS}; a snapshot point only where a snapshot is due at or after batch k. */
export function killPoint(scenarioIndex: number, k: number, snapshotInterval: number, batches: number): string {
  const point = KILL_POINTS[(k + scenarioIndex * 5 + (snapshotInterval === 1 ? 0 : 7)) % KILL_POINTS.length]!;
  const snapshotAhead = snapshotInterval === 1 || Math.ceil((k + 1) / snapshotInterval) * snapshotInterval - 1 < batches;
  return point.startsWith('snapshot-') && !snapshotAhead ? 'commit-renamed' : point;
}

/**
 * SIGKILL trials: for every k, a child runs the scenario and kills itself at
 * a point of batch k (or the first later batch that has the point), then the
 * query restarts here and runs to the end. Children run two at a time.
 */
export async function killTrials(child: string, s: Scenario, scenarioIndex: number, work: string, input: string, expected: Map<string, number>, snapshotInterval: number): Promise<TrialResult[]> {
  const batches = s.batches.length;
  const ks = Array.from({ length: batches - 1 }, (_, k) => k);
  const out: TrialResult[] = new Array<TrialResult>(ks.length);
  const one = async (k: number): Promise<void> => {
    const name = `kill-${snapshotInterval}-${k}`;
    const dirs = dirsOf(work, input, name);
    const point = killPoint(scenarioIndex, k, snapshotInterval, batches);
    const run = await runChild(child, s, dirs, snapshotInterval, point, k);
    if (run.signal !== 'SIGKILL' && run.code !== 0) throw new Error(`restart matrix: ${s.name}: the child failed (code ${run.code}, signal ${run.signal}) with kill point ${point}:${k}:\n${run.stderr}`);
    await runScenario(s, dirs, { snapshotInterval });
    out[k] = result({ scenario: s.name, kind: 'sigkill', snapshotInterval, after: k, point, killed: run.signal === 'SIGKILL' }, expected, dirs);
    rmSync(join(work, name), { recursive: true, force: true });
  };
  const queue = [...ks];
  const worker = async (): Promise<void> => {
    for (let k = queue.shift(); k !== undefined; k = queue.shift()) await one(k);
  };
  await Promise.all([worker(), worker()]);
  return out;
}

/** `trials, exact, inexact` and the inexact trials, for the report. */
export function summary(results: readonly TrialResult[]): { trials: number; exact: number; inexact: number; failures: string[] } {
  const failures = results
    .filter((r) => !r.exact)
    .map((r) => `${r.scenario} ${r.kind} snapshotInterval=${r.snapshotInterval} after=${r.after}${r.point === undefined ? '' : ` at ${r.point}`}: missing ${JSON.stringify(r.missing)} extra ${JSON.stringify(r.extra)}`);
  const exact = results.filter((r) => r.exact).length;
  return { trials: results.length, exact, inexact: results.length - exact, failures };
}

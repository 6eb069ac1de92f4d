import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { prng } from '../../helpers/prng.js';

/**
 * The crash harness: runs `crashQuery.ts` in child processes, SIGKILLs them at
 * chosen points, restarts them from the checkpoint and compares the output
 * directory with that of an uninterrupted run. Used by `crash.spec.ts` (20
 * kills) and `scripts/crash.ts` (200 kills).
 */

const CHILD_PATH = join('test', 'integration', 'recovery', 'crashQuery.ts');

/** The repository root: the nearest directory at or above the working directory that holds the child script (works under jest's CommonJS and tsx's ESM alike). */
function repositoryRoot(): string {
  let dir = process.cwd();
  while (!existsSync(join(dir, CHILD_PATH))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`crash harness: cannot find ${CHILD_PATH} at or above ${process.cwd()}; run from the repository.`);
    dir = parent;
  }
  return dir;
}

/** Points where the child kills itself (see `crashQuery.ts`). */
export const HOOK_POINTS = [
  'batch-start',
  'batch-end',
  'sink-done',
  'offsets-open',
  'offsets-partial',
  'offsets-renamed',
  'delta-partial',
  'delta-synced',
  'delta-renamed',
  'snapshot-open',
  'snapshot-partial',
  'snapshot-renamed',
  'commit-open',
  'commit-partial',
  'commit-synced',
  'commit-renamed',
] as const;

/** One planned kill: at a hook point, or `timed` (the parent kills it `delayMs` after it reported batch `batchId`). */
export interface KillPoint {
  readonly kind: (typeof HOOK_POINTS)[number] | 'timed';
  readonly batchId: number;
  readonly delayMs: number;
}

/** What happened to one child process. */
export interface ChildRun {
  readonly kill: KillPoint | undefined;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  /** The last `batch <id>` it printed. */
  readonly lastBatch: number;
}

/**
 * Writes `files` JSON-lines input files of sensor readings (5 devices,
 * event time advancing about 4 s per file, some rows out of order, some late,
 * some sent again in a later file), with distinct modification times so the source reads them in order.
 */
export function writeInput(dir: string, files: number, seed: number): void {
  mkdirSync(dir, { recursive: true });
  const random = prng(seed);
  const base = Math.floor(Date.UTC(2024, 0, 1) / 1000);
  const duplicates: string[] = [];
  for (let f = 0; f < files; f++) {
    const lines: string[] = [];
    const rows = 15 + Math.floor(random() * 15);
    for (let r = 0; r < rows; r++) {
      const late = random() < 0.08;
      const ts = f * 4000 + Math.floor(random() * 4000) - (late ? 15_000 : 0);
      const line = JSON.stringify({ device: `d${Math.floor(random() * 5)}`, ts: Math.max(0, ts), v: Math.floor(random() * 100) });
      lines.push(line);
      if (random() < 0.1) duplicates.push(line); // sent again in a later file
    }
    while (duplicates.length > 0 && random() < 0.7) lines.push(duplicates.shift()!);
    const name = join(dir, `readings-${String(f).padStart(3, '0')}.json`);
    writeFileSync(name, `${lines.join('\n')}\n`);
    utimesSync(name, base + f, base + f);
  }
}

/**
 * The query tags (`_spark_metadata/<query id>/`) of a `toFiles` output. Part
 * files and manifests carry the writing query's id; two runs on different
 * checkpoints have different ids, so comparisons replace it by `<query>`.
 */
function queryTags(dir: string): string[] {
  const metadata = join(dir, '_spark_metadata');
  if (!existsSync(metadata)) return [];
  return readdirSync(metadata, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
}

function anonymise(text: string, tags: readonly string[]): string {
  let out = text;
  for (const tag of tags) out = out.split(tag).join('<query>');
  return out;
}

/** The files a plain reader of the output sees (names not starting with `_` or `.`), with their contents; the query id in names is `<query>`. */
export function visibleOutput(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  const tags = queryTags(dir);
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('_') || name.startsWith('.')) continue;
    out.set(anonymise(name, tags), readFileSync(join(dir, name), 'utf8'));
  }
  return out;
}

/** The sink's manifest: batch id → its file list, as written (the query id as `<query>`). */
export function manifest(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const tags = queryTags(dir);
  for (const tag of tags) {
    const metadata = join(dir, '_spark_metadata', tag);
    for (const name of readdirSync(metadata).sort()) {
      if (name.startsWith('.')) continue;
      out.set(name, anonymise(readFileSync(join(metadata, name), 'utf8'), tags));
    }
  }
  return out;
}

/** The last batch id in the checkpoint's commit log (-1 for none). */
export function lastCommit(checkpoint: string): number {
  const dir = join(checkpoint, 'commits');
  if (!existsSync(dir)) return -1;
  return readdirSync(dir).filter((n) => /^\d+$/.test(n)).reduce((max, n) => Math.max(max, Number(n)), -1);
}

/** Runs the child once; kills it as `kill` says (or lets it finish when `kill` is undefined). */
export function runChild(dirs: { readonly input: string; readonly output: string; readonly checkpoint: string }, kill: KillPoint | undefined, random: () => number, twoSources = false): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    if (twoSources) env['RSS_TWO_SOURCES'] = '1';
    else delete env['RSS_TWO_SOURCES'];
    delete env['RSS_CRASH_AT'];
    if (kill !== undefined && kill.kind !== 'timed') env['RSS_CRASH_AT'] = `${kill.kind}:${kill.batchId}`;
    // One process (node with tsx's loader, not the tsx wrapper), so that SIGKILL kills the query itself.
    const root = repositoryRoot();
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, CHILD_PATH), dirs.input, dirs.output, dirs.checkpoint], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    let lastBatch = -1;
    let timer: NodeJS.Timeout | undefined;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const lines = stdout.split('\n');
      stdout = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^batch (\d+)$/.exec(line);
        if (match === null) continue;
        lastBatch = Number(match[1]);
        if (kill?.kind === 'timed' && timer === undefined && lastBatch >= kill.batchId) {
          timer = setTimeout(() => child.kill('SIGKILL'), Math.floor(random() * kill.delayMs));
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({ kill, code, signal, stderr, lastBatch });
    });
  });
}

/** Options of {@link crashRun}. */
export interface CrashRunOptions {
  /** A scratch directory (its content is replaced). */
  readonly workDir: string;
  /** How many kills. */
  readonly kills: number;
  /** Input files (= batches, one file per trigger). @defaultValue 40 */
  readonly files?: number;
  readonly seed?: number;
  /** Share of kills timed by the parent (the rest are hook points). @defaultValue 0.3 */
  readonly timedShare?: number;
  /** Called after each child run (progress output). */
  readonly onRun?: (run: ChildRun, index: number) => void;
  /** Run the two-source query instead (input/left and input/right, joined; see `crashQuery.ts`). */
  readonly twoSources?: boolean;
}

/** The result of {@link crashRun}. */
export interface CrashRunResult {
  readonly expected: Map<string, string>;
  readonly actual: Map<string, string>;
  readonly expectedManifest: Map<string, string>;
  readonly actualManifest: Map<string, string>;
  /** Child runs that ended by SIGKILL. */
  readonly killed: number;
  /** Kill points that did not fire because the query had already finished. */
  readonly missed: number;
  readonly runs: readonly ChildRun[];
  /** After a kill, visible output files that differed from the uninterrupted run's file of the same name. */
  readonly inconsistentAfterKill: readonly string[];
}

/**
 * The next kill point: at the batch the restarted run resumes with (the one
 * after the last commit) or a little after it, so that the kills spread over
 * the whole run.
 */
export function nextKill(resumeBatch: number, kills: number, batches: number, random: () => number, timedShare: number): KillPoint {
  // A restarted run usually gets about half a batch further before a kill at its resume point fires.
  const step = Math.floor(random() * Math.max(0, (2 * batches) / kills - 1) + 0.5);
  const batchId = Math.min(batches - 2, Math.max(0, resumeBatch) + step);
  const timed = random() < timedShare;
  const kind = timed ? 'timed' : HOOK_POINTS[Math.floor(random() * HOOK_POINTS.length)]!;
  return { kind, batchId, delayMs: 40 };
}

/**
 * The whole experiment: an uninterrupted run, then a run killed at every
 * point of the plan and restarted each time, then a last run to the end.
 */
export async function crashRun(options: CrashRunOptions): Promise<CrashRunResult> {
  const { workDir, kills, files = 40, seed = 20240101, timedShare = 0.3, onRun, twoSources = false } = options;
  rmSync(workDir, { recursive: true, force: true });
  const input = join(workDir, 'input');
  if (twoSources) {
    writeInput(join(input, 'left'), files, seed);
    writeInput(join(input, 'right'), files, seed + 100);
  } else writeInput(input, files, seed);
  const reference = { input, output: join(workDir, 'expected-out'), checkpoint: join(workDir, 'expected-ckpt') };
  const random = prng(seed + 1);
  const clean = await runChild(reference, undefined, random, twoSources);
  if (clean.code !== 0) throw new Error(`the uninterrupted run failed (code ${clean.code}, signal ${clean.signal}):\n${clean.stderr}`);
  const expected = visibleOutput(reference.output);

  const dirs = { input, output: join(workDir, 'out'), checkpoint: join(workDir, 'ckpt') };
  const runs: ChildRun[] = [];
  const inconsistentAfterKill: string[] = [];
  let killed = 0;
  let missed = 0;
  let resume = 0;
  for (let i = 0; i < kills; i++) {
    const kill = nextKill(resume, kills, files, random, timedShare);
    const run = await runChild(dirs, kill, random, twoSources);
    resume = lastCommit(dirs.checkpoint) + 1;
    runs.push(run);
    onRun?.(run, runs.length - 1);
    if (run.signal === 'SIGKILL') killed++;
    else if (run.code === 0) missed++;
    else throw new Error(`a run failed (code ${run.code}, signal ${run.signal}, kill ${JSON.stringify(kill)}):\n${run.stderr}`);
    for (const [name, content] of visibleOutput(dirs.output)) {
      if (expected.get(name) !== content) inconsistentAfterKill.push(`${name} after kill ${JSON.stringify(kill)}`);
    }
  }
  const last = await runChild(dirs, undefined, random, twoSources);
  runs.push(last);
  onRun?.(last, runs.length - 1);
  if (last.code !== 0) throw new Error(`the final run failed (code ${last.code}, signal ${last.signal}):\n${last.stderr}`);
  return {
    expected,
    actual: visibleOutput(dirs.output),
    expectedManifest: manifest(reference.output),
    actualManifest: manifest(dirs.output),
    killed,
    missed,
    runs,
    inconsistentAfterKill,
  };
}

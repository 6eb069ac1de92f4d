import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { count } from '../../../lib/aggregate/count.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import { LOCK_FILE } from '../../../lib/checkpoint/checkpointLock.js';
import { CheckpointLockedError } from '../../../lib/errors/index.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { readCommittedJson, toFiles } from '../../../lib/sinks/toFiles.js';
import { fromDirectory } from '../../../lib/sources/fromDirectory.js';
import { outputMode } from '../../../operators/outputMode.js';
import { windowTumbling } from '../../../operators/windowTumbling.js';
import { withWatermark } from '../../../operators/withWatermark.js';
import { bundleChild } from './restartMatrix.js';

/**
 * One writer per checkpoint (issue 11, point 3), with real processes: a query
 * on a checkpoint that another live process holds fails at once with
 * `CheckpointLockedError` naming that process; once the holder is SIGKILLed
 * its lock is taken over; a holder that stops gracefully releases it. Every
 * wait is for an event (a line printed, an exit), never for a time.
 */
interface Reading {
  readonly k: string;
  readonly ts: number;
}

interface Child {
  readonly process: ChildProcess;
  /** Resolves with the first line the child prints. */
  readonly firstLine: Promise<string>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let work: string;
let script: string;
let input: string;
let output: string;
let checkpoint: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'rss-writers-'));
  script = bundleChild(join(work, 'child'), 'lockHolderChild');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

let trial = 0;
beforeEach(() => {
  trial++;
  input = join(work, `in-${trial}`);
  output = join(work, `out-${trial}`);
  checkpoint = join(work, `ckpt-${trial}`);
  mkdirSync(input);
  const base = Math.floor(Date.UTC(2024, 0, 1) / 1000);
  for (let f = 0; f < 6; f++) {
    const path = join(input, `f${f}.json`);
    writeFileSync(path, Array.from({ length: 10 }, (_, i) => `${JSON.stringify({ k: `k${i % 3}`, ts: f * 4000 + i * 300 })}\n`).join(''));
    utimesSync(path, base + f, base + f);
  }
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function startChild(): Child {
  const proc = spawn(process.execPath, [script, input, output, checkpoint], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let stdout = '';
  let stderr = '';
  const firstLine = new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const end = stdout.indexOf('\n');
      if (end >= 0) resolve(stdout.slice(0, end));
    });
    proc.on('exit', () => reject(new Error(`the child exited before printing a line; stderr:\n${stderr}`)));
  });
  firstLine.catch(() => undefined);
  proc.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return { process: proc, firstLine, exit };
}

function localQuery() {
  return startQuery<Reading, unknown>({
    source: fromDirectory<Reading>(input, { format: 'json', watch: false }),
    pipeline: (b$) => b$.pipe(withWatermark<Reading>('ts', '2 seconds'), windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'k', aggregate: { n: count() } }), outputMode('append')),
    sink: toFiles(output, { format: 'json', fsync: false }),
    trigger: { availableNow: true },
    checkpoint: openCheckpoint(checkpoint, { fsync: false }),
  });
}

describe('two processes on one checkpoint', () => {
  it('refuses a second query at once, naming the live holder; takes the lock over once the holder is SIGKILLed', async () => {
    const holder = startChild();
    expect(await holder.firstLine).toBe('ready');
    const written = await readCommittedJson(output);

    const second = localQuery();
    const error = (await second.ready.catch((e: unknown) => e)) as CheckpointLockedError;
    expect(error).toBeInstanceOf(CheckpointLockedError);
    expect(error.holder).toMatchObject({ pid: holder.process.pid, host: hostname() });
    expect(error.message).toContain(`is in use by process ${holder.process.pid} on host ${hostname()} since ${error.holder.startedAt}`);
    expect(second.isActive).toBe(false);
    expect(second.recentProgress).toEqual([]);
    expect(await readCommittedJson(output)).toEqual(written); // the refused query wrote nothing

    holder.process.kill('SIGKILL');
    expect((await holder.exit).signal).toBe('SIGKILL');
    expect(existsSync(join(checkpoint, LOCK_FILE))).toBe(true); // a dead holder leaves its lock behind

    const third = localQuery();
    await third.awaitTermination();
    expect(existsSync(join(checkpoint, LOCK_FILE))).toBe(false); // released on stop
    const rows = await readCommittedJson(output);
    expect(new Set(rows.map((r) => JSON.stringify(r))).size).toBe(rows.length); // no window twice
  });

  it('lets exactly one of two processes started together run; the other fails with the winner named', async () => {
    const a = startChild();
    const b = startChild();
    const lines = await Promise.all([a.firstLine, b.firstLine]);
    const winner = lines[0] === 'ready' ? a : b;
    const loser = winner === a ? b : a;
    expect(lines.filter((l) => l === 'ready')).toHaveLength(1);
    const refusal = JSON.parse(lines[winner === a ? 1 : 0]!) as { name: string; holder: { pid: number; host: string } };
    expect(refusal).toMatchObject({ name: 'CheckpointLockedError', holder: { pid: winner.process.pid, host: hostname() } });
    expect((await loser.exit).code).toBe(3);
    winner.process.kill('SIGTERM');
    expect((await winner.exit).code).toBe(0);
  });

  it('releases the lock when the holder stops gracefully', async () => {
    const holder = startChild();
    expect(await holder.firstLine).toBe('ready');
    holder.process.kill('SIGTERM'); // the child calls query.stop()
    expect(await holder.exit).toEqual({ code: 0, signal: null });
    expect(existsSync(join(checkpoint, LOCK_FILE))).toBe(false);
    const next = localQuery();
    await next.awaitTermination();
    expect(next.exception).toBeUndefined();
  });
});

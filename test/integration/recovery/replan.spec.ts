import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { count } from '../../../lib/aggregate/count.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import { CheckpointBehindOutputError } from '../../../lib/errors/index.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import type { Sink } from '../../../lib/sinks/Sink.js';
import { readCommittedJson, toFiles } from '../../../lib/sinks/toFiles.js';
import type { StreamingQueryProgress } from '../../../lib/query/progress.js';
import { prng } from '../../helpers/prng.js';
import { map } from 'rxjs';
import { fromDirectory } from '../../../lib/sources/fromDirectory.js';
import { groupAggregate } from '../../../operators/groupAggregate.js';
import { outputMode } from '../../../operators/outputMode.js';

/**
 * Re-planning after the checkpoint lost what batches it planned (issue 11,
 * point 2): files keep arriving, `maxFilesPerTrigger` is not set (a batch
 * takes every new file), and the output already holds batches that the
 * checkpoint does not. What was written must stay written once, and what was
 * not must be processed — or, where that cannot be told, the query refuses to
 * start with a typed error instead of skipping rows silently.
 */
interface Reading {
  readonly file: string;
  readonly n: number;
}

const CRASH = 'crash after the sink, before the commit';

let work: string;
let input: string;
let output: string;
let checkpoint: string;
let mtime = Math.floor(Date.UTC(2024, 0, 1) / 1000);

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'rss-replan-'));
  input = join(work, 'in');
  output = join(work, 'out');
  checkpoint = join(work, 'ckpt');
  mkdirSync(input);
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** A new input file of `rows` readings (modification times increase, so files are read in the order written). */
function put(name: string, rows: number): void {
  const path = join(input, `${name}.json`);
  writeFileSync(path, Array.from({ length: rows }, (_, n) => `${JSON.stringify({ file: name, n })}\n`).join(''));
  mtime += 1;
  utimesSync(path, mtime, mtime);
}

/**
 * Runs the query over what is in the input now; `failAfterSink` makes it fail
 * once the sink wrote that batch, before its commit (as a crash there would).
 * Returns the query's progress reports.
 */
async function run(options: { readonly failAfterSink?: number } = {}): Promise<readonly StreamingQueryProgress[]> {
  const files = toFiles<Reading>(output, { format: 'json', fsync: false });
  const sink: Sink<Reading> = {
    ...files,
    addBatch: async (batchId, rows, origin) => {
      await files.addBatch(batchId, rows, origin);
      if (batchId === options.failAfterSink) throw new Error(CRASH);
    },
  };
  const query = startQuery<Reading>({
    source: fromDirectory<Reading>(input, { format: 'json', watch: false }),
    sink,
    trigger: { availableNow: true },
    checkpoint: openCheckpoint(checkpoint, { fsync: false }),
  });
  await query.awaitTermination().catch((error: unknown) => {
    if (options.failAfterSink === undefined || (error as Error).message !== CRASH) throw error;
  });
  return query.recentProgress;
}

/** Replaces the checkpoint by a copy taken earlier (as restoring a backup does). */
function restore(backup: string): void {
  rmSync(checkpoint, { recursive: true });
  cpSync(backup, checkpoint, { recursive: true });
}

/** How many batches the sink's manifest lists for the one query that wrote the output. */
function manifestBatches(): number[] {
  if (!existsSync(join(output, '_spark_metadata'))) return [];
  const [tag, ...others] = readdirSync(join(output, '_spark_metadata'));
  expect(others).toEqual([]);
  if (tag === undefined) return [];
  return readdirSync(join(output, '_spark_metadata', tag!))
    .map(Number)
    .sort((x, y) => x - y);
}

/** Every (file, n) of the output, with how often it was written. */
async function written(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const r of await readCommittedJson<Reading>(output)) out.set(`${r.file}/${r.n}`, (out.get(`${r.file}/${r.n}`) ?? 0) + 1);
  return out;
}

function expected(files: Record<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [file, rows] of Object.entries(files)) for (let n = 0; n < rows; n++) out.set(`${file}/${n}`, 1);
  return out;
}

/** A query keeping one running count over every row (one key), in update mode, written through `toFiles`. */
async function runTotal(options: { readonly failAfterSink?: number } = {}): Promise<void> {
  const files = toFiles<{ all: string; n: number }>(output, { format: 'json', fsync: false });
  const query = startQuery<Reading, { all: string; n: number }>({
    source: fromDirectory<Reading>(input, { format: 'json', watch: false }),
    pipeline: (b$) => b$.pipe(map((batch) => ({ ...batch, rows: batch.rows.map(() => ({ all: 'rows' })) })), groupAggregate({ keyBy: 'all', aggregate: { n: count() } }), outputMode('update')),
    sink: {
      ...files,
      supportedModes: ['append', 'update'],
      addBatch: async (batchId, rows, origin) => {
        await files.addBatch(batchId, rows, origin);
        if (batchId === options.failAfterSink) throw new Error(CRASH);
      },
    },
    trigger: { availableNow: true },
    checkpoint: openCheckpoint(checkpoint, { fsync: false }),
  });
  await query.awaitTermination().catch((error: unknown) => {
    if (options.failAfterSink === undefined || (error as Error).message !== CRASH) throw error;
  });
}

describe('re-planning batches the checkpoint lost', () => {
  it('re-plans a batch whose pending offsets file was deleted exactly as it ran, then processes the files that arrived since', async () => {
    put('a', 30);
    put('b', 40);
    await run(); // batch 0: a, b
    put('c', 50);
    await run({ failAfterSink: 1 }); // batch 1: c, written to the sink, never committed
    expect(existsSync(join(checkpoint, 'offsets', '1'))).toBe(true);
    unlinkSync(join(checkpoint, 'offsets', '1')); // the guide allows deleting a pending offsets file
    put('d', 60); // files keep arriving
    const progress = await run();
    expect(await written()).toEqual(expected({ a: 30, b: 40, c: 50, d: 60 }));
    expect(progress.map((p) => [p.batchId, p.numInputRows])).toEqual([
      [1, 50], // re-run (the sink skipped it), with exactly its files
      [2, 60],
    ]);
    expect(manifestBatches()).toEqual([0, 1, 2]);
  });

  it('re-plans the batches the output holds beyond a checkpoint restored from an older copy, with the offsets and files the sink recorded, then goes on', async () => {
    put('a', 10);
    await run(); // batch 0
    const backup = join(work, 'backup');
    cpSync(checkpoint, backup, { recursive: true });
    put('b', 20);
    await run(); // batch 1
    put('c', 30);
    put('c2', 5);
    await run(); // batch 2
    restore(backup); // commits only batch 0; its source log names only batch 0's files
    put('d', 40);
    const progress = await run();
    // Nothing lost, nothing twice.
    expect(await written()).toEqual(expected({ a: 10, b: 20, c: 30, c2: 5, d: 40 }));
    expect(progress.map((p) => [p.batchId, p.numInputRows])).toEqual([
      [1, 20],
      [2, 35],
      [3, 40],
    ]);
    expect(manifestBatches()).toEqual([0, 1, 2, 3]);
    // The checkpoint is whole again: offsets, commits and the source log of the re-planned batches are back.
    expect(readdirSync(join(checkpoint, 'offsets')).sort()).toEqual(['0', '1', '2', '3']);
    expect(readdirSync(join(checkpoint, 'commits')).sort()).toEqual(['0', '1', '2', '3']);
    put('e', 7);
    expect((await run()).map((p) => [p.batchId, p.numInputRows])).toEqual([[4, 7]]);
    expect(await written()).toEqual(expected({ a: 10, b: 20, c: 30, c2: 5, d: 40, e: 7 }));
  });

  it('re-plans from a copy whose source log lost the later entries, and from a copy holding a pending batch the sink already wrote', async () => {
    put('a', 10);
    await run(); // batch 0
    put('b', 20);
    await run({ failAfterSink: 1 }); // batch 1 in the sink, not committed
    const pendingCopy = join(work, 'pending-copy');
    cpSync(checkpoint, pendingCopy, { recursive: true });
    await run(); // batch 1 again (pending), committed
    put('c', 30);
    await run(); // batch 2
    const noLog = join(work, 'no-log');
    cpSync(checkpoint, noLog, { recursive: true });
    for (const name of readdirSync(join(noLog, 'sources', '0'))) if (name !== '0') rmSync(join(noLog, 'sources', '0', name)); // the log as it was after batch 0
    rmSync(join(noLog, 'offsets', '2'));
    rmSync(join(noLog, 'commits', '2'));
    rmSync(join(noLog, 'offsets', '1'));
    rmSync(join(noLog, 'commits', '1'));
    restore(pendingCopy);
    put('d', 40);
    await run(); // re-runs the pending batch 1, then batch 2 from the sink's record, then d
    expect(await written()).toEqual(expected({ a: 10, b: 20, c: 30, d: 40 }));
    restore(noLog); // commits batch 0 only, and its source log names batch 0's files only
    put('e', 50);
    const progress = await run();
    expect(progress.map((p) => [p.batchId, p.numInputRows])).toEqual([
      [1, 20],
      [2, 30],
      [3, 40],
      [4, 50],
    ]);
    expect(await written()).toEqual(expected({ a: 10, b: 20, c: 30, d: 40, e: 50 }));
  });

  it('stops between re-planned batches when asked; the next start re-plans the rest from the output again', async () => {
    put('a', 10);
    await run(); // batch 0
    const backup = join(work, 'backup');
    cpSync(checkpoint, backup, { recursive: true });
    for (const [i, name] of ['b', 'c', 'd'].entries()) {
      put(name, 20 + i);
      await run(); // batches 1, 2, 3
    }
    restore(backup);
    const files = toFiles<Reading>(output, { format: 'json', fsync: false });
    let stopAt: (() => Promise<void>) | undefined;
    const query = startQuery<Reading>({
      source: fromDirectory<Reading>(input, { format: 'json', watch: false }),
      sink: {
        ...files,
        addBatch: async (batchId, rows, origin) => {
          await files.addBatch(batchId, rows, origin);
          if (batchId === 1) void stopAt?.();
        },
      },
      trigger: { availableNow: true },
      checkpoint: openCheckpoint(checkpoint, { fsync: false }),
    });
    stopAt = () => query.stop();
    await query.awaitTermination();
    expect(query.recentProgress.map((p) => p.batchId)).toEqual([1]);
    put('e', 5);
    expect((await run()).map((p) => [p.batchId, p.numInputRows])).toEqual([
      [2, 21],
      [3, 22],
      [4, 5],
    ]);
    expect(await written()).toEqual(expected({ a: 10, b: 20, c: 21, d: 22, e: 5 }));
  });

  it('rebuilds operator state by re-running the re-planned batches: a running count is right after an older copy is restored', async () => {
    put('a', 3);
    await runTotal(); // batch 0: 3
    const backup = join(work, 'backup');
    cpSync(checkpoint, backup, { recursive: true });
    put('b', 4);
    await runTotal(); // batch 1: 7
    put('c', 5);
    await runTotal({ failAfterSink: 2 }); // batch 2: 12, in the sink, not committed
    restore(backup);
    put('d', 6);
    await runTotal(); // batches 1 and 2 re-run (skipped by the sink), batch 3: 18
    const rows = await readCommittedJson<{ all: string; n: number }>(output);
    expect(rows.map((r) => r.n)).toEqual([3, 7, 12, 18]);
  });

  it('keeps a stateful query exact across a deleted pending offsets file', async () => {
    put('a', 3);
    await runTotal();
    put('b', 4);
    await runTotal({ failAfterSink: 1 });
    unlinkSync(join(checkpoint, 'offsets', '1'));
    put('c', 5);
    await runTotal();
    const rows = await readCommittedJson<{ all: string; n: number }>(output);
    expect(rows.map((r) => r.n)).toEqual([3, 7, 12]);
  });

  it('refuses, naming both sides and what to do, when the sink holds batches beyond the checkpoint without a record of what they read', async () => {
    // A user's sink that knows which batches it holds, but not what they read.
    const held = new Map<number, readonly Reading[]>();
    const userSink = (): Sink<Reading> => ({
      description: 'ReadingsTable',
      supportedModes: ['append'],
      idempotent: true,
      addBatch: async (batchId, rows) => {
        if (!held.has(batchId)) held.set(batchId, rows);
      },
      lastCommittedBatchId: async () => Math.max(-1, ...held.keys()),
    });
    const start = () =>
      startQuery<Reading>({
        source: fromDirectory<Reading>(input, { format: 'json', watch: false }),
        sink: userSink(),
        trigger: { availableNow: true },
        checkpoint: openCheckpoint(checkpoint, { fsync: false }),
      });
    put('a', 10);
    await start().awaitTermination();
    const backup = join(work, 'backup');
    cpSync(checkpoint, backup, { recursive: true });
    put('b', 20);
    await start().awaitTermination();
    put('c', 30);
    await start().awaitTermination();
    restore(backup);
    put('d', 40);
    const query = start();
    const error = (await query.awaitTermination().catch((e: unknown) => e)) as CheckpointBehindOutputError;
    expect(error).toBeInstanceOf(CheckpointBehindOutputError);
    expect(error).toMatchObject({ checkpointBatchId: 0, outputBatchId: 2, retriable: false });
    expect(error.message).toContain(`commits batches up to 0, but the sink ReadingsTable already holds batches up to 2 of query ${query.id}`);
    expect(error.message).toContain('the sink keeps no record of the offsets its batches read (it has no committedOrigin)');
    expect(error.message).toContain('Restore the newest copy of the checkpoint, or start the query with a new checkpoint location and a new output');
    // Nothing was written twice or lost silently: the sink holds what the first runs wrote.
    expect([...held.entries()].map(([id, rows]) => [id, rows.length])).toEqual([
      [0, 10],
      [1, 20],
      [2, 30],
    ]);
  });

  it('refuses a pending offsets file that contradicts the sink\'s record of that batch (checkpoint and output from different runs)', async () => {
    put('a', 10);
    await run(); // batch 0
    put('b', 20);
    await run({ failAfterSink: 1 }); // batch 1 in the sink, pending in the checkpoint
    // A forged pending entry: batch 1 ends somewhere else than the batch the sink holds.
    const forged = openCheckpoint(checkpoint, { fsync: false });
    expect(await forged.open()).toMatchObject({ lastCommittedBatchId: 0, pending: { batchId: 1, offsets: [{ logOffset: 1 }] } });
    await forged.writeOffsets({ batchId: 1, offsets: [{ logOffset: 7 }], watermark: 0, timestamp: 0 });
    await forged.close();
    const files = toFiles<Reading>(output, { format: 'json', fsync: false });
    const query = startQuery<Reading>({
      source: fromDirectory<Reading>(input, { format: 'json', watch: false }),
      sink: files,
      trigger: { availableNow: true },
      checkpoint: openCheckpoint(checkpoint, { fsync: false }),
    });
    const error = (await query.awaitTermination().catch((e: unknown) => e)) as CheckpointBehindOutputError;
    expect(error).toBeInstanceOf(CheckpointBehindOutputError);
    expect(error.message).toContain(`has a pending offsets/1 that ends at [{"logOffset":7}], but the sink FileSink[${output}, json] already holds batch 1 of query ${query.id}, which ended at [{"logOffset":1}]; got a checkpoint and an output from different runs`);
    expect(await written()).toEqual(expected({ a: 10, b: 20 }));
  });
});

/**
 * Seeded trials of what users do to a checkpoint while files keep arriving
 * (`maxFilesPerTrigger` unset): plain runs, crashes after the sink wrote a
 * batch, backups taken at any point and restored later (older than the
 * output), pending offsets files deleted. Every row must be in the output
 * exactly once at the end.
 */
describe('re-planning: seeded trials', () => {
  const seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const tally = { replanned: 0, crashesWhileReplanning: 0 };
  it.each(seeds)('seed %i: every row is written exactly once', async (seed) => {
    const random = prng(seed);
    const pick = (n: number): number => Math.floor(random() * n);
    const files: Record<string, number> = {};
    const backups: string[] = [];
    let fileNo = 0;
    let batchesRun = 0;
    for (let step = 0; step < 14; step++) {
      for (let f = pick(3); f >= 0; f--) {
        const name = `f${fileNo++}`;
        files[name] = 1 + pick(40);
        put(name, files[name]!);
      }
      const action = pick(10);
      if (action < 2 && backups.length > 0) {
        restore(backups[pick(backups.length)]!);
      } else if (action < 4) {
        const backup = join(work, `backup-${backups.length}`);
        if (existsSync(checkpoint)) {
          cpSync(checkpoint, backup, { recursive: true });
          backups.push(backup);
        }
      } else if (action < 5 && existsSync(join(checkpoint, 'offsets'))) {
        // Delete a pending offsets file (one without its commit), if there is one.
        const offsets = readdirSync(join(checkpoint, 'offsets')).filter((n) => /^\d+$/.test(n));
        const commits = new Set(existsSync(join(checkpoint, 'commits')) ? readdirSync(join(checkpoint, 'commits')) : []);
        for (const name of offsets) if (!commits.has(name)) unlinkSync(join(checkpoint, 'offsets', name));
      }
      // The checkpoint's last batch (committed or pending): batches after it that run now come from the output's records.
      const ids = (sub: string): number[] => (existsSync(join(checkpoint, sub)) ? readdirSync(join(checkpoint, sub)).filter((n) => /^\d+$/.test(n)).map(Number) : []);
      const checkpointLast = Math.max(-1, ...ids('commits'), ...ids('offsets'));
      // A crash after the sink wrote a batch: a new one, or one re-planned from the output.
      const crashAt = random() < 0.4 ? pick(batchesRun + 2) : undefined;
      const progress = await run(crashAt === undefined ? {} : { failAfterSink: crashAt });
      const fromOutput = progress.filter((p) => p.batchId > checkpointLast && p.batchId < batchesRun).length;
      tally.replanned += fromOutput;
      if (crashAt !== undefined && crashAt > checkpointLast && crashAt < batchesRun) tally.crashesWhileReplanning++;
      batchesRun = manifestBatches().length;
    }
    await run();
    expect(await written()).toEqual(expected(files));
  });

  it('re-planned batches from the output in the trials, and crashed while doing it', () => {
    process.stdout.write(`re-plan trials: ${seeds.length} seeds, ${tally.replanned} batches re-planned from the output, ${tally.crashesWhileReplanning} crashes while re-planning\n`);
    expect(tally.replanned).toBeGreaterThan(10);
    expect(tally.crashesWhileReplanning).toBeGreaterThan(0);
  });
});

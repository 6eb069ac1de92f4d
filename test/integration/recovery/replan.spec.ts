import { cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync, unlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { count } from '../../../lib/aggregate/count.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import { CheckpointBehindOutputError } from '../../../lib/errors/index.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import type { Sink } from '../../../lib/sinks/Sink.js';
import { readCommittedJson, toFiles } from '../../../lib/sinks/toFiles.js';
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

/** Runs the query over what is in the input now; `failAfterSink` makes it fail once the sink wrote that batch, before its commit (as a crash there would). */
async function run(options: { readonly failAfterSink?: number } = {}): Promise<void> {
  const files = toFiles<Reading>(output, { format: 'json', fsync: false });
  const sink: Sink<Reading> = {
    ...files,
    addBatch: async (batchId, rows) => {
      await files.addBatch(batchId, rows);
      if (batchId === options.failAfterSink) throw new Error('crash after the sink, before the commit');
    },
  };
  const query = startQuery<Reading>({
    source: fromDirectory<Reading>(input, { format: 'json', watch: false }),
    sink,
    trigger: { availableNow: true },
    checkpoint: openCheckpoint(checkpoint, { fsync: false }),
  });
  await query.awaitTermination().catch((error: unknown) => {
    if (options.failAfterSink === undefined) throw error;
  });
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
    await run();
    expect(await written()).toEqual(expected({ a: 30, b: 40, c: 50, d: 60 }));
  });

  it('refuses, naming both sides, a checkpoint restored from an older copy when the batches the output holds beyond it cannot be re-planned as they ran', async () => {
    put('a', 10);
    await run(); // batch 0
    const backup = join(work, 'backup');
    cpSync(checkpoint, backup, { recursive: true });
    put('b', 20);
    await run(); // batch 1
    put('c', 30);
    await run(); // batch 2
    rmSync(checkpoint, { recursive: true });
    cpSync(backup, checkpoint, { recursive: true }); // restored: commits only up to batch 0
    put('d', 40);
    const query = startQuery<Reading>({
      source: fromDirectory<Reading>(input, { format: 'json', watch: false }),
      sink: toFiles<Reading>(output, { format: 'json', fsync: false }),
      trigger: { availableNow: true },
      checkpoint: openCheckpoint(checkpoint, { fsync: false }),
    });
    const error = (await query.awaitTermination().catch((e: unknown) => e)) as CheckpointBehindOutputError;
    expect(error).toBeInstanceOf(CheckpointBehindOutputError);
    expect(error).toMatchObject({ checkpointBatchId: 0, outputBatchId: 2, retriable: false });
    expect(error.message).toContain(`commits batches up to 0, but the sink FileSink[${output}, json] already holds batches up to 2 of query ${query.id}`);
    // Nothing was written twice or lost silently: the output is what the first runs wrote.
    expect(await written()).toEqual(expected({ a: 10, b: 20, c: 30 }));
  });

  it('continues from a checkpoint restored from an older copy when its source log still names the batches the output holds', async () => {
    // The copy is taken after batch 2 was planned (the source log has its files) but before the
    // query committed batch 1: the batches are re-planned from the log exactly as they ran.
    put('a', 10);
    await run(); // batch 0
    put('b', 20);
    await run({ failAfterSink: 1 }); // batch 1 in the sink, not committed
    const backup = join(work, 'backup');
    cpSync(checkpoint, backup, { recursive: true });
    await run(); // batch 1 again (pending), committed
    rmSync(checkpoint, { recursive: true });
    cpSync(backup, checkpoint, { recursive: true });
    unlinkSync(join(checkpoint, 'offsets', '1'));
    put('c', 30);
    await run();
    expect(await written()).toEqual(expected({ a: 10, b: 20, c: 30 }));
  });

  it('keeps a stateful query exact across a deleted pending offsets file', async () => {
    const counts = async (options: { readonly failAfterSink?: number } = {}): Promise<void> => {
      const files = toFiles<{ file: string; n: number }>(output, { format: 'json', fsync: false });
      const query = startQuery<Reading, { file: string; n: number }>({
        source: fromDirectory<Reading>(input, { format: 'json', watch: false }),
        pipeline: (b$) => b$.pipe(groupAggregate({ keyBy: 'file', aggregate: { n: count() } }), outputMode('update')),
        sink: {
          ...files,
          supportedModes: ['append', 'update'],
          addBatch: async (batchId, rows) => {
            await files.addBatch(batchId, rows);
            if (batchId === options.failAfterSink) throw new Error('crash after the sink, before the commit');
          },
        },
        trigger: { availableNow: true },
        checkpoint: openCheckpoint(checkpoint, { fsync: false }),
      });
      await query.awaitTermination().catch((error: unknown) => {
        if (options.failAfterSink === undefined) throw error;
      });
    };
    put('a', 3);
    await counts();
    put('b', 4);
    await counts({ failAfterSink: 1 });
    unlinkSync(join(checkpoint, 'offsets', '1'));
    put('c', 5);
    await counts();
    const rows = await readCommittedJson<{ file: string; n: number }>(output);
    expect(rows.sort((x, y) => x.file.localeCompare(y.file))).toEqual([
      { file: 'a', n: 3 },
      { file: 'b', n: 4 },
      { file: 'c', n: 5 },
    ]);
  });
});

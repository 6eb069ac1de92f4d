import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { map, type Observable } from 'rxjs';
import type { Batch } from '../../../lib/batch/Batch.js';
import { count } from '../../../lib/aggregate/count.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import type { StreamingQueryProgress } from '../../../lib/query/progress.js';
import type { Sink } from '../../../lib/sinks/Sink.js';
import { readCommittedJson, toFiles } from '../../../lib/sinks/toFiles.js';
import { fromDirectory } from '../../../lib/sources/fromDirectory.js';
import { groupAggregate } from '../../../operators/groupAggregate.js';
import { outputMode } from '../../../operators/outputMode.js';
import { union } from '../../../operators/union.js';
import { prng } from '../../helpers/prng.js';

/**
 * Re-planning a multi-source query (`startQuery({ sources })`) whose
 * checkpoint lost batches the output holds (issue 11, point 2): each input's
 * plan (`fromDirectory`'s file-log entries) is recorded with the batch by the
 * sink, per input like the offsets, and given back to that input on start.
 * Files keep arriving in both directories and `maxFilesPerTrigger` is not set,
 * so a batch planned anew would take other files than it had.
 */
interface Reading {
  readonly file: string;
  readonly n: number;
}
type Total = { readonly all: string; readonly n: number };

const CRASH = 'crash after the sink, before the commit';

let work: string;
let output: string;
let checkpoint: string;
let mtime = Math.floor(Date.UTC(2024, 0, 1) / 1000);

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'rss-replan-multi-'));
  output = join(work, 'out');
  checkpoint = join(work, 'ckpt');
  mkdirSync(join(work, 'left'));
  mkdirSync(join(work, 'right'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** A new file of `rows` readings in input `side`. */
function put(side: 'left' | 'right', name: string, rows: number): void {
  const path = join(work, side, `${name}.json`);
  writeFileSync(path, Array.from({ length: rows }, (_, n) => `${JSON.stringify({ file: `${side}/${name}`, n })}\n`).join(''));
  mtime += 1;
  utimesSync(path, mtime, mtime);
}

function restore(backup: string): void {
  rmSync(checkpoint, { recursive: true });
  cpSync(backup, checkpoint, { recursive: true });
}

function sourcesOf() {
  return {
    left: fromDirectory<Reading>(join(work, 'left'), { format: 'json', watch: false }),
    right: fromDirectory<Reading>(join(work, 'right'), { format: 'json', watch: false }),
  };
}

/** Both inputs unioned into the output; `failAfterSink` fails once the sink wrote that batch (as a crash there would). */
async function run(options: { readonly failAfterSink?: number } = {}): Promise<readonly StreamingQueryProgress[]> {
  const files = toFiles<Reading>(output, { format: 'json', fsync: false });
  const sink: Sink<Reading> = {
    ...files,
    addBatch: async (batchId, rows, origin) => {
      await files.addBatch(batchId, rows, origin);
      if (batchId === options.failAfterSink) throw new Error(CRASH);
    },
  };
  const query = startQuery({
    sources: sourcesOf(),
    pipeline: ({ left, right }: { left: Observable<Batch<Reading>>; right: Observable<Batch<Reading>> }) => left.pipe(union(right)),
    sink,
    trigger: { availableNow: true },
    checkpoint: openCheckpoint(checkpoint, { fsync: false }),
  });
  await query.awaitTermination().catch((error: unknown) => {
    if (options.failAfterSink === undefined || (error as Error).message !== CRASH) throw error;
  });
  return query.recentProgress;
}

/** A running count over both inputs (one key, update mode): its state must be rebuilt by the re-run batches. */
async function runTotal(options: { readonly failAfterSink?: number } = {}): Promise<void> {
  const files = toFiles<Total>(output, { format: 'json', fsync: false });
  const query = startQuery({
    sources: sourcesOf(),
    pipeline: ({ left, right }: { left: Observable<Batch<Reading>>; right: Observable<Batch<Reading>> }) =>
      left.pipe(
        union(right),
        map((batch) => ({ ...batch, rows: batch.rows.map(() => ({ all: 'rows' })) })),
        groupAggregate({ keyBy: 'all', aggregate: { n: count() } }),
        outputMode('update'),
      ) as Observable<Batch<Total>>,
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

describe('re-planning a multi-source query the checkpoint lost batches of', () => {
  it('re-plans the batches the output holds beyond a checkpoint restored from an older copy, each input with the files it had, then goes on', async () => {
    put('left', 'a', 10);
    put('right', 'a', 3);
    await run(); // batch 0
    const backup = join(work, 'backup');
    cpSync(checkpoint, backup, { recursive: true });
    put('left', 'b', 20);
    await run(); // batch 1: only the left input has new files
    put('right', 'c', 30);
    put('left', 'c', 5);
    await run(); // batch 2: both
    restore(backup); // commits batch 0 only; both inputs' file logs name batch 0's files only
    put('left', 'd', 40);
    put('right', 'd', 4);
    const progress = await run();
    expect(await written()).toEqual(expected({ 'left/a': 10, 'right/a': 3, 'left/b': 20, 'right/c': 30, 'left/c': 5, 'left/d': 40, 'right/d': 4 }));
    expect(progress.map((p) => [p.batchId, p.sources.map((s) => s.numInputRows)])).toEqual([
      [1, [20, 0]], // re-run from the sink's record: the same files per input
      [2, [5, 30]],
      [3, [40, 4]],
    ]);
    // Both inputs' file logs are whole again.
    expect(readdirSync(join(checkpoint, 'sources', '0')).filter((n) => /^\d+$/.test(n)).sort()).toEqual(['0', '1', '2', '3']);
    expect(readdirSync(join(checkpoint, 'sources', '1')).filter((n) => /^\d+$/.test(n)).sort()).toEqual(['0', '1', '2']);
    put('right', 'e', 7);
    expect((await run()).map((p) => [p.batchId, p.numInputRows])).toEqual([[4, 7]]);
  });

  it('re-plans a batch whose pending offsets file was deleted, then processes the files that arrived since', async () => {
    put('left', 'a', 10);
    await run(); // batch 0: the right input has no data yet
    put('right', 'b', 20);
    put('left', 'b', 2);
    await run({ failAfterSink: 1 }); // batch 1 in the sink, never committed
    expect(existsSync(join(checkpoint, 'offsets', '1'))).toBe(true);
    unlinkSync(join(checkpoint, 'offsets', '1'));
    put('right', 'c', 30);
    put('left', 'c', 3);
    const progress = await run();
    expect(progress.map((p) => [p.batchId, p.sources.map((s) => s.numInputRows)])).toEqual([
      [1, [2, 20]],
      [2, [3, 30]],
    ]);
    expect(await written()).toEqual(expected({ 'left/a': 10, 'right/b': 20, 'left/b': 2, 'right/c': 30, 'left/c': 3 }));
  });

  it('rebuilds operator state from the re-run batches: a running count over both inputs is right after an older copy is restored', async () => {
    put('left', 'a', 3);
    await runTotal(); // 3
    const backup = join(work, 'backup');
    cpSync(checkpoint, backup, { recursive: true });
    put('right', 'b', 4);
    await runTotal(); // 7
    put('left', 'c', 5);
    put('right', 'c', 1);
    await runTotal({ failAfterSink: 2 }); // 13, in the sink, not committed
    restore(backup);
    put('left', 'd', 6);
    await runTotal(); // batches 1 and 2 re-run (skipped by the sink), batch 3: 19
    expect((await readCommittedJson<Total>(output)).map((r) => r.n)).toEqual([3, 7, 13, 19]);
  });

  it('seeded trials of backups restored, pending offsets deleted and crashes after the sink: every row of both inputs once', async () => {
    for (const seed of [1, 2, 3, 4]) {
      rmSync(output, { recursive: true, force: true });
      rmSync(checkpoint, { recursive: true, force: true });
      for (const side of ['left', 'right']) {
        rmSync(join(work, side), { recursive: true, force: true });
        mkdirSync(join(work, side));
      }
      const random = prng(seed);
      const pick = (n: number): number => Math.floor(random() * n);
      const files: Record<string, number> = {};
      const backups: string[] = [];
      let fileNo = 0;
      let batchesRun = 0;
      for (let step = 0; step < 10; step++) {
        for (let f = pick(3); f >= 0; f--) {
          const side = random() < 0.5 ? 'left' : 'right';
          const name = `s${seed}-f${fileNo++}`;
          files[`${side}/${name}`] = 1 + pick(20);
          put(side, name, files[`${side}/${name}`]!);
        }
        const action = pick(10);
        if (action < 2 && backups.length > 0) restore(backups[pick(backups.length)]!);
        else if (action < 4 && existsSync(checkpoint)) {
          const backup = join(work, `backup-${seed}-${backups.length}`);
          cpSync(checkpoint, backup, { recursive: true });
          backups.push(backup);
        } else if (action < 5 && existsSync(join(checkpoint, 'offsets'))) {
          const commits = new Set(existsSync(join(checkpoint, 'commits')) ? readdirSync(join(checkpoint, 'commits')) : []);
          for (const name of readdirSync(join(checkpoint, 'offsets'))) if (/^\d+$/.test(name) && !commits.has(name)) unlinkSync(join(checkpoint, 'offsets', name));
        }
        const crashAt = random() < 0.4 ? pick(batchesRun + 2) : undefined;
        await run(crashAt === undefined ? {} : { failAfterSink: crashAt });
        batchesRun++;
      }
      await run();
      expect(await written()).toEqual(expected(files));
    }
  });
});

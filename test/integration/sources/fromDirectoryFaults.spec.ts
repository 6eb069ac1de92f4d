// The directory source under ordinary accidents, on real files: a planned file
// deleted before its batch reads it, entries that cannot be examined (symbolic
// link loops, dangling links, no permission), a deleted entry of its metadata
// log, and the log's compaction with the maxFileAge bound on the seen files.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from '../../../lib/checkpoint/checksum.js';
import { parseJsonBody, unframeFile } from '../../../lib/checkpoint/fileFormat.js';
import { CheckpointCorruptError } from '../../../lib/errors/CheckpointError.js';
import { SourceError } from '../../../lib/errors/index.js';
import type { StreamingQuery } from '../../../lib/query/StreamingQuery.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { StreamingQueryManager } from '../../../lib/query/StreamingQueryManager.js';
import { forEachBatch } from '../../../lib/sinks/forEachBatch.js';
import { fromDirectory, type DirectoryOffset, type FromDirectoryOptions } from '../../../lib/sources/fromDirectory.js';
import type { DeadLetterRecord, Source } from '../../../lib/sources/Source.js';

let root: string;
let input: string;
let checkpointLocation: string;
let manager: StreamingQueryManager;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'rss-dirfault-'));
  input = join(root, 'in');
  checkpointLocation = join(root, 'ckpt');
  mkdirSync(input);
  manager = new StreamingQueryManager();
});
afterEach(async () => {
  for (const q of manager.active) await q.stop();
  rmSync(root, { recursive: true, force: true });
});

const HOUR = 3600;
const BASE = 1_700_000_000; // seconds

/** Writes input file `name` with one row `{ n }` per number, modified at `mtime` (seconds), renamed into place. */
function put(name: string, numbers: readonly number[], mtime: number): void {
  const tmp = join(input, `.${name}.tmp`);
  writeFileSync(tmp, numbers.map((n) => `{"n":${n}}`).join('\n'));
  utimesSync(tmp, mtime, mtime);
  renameSync(tmp, join(input, name));
}

interface Run {
  readonly query: StreamingQuery;
  readonly source: Source<{ n: number | null }, DirectoryOffset>;
  readonly batches: Array<[number, Array<number | null>]>;
  readonly deadLetters: DeadLetterRecord[];
}

/** A checkpointed query over the input directory collecting each batch's numbers; `failBatch` makes the sink fail there (after offsets/N, before commits/N). */
function run(options: FromDirectoryOptions = {}, failBatch?: number, batches: Array<[number, Array<number | null>]> = []): Run {
  const deadLetters: DeadLetterRecord[] = [];
  const source = fromDirectory(input, { ...options, schema: { n: 'integer' } });
  const query = startQuery({
    source,
    sink: forEachBatch<{ n: number | null }>((rows, batchId) => {
      if (batchId === failBatch) throw new Error(`sink failed in batch ${batchId}`);
      batches.push([batchId, rows.map((r) => r.n)]);
    }),
    checkpointLocation,
    deadLetter: (record) => deadLetters.push(record),
    manager,
  });
  return { query, source, batches, deadLetters };
}

const numbersOf = (batches: Array<[number, Array<number | null>]>): number[] => batches.flatMap(([, ns]) => ns.map(Number)).sort((a, b) => a - b);
const logDir = (): string => join(checkpointLocation, 'sources', '0');
const metricsOf = (query: StreamingQuery): Readonly<Record<string, number>> => query.lastProgress!.sources[0]!.metrics;

describe('fromDirectory: a planned file that vanished before its batch read it', () => {
  /** Batch 1 plans b.json, then the sink fails (offsets/1 written, commits/1 not); b.json is deleted. */
  async function planThenDelete(): Promise<Array<[number, Array<number | null>]>> {
    put('a.json', [1, 2], BASE);
    put('b.json', [3, 4], BASE + 1);
    const first = run({ maxFilesPerTrigger: 1 }, 1);
    await expect(first.query.awaitTermination()).rejects.toThrow('sink failed in batch 1');
    unlinkSync(join(input, 'b.json'));
    put('c.json', [5], BASE + 2);
    return first.batches;
  }

  it('is reported to the dead-letter output and counted (numMissingFiles), and the restart goes on', async () => {
    const batches = await planThenDelete();
    const second = run({}, undefined, batches);
    const reports: number[] = [];
    second.query.progress$.subscribe((p) => reports.push(p.sources[0]!.metrics['numMissingFiles']!));
    await second.query.processAllAvailable();
    expect(batches).toEqual([
      [0, [1, 2]],
      [1, []], // the re-run of batch 1: b.json is gone
      [2, [5]],
    ]);
    expect(second.deadLetters).toEqual([
      expect.objectContaining({ location: join(input, 'b.json'), reason: expect.stringContaining('file planned in file-log entry 1 is gone when its batch read it (ENOENT)') }),
    ]);
    expect(reports).toEqual([1, 0]);
    // A further restart is not blocked either.
    await second.query.stop();
    const third = run({}, undefined, batches);
    put('d.json', [6], BASE + 3);
    await third.query.processAllAvailable();
    expect(numbersOf(batches)).toEqual([1, 2, 5, 6]);
  });

  it("with onMissingFile: 'error' stops the query with a SourceError that names the file and the way on", async () => {
    const batches = await planThenDelete();
    const second = run({ onMissingFile: 'error' }, undefined, batches);
    await expect(second.query.awaitTermination()).rejects.toBeInstanceOf(SourceError);
    expect(second.query.exception?.message).toContain(`file ${join(input, 'b.json')}, planned in file-log entry 1, is gone when its batch read it; got ENOENT.`);
    expect(second.query.exception?.message).toContain("restart the query with onMissingFile: 'deadLetter'");
    const third = run({ onMissingFile: 'deadLetter' }, undefined, batches);
    await third.query.processAllAvailable();
    expect(numbersOf(batches)).toEqual([1, 2, 5]);
  });
});

describe('fromDirectory: entries that cannot be examined are reported one by one, the listing goes on', () => {
  it('symbolic link loops and a dangling link are skipped, reported once each and counted; the other files are read', async () => {
    put('a.json', [1], BASE);
    symlinkSync('self.json', join(input, 'self.json'));
    symlinkSync('pong.json', join(input, 'ping.json'));
    symlinkSync('ping.json', join(input, 'pong.json'));
    symlinkSync('nowhere.json', join(input, 'dangling.json'));
    const { query, batches, deadLetters } = run();
    await query.processAllAvailable();
    put('b.json', [2], BASE + 1);
    await query.processAllAvailable();
    expect(numbersOf(batches)).toEqual([1, 2]);
    expect(metricsOf(query)).toMatchObject({ numUnreadableEntries: 4 });
    const byPath = new Map(deadLetters.map((d) => [d.location, d.reason]));
    expect(deadLetters).toHaveLength(4); // once each, although every trigger lists them again
    expect(byPath.get(join(input, 'self.json'))).toContain('ELOOP: a symbolic link loop');
    expect(byPath.get(join(input, 'ping.json'))).toContain('ELOOP');
    expect(byPath.get(join(input, 'dangling.json'))).toContain('a symbolic link to nothing');
    // Once the link points at a real file, it is read.
    unlinkSync(join(input, 'dangling.json'));
    writeFileSync(join(input, 'nowhere.json.tmp'), '{"n":3}');
    renameSync(join(input, 'nowhere.json.tmp'), join(input, 'target.json'));
    symlinkSync('target.json', join(input, 'dangling.json'));
    await query.processAllAvailable();
    expect(numbersOf(batches)).toEqual([1, 2, 3, 3]); // target.json itself and the link to it
  });

  const root0 = process.getuid?.() === 0;
  // Root reads every file whatever its mode, so this case can only be shown as another user.
  (root0 ? it.skip : it)('a file without read permission is skipped and reported until it can be read', async () => {
    put('a.json', [1], BASE);
    put('secret.json', [2], BASE + 1);
    chmodSync(join(input, 'secret.json'), 0o000);
    const { query, batches, deadLetters } = run();
    await query.processAllAvailable();
    expect(numbersOf(batches)).toEqual([1]);
    expect(deadLetters[0]?.reason).toContain('EACCES: no permission');
    chmodSync(join(input, 'secret.json'), 0o644);
    put('c.json', [3], BASE + 2);
    await query.processAllAvailable();
    expect(numbersOf(batches)).toEqual([1, 2, 3]);
  });
});

describe('fromDirectory: its metadata log', () => {
  it('a deleted middle entry is detected at start (CheckpointCorruptError naming it), never a silent re-read', async () => {
    for (let i = 0; i < 4; i++) put(`f${i}.json`, [i], BASE + i);
    const first = run({ maxFilesPerTrigger: 1 });
    await first.query.processAllAvailable();
    await first.query.stop();
    expect(readdirSync(logDir()).sort()).toEqual(['0', '1', '2', '3']);
    unlinkSync(join(logDir(), '1'));
    put('f4.json', [4], BASE + 4);
    const second = run({ maxFilesPerTrigger: 1 }, undefined, first.batches);
    await expect(second.query.ready).rejects.toBeInstanceOf(CheckpointCorruptError);
    expect((second.query.exception as CheckpointCorruptError).path).toBe(join(logDir(), '1'));
    expect(second.query.exception?.message).toContain(`file log ${logDir()} has a gap: entry 1 is missing, entry 2 is there.`);
    expect(second.query.exception?.message).toContain('would be read again as new');
    expect(numbersOf(first.batches)).toEqual([0, 1, 2, 3]); // nothing read twice
  });

  it('is compacted every compactInterval committed entries, keeping only files younger than maxFileAge; the seen set stays bounded and an old file is skipped and counted, also after a restart', async () => {
    const options: FromDirectoryOptions = { maxFilesPerTrigger: 1, compactInterval: 3, maxFileAge: '2 hours' };
    for (let i = 0; i < 10; i++) put(`f${i}.json`, [i], BASE + i * HOUR);
    const first = run(options);
    const seenSizes: number[] = [];
    first.query.progress$.subscribe((p) => seenSizes.push(p.sources[0]!.metrics['numSeenFiles']!));
    await first.query.processAllAvailable();
    expect(numbersOf(first.batches)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Compactions at committed entries 2, 5 and 8; each replaced the entries and the compaction before it.
    expect(readdirSync(logDir()).sort()).toEqual(['8.compact', '9']);
    const compactPath = join(logDir(), '8.compact');
    const compact = parseJsonBody(unframeFile(readFileSync(compactPath), compactPath, 'source', crc32), compactPath) as { compactedThrough: number; entries: Array<{ logOffset: number; files: string[] }> };
    expect(compact.compactedThrough).toBe(8);
    // Files more than 2 hours older than the newest file seen when entry 8 was compacted (f8, or f9 if batch 9
    // was already planned: a commit runs while the next batch is planned) are dropped: f0 … f5 at least.
    const compacted = compact.entries.map((e) => e.files).flat();
    expect(compacted.slice(-2)).toEqual(['f7.json', 'f8.json']);
    expect(compacted.every((f) => Number(f.slice(1, -5)) >= 6)).toBe(true);
    expect(Math.max(...seenSizes)).toBeLessThanOrEqual(4);
    // Idle now, newest file f9: the seen set holds f7 … f9; f0 … f6 are too old to be new (and are not re-read).
    expect(first.source.progressMetrics!(undefined)).toMatchObject({ numSeenFiles: 3, numFilesTooOld: 7 });

    // A file with an old modification time: older than the bound, so not new; skipped and counted, not read.
    put('late.json', [100], BASE);
    put('f10.json', [10], BASE + 10 * HOUR);
    await first.query.processAllAvailable();
    expect(numbersOf(first.batches)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(first.source.progressMetrics!(undefined)).toMatchObject({ numFilesTooOld: 9 }); // newest f10: f0 … f7 and late.json
    await first.query.stop();

    // After a restart the seen set is rebuilt from the compacted log: nothing is read again.
    const second = run(options, undefined, first.batches);
    put('f11.json', [11], BASE + 11 * HOUR);
    await second.query.processAllAvailable();
    expect(numbersOf(first.batches)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(second.source.progressMetrics!(undefined)['numSeenFiles']).toBeLessThanOrEqual(4);
    await second.query.stop();

    // The compaction file deleted by hand: the entries it held are gone, which is reported, not re-read.
    expect(readdirSync(logDir()).sort()).toEqual(['11.compact']);
    unlinkSync(join(logDir(), '11.compact'));
    const third = run(options, undefined, first.batches);
    await expect(third.query.processAllAvailable()).rejects.toBeInstanceOf(SourceError);
    expect(third.query.exception?.message).toContain('the offsets name file-log entry 11, which this source does not have');
    expect(numbersOf(first.batches)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('a deleted compaction file with later entries still there is a gap, detected at start', async () => {
    const options: FromDirectoryOptions = { maxFilesPerTrigger: 1, compactInterval: 3 };
    for (let i = 0; i < 4; i++) put(`f${i}.json`, [i], BASE + i);
    const first = run(options);
    await first.query.processAllAvailable();
    await first.query.stop();
    expect(readdirSync(logDir()).sort()).toEqual(['2.compact', '3']);
    unlinkSync(join(logDir(), '2.compact'));
    const second = run(options, undefined, first.batches);
    await expect(second.query.ready).rejects.toBeInstanceOf(CheckpointCorruptError);
    expect(second.query.exception?.message).toContain('has a gap: entries 0 to 2 are missing, entry 3 is there.');
    expect(numbersOf(first.batches)).toEqual([0, 1, 2, 3]);
  });
});

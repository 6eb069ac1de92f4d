import { mkdtempSync, rmSync, writeFileSync, renameSync, utimesSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeadLetterRecord } from '../../../lib/sources/Source.js';
import { crc32 } from '../../../lib/checkpoint/checksum.js';
import { frameJson, parseJsonBody, unframeFile, type CheckpointFileType } from '../../../lib/checkpoint/fileFormat.js';
import { CheckpointCorruptError } from '../../../lib/errors/CheckpointError.js';
import { InvalidOptionError, MalformedRecordError, SourceError } from '../../../lib/errors/index.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { StreamingQueryManager } from '../../../lib/query/StreamingQueryManager.js';
import { forEachBatch } from '../../../lib/sinks/forEachBatch.js';
import { dropMemoryTable, memoryTable, toMemory } from '../../../lib/sinks/toMemory.js';
import { fromDirectory, isIgnoredFileName } from '../../../lib/sources/fromDirectory.js';

const F1 = [
  '{"id":"phone1","action":"open","ts":"2018-03-02T10:02:33"}',
  '{"id":"phone2","action":"open","ts":"2018-03-02T10:03:35"}',
  '{"id":"phone3","action":"open","ts":"2018-03-02T10:03:50"}',
  '{"id":"phone1","action":"close","ts":"2018-03-02T10:04:35"}',
].join('\n');
const F2 = ['{"id":"phone3","action":"close","ts":"2018-03-02T10:07:35"}', '{"id":"phone4","action":"open","ts":"2018-03-02T10:07:50"}'].join('\n');
const SCHEMA = { id: 'string', action: 'string', ts: 'timestamp' } as const;

let dir: string;
let manager: StreamingQueryManager;
let n = 0;
const table = (): string => `dir-${n}`;

/** Writes a file with a given modification time (seconds), atomically (temporary name, then rename). */
function put(name: string, text: string, mtimeSeconds: number): void {
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, text);
  utimesSync(tmp, mtimeSeconds, mtimeSeconds);
  renameSync(tmp, join(dir, name));
}

/** The JSON value of a framed checkpoint file. */
function readFramed(path: string, type: CheckpointFileType): unknown {
  return parseJsonBody(unframeFile(readFileSync(path), path, type, crc32), path);
}

/** Writes a JSON value as a framed checkpoint file. */
async function writeFramed(path: string, type: CheckpointFileType, value: unknown): Promise<void> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of frameJson(type, value, crc32)) chunks.push(chunk);
  writeFileSync(path, Buffer.concat(chunks));
}

beforeEach(() => {
  n++;
  dir = mkdtempSync(join(tmpdir(), 'rss-dir-'));
  manager = new StreamingQueryManager();
});
afterEach(async () => {
  for (const q of manager.active) await q.stop();
  rmSync(dir, { recursive: true, force: true });
  dropMemoryTable(table());
});

/**
 * Runs a checkpointed query over a.json and b.json, one file per batch, whose
 * sink fails in batch 1 (after offsets/1 was written, before commits/1); then
 * `restart` drops c.json in, restarts without a per-trigger limit and
 * processes everything. `seen` collects what the sink received.
 */
async function crashInBatch1() {
  const checkpointLocation = join(dir, '_checkpoint');
  put('a.json', F1, 1000);
  put('b.json', F2, 2000);
  const seen: [number, string[]][] = [];
  let crash = true;
  const sink = forEachBatch<{ id: string }>((rows, batchId) => {
    if (batchId === 1 && crash) throw new Error('killed');
    seen.push([batchId, rows.map((r) => r.id)]);
  });
  const q1 = startQuery({ source: fromDirectory(dir, { schema: SCHEMA, maxFilesPerTrigger: 1 }), sink, checkpointLocation, manager });
  await expect(q1.awaitTermination()).rejects.toThrow('killed');
  const restart = async () => {
    put('c.json', '{"id":"phone9","action":"open","ts":"2018-03-02T10:09:00"}', 3000);
    crash = false;
    const q2 = startQuery({ source: fromDirectory(dir, { schema: SCHEMA }), sink, checkpointLocation, manager });
    await q2.processAllAvailable();
    return q2;
  };
  return { checkpointLocation, seen, restart };
}

describe('fromDirectory (real files in a temporary directory)', () => {
  it('turns new JSON files into batches in modification-time order, with the schema applied', async () => {
    put('b.json', F2, 2000);
    put('a.json', F1, 1000);
    const query = startQuery({ source: fromDirectory(dir, { schema: SCHEMA, maxFilesPerTrigger: 1 }), sink: toMemory(table()), manager });
    await query.processAllAvailable();
    const rows = memoryTable<{ id: string; ts: Date }>(table());
    expect(rows.map((r) => r.id)).toEqual(['phone1', 'phone2', 'phone3', 'phone1', 'phone3', 'phone4']);
    expect(rows[0]).toEqual({ id: 'phone1', action: 'open', ts: new Date('2018-03-02T10:02:33Z') });
    expect(query.recentProgress.map((p) => p.numInputRows)).toEqual([4, 2]);
    expect(query.lastProgress?.sources[0]).toMatchObject({ description: `FileStreamSource[${dir}]`, startOffset: { logOffset: 0 }, endOffset: { logOffset: 1 } });
  });

  it('latestFirst reads the newest file first', async () => {
    put('a.json', F1, 1000);
    put('b.json', F2, 2000);
    const query = startQuery({ source: fromDirectory(dir, { schema: SCHEMA, latestFirst: true, maxFilesPerTrigger: 1 }), sink: toMemory(table()), manager });
    await query.processAllAvailable();
    expect(query.recentProgress.map((p) => p.numInputRows)).toEqual([2, 4]);
  });

  it('ignores temporary, hidden and underscore files, and picks up a file renamed into place mid-run', async () => {
    put('a.json', F1, 1000);
    writeFileSync(join(dir, '.b.json'), F2);
    writeFileSync(join(dir, '_b.json'), F2);
    writeFileSync(join(dir, 'b.json.tmp'), '{"id":"half'); // being written
    mkdirSync(join(dir, 'sub'));
    const query = startQuery({ source: fromDirectory(dir, { schema: SCHEMA }), sink: toMemory(table()), manager, pollInterval: 20 });
    await query.processAllAvailable();
    expect(memoryTable(table())).toHaveLength(4);
    // The producer finishes the file and renames it into place while the query runs.
    writeFileSync(join(dir, 'b.json.tmp'), F2);
    renameSync(join(dir, 'b.json.tmp'), join(dir, 'b.json'));
    await query.processAllAvailable();
    expect(memoryTable<{ id: string }>(table()).map((r) => r.id)).toEqual(['phone1', 'phone2', 'phone3', 'phone1', 'phone3', 'phone4']);
    expect(query.lastProgress?.batchId).toBe(1);
    expect(isIgnoredFileName('x.crdownload')).toBe(true);
  });

  it('reads CSV with a header and declared column types', async () => {
    put('t.csv', 'id,amount,type,time\napple,10,buy,2020-04-20T10:10:00\n"shell, inc",18,buy,2020-04-20T10:12:00\n', 1000);
    const query = startQuery({
      source: fromDirectory(dir, { format: 'csv', header: true, schema: { id: 'string', amount: 'integer', type: 'string', time: 'timestamp' } }),
      sink: toMemory(table()),
      manager,
    });
    await query.processAllAvailable();
    expect(memoryTable(table())).toEqual([
      { id: 'apple', amount: 10, type: 'buy', time: new Date('2020-04-20T10:10:00Z') },
      { id: 'shell, inc', amount: 18, type: 'buy', time: new Date('2020-04-20T10:12:00Z') },
    ]);
  });

  it('reads text files as { value } rows', async () => {
    put('l.txt', 'the cat\nthe dog\n', 1000);
    const query = startQuery({ source: fromDirectory(dir, { format: 'text' }), sink: toMemory(table()), manager });
    await query.processAllAvailable();
    expect(memoryTable(table())).toEqual([{ value: 'the cat' }, { value: 'the dog' }]);
  });

  it('stops the query with a MalformedRecordError naming the file and line', async () => {
    put('bad.json', `${F2}\n{"id":"phone5",\n`, 1000);
    const query = startQuery({ source: fromDirectory(dir, { schema: SCHEMA }), sink: toMemory(table()), manager });
    await expect(query.processAllAvailable()).rejects.toBeInstanceOf(MalformedRecordError);
    const error = query.exception as MalformedRecordError;
    expect(error.file).toBe(join(dir, 'bad.json'));
    expect(error.line).toBe(3);
    expect(error.message).toMatch(new RegExp(`^FileStreamSource\\[${dir}\\]: malformed record in ${join(dir, 'bad.json')} at line 3: invalid JSON`));
  });

  it("routes malformed lines to the dead-letter output and counts them with onMalformed: 'deadLetter'", async () => {
    put('bad.csv', 'id,amount\napple,10\npear,ten\nplum\n', 1000);
    const dead: DeadLetterRecord[] = [];
    const query = startQuery({
      source: fromDirectory(dir, { format: 'csv', header: true, schema: { id: 'string', amount: 'integer' }, onMalformed: 'deadLetter' }),
      sink: toMemory(table()),
      deadLetter: (r) => dead.push(r),
      manager,
    });
    await query.processAllAvailable();
    expect(memoryTable(table())).toEqual([{ id: 'apple', amount: 10 }]);
    expect(dead).toEqual([
      { source: `FileStreamSource[${dir}]`, location: `${join(dir, 'bad.csv')}:3`, text: 'pear,ten', reason: 'column amount is not an integer: "ten"' },
      { source: `FileStreamSource[${dir}]`, location: `${join(dir, 'bad.csv')}:4`, text: 'plum', reason: 'expected 2 columns, got 1' },
    ]);
    expect(query.lastProgress?.sources[0]?.metrics).toEqual({ numDeadLetterRecords: 2, numMissingFiles: 0, numUnreadableEntries: 0, numFilesTooOld: 0, numSeenFiles: 1, numFileLogEntries: 1 });
  });

  it('recovers its offsets from a checkpoint: no file read twice, a pending batch re-read exactly', async () => {
    const checkpointLocation = join(dir, '_checkpoint');
    put('a.json', F1, 1000);
    const q1 = startQuery({ source: fromDirectory(dir, { schema: SCHEMA }), sink: toMemory(table()), checkpointLocation, manager });
    await q1.processAllAvailable();
    await q1.stop();
    put('b.json', F2, 2000);
    const q2 = startQuery({ source: fromDirectory(dir, { schema: SCHEMA }), sink: toMemory(table()), checkpointLocation, manager });
    await q2.processAllAvailable();
    expect(q2.id).toBe(q1.id);
    expect(q2.lastProgress?.batchId).toBe(1);
    expect(q2.lastProgress?.sources[0]?.startOffset).toEqual({ logOffset: 0 });
    expect(q2.lastProgress?.sources[0]?.endOffset).toEqual({ logOffset: 1 });
    // The files of each batch are logged once, under the checkpoint, framed and checksummed.
    expect(readdirSync(join(checkpointLocation, 'sources', '0')).sort()).toEqual(['0', '1']);
    expect(readFramed(join(checkpointLocation, 'sources', '0', '0'), 'source')).toMatchObject({ logOffset: 0, files: ['a.json'] });
    expect(readFramed(join(checkpointLocation, 'sources', '0', '1'), 'source')).toMatchObject({ logOffset: 1, files: ['b.json'] });
    expect(memoryTable(table())).toHaveLength(6);
    await q2.stop();
  });

  it('after a crash between offsets/N and commits/N, re-reads exactly the files batch N logged', async () => {
    const { seen, restart } = await crashInBatch1();
    const q2 = await restart();
    expect(seen).toEqual([
      [0, ['phone1', 'phone2', 'phone3', 'phone1']],
      [1, ['phone3', 'phone4']], // b.json only, as offsets/1 says, although c.json is there and no limit is set now
      [2, ['phone9']],
    ]);
    await q2.stop();
  });

  it('after a restart, replays exactly the files its log holds for the pending batch and never re-reads a logged file', async () => {
    const { checkpointLocation, seen, restart } = await crashInBatch1();
    const offsets1 = readFramed(join(checkpointLocation, 'offsets', '1'), 'offsets') as { offsets: unknown[] };
    expect(offsets1.offsets).toEqual([{ logOffset: 1 }]);
    expect(readFramed(join(checkpointLocation, 'sources', '0', '1'), 'source')).toMatchObject({ logOffset: 1, files: ['b.json'] });
    // b.json is rewritten with a newer time: still not read again, because the log says it was planned.
    put('b.json', F2, 4000);
    const q2 = await restart();
    expect(seen).toEqual([
      [0, ['phone1', 'phone2', 'phone3', 'phone1']],
      [1, ['phone3', 'phone4']],
      [2, ['phone9']],
    ]);
    expect(readFramed(join(checkpointLocation, 'sources', '0', '2'), 'source')).toMatchObject({ logOffset: 2, files: ['c.json'] });
    await q2.stop();
  });

  it('keeps every offsets/N entry the same small size however many files were read', async () => {
    const checkpointLocation = join(dir, '_checkpoint');
    for (let i = 0; i < 30; i++) put(`f${String(i).padStart(2, '0')}.json`, `{"id":"d${i}","action":"open","ts":"2018-03-02T10:00:00"}`, 1000 + i);
    const query = startQuery({ source: fromDirectory(dir, { schema: SCHEMA, maxFilesPerTrigger: 1 }), sink: toMemory(table()), checkpointLocation, manager });
    await query.processAllAvailable();
    expect(memoryTable(table())).toHaveLength(30);
    const sizes = Array.from({ length: 30 }, (_, n) => statSync(join(checkpointLocation, 'offsets', String(n))).size);
    // Batch ids and log offsets 10…29 have the same number of digits: the entries must not grow with the files read.
    expect(new Set(sizes.slice(10)).size).toBe(1);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(4);
    expect(Math.max(...sizes)).toBeLessThan(200);
    expect((readFramed(join(checkpointLocation, 'offsets', '29'), 'offsets') as { offsets: unknown[] }).offsets).toEqual([{ logOffset: 29 }]);
    await query.stop();
  });

  it('stops with a CheckpointCorruptError naming a damaged file-log entry, before reading anything', async () => {
    const checkpointLocation = join(dir, '_checkpoint');
    put('a.json', F1, 1000);
    const q1 = startQuery({ source: fromDirectory(dir, { schema: SCHEMA }), sink: toMemory(table()), checkpointLocation, manager });
    await q1.processAllAvailable();
    await q1.stop();
    const entry = join(checkpointLocation, 'sources', '0', '0');
    const bytes = readFileSync(entry);
    bytes[bytes.indexOf('a.json') + 1] = 'X'.charCodeAt(0); // a flipped byte
    writeFileSync(entry, bytes);
    put('b.json', F2, 2000);
    const q2 = startQuery({ source: fromDirectory(dir, { schema: SCHEMA }), sink: toMemory(table()), checkpointLocation, manager });
    await expect(q2.ready).rejects.toBeInstanceOf(CheckpointCorruptError);
    expect((q2.exception as CheckpointCorruptError).path).toBe(entry);
    expect(q2.exception?.message).toContain(`file ${entry} is corrupt`);
    expect(memoryTable(table())).toHaveLength(4);
  });

  it('fails clearly (no silent re-read) when the offsets name file-log entries that are gone', async () => {
    const checkpointLocation = join(dir, '_checkpoint');
    put('a.json', F1, 1000);
    const q1 = startQuery({ source: fromDirectory(dir, { schema: SCHEMA }), sink: toMemory(table()), checkpointLocation, manager });
    await q1.processAllAvailable();
    await q1.stop();
    rmSync(join(checkpointLocation, 'sources'), { recursive: true });
    const q2 = startQuery({ source: fromDirectory(dir, { schema: SCHEMA }), sink: toMemory(table()), checkpointLocation, manager });
    await expect(q2.processAllAvailable()).rejects.toBeInstanceOf(SourceError);
    expect(q2.exception?.message).toContain('file-log entry 0');
    expect(memoryTable(table())).toHaveLength(4);
  });

  it('continues a checkpoint written with the old offsets { logOffset, files } (committed and pending batches)', async () => {
    const { checkpointLocation, seen, restart } = await crashInBatch1();
    // Rewrite the checkpoint as an older version wrote it: the whole file list in each offset, no file log.
    const legacy = [{ logOffset: 1, files: ['a.json'] }, { logOffset: 2, files: ['a.json', 'b.json'] }];
    for (const n of [0, 1]) {
      const path = join(checkpointLocation, 'offsets', String(n));
      const entry = readFramed(path, 'offsets') as Record<string, unknown>;
      await writeFramed(path, 'offsets', { ...entry, offsets: [legacy[n]] });
    }
    rmSync(join(checkpointLocation, 'sources'), { recursive: true });
    const q2 = await restart();
    expect(seen).toEqual([
      [0, ['phone1', 'phone2', 'phone3', 'phone1']],
      [1, ['phone3', 'phone4']], // the pending old-style batch, exactly
      [2, ['phone9']], // new files only, logged under the next entry after the old count
    ]);
    expect(q2.lastProgress?.sources[0]).toMatchObject({ startOffset: legacy[1], endOffset: { logOffset: 2 } });
    expect(readFramed(join(checkpointLocation, 'sources', '0', '2'), 'source')).toMatchObject({ logOffset: 2, files: ['c.json'] });
    await q2.stop();
  });

  it('availableNow reads what is there at the start, respecting maxFilesPerTrigger', async () => {
    put('a.json', F1, 1000);
    put('b.json', F2, 2000);
    const query = startQuery({ source: fromDirectory(dir, { schema: SCHEMA, maxFilesPerTrigger: 1 }), sink: toMemory(table()), trigger: { availableNow: true }, manager });
    await query.awaitTermination();
    expect(query.recentProgress.map((p) => p.numInputRows)).toEqual([4, 2]);
  });

  it('fails clearly when the directory does not exist', async () => {
    const query = startQuery({ source: fromDirectory(join(dir, 'missing')), sink: toMemory(table()), manager });
    await expect(query.ready).rejects.toBeInstanceOf(SourceError);
    expect(query.exception?.message).toBe(`FileStreamSource[${join(dir, 'missing')}]: directory ${join(dir, 'missing')} does not exist; got ENOENT. Create it before starting the query`);
  });

  describe('misconfiguration', () => {
    it('rejects bad options when built', () => {
      expect(() => fromDirectory('')).toThrow('fromDirectory: dir must be a non-empty directory path; got "".');
      expect(() => fromDirectory(dir, { format: 'xml' as never })).toThrow(`fromDirectory: format must be 'json', 'csv' or 'text'; got "xml".`);
      expect(() => fromDirectory(dir, { maxFilesPerTrigger: 0 })).toThrow(InvalidOptionError);
      expect(() => fromDirectory(dir, { schema: { ts: 'date' as never } })).toThrow(
        `fromDirectory: schema must map column names to 'string', 'integer', 'long', 'double', 'number', 'boolean' or 'timestamp'; got ["ts","date"].`,
      );
      expect(() => fromDirectory(dir, { onMalformed: 'skip' as never })).toThrow(`fromDirectory: onMalformed must be 'error' or 'deadLetter'; got "skip".`);
    });
  });
});

import { mkdtempSync, rmSync, writeFileSync, renameSync, utimesSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeadLetterRecord } from '../../../lib/sources/Source.js';
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
    expect(query.lastProgress?.sources[0]).toMatchObject({ description: `FileStreamSource[${dir}]`, startOffset: { logOffset: 1, files: ['a.json'] }, endOffset: { logOffset: 2, files: ['a.json', 'b.json'] } });
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
      { source: `FileStreamSource[${dir}]`, location: `${join(dir, 'bad.csv')}:3`, text: 'pear,ten', reason: 'column amount is not a integer: "ten"' },
      { source: `FileStreamSource[${dir}]`, location: `${join(dir, 'bad.csv')}:4`, text: 'plum', reason: 'expected 2 columns, got 1' },
    ]);
    expect(query.lastProgress?.sources[0]?.metrics).toEqual({ numDeadLetterRecords: 2 });
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
    expect(q2.lastProgress?.sources[0]?.startOffset).toEqual({ logOffset: 1, files: ['a.json'] });
    expect(memoryTable(table())).toHaveLength(6);
    await q2.stop();
  });

  it('after a crash between offsets/N and commits/N, re-reads exactly the files batch N logged', async () => {
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
    put('c.json', '{"id":"phone9","action":"open","ts":"2018-03-02T10:09:00"}', 3000);
    crash = false;
    const q2 = startQuery({ source: fromDirectory(dir, { schema: SCHEMA }), sink, checkpointLocation, manager });
    await q2.processAllAvailable();
    expect(seen).toEqual([
      [0, ['phone1', 'phone2', 'phone3', 'phone1']],
      [1, ['phone3', 'phone4']], // b.json only, as offsets/1 says, although c.json is there and no limit is set now
      [2, ['phone9']],
    ]);
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

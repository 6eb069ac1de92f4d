import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { InvalidOptionError, SinkConflictError } from '../../../lib/errors/index.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { StreamingQueryManager } from '../../../lib/query/StreamingQueryManager.js';
import { committedFiles, readCommittedJson, toFiles } from '../../../lib/sinks/toFiles.js';
import { fromDirectory } from '../../../lib/sources/fromDirectory.js';
import { fromObservable } from '../../../lib/sources/fromObservable.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rss-sink-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const context = { queryId: 'q', runId: 'r', outputMode: 'append' } as const;

describe('toFiles (real files)', () => {
  it('writes one part file per batch named by the batch id, and a manifest of committed batches', async () => {
    const sink = toFiles(join(dir, 'out'));
    await sink.start!(context);
    await sink.addBatch(0, [{ id: 'phone1', ts: new Date('2018-03-02T10:02:33Z') }]);
    await sink.addBatch(1, []);
    await sink.addBatch(2, [{ id: 'phone2' }, { id: 'phone3' }]);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['_spark_metadata', 'part-00000-q.json', 'part-00002-q.json']);
    expect(readFileSync(join(dir, 'out', 'part-00000-q.json'), 'utf8')).toBe('{"id":"phone1","ts":"2018-03-02T10:02:33.000Z"}\n');
    expect(readdirSync(join(dir, 'out', '_spark_metadata', 'q')).sort()).toEqual(['0', '1', '2']);
    expect((await committedFiles(join(dir, 'out'))).map((e) => [e.queryId, e.batchId, e.path])).toEqual([
      ['q', 0, 'part-00000-q.json'],
      ['q', 2, 'part-00002-q.json'],
    ]);
    expect(await readCommittedJson(join(dir, 'out'))).toEqual([{ id: 'phone1', ts: '2018-03-02T10:02:33.000Z' }, { id: 'phone2' }, { id: 'phone3' }]);
  });

  it('ignores a batch already committed, also after a restart (exactly once)', async () => {
    const first = toFiles(dir);
    await first.start!(context);
    await first.addBatch(0, [{ n: 1 }]);
    const restarted = toFiles(dir);
    await restarted.start!(context);
    await restarted.addBatch(0, [{ n: 1 }, { n: 'replayed with other rows' }]);
    await restarted.addBatch(1, [{ n: 2 }]);
    expect(await readCommittedJson(dir)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('records the origin each batch is given in its manifest and gives it back after a restart; a batch recorded without one has none', async () => {
    const origin = { startOffsets: [null], endOffsets: [{ logOffset: 0 }], watermark: 0, timestamp: 1_700_000_000_000, plans: [{ entries: [{ logOffset: 0, files: ['a.json'] }] }] };
    const first = toFiles(dir);
    await first.start!(context);
    await first.addBatch(0, [{ n: 1 }], origin);
    await first.addBatch(1, []); // given no origin (a sink driven by hand)
    expect(readFileSync(join(dir, '_spark_metadata', 'q', '0'), 'utf8').split('\n')[1]).toBe(JSON.stringify({ queryId: 'q', batchId: 0, origin }));
    const restarted = toFiles(dir);
    await restarted.start!(context);
    expect(await restarted.committedOrigin!(0)).toEqual(origin);
    expect(await restarted.committedOrigin!(1)).toBeUndefined();
    expect(await restarted.committedOrigin!(2)).toBeUndefined(); // not held
    expect(await restarted.lastCommittedBatchId!()).toBe(1);
    // The manifest still reads as before: the origin is in the header line only.
    expect(await readCommittedJson(dir)).toEqual([{ n: 1 }]);
  });

  it('leaves no temporary file behind and writes CSV with a header when asked', async () => {
    const sink = toFiles(dir, { format: 'csv', header: true });
    await sink.start!(context);
    await sink.addBatch(0, [
      { id: 'a', note: 'x, "y"' },
      { id: 'b', note: null },
      { id: 'c', note: '' },
    ]);
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
    // null is an empty cell, an empty string a quoted empty string: they read back apart (see parseRecords).
    expect(readFileSync(join(dir, 'part-00000-q.csv'), 'utf8')).toBe('id,note\na,"x, ""y"""\nb,\nc,""\n');
  });

  it('writes columns named like Object members (__proto__, constructor) as ordinary columns in CSV: a row without one has an empty cell', async () => {
    const sink = toFiles(dir, { format: 'csv', header: true });
    await sink.start!(context);
    await sink.addBatch(0, [JSON.parse('{"__proto__":"x","constructor":"c","hasOwnProperty":"h"}') as Record<string, unknown>, { ts: 1 }]);
    expect(readFileSync(join(dir, 'part-00000-q.csv'), 'utf8')).toBe('__proto__,constructor,hasOwnProperty,ts\nx,c,h,\n,,,1\n');
  });

  it('writes an invalid Date as an empty CSV cell (null, as in JSON), never a RangeError', async () => {
    const sink = toFiles(dir, { format: 'csv', header: true });
    await sink.start!(context);
    await sink.addBatch(0, [{ id: 'a', at: new Date(Number.NaN) }]);
    expect(readFileSync(join(dir, 'part-00000-q.csv'), 'utf8')).toBe('id,at\na,\n');
  });

  it('a query writing files and a query reading them with fromDirectory see each committed row once', async () => {
    const input = new Subject<{ n: number }>();
    const manager = new StreamingQueryManager();
    const writer = startQuery({ source: fromObservable(input), sink: toFiles(join(dir, 'stage')), checkpointLocation: join(dir, 'ckpt-w'), manager });
    input.next({ n: 1 });
    input.next({ n: 2 });
    await writer.processAllAvailable();
    input.next({ n: 3 });
    await writer.processAllAvailable();
    await writer.stop();
    const rows: number[] = [];
    const reader = startQuery({
      source: fromDirectory<{ n: number }>(join(dir, 'stage'), { schema: { n: 'integer' } }),
      sink: { description: 'collect', supportedModes: ['append'], idempotent: false, addBatch: async (_id, batch) => void rows.push(...batch.map((r) => r.n)) },
      manager,
      trigger: { availableNow: true },
    });
    await reader.awaitTermination();
    expect(rows.sort()).toEqual([1, 2, 3]);
    expect(existsSync(join(dir, 'stage', '_spark_metadata', writer.id, '1'))).toBe(true);
  });

  describe('a new checkpoint on an existing output (manifest keyed by query id + batch id)', () => {
    /** A query copying `input` (JSON files) to `out` with checkpoint `ckpt`, run until everything there is read. */
    async function copy(ckpt: string, shareOutput?: boolean): Promise<{ id: string; error: Error | undefined }> {
      const manager = new StreamingQueryManager();
      const query = startQuery({
        source: fromDirectory<{ n: number }>(join(dir, 'input'), { schema: { n: 'integer' }, maxFilesPerTrigger: 2 }),
        sink: toFiles(join(dir, 'out'), shareOutput === undefined ? {} : { shareOutput }),
        checkpointLocation: join(dir, ckpt),
        trigger: { availableNow: true },
        manager,
      });
      const error = await query.awaitTermination().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      return { id: query.id, error };
    }

    beforeEach(() => {
      mkdirSync(join(dir, 'input'));
      for (let f = 0; f < 5; f++) writeFileSync(join(dir, 'input', `f${f}.json`), Array.from({ length: 100 }, (_, i) => `{"n":${f * 100 + i}}`).join('\n'));
    });

    it('refuses at start, naming the directory and the query that owns it, and writes nothing', async () => {
      const first = await copy('ckpt-a');
      expect(first.error).toBeUndefined();
      expect(await readCommittedJson(join(dir, 'out'))).toHaveLength(500);
      const second = await copy('ckpt-b');
      expect(second.error).toBeInstanceOf(SinkConflictError);
      expect(second.error!.message).toContain(`output directory ${join(dir, 'out')} was written by query ${first.id} (batches 0 to 2)`);
      expect(second.error!.message).toContain(`this query is ${second.id}`);
      expect(second.error!.message).toContain('shareOutput: true');
      expect((second.error as SinkConflictError).output).toBe(join(dir, 'out'));
      expect(await readCommittedJson(join(dir, 'out'))).toHaveLength(500);
    });

    it('with shareOutput writes every row of the new query beside the old one (none skipped by batch id)', async () => {
      const first = await copy('ckpt-a');
      const second = await copy('ckpt-b', true);
      expect(second.error).toBeUndefined();
      const files = await committedFiles(join(dir, 'out'));
      expect(new Set(files.map((f) => f.queryId))).toEqual(new Set([first.id, second.id]));
      const rows = (await readCommittedJson<{ n: number }>(join(dir, 'out'))).map((r) => r.n);
      expect(rows).toHaveLength(1000);
      const expected = Array.from({ length: 500 }, (_, i) => i);
      expect(rows.slice(0, 500).sort((a, b) => a - b)).toEqual(expected);
      expect(rows.slice(500).sort((a, b) => a - b)).toEqual(expected);
    });

    it('the owning query restarted on its own checkpoint is not refused and writes nothing twice', async () => {
      await copy('ckpt-a');
      writeFileSync(join(dir, 'input', 'f9.json'), '{"n":900}');
      const again = await copy('ckpt-a');
      expect(again.error).toBeUndefined();
      expect(await readCommittedJson(join(dir, 'out'))).toHaveLength(501);
    });

    it('refuses a directory with manifests that record no query id (written before manifests were kept per query)', async () => {
      mkdirSync(join(dir, 'out', '_spark_metadata'), { recursive: true });
      writeFileSync(join(dir, 'out', 'part-00000-0000.json'), '{"n":-1}\n');
      writeFileSync(join(dir, 'out', '_spark_metadata', '0'), 'v1\n{"path":"part-00000-0000.json","size":9,"batchId":0}\n');
      expect(await readCommittedJson(join(dir, 'out'))).toEqual([{ n: -1 }]);
      const sink = toFiles(join(dir, 'out'));
      await expect(sink.start!(context)).rejects.toThrow(/written by a query whose id the manifest does not record \(batches 0 to 0/);
      const shared = toFiles(join(dir, 'out'), { shareOutput: true });
      await shared.start!(context);
      await shared.addBatch(0, [{ n: 1 }]);
      expect(await readCommittedJson(join(dir, 'out'))).toEqual([{ n: -1 }, { n: 1 }]);
    });
  });

  describe('misconfiguration', () => {
    it('rejects a bad directory or format', () => {
      expect(() => toFiles('')).toThrow('toFiles: dir must be a non-empty directory path; got "".');
      expect(() => toFiles(dir, { format: 'parquet' as never })).toThrow(InvalidOptionError);
      expect(() => toFiles(dir, { format: 'parquet' as never })).toThrow(`toFiles: format must be 'json' or 'csv'; got "parquet".`);
    });
  });
});

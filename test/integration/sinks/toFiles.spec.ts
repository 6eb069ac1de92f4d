import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { InvalidOptionError } from '../../../lib/errors/index.js';
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
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['_spark_metadata', 'part-00000-0000.json', 'part-00002-0000.json']);
    expect(readFileSync(join(dir, 'out', 'part-00000-0000.json'), 'utf8')).toBe('{"id":"phone1","ts":"2018-03-02T10:02:33.000Z"}\n');
    expect(readdirSync(join(dir, 'out', '_spark_metadata')).sort()).toEqual(['0', '1', '2']);
    expect((await committedFiles(join(dir, 'out'))).map((e) => [e.batchId, e.path])).toEqual([
      [0, 'part-00000-0000.json'],
      [2, 'part-00002-0000.json'],
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

  it('leaves no temporary file behind and writes CSV with a header when asked', async () => {
    const sink = toFiles(dir, { format: 'csv', header: true });
    await sink.start!(context);
    await sink.addBatch(0, [
      { id: 'a', note: 'x, "y"' },
      { id: 'b', note: null },
    ]);
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(readFileSync(join(dir, 'part-00000-0000.csv'), 'utf8')).toBe('id,note\na,"x, ""y"""\nb,\n');
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
    expect(existsSync(join(dir, 'stage', '_spark_metadata', '1'))).toBe(true);
  });

  describe('misconfiguration', () => {
    it('rejects a bad directory or format', () => {
      expect(() => toFiles('')).toThrow('toFiles: dir must be a non-empty directory path; got "".');
      expect(() => toFiles(dir, { format: 'parquet' as never })).toThrow(InvalidOptionError);
      expect(() => toFiles(dir, { format: 'parquet' as never })).toThrow(`toFiles: format must be 'json' or 'csv'; got "parquet".`);
    });
  });
});

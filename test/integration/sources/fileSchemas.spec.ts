import { mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { map, type Observable } from 'rxjs';
import { avg, count, countDistinct, dropDuplicates, groupAggregate, outputMode, streamJoin, sum, windowTumbling, withWatermark, type Batch } from '../../../lib/index.js';
import { ColumnNotFoundError, MalformedRecordError } from '../../../lib/errors/index.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { StreamingQueryManager } from '../../../lib/query/StreamingQueryManager.js';
import { forEachBatch } from '../../../lib/sinks/forEachBatch.js';
import { dropMemoryTable, memoryTable, toMemory } from '../../../lib/sinks/toMemory.js';
import { fromDirectory } from '../../../lib/sources/fromDirectory.js';

let dir: string;
let manager: StreamingQueryManager;
let n = 0;
const table = (): string => `schemas-${n}`;

function put(name: string, text: string, mtimeSeconds: number): void {
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, text);
  utimesSync(tmp, mtimeSeconds, mtimeSeconds);
  renameSync(tmp, join(dir, name));
}

beforeEach(() => {
  n++;
  dir = mkdtempSync(join(tmpdir(), 'rss-schemas-'));
  manager = new StreamingQueryManager();
});
afterEach(async () => {
  for (const q of manager.active) await q.stop();
  rmSync(dir, { recursive: true, force: true });
  dropMemoryTable(table());
});

describe('CSV without a schema, summed per key (the first job a new user writes)', () => {
  it('keeps text (inferSchema = false) and the aggregates cast it as Spark: 15 and 7.5', async () => {
    put('t.csv', 'id,amount\napple,10\napple,5\n', 1000);
    const query = startQuery({
      source: fromDirectory(dir, { format: 'csv', header: true }),
      pipeline: (rows$) => rows$.pipe(groupAggregate({ keyBy: 'id', aggregate: { total: sum('amount'), mean: avg('amount') } }), outputMode('complete')),
      sink: toMemory(table()),
      manager,
    });
    await query.processAllAvailable();
    expect(memoryTable(table())).toEqual([{ id: 'apple', total: 15, mean: 7.5 }]);
  });

  it('gives the same with a schema amount: double, the values converted at the source', async () => {
    put('t.csv', 'id,amount\napple,10\napple,5\n', 1000);
    const rows: unknown[] = [];
    const query = startQuery({
      source: fromDirectory(dir, { format: 'csv', header: true, schema: { id: 'string', amount: 'double' } }),
      pipeline: (rows$) => rows$.pipe(groupAggregate({ keyBy: 'id', aggregate: { total: sum('amount'), mean: avg('amount') } }), outputMode('complete')),
      sink: forEachBatch((batchRows) => void rows.push(...batchRows)),
      manager,
    });
    await query.processAllAvailable();
    expect(rows).toEqual([{ id: 'apple', total: 15, mean: 7.5 }]);
    const raw = startQuery({ source: fromDirectory(dir, { format: 'csv', header: true, schema: { id: 'string', amount: 'double' } }), sink: toMemory(`${table()}-raw`), manager });
    await raw.processAllAvailable();
    expect(memoryTable(`${table()}-raw`)).toEqual([{ id: 'apple', amount: 10 }, { id: 'apple', amount: 5 }]);
    dropMemoryTable(`${table()}-raw`);
  });

  it('infers a schema from the first file with inferSchema: true (integer, double, timestamp, boolean, string)', async () => {
    put('a.csv', 'id,amount,price,at,ok\napple,10,1.5,2020-04-20T10:10:00,true\npear,,2,2020-04-20T10:11:00,false\n', 1000);
    const query = startQuery({ source: fromDirectory(dir, { format: 'csv', header: true, inferSchema: true }), sink: toMemory(table()), manager });
    await query.processAllAvailable();
    expect(memoryTable(table())).toEqual([
      { id: 'apple', amount: 10, price: 1.5, at: new Date('2020-04-20T10:10:00Z'), ok: true },
      { id: 'pear', amount: null, price: 2, at: new Date('2020-04-20T10:11:00Z'), ok: false },
    ]);
  });
});

describe('reader modes', () => {
  const file = 'id,amount\napple,10\npear,ten\nplum\n';

  it('PERMISSIVE keeps a malformed record with nulls and its text in the corrupt-record column, counted', async () => {
    put('bad.csv', file, 1000);
    const query = startQuery({
      source: fromDirectory(dir, { format: 'csv', header: true, mode: 'PERMISSIVE', schema: { id: 'string', amount: 'integer', _corrupt_record: 'string' } }),
      sink: toMemory(table()),
      manager,
    });
    await query.processAllAvailable();
    expect(memoryTable(table())).toEqual([
      { id: 'apple', amount: 10, _corrupt_record: null },
      { id: 'pear', amount: null, _corrupt_record: 'pear,ten' },
      { id: 'plum', amount: null, _corrupt_record: 'plum' },
    ]);
    expect(query.lastProgress?.sources[0]?.metrics).toMatchObject({ numMalformedRecords: 2 });
  });

  it('PERMISSIVE without a schema keeps a record that does not parse as its text in the corrupt-record column, counted (Spark adds _corrupt_record to the schema it infers)', async () => {
    put('bad.json', '{"id":"a","n":1}\nnot json\n{"id":"c"}\n', 1000);
    const query = startQuery({ source: fromDirectory(dir, { mode: 'PERMISSIVE' }), sink: toMemory(table()), manager });
    await query.processAllAvailable();
    expect(memoryTable(table())).toEqual([{ id: 'a', n: 1 }, { _corrupt_record: 'not json' }, { id: 'c' }]);
    expect(query.lastProgress?.sources[0]?.metrics).toMatchObject({ numMalformedRecords: 1 });
  });

  it('DROPMALFORMED drops malformed records and counts them in progress', async () => {
    put('bad.csv', file, 1000);
    const query = startQuery({ source: fromDirectory(dir, { format: 'csv', header: true, mode: 'DROPMALFORMED', schema: { id: 'string', amount: 'integer' } }), sink: toMemory(table()), manager });
    await query.processAllAvailable();
    expect(memoryTable(table())).toEqual([{ id: 'apple', amount: 10 }]);
    expect(query.lastProgress?.sources[0]?.metrics).toMatchObject({ numMalformedRecordsDropped: 2 });
  });

  it('FAILFAST stops with a MalformedRecordError naming the file, line and column', async () => {
    put('bad.csv', file, 1000);
    const query = startQuery({ source: fromDirectory(dir, { format: 'csv', header: true, mode: 'FAILFAST', schema: { id: 'string', amount: 'integer' } }), sink: toMemory(table()), manager });
    await expect(query.processAllAvailable()).rejects.toBeInstanceOf(MalformedRecordError);
    const error = query.exception as MalformedRecordError;
    expect([error.file, error.line, error.column]).toEqual([join(dir, 'bad.csv'), 3, 'amount']);
    expect(error.message).toContain(`malformed record in ${join(dir, 'bad.csv')} at line 3, column amount: column amount is not an integer: "ten"`);
  });
});

describe('timestamps in a schema', () => {
  it('reads a date-fns format (UTC), ISO-8601 and epoch milliseconds', async () => {
    put('t.csv', 'id,at,iso,ms\na,02-03-2018-10-15,2018-03-02T10:15:00Z,1520000000000\n', 1000);
    const query = startQuery({
      source: fromDirectory(dir, { format: 'csv', header: true, schema: { id: 'string', at: { type: 'timestamp', format: 'dd-MM-yyyy-HH-mm' }, iso: 'timestamp', ms: 'timestamp' } }),
      sink: toMemory(table()),
      manager,
    });
    await query.processAllAvailable();
    expect(memoryTable(table())).toEqual([{ id: 'a', at: new Date(Date.UTC(2018, 2, 2, 10, 15)), iso: new Date(Date.UTC(2018, 2, 2, 10, 15)), ms: new Date(1520000000000) }]);
  });

  it('a formatted timestamp column drives a watermark and a window', async () => {
    put('t.csv', 'id,at\na,02-03-2018-10-01\na,02-03-2018-10-03\nb,02-03-2018-10-30\n', 1000);
    const query = startQuery({
      source: fromDirectory(dir, { format: 'csv', header: true, schema: { id: 'string', at: { type: 'timestamp', format: 'dd-MM-yyyy-HH-mm' } } }),
      pipeline: (rows$) => rows$.pipe(withWatermark('at', '10 minutes'), windowTumbling({ eventTime: 'at', size: '5 minutes', aggregate: { n: count() } }), outputMode('append')),
      sink: toMemory(table()),
      manager,
    });
    await query.processAllAvailable();
    expect(memoryTable(table())).toEqual([{ window: { start: Date.UTC(2018, 2, 2, 10, 0), end: Date.UTC(2018, 2, 2, 10, 5) }, n: 2 }]);
  });
});

describe('__proto__, constructor and prototype are ordinary columns end to end', () => {
  it('through CSV parsing, an aggregation, a checkpoint and a restart', async () => {
    const checkpointLocation = join(dir, '_checkpoint');
    const seen: { batchId: number; rows: Record<string, unknown>[] }[] = [];
    const run = () =>
      startQuery({
        source: fromDirectory(dir, { format: 'csv', header: true, schema: { ['__proto__']: 'string', constructor: 'string', prototype: 'double' } }),
        pipeline: (rows$) => rows$.pipe(groupAggregate({ keyBy: ['__proto__', 'constructor'], aggregate: { prototype: sum('prototype'), n: count() } }), outputMode('complete')),
        sink: forEachBatch<Record<string, unknown>>((rows, batchId) => void seen.push({ batchId, rows: rows.map((r) => ({ ...r })) })),
        checkpointLocation,
        manager,
      });
    put('a.csv', '__proto__,constructor,prototype\nx,c,1\nx,c,2\n', 1000);
    const q1 = run();
    await q1.processAllAvailable();
    await q1.stop();
    put('b.csv', '__proto__,constructor,prototype\nx,c,3\ny,d,4\n', 2000);
    const q2 = run();
    await q2.processAllAvailable();
    const last = seen[seen.length - 1]!;
    expect(last.batchId).toBe(1);
    const own = (r: Record<string, unknown>) => Object.fromEntries(Object.keys(r).map((k) => [k, Object.getOwnPropertyDescriptor(r, k)!.value]));
    expect(last.rows.map((r) => Object.keys(r))).toEqual([['__proto__', 'constructor', 'prototype', 'n'], ['__proto__', 'constructor', 'prototype', 'n']]);
    expect(last.rows.map(own)).toEqual([own(JSON.parse('{"__proto__":"x","constructor":"c","prototype":6,"n":3}')), own(JSON.parse('{"__proto__":"y","constructor":"d","prototype":4,"n":1}'))]);
    for (const r of last.rows) expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
  });
});

describe('columns are resolved before data flows', () => {
  const SCHEMA = { id: 'string', action: 'string', ts: 'timestamp' } as const;

  it('a keyBy typo with a schema fails when the query starts, with Spark message', () => {
    put('a.json', '{"id":"p1","action":"open","ts":"2018-03-02T10:02:33"}\n', 1000);
    let error: unknown;
    try {
      startQuery({
        source: fromDirectory(dir, { schema: SCHEMA }),
        pipeline: (rows$) => rows$.pipe(groupAggregate({ keyBy: 'acton' as never, aggregate: { n: count() } }), outputMode('complete')),
        sink: toMemory(table()),
        manager,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ColumnNotFoundError);
    expect((error as Error).message).toBe("groupAggregate: cannot resolve 'acton' given input columns: [id, action, ts] (keyBy).");
    expect(manager.active).toHaveLength(0);
  });

  it.each([
    ['an aggregate field', (r$: Observable<Batch<Record<string, unknown>>>) => r$.pipe(groupAggregate({ keyBy: 'id', aggregate: { c: countDistinct('acton') } }), outputMode('complete')), "groupAggregate: cannot resolve 'acton' given input columns: [id, action, ts] (aggregate.c)."],
    ['an event-time column', (r$: Observable<Batch<Record<string, unknown>>>) => r$.pipe(withWatermark('tz', 0)), "withWatermark: cannot resolve 'tz' given input columns: [id, action, ts] (eventTime)."],
    ['a window event time', (r$: Observable<Batch<Record<string, unknown>>>) => r$.pipe(withWatermark('ts', 0), windowTumbling({ eventTime: 'tz', size: 10, aggregate: { n: count() } }), outputMode('append')), "windowTumbling: cannot resolve 'tz' given input columns: [id, action, ts] (eventTime)."],
    ['a dedup key', (r$: Observable<Batch<Record<string, unknown>>>) => r$.pipe(dropDuplicates(['id', 'acton'])), "dropDuplicates: cannot resolve 'acton' given input columns: [id, action, ts] (keys)."],
    ['a join key', (r$: Observable<Batch<Record<string, unknown>>>) => r$.pipe(streamJoin([{ ident: 1 }], { on: { left: 'ident', right: 'ident' } })), "streamJoin: cannot resolve 'ident' given input columns: [id, action, ts] (on (left))."],
  ])('%s that is not a column fails at start', (_what, pipeline, message) => {
    expect(() => startQuery({ source: fromDirectory(dir, { schema: SCHEMA }) as never, pipeline: pipeline as never, sink: toMemory(table()), manager })).toThrow(message);
  });

  it('an RxJS map that reshapes the rows of a schema source ends the schema: the new columns resolve, a typo after it fails on the first batch', async () => {
    put('a.json', '{"id":"p1","action":"open","ts":"2018-03-02T10:02:33"}\n{"id":"p2","action":"open","ts":"2018-03-02T10:03:33"}\n', 1000);
    const reshape = map((b: Batch<{ id: string | null; action: string | null }>) => ({ ...b, rows: b.rows.map((r) => ({ device: r.id, what: r.action })) }));
    const ok = startQuery({
      source: fromDirectory(dir, { schema: SCHEMA }),
      pipeline: (rows$) => rows$.pipe(reshape, groupAggregate({ keyBy: 'what', aggregate: { n: count() } }), outputMode('complete')),
      sink: toMemory(table()),
      manager,
    });
    await ok.processAllAvailable();
    expect(memoryTable(table())).toEqual([{ what: 'open', n: 2 }]);
    await ok.stop();
    const typo = startQuery({
      source: fromDirectory(dir, { schema: SCHEMA }),
      pipeline: (rows$) => rows$.pipe(reshape, groupAggregate({ keyBy: 'wat' as never, aggregate: { n: count() } }), outputMode('complete')),
      sink: toMemory(`${table()}-typo`),
      manager,
    });
    await expect(typo.processAllAvailable()).rejects.toThrow("groupAggregate: cannot resolve 'wat' in batch 0: no row has it; input columns present: [device, what] (keyBy).");
  });

  it('without a schema, a keyBy typo fails on the first batch, naming the batch and the columns present', async () => {
    put('a.json', '{"id":"p1","action":"open"}\n{"id":"p2","action":"close"}\n', 1000);
    const query = startQuery({
      source: fromDirectory(dir),
      pipeline: (rows$) => rows$.pipe(groupAggregate({ keyBy: 'acton', aggregate: { n: count() } }), outputMode('complete')),
      sink: toMemory(table()),
      manager,
    });
    await expect(query.processAllAvailable()).rejects.toBeInstanceOf(ColumnNotFoundError);
    expect((query.exception as Error).message).toBe(
      "groupAggregate: cannot resolve 'acton' in batch 0: no row has it; input columns present: [id, action] (keyBy). If the field may be absent from a whole batch (sparse data), pass checkColumns: false.",
    );
  });

  it('checkColumns: false lets sparse data through: the rows without the field form the null group', async () => {
    put('a.json', '{"id":"p1"}\n{"id":"p2"}\n', 1000);
    const query = startQuery({
      source: fromDirectory(dir),
      pipeline: (rows$) => rows$.pipe(groupAggregate({ keyBy: 'action', checkColumns: false, aggregate: { n: count() } }), outputMode('complete')),
      sink: toMemory(table()),
      manager,
    });
    await query.processAllAvailable();
    expect(memoryTable(table())).toEqual([{ action: null, n: 2 }]);
  });
});

import { InvalidOptionError, describeValue } from '../errors/index.js';
import type { OutputModeName } from '../internal/pipeline.js';
import type { Sink } from './Sink.js';

interface MemoryTable {
  rows: unknown[];
  lastBatchId: number;
}

const tables = new Map<string, MemoryTable>();

/**
 * The rows a {@link toMemory} sink holds now (a copy): every row so far in
 * append/update mode, the last result table in complete mode; `[]` for an
 * unknown name.
 *
 * Spark: `spark.sql("select * from <queryName>")` over a memory sink.
 */
export function memoryTable<R = Record<string, unknown>>(name: string): R[] {
  return [...((tables.get(name)?.rows ?? []) as R[])];
}

/** Forgets a memory table (its rows and the batches it has seen). */
export function dropMemoryTable(name: string): void {
  tables.delete(name);
}

/**
 * Keeps the output in memory, as a table tests and apps can read with
 * {@link memoryTable}: appended in append and update mode, replaced by each
 * batch in complete mode. A batch id it has already seen is ignored, so a
 * replayed batch is kept once.
 *
 * Spark: `writeStream.format("memory").queryName(name)`.
 *
 * ```text
 * batches  --0(a)---1(b,c)---|
 * table    --[a]----[a,b,c]--|    append mode
 * ```
 *
 * Not durable: the table lives as long as the process.
 *
 * @example
 * ```ts
 * const sink = toMemory<{ word: string }>('words');
 * await sink.addBatch(0, [{ word: 'a' }]);
 * await sink.addBatch(1, [{ word: 'b' }]);
 * memoryTable('words'); // => [{ word: 'a' }, { word: 'b' }]
 * ```
 *
 * @throws {InvalidOptionError} `toMemory: name must be a non-empty string; got …`
 */
export function toMemory<R>(name: string): Sink<R> {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidOptionError(`toMemory: name must be a non-empty string; got ${describeValue(name)}. Pass the table name to read it back with memoryTable(name).`, 'name', name, 'a non-empty string');
  }
  let mode: OutputModeName = 'append';
  const table = (): MemoryTable => {
    let t = tables.get(name);
    if (t === undefined) tables.set(name, (t = { rows: [], lastBatchId: -1 }));
    return t;
  };
  return {
    description: `MemorySink[${name}]`,
    supportedModes: ['append', 'update', 'complete'],
    idempotent: true,
    async start(context) {
      mode = context.outputMode;
      table();
    },
    async addBatch(batchId, rows) {
      const t = table();
      if (batchId <= t.lastBatchId) return;
      t.lastBatchId = batchId;
      if (mode === 'complete') t.rows = [...rows];
      else for (const row of rows) t.rows.push(row);
    },
    async addRows(_epochId, rows) {
      const t = table();
      for (const row of rows) t.rows.push(row);
    },
    async commitEpoch(epochId) {
      const t = table();
      if (epochId > t.lastBatchId) t.lastBatchId = epochId;
    },
  };
}

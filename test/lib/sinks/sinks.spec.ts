import { InvalidOptionError, UserFunctionError } from '../../../lib/errors/index.js';
import { forEach } from '../../../lib/sinks/forEach.js';
import { forEachBatch } from '../../../lib/sinks/forEachBatch.js';
import { dropMemoryTable, memoryTable, toMemory } from '../../../lib/sinks/toMemory.js';

const ctx = (outputMode: 'append' | 'update' | 'complete') => ({ queryId: 'q', runId: 'r', outputMode });

describe('toMemory', () => {
  afterEach(() => dropMemoryTable('t'));
  it('appends in append mode and ignores a batch id it has seen', async () => {
    const sink = toMemory<number>('t');
    await sink.start!(ctx('append'));
    await sink.addBatch(0, [1]);
    await sink.addBatch(0, [1]);
    await sink.addBatch(1, [2]);
    expect(memoryTable('t')).toEqual([1, 2]);
  });
  it('replaces the table in complete mode', async () => {
    const sink = toMemory<number>('t');
    await sink.start!(ctx('complete'));
    await sink.addBatch(0, [1]);
    await sink.addBatch(1, [1, 2]);
    expect(memoryTable('t')).toEqual([1, 2]);
  });
  it('rejects an empty name', () => {
    expect(() => toMemory('')).toThrow('toMemory: name must be a non-empty string; got "". Pass the table name to read it back with memoryTable(name).');
  });
});

describe('forEach', () => {
  it('calls the function per row in order, and a writer with open/process/close', async () => {
    const seen: string[] = [];
    await forEach<string>((row, id) => void seen.push(`${id}:${row}`)).addBatch(3, ['a', 'b']);
    const writer = { open: (_p: number, id: number) => id !== 4, process: (row: string) => void seen.push(row), close: (e: unknown) => void seen.push(`close:${String(e)}`) };
    await forEach(writer).addBatch(4, ['skipped']);
    await forEach(writer).addBatch(5, ['c']);
    expect(seen).toEqual(['3:a', '3:b', 'close:null', 'c', 'close:null']);
  });
  it('wraps a throw in a UserFunctionError after closing the writer', async () => {
    const closed: unknown[] = [];
    const sink = forEach<number>({ process: () => { throw new Error('bad row'); }, close: (e) => void closed.push(e) });
    await expect(sink.addBatch(2, [1])).rejects.toThrow('forEach: a user function threw while processing batch 2: Error: bad row');
    expect(closed).toHaveLength(1);
  });
  it('rejects a writer without process', () => {
    expect(() => forEach({} as never)).toThrow(InvalidOptionError);
  });
});

describe('forEachBatch', () => {
  it('awaits the function per batch and wraps its errors', async () => {
    const seen: [number, readonly number[]][] = [];
    await forEachBatch<number>(async (rows, id) => void seen.push([id, rows])).addBatch(7, [1, 2]);
    expect(seen).toEqual([[7, [1, 2]]]);
    await expect(forEachBatch(() => Promise.reject(new Error('down'))).addBatch(1, [])).rejects.toBeInstanceOf(UserFunctionError);
    expect(() => forEachBatch(3 as never)).toThrow('forEachBatch: fn must be a function; got 3. Pass (rows, batchId) => { … }.');
  });
});

import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject, asyncScheduler } from 'rxjs';
import type { Batch } from '../../../lib/batch/Batch.js';
import { crc32 } from '../../../lib/checkpoint/checksum.js';
import { FileCheckpointStore } from '../../../lib/checkpoint/FileCheckpointStore.js';
import { frameFile } from '../../../lib/checkpoint/fileFormat.js';
import { MemoryCheckpointStore } from '../../../lib/checkpoint/MemoryCheckpointStore.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import { CheckpointCorruptError } from '../../../lib/errors/index.js';
import { inQueryContext } from '../../../lib/internal/pipeline.js';
import { drive, stateFile } from './drive.js';
import { countByKey, type Row } from './fixtures.js';

const OP = join('state', 'countByKey%230');

/** Batches over 40 keys with removals: batch i adds keys i..i+7 and removes two older ones. */
function inputs(batches: number): Row[][] {
  const out: Row[][] = [];
  for (let i = 0; i < batches; i++) {
    const rows: Row[] = [];
    for (let j = 0; j < 8; j++) rows.push({ k: `key-${(i * 3 + j) % 40}`, ts: i });
    rows.push({ k: `key-${(i * 7) % 40}`, ts: i, remove: true }, { k: `key-${(i * 5 + 1) % 40}`, ts: i, remove: true });
    out.push(rows);
  }
  return out;
}

const snapshotsIn = (dir: string): string[] =>
  readdirSync(join(dir, OP))
    .filter((n) => n.endsWith('.snapshot'))
    .sort((a, b) => parseInt(a, 10) - parseInt(b, 10));

describe('snapshots in a worker thread', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rss-snapw-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes byte for byte the snapshots the main thread writes for the same batches', async () => {
    const memory = new MemoryCheckpointStore();
    await drive(memory, inputs(14), { snapshotInterval: 3 });
    await drive(new FileCheckpointStore(dir), inputs(14), { snapshotInterval: 3 });
    const names = snapshotsIn(dir);
    // Due snapshots may be coalesced when the worker falls behind (a loaded machine); each one written is byte-identical.
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(['2.snapshot', '5.snapshot', '8.snapshot', '11.snapshot']).toContain(name);
    for (const name of names) {
      const fromMainThread = memory.files.get(`state/countByKey%230/${name}`);
      // Same entries as the main thread's snapshot (entry order may differ between the two writers).
      if (fromMainThread !== undefined) {
        expect(new Map(stateFile(new Uint8Array(readFileSync(join(dir, OP, name))), 'snapshot').entries as Array<[string, unknown]>)).toEqual(
          new Map(stateFile(fromMainThread, 'snapshot').entries as Array<[string, unknown]>),
        );
      }
    }
    // And the newest one holds the state the batches leave (counts above 0).
    const newest = Math.max(...names.map((n) => Number.parseInt(n, 10)));
    const entries = stateFile(new Uint8Array(readFileSync(join(dir, OP, `${newest}.snapshot`))), 'snapshot').entries;
    const model = new Map<string, number>();
    for (const rows of inputs(newest + 1)) {
      for (const row of rows) {
        const next = (model.get(row.k) ?? 0) + (row.remove === true ? -1 : 1);
        if (next <= 0) model.delete(row.k);
        else model.set(row.k, next);
      }
    }
    expect(new Map(entries as Array<[string, number]>)).toEqual(model);
  });

  it('restores from the snapshots it wrote to exactly the output of an uninterrupted run', async () => {
    const whole = await drive(new MemoryCheckpointStore(), inputs(20), { snapshotInterval: 4 });
    const store = new FileCheckpointStore(dir);
    const first = await drive(store, inputs(9), { snapshotInterval: 4 });
    expect(snapshotsIn(dir)).toEqual(['3.snapshot', '7.snapshot']);
    const second = await drive(store, inputs(20), { snapshotInterval: 4 });
    expect(second.recovery.lastCommittedBatchId).toBe(8);
    expect(new Map([...first.output, ...second.output])).toEqual(whole.output);
  });

  it('reports a damaged delta that a snapshot needs as CheckpointCorruptError naming the file, at the next call', async () => {
    const checkpoint = openCheckpoint(dir, { snapshotInterval: 3 });
    await checkpoint.open();
    const input = new Subject<Batch<Row>>();
    input.pipe(inQueryContext(checkpoint.createContext('r', asyncScheduler)), countByKey()).subscribe();
    const rows = inputs(4);
    for (let batchId = 0; batchId < 3; batchId++) {
      await checkpoint.writeOffsets({ batchId, offsets: [batchId], watermark: 0, timestamp: 0 });
      input.next({ batchId, rows: rows[batchId]!, watermark: 0 });
      if (batchId === 2) {
        const path = join(dir, OP, '1.delta');
        const bytes = readFileSync(path);
        const middle = Math.floor(bytes.length / 2);
        bytes[middle] = bytes[middle]! ^ 0x01;
        writeFileSync(path, bytes);
      }
      await checkpoint.commit(batchId);
    }
    const error = await checkpoint.flush().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CheckpointCorruptError);
    expect((error as CheckpointCorruptError).message).toMatch(/^checkpoint: file .*state\/countByKey%230\/1\.delta is corrupt; got checksum crc32=[0-9a-f]{8} where the file records crc32=[0-9a-f]{8}\./);
    await checkpoint.close();
    expect(snapshotsIn(dir)).toEqual([]);
  });

  it('reads state files of format 1, restores from them and snapshots over them', async () => {
    const whole = await drive(new MemoryCheckpointStore(), inputs(10), { snapshotInterval: 4 });
    const store = new FileCheckpointStore(dir);
    const first = await drive(store, inputs(3), { snapshotInterval: 100 });
    // Rewrite the deltas as the previous release wrote them (JSON lines, format version 1).
    for (const name of readdirSync(join(dir, OP))) {
      const path = join(dir, OP, name);
      const { header, entries } = stateFile(new Uint8Array(readFileSync(path)), 'delta');
      const { count: _count, ...v1Header } = header as Record<string, unknown>;
      const chunks: Uint8Array[] = [];
      for await (const chunk of frameFile('delta', [`${JSON.stringify(v1Header)}\n`, `${JSON.stringify(entries)}\n`], crc32)) chunks.push(chunk);
      writeFileSync(path, Buffer.concat(chunks));
      expect(readFileSync(path, 'utf8').startsWith('rss-checkpoint 1 delta\n')).toBe(true);
    }
    const second = await drive(store, inputs(10), { snapshotInterval: 4 });
    expect(second.recovery.lastCommittedBatchId).toBe(2);
    expect(new Map([...first.output, ...second.output])).toEqual(whole.output);
    expect(snapshotsIn(dir)).toEqual(['3.snapshot', '7.snapshot']);
  });
});

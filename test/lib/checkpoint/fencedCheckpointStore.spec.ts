// The shared-directory store of per-partition tasks: epochs claimed
// create-if-absent, a stale writer fenced on its next write, offsets/commits
// entries created only if absent (the same bytes again are accepted).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FencedCheckpointStore, TaskFencedError, readEpochClaims } from '../../../lib/checkpoint/FencedCheckpointStore.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import { FileCheckpointStore } from '../../../lib/checkpoint/FileCheckpointStore.js';
import { MemoryCheckpointStore } from '../../../lib/checkpoint/MemoryCheckpointStore.js';
import { InvalidOptionError } from '../../../lib/errors/index.js';

async function* bytes(text: string): AsyncIterable<Uint8Array> {
  yield Buffer.from(text);
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function taskDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'rss-fenced-'));
  dirs.push(d);
  return path.join(d, 'tasks', 't-0');
}

describe('FencedCheckpointStore', () => {
  it('claims increasing epochs, one per owner, recorded with the owner', async () => {
    const dir = taskDir();
    const a = new FencedCheckpointStore(dir, { owner: 'a', fsync: false });
    const b = new FencedCheckpointStore(dir, { owner: 'b', fsync: false });
    expect(await a.claim()).toBe(0);
    expect(await b.claim()).toBe(1);
    expect((await readEpochClaims(dir)).map((c) => [c.epoch, c.owner])).toEqual([[0, 'a'], [1, 'b']]);
  });

  it('concurrent claims never share an epoch', async () => {
    const dir = taskDir();
    const stores = Array.from({ length: 8 }, (_, i) => new FencedCheckpointStore(dir, { owner: `o${i}`, fsync: false }));
    const epochs = await Promise.all(stores.map((s) => s.claim()));
    expect([...epochs].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('fences the stale writer on its next write, naming path and epochs; the new owner writes on', async () => {
    const dir = taskDir();
    const old = new FencedCheckpointStore(dir, { owner: 'old', fsync: false });
    await old.claim();
    await old.write('state/x/1.delta', bytes('one'));
    const next = new FencedCheckpointStore(dir, { owner: 'new', fsync: false });
    await next.claim();
    const error = await old.write('state/x/2.delta', bytes('two')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskFencedError);
    expect(error).toMatchObject({ path: 'state/x/2.delta', epoch: 0, currentEpoch: 1 });
    expect((error as Error).message).toContain('was taken over (epoch 1 claimed; this writer holds epoch 0); refused to write state/x/2.delta');
    expect(old.fenced).toBe(true);
    await expect(old.remove('state/x/1.delta')).rejects.toBeInstanceOf(TaskFencedError);
    await next.write('state/x/2.delta', bytes('two'));
    expect(Buffer.from((await next.read('state/x/2.delta'))!).toString()).toBe('two');
  });

  it('creates offsets/N and commits/N only if absent: the same bytes again pass, other bytes fence the writer', async () => {
    const dir = taskDir();
    const a = new FencedCheckpointStore(dir, { owner: 'a', fsync: false });
    await a.claim();
    await a.write('commits/3', bytes('same'));
    await a.write('commits/3', bytes('same'));
    await expect(a.write('commits/3', bytes('other'))).rejects.toThrow('commits/3 was already written by another owner with different content');
    expect(Buffer.from((await a.read('commits/3'))!).toString()).toBe('same');
    expect(fs.readdirSync(path.join(dir, 'commits'))).toEqual(['3']); // no temporary file left
  });

  it('refuses writes before a claim', async () => {
    const store = new FencedCheckpointStore(taskDir(), { owner: 'a', fsync: false });
    await expect(store.write('offsets/0', bytes('x'))).rejects.toThrow('before the task was claimed');
  });

  it('carries a whole checkpoint (no lock file: fencing replaces it), and a second owner recovers it', async () => {
    const dir = taskDir();
    const first = new FencedCheckpointStore(dir, { owner: 'a', fsync: false });
    await first.claim();
    const cp = openCheckpoint(first);
    const recovery = await cp.open();
    expect(recovery.fresh).toBe(true);
    await cp.writeOffsets({ batchId: 0, offsets: [{ t: { '0': 5 } }], watermark: 0, timestamp: 1 });
    await cp.commit(0, { watermark: 0 });
    await cp.writeOffsets({ batchId: 1, offsets: [{ t: { '0': 9 } }], watermark: 0, timestamp: 2 });
    expect(fs.existsSync(path.join(dir, 'lock'))).toBe(false);
    // The new owner takes the task while the old one still has it open.
    const second = new FencedCheckpointStore(dir, { owner: 'b', fsync: false });
    await second.claim();
    const cp2 = openCheckpoint(second);
    const again = await cp2.open();
    expect(again.queryId).toBe(recovery.queryId);
    expect(again.lastCommittedBatchId).toBe(0);
    expect(again.pending?.offsets).toEqual([{ t: { '0': 9 } }]);
    await expect(cp.commit(1, { watermark: 0 })).rejects.toBeInstanceOf(TaskFencedError);
    await cp2.commit(1, { watermark: 0 });
    await cp2.close();
    await cp.close().catch(() => undefined);
  });
});

describe('FencedCheckpointStore over any CheckpointStore with createIfAbsent', () => {
  /** A memory store with create-if-absent writes (what an object store with conditional writes gives). */
  class ConditionalMemoryStore extends MemoryCheckpointStore {
    createIfAbsent(path: string, bytes: Uint8Array): Promise<'created' | 'exists'> {
      if (this.files.has(path)) return Promise.resolve('exists');
      this.files.set(path, bytes.slice());
      return Promise.resolve('created');
    }
  }

  it('claims epochs and fences a stale writer through the inner store', async () => {
    const inner = new ConditionalMemoryStore('shared');
    const a = new FencedCheckpointStore(inner, { owner: 'a' });
    const b = new FencedCheckpointStore(inner, { owner: 'b' });
    expect(a.location).toBe('shared');
    expect(await a.claim()).toBe(0);
    await a.write('offsets/0', bytes('a0'));
    expect(await b.claim()).toBe(1);
    await b.write('offsets/1', bytes('b1'));
    await expect(a.write('offsets/1', bytes('a1'))).rejects.toBeInstanceOf(TaskFencedError);
    await expect(a.remove('offsets/0')).rejects.toBeInstanceOf(TaskFencedError);
    expect(Buffer.from(inner.files.get('offsets/1')!).toString()).toBe('b1');
    expect([...inner.files.keys()].filter((k) => k.startsWith('epochs/')).sort()).toEqual(['epochs/0', 'epochs/1']);
  });

  it('refuses an inner store without createIfAbsent', () => {
    expect(() => new FencedCheckpointStore(new MemoryCheckpointStore('plain'), { owner: 'a' })).toThrow(InvalidOptionError);
  });
});

describe('FileCheckpointStore.createIfAbsent', () => {
  it('creates a file once, then answers exists and keeps the first content; leaves no temporary file', async () => {
    const dir = taskDir();
    const store = new FileCheckpointStore(dir, { fsync: false });
    expect(await store.createIfAbsent('epochs/0', Buffer.from('first'))).toBe('created');
    expect(await store.createIfAbsent('epochs/0', Buffer.from('second'))).toBe('exists');
    expect(fs.readFileSync(path.join(dir, 'epochs', '0'), 'utf8')).toBe('first');
    expect(fs.readdirSync(path.join(dir, 'epochs'))).toEqual(['0']);
  });
});

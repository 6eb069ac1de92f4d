import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCheckpointStore } from '../../../lib/checkpoint/FileCheckpointStore.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import { CheckpointCorruptError, CheckpointIOError } from '../../../lib/errors/index.js';
import { drive, rotatingInputs } from './drive.js';

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

async function* failing(): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode('half of a new version');
  throw new Error('disk went away');
}

describe('FileCheckpointStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rss-ckpt-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes files atomically, creating directories, and lists them without temporary files', async () => {
    const store = new FileCheckpointStore(dir);
    expect(await store.write('state/op%231/3.delta', chunks('ab', 'cd'))).toBe(4);
    expect(readFileSync(join(dir, 'state', 'op%231', '3.delta'), 'utf8')).toBe('abcd');
    writeFileSync(join(dir, 'state', 'op%231', '.4.delta.123-1.tmp'), 'torn');
    expect(await store.list('state/op%231')).toEqual(['3.delta']);
    expect(await store.list('state')).toEqual(['op%231']);
    expect(await store.list('nothing')).toEqual([]);
    expect(await store.read('nothing/here')).toBeUndefined();
    expect(new TextDecoder().decode(await store.read('state/op%231/3.delta'))).toBe('abcd');
    await store.removeTemporaryFiles('state/op%231');
    expect(readdirSync(join(dir, 'state', 'op%231'))).toEqual(['3.delta']);
    await store.remove('state/op%231/3.delta');
    await store.remove('state/op%231/3.delta');
    expect(readdirSync(join(dir, 'state', 'op%231'))).toEqual([]);
  });

  it('leaves the previous version in place and no temporary file when a write fails', async () => {
    const store = new FileCheckpointStore(dir);
    await store.write('commits/1', chunks('old'));
    await expect(store.write('commits/1', failing())).rejects.toThrow('disk went away');
    expect(readFileSync(join(dir, 'commits', '1'), 'utf8')).toBe('old');
    expect(readdirSync(join(dir, 'commits'))).toEqual(['1']);
  });

  it('reports each step of a write, in order', async () => {
    const phases: string[] = [];
    const store = new FileCheckpointStore(dir, {
      onWritePhase: (phase, path) => {
        phases.push(`${phase} ${path} ${existsSync(join(dir, 'offsets', '0')) ? 'visible' : 'absent'}`);
      },
    });
    await store.write('offsets/0', chunks('a', 'b'));
    expect(phases).toEqual(['open offsets/0 absent', 'partial offsets/0 absent', 'synced offsets/0 absent', 'renamed offsets/0 visible']);
  });

  it('raises a retriable CheckpointIOError naming the path when the file system fails', async () => {
    writeFileSync(join(dir, 'blocker'), 'a file where a directory belongs');
    const store = new FileCheckpointStore(join(dir, 'blocker'));
    const error = await store.write('offsets/0', chunks('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointIOError);
    expect(error).toMatchObject({ retriable: true, path: join(dir, 'blocker', 'offsets', '0') });
    expect((error as Error).message).toMatch(/^checkpoint: cannot write .*blocker\/offsets\/0; got (ENOTDIR|EEXIST)\. Check the checkpoint location's permissions and free space\.$/);
  });

  describe('as a checkpoint on disk', () => {
    it('recovers the same state as an uninterrupted run, in the Spark-like layout', async () => {
      const inputs = rotatingInputs(8);
      const whole = await drive(new FileCheckpointStore(join(dir, 'whole')), inputs);
      const store = new FileCheckpointStore(join(dir, 'ck'));
      await drive(store, inputs.slice(0, 4), { snapshotInterval: 2 });
      expect(readdirSync(join(dir, 'ck')).sort()).toEqual(['commits', 'metadata', 'offsets', 'state']);
      expect(readdirSync(join(dir, 'ck', 'state', 'countByKey%230')).sort()).toEqual(['0.delta', '1.delta', '1.snapshot', '2.delta', '3.delta', '3.snapshot']);
      const rest = await drive(store, inputs, { snapshotInterval: 2 });
      for (const [id, rows] of rest.output) expect(rows).toEqual(whole.output.get(id));
    });

    it('removes temporary files of interrupted writes on open', async () => {
      const store = new FileCheckpointStore(join(dir, 'ck'));
      await drive(store, rotatingInputs(2));
      writeFileSync(join(dir, 'ck', 'commits', '.2.99-1.tmp'), 'torn');
      writeFileSync(join(dir, 'ck', 'state', 'countByKey%230', '.2.delta.99-2.tmp'), 'torn');
      await openCheckpoint(join(dir, 'ck')).open();
      expect(readdirSync(join(dir, 'ck', 'commits'))).toEqual(['0', '1']);
      expect(readdirSync(join(dir, 'ck', 'state', 'countByKey%230')).sort()).toEqual(['0.delta', '1.delta']);
    });

    it('runs a batch again after its commit file was truncated on disk', async () => {
      const store = new FileCheckpointStore(join(dir, 'ck'));
      await drive(store, rotatingInputs(3));
      truncateSync(join(dir, 'ck', 'commits', '2'), 20);
      expect(await openCheckpoint(join(dir, 'ck')).open()).toMatchObject({ lastCommittedBatchId: 1, pending: { batchId: 2 } });
    });

    it('names the absolute path of a corrupt state file', async () => {
      const store = new FileCheckpointStore(join(dir, 'ck'));
      await drive(store, rotatingInputs(3));
      const file = join(dir, 'ck', 'state', 'countByKey%230', '1.delta');
      const bytes = readFileSync(file);
      bytes[bytes.length - 20] = 0x30 + ((bytes[bytes.length - 20]! - 0x30 + 1) % 10);
      writeFileSync(file, bytes);
      const error = await openCheckpoint(join(dir, 'ck')).open().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointCorruptError);
      expect((error as CheckpointCorruptError).path).toBe(file);
    });
  });
});

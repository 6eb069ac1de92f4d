import { MemoryCheckpointStore } from '../../../lib/checkpoint/MemoryCheckpointStore.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import { CheckpointCorruptError } from '../../../lib/errors/index.js';
import { drive, rotatingInputs } from './drive.js';

const OP = 'state/countByKey%230';
const inputs = rotatingInputs(10);

/** A checkpoint of batches 0..n-1 in memory, written with `snapshotInterval`. */
async function written(n: number, snapshotInterval = 100, crashAfterOffsetsOf?: number): Promise<MemoryCheckpointStore> {
  const store = new MemoryCheckpointStore('ck');
  await drive(store, inputs.slice(0, n), { snapshotInterval, ...(crashAfterOffsetsOf === undefined ? {} : { crashAfterOffsetsOf }) });
  return store;
}

function truncate(store: MemoryCheckpointStore, path: string, keep = 0.5): void {
  const bytes = store.files.get(path);
  if (bytes === undefined) throw new Error(`no ${path}`);
  store.files.set(path, bytes.slice(0, Math.floor(bytes.length * keep)));
}

function flipByte(store: MemoryCheckpointStore, path: string, at: number): void {
  const bytes = store.files.get(path)!.slice();
  bytes[at] = bytes[at]! ^ 0x04;
  store.files.set(path, bytes);
}

async function openError(store: MemoryCheckpointStore): Promise<CheckpointCorruptError> {
  try {
    await openCheckpoint(store).open();
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointCorruptError);
    return error as CheckpointCorruptError;
  }
  throw new Error('open() succeeded');
}

describe('checkpoint recovery from damaged files', () => {
  let whole: Map<number, unknown>;
  beforeAll(async () => {
    whole = (await drive(new MemoryCheckpointStore(), inputs)).output as Map<number, unknown>;
  });

  describe('commits', () => {
    it('treats a truncated latest commit as not committed and runs that batch again', async () => {
      const store = await written(6);
      truncate(store, 'commits/5');
      const recovery = await openCheckpoint(store).open();
      expect(recovery).toMatchObject({ lastCommittedBatchId: 4, pending: { batchId: 5, offsets: [5] } });
      const rerun = await drive(store, inputs);
      expect([...rerun.output.keys()]).toEqual([5, 6, 7, 8, 9]);
      for (const [id, rows] of rerun.output) expect(rows).toEqual(whole.get(id));
    });

    it('treats a corrupt commit of batch 0 as nothing committed', async () => {
      const store = await written(1);
      flipByte(store, 'commits/0', 30);
      expect(await openCheckpoint(store).open()).toMatchObject({ lastCommittedBatchId: -1, pending: { batchId: 0 } });
    });

    it('treats a deleted latest commit as not committed', async () => {
      const store = await written(6);
      store.files.delete('commits/5');
      expect(await openCheckpoint(store).open()).toMatchObject({ lastCommittedBatchId: 4, pending: { batchId: 5 } });
    });

    it('stops when a corrupt commit is followed by a planned batch, naming the file', async () => {
      const store = await written(7, 100, 6);
      flipByte(store, 'commits/5', 40);
      const error = await openError(store);
      expect(error.path).toBe('ck/commits/5');
      expect(error.message).toMatch(/^checkpoint: file ck\/commits\/5 is corrupt; got checksum crc32=[0-9a-f]{8} where the file records crc32=[0-9a-f]{8}\./);
    });

    it('stops when the commit before a corrupt latest commit is damaged too', async () => {
      const store = await written(6);
      truncate(store, 'commits/5');
      truncate(store, 'commits/4', 0.9);
      expect((await openError(store)).path).toBe('ck/commits/4');
    });
  });

  describe('offsets', () => {
    it('stops on a corrupt write-ahead entry of the last committed batch, naming it', async () => {
      const store = await written(4);
      truncate(store, 'offsets/3');
      const error = await openError(store);
      expect(error.path).toBe('ck/offsets/3');
      expect(error.message).toBe(
        'checkpoint: file ck/offsets/3 is corrupt; got no end line (the file is truncated). It is torn, truncated or damaged and was not used; restore it from a backup or start the query with a new checkpoint location.',
      );
    });

    it('stops on a corrupt pending write-ahead entry (its batch may have reached the sink)', async () => {
      const store = await written(5, 100, 4);
      flipByte(store, 'offsets/4', 28);
      expect((await openError(store)).path).toBe('ck/offsets/4');
    });

    it('forgets a deleted pending entry: the batch is planned again', async () => {
      const store = await written(5, 100, 4);
      store.files.delete('offsets/4');
      expect(await openCheckpoint(store).open()).toMatchObject({ lastCommittedBatchId: 3, pending: undefined });
    });

    it('stops when the write-ahead entry of the last commit is missing', async () => {
      const store = await written(4);
      store.files.delete('offsets/3');
      const error = await openError(store);
      expect(error.message).toBe(
        'checkpoint: file ck/offsets/3 is missing; got a checkpoint without the write-ahead entry of committed batch 3, which recovery needs. Restore the file from a backup or start the query with a new checkpoint location.',
      );
    });

    it('stops when offsets run ahead of commits by more than one batch', async () => {
      const store = await written(4);
      store.files.delete('commits/3');
      store.files.delete('commits/2');
      expect((await openError(store)).message).toBe(
        'checkpoint: ck is inconsistent; got offsets up to batch 3 but commits only up to batch 1. Files were deleted or copied in by hand; restore the checkpoint from a backup or start the query with a new checkpoint location.',
      );
    });
  });

  describe('metadata', () => {
    it('stops when the metadata is missing from a used checkpoint', async () => {
      const store = await written(2);
      store.files.delete('metadata');
      const error = await openError(store);
      expect(error.path).toBe('ck/metadata');
      expect(error.message).toContain('is missing; got a checkpoint without its metadata (the query id)');
    });

    it('stops when the metadata is corrupt', async () => {
      const store = await written(2);
      truncate(store, 'metadata', 0.8);
      expect((await openError(store)).path).toBe('ck/metadata');
    });
  });

  describe('state', () => {
    it('falls back from a corrupt snapshot to the delta of the same version', async () => {
      const store = await written(6, 3);
      expect(store.files.has(`${OP}/5.snapshot`)).toBe(true);
      truncate(store, `${OP}/5.snapshot`);
      const rerun = await drive(store, inputs, { snapshotInterval: 3 });
      for (const [id, rows] of rerun.output) expect(rows).toEqual(whole.get(id));
    });

    it('falls back over several corrupt snapshots to the deltas before them', async () => {
      const store = await written(9, 3);
      truncate(store, `${OP}/8.snapshot`);
      flipByte(store, `${OP}/5.snapshot`, 50);
      const rerun = await drive(store, inputs, { snapshotInterval: 3 });
      expect(rerun.output.get(9)).toEqual(whole.get(9));
    });

    it('stops on a corrupt delta that no later snapshot covers, naming it', async () => {
      const store = await written(6, 100);
      truncate(store, `${OP}/3.delta`, 0.7);
      const error = await openError(store);
      expect(error.path).toBe(`ck/${OP}/3.delta`);
      expect(error.message).toBe(
        `checkpoint: file ck/${OP}/3.delta is corrupt; got no end line (the file is truncated). It is torn, truncated or damaged and was not used; restore it from a backup or start the query with a new checkpoint location.`,
      );
    });

    it('does not need a corrupt delta that a later snapshot covers', async () => {
      const store = await written(7, 3);
      truncate(store, `${OP}/3.delta`);
      const rerun = await drive(store, inputs, { snapshotInterval: 3 });
      expect(rerun.output.get(7)).toEqual(whole.get(7));
    });

    it('stops on a missing delta, naming it', async () => {
      const store = await written(6, 100);
      store.files.delete(`${OP}/2.delta`);
      expect((await openError(store)).message).toBe(
        `checkpoint: file ck/${OP}/2.delta is missing; got a checkpoint without version 2 of operator countByKey#0's state (a delta or snapshot), which recovery needs. Restore the file from a backup or start the query with a new checkpoint location.`,
      );
    });

    it('reports the snapshot when both the snapshot and the delta of a version are damaged', async () => {
      const store = await written(6, 3);
      truncate(store, `${OP}/5.snapshot`);
      truncate(store, `${OP}/5.delta`);
      expect((await openError(store)).path).toBe(`ck/${OP}/5.snapshot`);
    });

    it('stops on a state file that sits under another name', async () => {
      const store = await written(6, 100);
      store.files.set(`${OP}/4.delta`, store.files.get(`${OP}/3.delta`)!);
      const error = await openError(store);
      expect(error.path).toBe(`ck/${OP}/4.delta`);
      expect(error.message).toContain('got the header "{\\"operator\\":\\"countByKey#0\\",\\"version\\":3');
    });
  });
});

import { Subject, VirtualTimeScheduler, asyncScheduler } from 'rxjs';
import type { Batch } from '../../../lib/batch/Batch.js';
import { MemoryCheckpointStore } from '../../../lib/checkpoint/MemoryCheckpointStore.js';
import type { SnapshotBuilder } from '../../../lib/checkpoint/CheckpointStore.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import { CheckpointError, CheckpointIncompatibleError, InvalidOptionError } from '../../../lib/errors/index.js';
import { inQueryContext } from '../../../lib/internal/pipeline.js';
import { drive, rotatingInputs, stateFile, text } from './drive.js';
import { countByKey, mapRows, type Row } from './fixtures.js';

const stateFiles = (store: MemoryCheckpointStore, operator = 'countByKey%230') =>
  [...store.files.keys()].filter((p) => p.startsWith(`state/${operator}/`)).map((p) => p.slice(`state/${operator}/`.length)).sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || a.localeCompare(b));
const dirFiles = (store: MemoryCheckpointStore, dir: string) =>
  [...store.files.keys()].filter((p) => p.startsWith(`${dir}/`)).map((p) => Number(p.slice(dir.length + 1))).sort((a, b) => a - b);

describe('StoreCheckpoint', () => {
  describe('open', () => {
    it('creates the metadata with a new query id on first open and keeps it afterwards', async () => {
      const store = new MemoryCheckpointStore();
      const first = await openCheckpoint(store).open();
      expect(first).toMatchObject({ fresh: true, lastCommittedBatchId: -1, lastCommitted: undefined, pending: undefined });
      expect(first.queryId).toMatch(/^[0-9a-f-]{36}$/);
      expect(text(store.files.get('metadata'))).toContain(`"id":"${first.queryId}"`);
      const second = await openCheckpoint(store).open();
      expect(second).toMatchObject({ fresh: false, queryId: first.queryId, lastCommittedBatchId: -1 });
    });

    it('uses the queryId option for a new checkpoint only', async () => {
      const store = new MemoryCheckpointStore();
      expect((await openCheckpoint(store, { queryId: 'q-1' }).open()).queryId).toBe('q-1');
      expect((await openCheckpoint(store, { queryId: 'q-2' }).open()).queryId).toBe('q-1');
    });

    it('gives a new run id per context and keeps the query id', async () => {
      const store = new MemoryCheckpointStore();
      await drive(store, rotatingInputs(2));
      const checkpoint = openCheckpoint(store);
      const recovery = await checkpoint.open();
      const context = checkpoint.createContext('run-2', asyncScheduler);
      expect(context).toMatchObject({ queryId: recovery.queryId, runId: 'run-2' });
    });
  });

  describe('per batch', () => {
    it('writes offsets/N, the state delta of N and commits/N for every batch', async () => {
      const store = new MemoryCheckpointStore();
      await drive(store, rotatingInputs(3), { snapshotInterval: 100 });
      expect(dirFiles(store, 'offsets')).toEqual([0, 1, 2]);
      expect(dirFiles(store, 'commits')).toEqual([0, 1, 2]);
      expect(stateFiles(store)).toEqual(['0.delta', '1.delta', '2.delta']);
      const offsets = text(store.files.get('offsets/1'));
      expect(offsets.split('\n')[0]).toBe('rss-checkpoint 1 offsets');
      expect(offsets).toContain('{"batchId":1,"offsets":[1],"watermark":0,"timestamp":1001}');
      expect(text(store.files.get('commits/2'))).toContain('"operators":{"countByKey#0":{"kind":"countByKey","descriptor":{"by":"k"},"version":2}}');
    });

    it('reads back the write-ahead entry of any retained batch (readOffsetEntry), undefined for one that is gone', async () => {
      const store = new MemoryCheckpointStore();
      await drive(store, rotatingInputs(3), { snapshotInterval: 100 });
      const checkpoint = openCheckpoint(store);
      await checkpoint.open();
      expect(await checkpoint.readOffsetEntry!(1)).toEqual({ batchId: 1, offsets: [1], watermark: 0, timestamp: 1001 });
      expect(await checkpoint.readOffsetEntry!(7)).toBeUndefined();
      store.files.delete('offsets/0');
      expect(await checkpoint.readOffsetEntry!(0)).toBeUndefined();
      await checkpoint.close();
    });

    it('writes only the keys a batch changed, with removed keys as tombstones', async () => {
      const store = new MemoryCheckpointStore();
      const inputs: Row[][] = [
        [{ k: 'a', ts: 1 }, { k: 'b', ts: 1 }, { k: 'c', ts: 1 }],
        [{ k: 'b', ts: 2 }, { k: 'c', ts: 2, remove: true }],
      ];
      await drive(store, inputs, { snapshotInterval: 100 });
      const delta = stateFile(store.files.get('state/countByKey%230/1.delta'), 'delta');
      expect(delta.formatLine).toBe('rss-checkpoint 2 delta');
      expect(delta.header).toEqual({ operator: 'countByKey#0', version: 1, kind: 'delta', base: 0, count: 2 });
      expect(delta.entries).toEqual([['b', 2], ['c']]);
      expect(text(store.files.get('state/countByKey%230/1.delta')).split('\n').at(-2)).toMatch(/^#end crc32=[0-9a-f]{8} bytes=\d+$/);
    });

    it('writes a full snapshot every snapshotInterval versions, in the background after the commit', async () => {
      const store = new MemoryCheckpointStore();
      await drive(store, rotatingInputs(7), { snapshotInterval: 3 });
      expect(stateFiles(store).filter((f) => f.endsWith('.snapshot'))).toEqual(['2.snapshot', '5.snapshot']);
      const snapshot = stateFile(store.files.get('state/countByKey%230/5.snapshot'), 'snapshot');
      expect(snapshot.formatLine).toBe('rss-checkpoint 2 snapshot');
      expect(snapshot.header).toEqual({ operator: 'countByKey#0', version: 5, kind: 'snapshot', count: 5 });
      // Built from the snapshot of version 2 and the deltas 3..5, in the order the keys were first written.
      expect(snapshot.entries).toEqual([['k0', 3], ['k1', 3], ['k2', 2], ['k3', 2], ['k4', 2]]);
    });

    it('records the watermark after the batch in its commit and recovers it', async () => {
      const store = new MemoryCheckpointStore();
      await drive(store, rotatingInputs(3), { watermarkOf: (id) => id * 500 });
      expect(text(store.files.get('commits/2'))).toContain('"watermark":1000');
      expect(text(store.files.get('offsets/2'))).toContain('"watermark":500');
      const recovery = await openCheckpoint(store).open();
      expect(recovery.watermark).toBe(1000);
      expect(recovery.lastCommitted).toEqual({ batchId: 2, offsets: [2], watermark: 500, timestamp: 1002 });
    });

    it('rejects offsets that skip or repeat a batch, and a second commit of a batch', async () => {
      const store = new MemoryCheckpointStore();
      await drive(store, rotatingInputs(2), { pipeline: mapRows<Row>((r) => r) });
      const checkpoint = openCheckpoint(store);
      await checkpoint.open();
      await expect(checkpoint.writeOffsets({ batchId: 5, offsets: [], watermark: 0, timestamp: 0 })).rejects.toThrow(
        'checkpoint: writeOffsets batchId must be the batch after the last committed one (2); got 5. Commit each batch before planning the next.',
      );
      await expect(checkpoint.commit(1)).rejects.toThrow('checkpoint: commit batchId must be above the last committed batch 1; got 1. Commit each batch once.');
      await expect(checkpoint.commit(1)).rejects.toBeInstanceOf(CheckpointError);
    });

    it('refuses to be used before open()', () => {
      const checkpoint = openCheckpoint(new MemoryCheckpointStore('m'));
      expect(() => checkpoint.createContext('r', asyncScheduler)).toThrow('checkpoint: createContext was called before open() finished for m; got no recovery yet. Await open() first.');
    });
  });

  describe('background work', () => {
    // A large state (batch 0 writes 120 keys) that changes little (one key per batch): the full delta of
    // batch 0, then small deltas. With snapshotDeltaRatio r, a snapshot falls due once the deltas since the
    // chain's base (the full delta, then the last snapshot) add up to r times the base's size.
    const largeThenSmall = (batches: number): Row[][] => [Array.from({ length: 120 }, (_, i) => ({ k: `key-${i}`, ts: 0 })), ...Array.from({ length: batches - 1 }, (_, i) => [{ k: `key-${i % 7}`, ts: i }])];
    const sizeOf = (store: MemoryCheckpointStore, name: string) => store.files.get(`state/countByKey%230/${name}`)!.length;
    /** The snapshot versions the rule gives (and its cap of ten intervals), from the sizes of the files the run wrote. */
    const dueVersions = (store: MemoryCheckpointStore, batches: number, ratio: number, interval: number) => {
      const due: number[] = [];
      let base = sizeOf(store, '0.delta');
      let since = 0;
      let last = -1;
      for (let v = 1; v < batches; v++) {
        since += sizeOf(store, `${v}.delta`);
        if (v - last >= interval * 10 || (v - last >= interval && since >= ratio * base)) {
          due.push(v);
          base = sizeOf(store, `${v}.snapshot`);
          since = 0;
          last = v;
        }
      }
      return due;
    };
    const snapshotVersions = (store: MemoryCheckpointStore) => stateFiles(store).filter((f) => f.endsWith('.snapshot')).map((f) => parseInt(f, 10));

    it('writes a snapshot of a large state only once the deltas since the last one add up to snapshotDeltaRatio of its size', async () => {
      for (const ratio of [0.5, 0.25, 1]) {
        const store = new MemoryCheckpointStore();
        await drive(store, largeThenSmall(40), { snapshotInterval: 1, snapshotDeltaRatio: ratio });
        const expected = dueVersions(store, 40, ratio, 1);
        expect(expected.length).toBeGreaterThanOrEqual(ratio === 1 ? 1 : 2);
        // Not one every version: each snapshot spares recovery about `ratio` of the state.
        expect(expected[0]).toBeGreaterThan(3);
        expect(snapshotVersions(store)).toEqual(expected);
      }
    });

    it('still waits snapshotInterval versions, and with snapshotDeltaRatio 0 writes one every snapshotInterval versions', async () => {
      const store = new MemoryCheckpointStore();
      await drive(store, largeThenSmall(40), { snapshotInterval: 15, snapshotDeltaRatio: 0.25 });
      expect(snapshotVersions(store)).toEqual(dueVersions(store, 40, 0.25, 15));
      expect(snapshotVersions(store)[0]).toBe(14);
      const every = new MemoryCheckpointStore();
      await drive(every, largeThenSmall(12), { snapshotInterval: 3, snapshotDeltaRatio: 0 });
      expect(snapshotVersions(every)).toEqual([2, 5, 8, 11]);
    });

    it('writes a snapshot after ten times snapshotInterval versions however small the deltas', async () => {
      const store = new MemoryCheckpointStore();
      // A ratio no run of small deltas reaches: only the cap makes snapshots.
      await drive(store, largeThenSmall(50), { snapshotInterval: 2, snapshotDeltaRatio: 1000 });
      expect(snapshotVersions(store)).toEqual([19, 39]);
    });

    it('counts the deltas a restart reads back, so snapshots fall due at the versions of an uninterrupted run', async () => {
      const inputs = largeThenSmall(40);
      const whole = new MemoryCheckpointStore();
      await drive(whole, inputs, { snapshotInterval: 1, snapshotDeltaRatio: 0.5 });
      const restarted = new MemoryCheckpointStore();
      for (const end of [5, 13, 14, 27]) await drive(restarted, inputs.slice(0, end), { snapshotInterval: 1, snapshotDeltaRatio: 0.5 });
      // A crash too: batch 30 ran but was not committed.
      await drive(restarted, inputs.slice(0, 31), { snapshotInterval: 1, snapshotDeltaRatio: 0.5, crashAfterOffsetsOf: 30 });
      await drive(restarted, inputs, { snapshotInterval: 1, snapshotDeltaRatio: 0.5 });
      expect(snapshotVersions(restarted)).toEqual(snapshotVersions(whole));
      expect(snapshotVersions(whole).length).toBeGreaterThanOrEqual(2);
    });

    it('reports a failed background snapshot at the next call, and the deltas keep recovery possible', async () => {
      const store = new MemoryCheckpointStore();
      const failing = Object.assign(Object.create(store) as MemoryCheckpointStore, {
        write: (path: string, chunks: AsyncIterable<Uint8Array>) => (path.endsWith('.snapshot') ? Promise.reject(new Error('disk full')) : store.write(path, chunks)),
      });
      const checkpoint = openCheckpoint(failing, { snapshotInterval: 2 });
      await checkpoint.open();
      const input = new Subject<Batch<Row>>();
      input.pipe(inQueryContext(checkpoint.createContext('r', asyncScheduler)), countByKey()).subscribe();
      const inputs = rotatingInputs(4);
      for (const batchId of [0, 1]) {
        await checkpoint.writeOffsets({ batchId, offsets: [batchId], watermark: 0, timestamp: 0 });
        input.next({ batchId, rows: inputs[batchId]!, watermark: 0 });
        await checkpoint.commit(batchId);
      }
      await new Promise((resolve) => setImmediate(resolve));
      await expect(checkpoint.writeOffsets({ batchId: 2, offsets: [], watermark: 0, timestamp: 0 })).rejects.toThrow('disk full');
      await checkpoint.writeOffsets({ batchId: 2, offsets: [2], watermark: 0, timestamp: 0 });
      await checkpoint.close();
      expect(stateFiles(store)).toEqual(['0.delta', '1.delta']);
      const whole = await drive(new MemoryCheckpointStore(), inputs);
      const rest = await drive(store, inputs);
      expect(rest.recovery).toMatchObject({ lastCommittedBatchId: 1, pending: { batchId: 2 } });
      expect(rest.output.get(3)).toEqual(whole.output.get(3));
    });

    it('writes only the newest due snapshot when snapshots fall behind the batches', async () => {
      const store = new MemoryCheckpointStore();
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const slow = Object.assign(Object.create(store) as MemoryCheckpointStore, {
        write: async (path: string, chunks: AsyncIterable<Uint8Array>) => {
          if (path.endsWith('.snapshot')) await gate;
          return store.write(path, chunks);
        },
      });
      const checkpoint = openCheckpoint(slow, { snapshotInterval: 1, snapshotDeltaRatio: 0 });
      await checkpoint.open();
      const input = new Subject<Batch<Row>>();
      input.pipe(inQueryContext(checkpoint.createContext('r', asyncScheduler)), countByKey()).subscribe();
      const inputs = rotatingInputs(6);
      for (let batchId = 0; batchId < 6; batchId++) {
        await checkpoint.writeOffsets({ batchId, offsets: [batchId], watermark: 0, timestamp: 0 });
        input.next({ batchId, rows: inputs[batchId]!, watermark: 0 });
        await checkpoint.commit(batchId);
      }
      release();
      await checkpoint.flush();
      await checkpoint.close();
      expect(stateFiles(store).filter((f) => f.endsWith('.snapshot'))).toEqual(['0.snapshot', '5.snapshot']);
    });

    it('finishes a snapshot it builds on the main thread (a store without a builder) when closed', async () => {
      const store = new MemoryCheckpointStore();
      const checkpoint = openCheckpoint(store, { snapshotInterval: 1, snapshotDeltaRatio: 0 });
      await checkpoint.open();
      const input = new Subject<Batch<Row>>();
      input.pipe(inQueryContext(checkpoint.createContext('r', asyncScheduler)), countByKey()).subscribe();
      await checkpoint.writeOffsets({ batchId: 0, offsets: [], watermark: 0, timestamp: 0 });
      input.next({ batchId: 0, rows: rotatingInputs(1)[0]!, watermark: 0 });
      await checkpoint.commit(0);
      await checkpoint.close();
      expect(stateFiles(store)).toEqual(['0.delta', '0.snapshot']);
      await expect(checkpoint.commit(1)).rejects.toThrow('checkpoint: commit was called after close() for memory; got a closed checkpoint. Open it again.');
    });
  });

  describe('close', () => {
    /** A store whose snapshots are built by a builder the test finishes by hand, logging what happens. */
    class HeldSnapshots extends MemoryCheckpointStore {
      readonly log: string[] = [];
      readonly held: (() => void)[] = [];
      snapshotBuilder(): SnapshotBuilder {
        const pending = new Set<(error: Error) => void>();
        return {
          build: (_operatorId, _stateDir, version) =>
            new Promise<number>((resolve, reject) => {
              this.log.push(`build ${version}`);
              pending.add(reject);
              this.held.push(() => {
                pending.delete(reject);
                this.log.push(`built ${version}`);
                resolve(1);
              });
            }),
          // Like the file store's worker: a build still in flight is abandoned, and rejects.
          close: async () => {
            this.log.push('builder closed');
            for (const reject of pending) reject(new Error('the snapshot builder is closed'));
          },
        };
      }
    }
    /** Runs two batches on the virtual clock `clock` (a snapshot falls due after each) and starts closing. */
    async function runThenClose(store: HeldSnapshots, clock: VirtualTimeScheduler): Promise<{ closing: Promise<void>; closed: () => boolean }> {
      const checkpoint = openCheckpoint(store, { snapshotInterval: 1, snapshotDeltaRatio: 0 });
      await checkpoint.open();
      const input = new Subject<Batch<Row>>();
      input.pipe(inQueryContext(checkpoint.createContext('run', clock)), countByKey()).subscribe();
      for (const [batchId, rows] of rotatingInputs(2).entries()) {
        await checkpoint.writeOffsets({ batchId, offsets: [batchId], watermark: 0, timestamp: batchId });
        input.next({ batchId, rows, watermark: 0 });
        await checkpoint.commit(batchId);
      }
      let done = false;
      const closing = checkpoint.close().then(() => {
        done = true;
      });
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      return { closing, closed: () => done };
    }

    it('waits for a snapshot being built to finish before closing its builder, and starts no waiting one', async () => {
      const store = new HeldSnapshots();
      const { closing, closed } = await runThenClose(store, new VirtualTimeScheduler());
      expect(store.log).toEqual(['build 0']);
      expect(closed()).toBe(false);
      store.held[0]!();
      await closing;
      // Version 0 was built; the snapshot of version 1, due while it was being built, was never started.
      expect(store.log).toEqual(['build 0', 'built 0', 'builder closed']);
    });

    it('abandons a snapshot that has not finished after half a second of the query clock', async () => {
      const store = new HeldSnapshots();
      const clock = new VirtualTimeScheduler();
      const { closing, closed } = await runThenClose(store, clock);
      expect(closed()).toBe(false);
      clock.flush();
      await closing;
      expect(store.log).toEqual(['build 0', 'builder closed']);
      expect(clock.now()).toBe(500);
    });
  });

  describe('recovery', () => {
    it('restores state and continues numbering so that the result equals an uninterrupted run', async () => {
      const inputs = rotatingInputs(12);
      const whole = await drive(new MemoryCheckpointStore(), inputs, { snapshotInterval: 4 });
      const store = new MemoryCheckpointStore();
      const first = await drive(store, inputs.slice(0, 5), { snapshotInterval: 4 });
      const second = await drive(store, inputs, { snapshotInterval: 4 });
      expect(second.recovery).toMatchObject({ lastCommittedBatchId: 4, pending: undefined, fresh: false });
      expect([...second.output.keys()]).toEqual([5, 6, 7, 8, 9, 10, 11]);
      expect(new Map([...first.output, ...second.output])).toEqual(whole.output);
    });

    it('re-runs a batch whose offsets were written but not committed, with exactly those offsets', async () => {
      const inputs = rotatingInputs(6);
      const whole = await drive(new MemoryCheckpointStore(), inputs);
      const store = new MemoryCheckpointStore();
      await drive(store, inputs, { crashAfterOffsetsOf: 3 });
      expect(dirFiles(store, 'offsets')).toEqual([0, 1, 2, 3]);
      expect(dirFiles(store, 'commits')).toEqual([0, 1, 2]);
      const second = await drive(store, inputs);
      expect(second.recovery.lastCommittedBatchId).toBe(2);
      expect(second.recovery.pending).toEqual({ batchId: 3, offsets: [3], watermark: 0, timestamp: 1003 });
      expect([...second.output.keys()]).toEqual([3, 4, 5]);
      for (const id of [3, 4, 5]) expect(second.output.get(id)).toEqual(whole.output.get(id));
    });

    it('deletes state files of an uncommitted batch on open', async () => {
      const store = new MemoryCheckpointStore();
      await drive(store, rotatingInputs(4), { crashAfterOffsetsOf: 3 });
      await new Promise((resolve) => setImmediate(resolve));
      expect(stateFiles(store)).toContain('3.delta');
      await openCheckpoint(store).open();
      expect(stateFiles(store)).not.toContain('3.delta');
    });

    it('restores from a snapshot plus the deltas after it', async () => {
      const inputs = rotatingInputs(9);
      const whole = await drive(new MemoryCheckpointStore(), inputs);
      const store = new MemoryCheckpointStore();
      await drive(store, inputs.slice(0, 7), { snapshotInterval: 3 });
      expect(stateFiles(store)).toEqual(['0.delta', '1.delta', '2.delta', '2.snapshot', '3.delta', '4.delta', '5.delta', '5.snapshot', '6.delta']);
      // Without the deltas before the snapshot, recovery can only use 5.snapshot + 6.delta.
      for (const v of [0, 1, 2, 3, 4]) store.files.delete(`state/countByKey%230/${v}.delta`);
      store.files.delete('state/countByKey%230/2.snapshot');
      const second = await drive(store, inputs, { snapshotInterval: 3 });
      expect(second.output.get(8)).toEqual(whole.output.get(8));
    });

    it('reads each state file of the chain once and asks the store for no file its listing does not hold', async () => {
      const inputs = rotatingInputs(14);
      const whole = await drive(new MemoryCheckpointStore(), inputs);
      const store = new MemoryCheckpointStore();
      await drive(store, inputs.slice(0, 12), { snapshotInterval: 5, snapshotDeltaRatio: 0 });
      expect(stateFiles(store)).toContain('9.snapshot');
      const reads: string[] = [];
      const read = store.read.bind(store);
      store.read = (path) => {
        reads.push(path);
        return read(path);
      };
      const second = await drive(store, inputs, { snapshotInterval: 5, snapshotDeltaRatio: 0 });
      const stateReads = reads.filter((p) => p.startsWith('state/'));
      // The newest snapshot and the deltas after it, each once; not a snapshot at every version.
      expect([...stateReads].sort()).toEqual(['state/countByKey%230/10.delta', 'state/countByKey%230/11.delta', 'state/countByKey%230/9.snapshot']);
      expect(second.output.get(13)).toEqual(whole.output.get(13));
    });

    it('falls back past a corrupt snapshot to the deltas before it, reading them when the walk gets there', async () => {
      const inputs = rotatingInputs(10);
      const whole = await drive(new MemoryCheckpointStore(), inputs);
      const store = new MemoryCheckpointStore();
      await drive(store, inputs.slice(0, 8), { snapshotInterval: 3, snapshotDeltaRatio: 0 });
      expect(stateFiles(store)).toContain('5.snapshot');
      const snapshot = store.files.get('state/countByKey%230/5.snapshot')!;
      const torn = snapshot.slice(0, snapshot.length - 3);
      store.files.set('state/countByKey%230/5.snapshot', torn);
      const second = await drive(store, inputs, { snapshotInterval: 3, snapshotDeltaRatio: 0 });
      expect(second.output.get(9)).toEqual(whole.output.get(9));
    });

    it('keeps only what the last minBatchesToRetain commits need', async () => {
      const store = new MemoryCheckpointStore();
      const inputs = rotatingInputs(12);
      await drive(store, inputs, { snapshotInterval: 3, minBatchesToRetain: 3 });
      expect(dirFiles(store, 'offsets')).toEqual([9, 10, 11]);
      expect(dirFiles(store, 'commits')).toEqual([9, 10, 11]);
      // Commit 9 needs version 9: the newest snapshot at or below it is 8.
      expect(stateFiles(store)).toEqual(['8.delta', '8.snapshot', '9.delta', '10.delta', '11.delta', '11.snapshot']);
      const whole = await drive(new MemoryCheckpointStore(), [...inputs, ...rotatingInputs(2)]);
      const next = await drive(store, [...inputs, ...rotatingInputs(2)], { snapshotInterval: 3, minBatchesToRetain: 3 });
      expect(next.output.get(13)).toEqual(whole.output.get(13));
    });

    it('keeps every file while no snapshot lets older ones go', async () => {
      const store = new MemoryCheckpointStore();
      await drive(store, rotatingInputs(6), { snapshotInterval: 100, minBatchesToRetain: 2 });
      expect(dirFiles(store, 'commits')).toEqual([4, 5]);
      expect(stateFiles(store)).toEqual(['0.delta', '1.delta', '2.delta', '3.delta', '4.delta', '5.delta']);
    });

    it('restores an operator that registered but never published as empty, still skipping committed batches', async () => {
      const store = new MemoryCheckpointStore();
      const checkpoint = openCheckpoint(store);
      await checkpoint.open();
      checkpoint.createContext('r', asyncScheduler).registerState({ kind: 'countByKey', id: 'countByKey#0', descriptor: { by: 'k' }, codec: { entries: () => [], get: () => undefined, fromEntries: (e) => [...e] } });
      await checkpoint.writeOffsets({ batchId: 0, offsets: [], watermark: 0, timestamp: 0 });
      await checkpoint.commit(0);
      await checkpoint.close();
      expect(text(store.files.get('commits/0'))).toContain('"version":-1');
      const again = openCheckpoint(store);
      await again.open();
      let restored: unknown;
      restored = again.createContext('r3', asyncScheduler).registerState({ kind: 'countByKey', id: 'countByKey#0', descriptor: { by: 'k' }, codec: { entries: () => [], get: () => undefined, fromEntries: (e) => [...e] } }).restored;
      expect(restored).toEqual({ batchId: 0, state: [] });
    });
  });

  describe('pipeline changes', () => {
    it('accepts a stateless operator added before a stateful one', async () => {
      const store = new MemoryCheckpointStore();
      const inputs = rotatingInputs(4);
      await drive(store, inputs.slice(0, 2));
      const second = await drive(store, inputs, { pipeline: (s) => s.pipe(mapRows<Row>((r) => r), countByKey()) });
      expect(second.recovery.lastCommittedBatchId).toBe(1);
      expect([...second.output.keys()]).toEqual([2, 3]);
    });

    it('rejects a re-keyed stateful operator, naming it', async () => {
      const store = new MemoryCheckpointStore('ck');
      await drive(store, rotatingInputs(2));
      const failure = drive(store, rotatingInputs(3), { pipeline: countByKey({ by: 'other' }) });
      await expect(failure).rejects.toBeInstanceOf(CheckpointIncompatibleError);
      await expect(drive(store, rotatingInputs(3), { pipeline: countByKey({ by: 'other' }) })).rejects.toMatchObject({
        operatorId: 'countByKey#0',
        path: 'ck/state/countByKey%230',
        message:
          'checkpoint: stateful operator countByKey#0 does not match the checkpoint; got countByKey {"by":"other"} where the checkpoint has countByKey {"by":"k"}. A stateful operator\'s keys, windows and aggregates cannot change between restarts; start the query with a new checkpoint location.',
      });
    });

    it('rejects an added stateful operator, naming it', async () => {
      const store = new MemoryCheckpointStore();
      await drive(store, rotatingInputs(2));
      await expect(drive(store, rotatingInputs(3), { pipeline: (s) => s.pipe(countByKey(), countByKey({ name: 'extra' })) })).rejects.toMatchObject({
        name: 'CheckpointIncompatibleError',
        operatorId: 'extra',
        message:
          'checkpoint: stateful operator extra is not in the checkpoint; got a pipeline with an added or renamed stateful operator (the checkpoint has countByKey#0). Stateful operators cannot be added between restarts; start the query with a new checkpoint location.',
      });
    });

    it('rejects a removed stateful operator, naming it', async () => {
      const store = new MemoryCheckpointStore();
      await drive(store, rotatingInputs(2), { pipeline: (s) => s.pipe(countByKey({ name: 'first' }), countByKey({ name: 'second' })) });
      await expect(drive(store, rotatingInputs(3), { pipeline: countByKey({ name: 'first' }) })).rejects.toMatchObject({
        name: 'CheckpointIncompatibleError',
        operatorId: 'second',
        message:
          'checkpoint: stateful operator second (countByKey) is in the checkpoint but not in the pipeline; got a pipeline with a removed or renamed stateful operator. Stateful operators cannot be removed between restarts; start the query with a new checkpoint location.',
      });
    });

    it('accepts any pipeline while nothing is committed', async () => {
      const store = new MemoryCheckpointStore();
      await drive(store, rotatingInputs(1), { crashAfterOffsetsOf: 0 });
      const second = await drive(store, rotatingInputs(2), { pipeline: countByKey({ name: 'renamed' }) });
      expect(second.recovery.pending?.batchId).toBe(0);
      expect([...second.output.keys()]).toEqual([0, 1]);
    });

    it('rejects two stateful operators with the same name', async () => {
      const store = new MemoryCheckpointStore();
      await expect(drive(store, rotatingInputs(1), { pipeline: (s) => s.pipe(countByKey({ name: 'x' }), countByKey({ name: 'x' })) })).rejects.toThrow(
        new InvalidOptionError('countByKey: the operator id must be unique among the stateful operators of a query; got "x" twice (two operators with that name, or two unnamed operators of that kind at the same depth in parallel branches). Give each stateful operator its own name.', 'name', 'x', 'a unique name'),
      );
    });
  });

  describe('misconfiguration', () => {
    it.each([
      ['snapshotInterval', 0],
      ['snapshotInterval', 1.5],
      ['minBatchesToRetain', -1],
      ['minBatchesToRetain', '100'],
    ])('rejects %s = %p', (option, value) => {
      expect(() => openCheckpoint(new MemoryCheckpointStore(), { [option]: value })).toThrow(
        new InvalidOptionError(`checkpoint: ${option} must be a positive integer; got ${JSON.stringify(value)}.`, option, value, 'a positive integer'),
      );
    });

    it('rejects a location that is neither a path nor a store', () => {
      expect(() => openCheckpoint('')).toThrow(InvalidOptionError);
      expect(() => openCheckpoint({} as never)).toThrow(
        "checkpoint: location must be a directory path or a CheckpointStore; got {}. Pass a directory such as './checkpoints/my-query'.",
      );
    });

    it('rejects an empty queryId', () => {
      expect(() => openCheckpoint(new MemoryCheckpointStore(), { queryId: '' })).toThrow('checkpoint: queryId must be a non-empty string; got "".');
    });
  });
});

import type { CheckpointRecovery, OffsetLogEntry } from '../../../lib/checkpoint/Checkpoint.js';
import { CheckpointBehindOutputError } from '../../../lib/errors/index.js';
import { checkReplan } from '../../../lib/query/replanGuard.js';
import type { BatchOrigin, Sink } from '../../../lib/sinks/Sink.js';
import type { Source } from '../../../lib/sources/Source.js';

/** A source whose offsets are `{ n }` row counts; it records the plans it is given back. */
function source(options: { readonly restores?: boolean; readonly replannable?: number } = {}): Source<unknown, { n: number }> & { readonly restored: unknown[][] } {
  const restored: unknown[][] = [];
  return {
    description: 'TestSource',
    restored,
    async start() {},
    async latestOffset(start) {
      return start;
    },
    async getBatch() {
      return [];
    },
    async commit() {},
    async stop() {},
    ...(options.restores === false
      ? {}
      : {
          async restorePlan(start: { n: number } | undefined, end: { n: number }, plan: unknown) {
            restored.push([start, end, plan]);
          },
        }),
    ...(options.replannable === undefined ? {} : { replannableBatches: async () => options.replannable! }),
  };
}

/** A sink holding batches with the given origins (`undefined`: held without one). */
function sink(held: ReadonlyArray<BatchOrigin | undefined>, withOrigins = true): Sink<unknown> {
  return {
    description: 'TestSink',
    supportedModes: ['append'],
    idempotent: true,
    async addBatch() {},
    lastCommittedBatchId: async () => held.length - 1,
    ...(withOrigins ? { committedOrigin: async (batchId: number) => held[batchId] } : {}),
  };
}

const origin = (from: number | undefined, to: number, plan: unknown = null): BatchOrigin => ({
  startOffsets: [from === undefined ? null : { n: from }],
  endOffsets: [{ n: to }],
  watermark: to * 10,
  timestamp: 1000 + to,
  plans: [plan],
});

const entry = (batchId: number, n: number): OffsetLogEntry => ({ batchId, offsets: [{ n }], watermark: n * 10, timestamp: 1000 + n });

function recovery(lastCommittedBatchId: number, committedTo: number | undefined, pending?: OffsetLogEntry): CheckpointRecovery {
  return {
    queryId: 'q',
    fresh: false,
    lastCommittedBatchId,
    lastCommitted: committedTo === undefined ? undefined : entry(lastCommittedBatchId, committedTo),
    pending,
  };
}

/** Batches 0..4 reading 2 rows each: batch k ends at row 2k+2 and plans `p<k>`. */
const fiveBatches = [0, 1, 2, 3, 4].map((k) => origin(k === 0 ? undefined : 2 * k, 2 * k + 2, `p${k}`));

const check = (r: CheckpointRecovery, s: Sink<unknown>, src: Source<unknown, unknown> = source()) => checkReplan({ location: '/ckpt', queryId: 'q', recovery: r, sources: [src], sink: s });

describe('checkReplan: a checkpoint behind its output', () => {
  it('does nothing for a fresh checkpoint, a sink that cannot tell what it holds, or an output not ahead of the checkpoint', async () => {
    expect(await check({ ...recovery(-1, undefined), fresh: true }, sink(fiveBatches))).toEqual([]);
    expect(await check(recovery(1, 4), { ...sink(fiveBatches), lastCommittedBatchId: undefined })).toEqual([]);
    expect(await check(recovery(4, 10), sink(fiveBatches))).toEqual([]);
    expect(await check(recovery(3, 8, entry(4, 10)), sink(fiveBatches))).toEqual([]);
  });

  it("returns the batches the sink holds beyond the checkpoint as write-ahead entries, after giving the source each batch's plan back in order", async () => {
    const src = source();
    expect(await check(recovery(1, 4), sink(fiveBatches), src)).toEqual([entry(2, 6), entry(3, 8), entry(4, 10)]);
    expect(src.restored).toEqual([
      [{ n: 4 }, { n: 6 }, 'p2'],
      [{ n: 6 }, { n: 8 }, 'p3'],
      [{ n: 8 }, { n: 10 }, 'p4'],
    ]);
  });

  it('re-plans from batch 0 when the checkpoint commits nothing (a first batch starts nowhere)', async () => {
    const src = source();
    expect(await check(recovery(-1, undefined), sink(fiveBatches.slice(0, 2)), src)).toEqual([entry(0, 2), entry(1, 4)]);
    expect(src.restored[0]).toEqual([undefined, { n: 2 }, 'p0']);
  });

  it('starts after a pending batch the sink holds, and gives that batch its plan back too', async () => {
    const src = source();
    expect(await check(recovery(1, 4, entry(2, 6)), sink(fiveBatches), src)).toEqual([entry(3, 8), entry(4, 10)]);
    expect(src.restored.map((r) => r[2])).toEqual(['p2', 'p3', 'p4']);
  });

  it('compares offsets whatever the order of their keys', async () => {
    const held = [origin(undefined, 2), { ...origin(2, 4), startOffsets: [{ orders: { '0': 2 }, clicks: { '0': 7 } }], endOffsets: [{ clicks: { '0': 7 }, orders: { '0': 4 } }] }];
    const r: CheckpointRecovery = { ...recovery(0, 2), lastCommitted: { ...entry(0, 2), offsets: [{ clicks: { '0': 7 }, orders: { '0': 2 } }] } };
    expect(await check(r, sink(held))).toEqual([{ batchId: 1, offsets: [{ clicks: { '0': 7 }, orders: { '0': 4 } }], watermark: 40, timestamp: 1004 }]);
  });

  it('refuses a sink without records, naming both batch ids, why, and what to do; nothing is restored', async () => {
    const src = source();
    const error = (await check(recovery(1, 4), sink(fiveBatches, false), src).catch((e: unknown) => e)) as CheckpointBehindOutputError;
    expect(error).toBeInstanceOf(CheckpointBehindOutputError);
    expect(error).toMatchObject({ checkpointBatchId: 1, outputBatchId: 4, retriable: false, path: '/ckpt' });
    expect(error.message).toBe(
      'checkpoint: /ckpt commits batches up to 1, but the sink TestSink already holds batches up to 4 of query q; got a checkpoint older than the output (restored from an older copy, or offsets files deleted); ' +
        'the sink keeps no record of the offsets its batches read (it has no committedOrigin), and TestSource can plan none of batches 2–4 again as they ran, so the sink would skip other rows under those batch ids. ' +
        'Restore the newest copy of the checkpoint, or start the query with a new checkpoint location and a new output (a sink that records each batch\'s origin, as toFiles does, lets such a checkpoint re-plan instead).',
    );
    expect(src.restored).toEqual([]);
  });

  it('refuses when a batch in between has no record, or the records do not chain onto the checkpoint; nothing is restored', async () => {
    const gap: Array<BatchOrigin | undefined> = [...fiveBatches];
    gap[3] = undefined;
    const src = source();
    await expect(check(recovery(1, 4), sink(gap), src)).rejects.toThrow('the sink holds batch 3 without a record of the offsets it read');
    await expect(check(recovery(1, 5), sink(fiveBatches), src)).rejects.toThrow(`the sink's record of batch 2 starts at [{"n":4}], not where batch 1 ended ([{"n":5}])`);
    expect(src.restored).toEqual([]);
  });

  it('refuses a record with a plan the source cannot take back', async () => {
    await expect(check(recovery(1, 4), sink(fiveBatches), source({ restores: false }))).rejects.toThrow("the sink's record of batch 2 has a plan for TestSource, which cannot restore one");
  });

  it("falls back to the source's own re-planning where the sink has no records", async () => {
    expect(await check(recovery(1, 4), sink(fiveBatches, false), source({ replannable: 3 }))).toEqual([]);
    await expect(check(recovery(1, 4), sink(fiveBatches, false), source({ replannable: 2 }))).rejects.toThrow('TestSource can plan only 2 of batches 2–4 again as they ran');
  });

  it('refuses a pending offsets file that ends elsewhere than the sink\'s record of that batch, also when the sink holds no later batch', async () => {
    const error = (await check(recovery(1, 4, entry(2, 7)), sink(fiveBatches.slice(0, 3))).catch((e: unknown) => e)) as CheckpointBehindOutputError;
    expect(error).toBeInstanceOf(CheckpointBehindOutputError);
    expect(error.message).toContain('has a pending offsets/2 that ends at [{"n":7}], but the sink TestSink already holds batch 2 of query q, which ended at [{"n":6}]; got a checkpoint and an output from different runs');
  });
});

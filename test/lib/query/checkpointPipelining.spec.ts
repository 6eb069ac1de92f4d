import { asyncScheduler, type Observable } from 'rxjs';
import type { Batch } from '../../../lib/batch/Batch.js';
import { count } from '../../../lib/aggregate/count.js';
import { MemoryCheckpointStore } from '../../../lib/checkpoint/MemoryCheckpointStore.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import { CheckpointIOError } from '../../../lib/errors/index.js';
import type { StreamingQueryProgress } from '../../../lib/query/progress.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { StreamingQueryManager } from '../../../lib/query/StreamingQueryManager.js';
import type { Sink } from '../../../lib/sinks/Sink.js';
import type { Source } from '../../../lib/sources/Source.js';
import { groupAggregate } from '../../../operators/groupAggregate.js';
import { outputMode } from '../../../operators/outputMode.js';

interface Row {
  readonly k: string;
}

/** Batches of rows; offset = index of the last batch read, one batch per trigger. */
function batchSource(batches: readonly Row[][]): Source<Row, number> {
  return {
    description: 'Batches',
    start: async () => undefined,
    latestOffset: async (start) => Math.min((start ?? -1) + 1, batches.length - 1),
    getBatch: async (start, end) => batches.slice((start ?? -1) + 1, end + 1).flat(),
    commit: async () => undefined,
    stop: async () => undefined,
    sameOffset: (a, b) => a === b,
  };
}

/** Lets other work run: a few turns of the event loop (what a slow disk would give). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A store whose writes take a few event-loop turns and that logs when each write starts and ends. */
function slowStore(log: string[], failCommitOf?: number): MemoryCheckpointStore {
  const store = new MemoryCheckpointStore();
  const write = store.write.bind(store);
  store.write = async (path, chunks) => {
    log.push(`start ${path}`);
    await turns(3);
    if (path === `commits/${failCommitOf}`) throw new CheckpointIOError(`checkpoint: cannot write ${path}; got EIO. Test.`, path, undefined);
    const bytes = await write(path, chunks);
    log.push(`end ${path}`);
    return bytes;
  };
  return store;
}

function loggingSink(log: string[]): Sink<unknown> {
  return {
    description: 'LoggingSink',
    supportedModes: ['append', 'update', 'complete'],
    idempotent: true,
    addBatch: async (batchId) => {
      log.push(`sink start ${batchId}`);
      await turns(2);
      log.push(`sink end ${batchId}`);
    },
  };
}

const batches: Row[][] = [[{ k: 'a' }, { k: 'b' }], [{ k: 'a' }], [{ k: 'c' }, { k: 'a' }], [{ k: 'b' }]];
const pipeline = (b$: Observable<Batch<Row>>) => b$.pipe(groupAggregate({ keyBy: 'k', aggregate: { n: count() } }), outputMode('update'));

describe('startQuery with a checkpoint: writes off the critical path', () => {
  it('keeps the exactly-once order: commits/N-1 before offsets/N, offsets/N before the sink gets N, the sink and the deltas of N before commits/N', async () => {
    const log: string[] = [];
    const store = slowStore(log);
    const query = startQuery<Row, unknown>({ source: batchSource(batches), pipeline, sink: loggingSink(log), checkpoint: openCheckpoint(store), scheduler: asyncScheduler, manager: new StreamingQueryManager() });
    await query.processAllAvailable();
    await query.stop();
    const at = (event: string): number => {
      const i = log.indexOf(event);
      if (i < 0) throw new Error(`no ${event} in ${log.join(', ')}`);
      return i;
    };
    for (let n = 0; n < batches.length; n++) {
      if (n > 0) expect(at(`end commits/${n - 1}`)).toBeLessThan(at(`start offsets/${n}`));
      expect(at(`end offsets/${n}`)).toBeLessThan(at(`sink start ${n}`));
      expect(at(`sink end ${n}`)).toBeLessThan(at(`start commits/${n}`));
      expect(at(`end state/groupAggregate%230/${n}.delta`)).toBeLessThan(at(`start commits/${n}`));
    }
  });

  it('reports the checkpoint phases of every batch in durationMs and what it wrote in progress', async () => {
    const progress: StreamingQueryProgress[] = [];
    const query = startQuery<Row, unknown>({ source: batchSource(batches), pipeline, sink: loggingSink([]), checkpoint: openCheckpoint(slowStore([]), { snapshotInterval: 2 }), manager: new StreamingQueryManager() });
    query.progress$.subscribe((p) => progress.push(p));
    await query.processAllAvailable();
    await query.stop();
    expect(progress.map((p) => p.batchId)).toEqual([0, 1, 2, 3]);
    for (const p of progress) {
      for (const phase of ['walCommit', 'walWait', 'stateDelta', 'commit', 'snapshot', 'commitOffsets'] as const) {
        expect(typeof p.durationMs[phase]).toBe('number');
        expect(p.durationMs[phase]).toBeGreaterThanOrEqual(0);
      }
      expect(p.durationMs.commit!).toBeLessThanOrEqual(p.durationMs.commitOffsets);
      expect(p.checkpoint!.bytesWritten).toBeGreaterThan(0);
      expect(p.checkpoint!.snapshotLag).toBeLessThanOrEqual(2 * 2);
      expect(p.checkpoint!.snapshotsCoalesced).toBe(0);
    }
    // Snapshots are due at versions 1 and 3 (every 2 versions); the last report knows one of them is durable.
    expect(progress.at(-1)!.checkpoint!.lastSnapshotVersion).toBeGreaterThanOrEqual(1);
  });

  it('fails the query when a commit fails, before the next batch reaches the sink', async () => {
    const log: string[] = [];
    const query = startQuery<Row, unknown>({
      source: batchSource(batches),
      pipeline,
      sink: loggingSink(log),
      checkpoint: openCheckpoint(slowStore(log, 1)),
      retry: { retries: 0 },
      manager: new StreamingQueryManager(),
    });
    await expect(query.awaitTermination()).rejects.toThrow(CheckpointIOError);
    expect(log).toContain('sink end 1');
    expect(log).not.toContain('sink start 2');
    expect(log).not.toContain('start offsets/2');
  });
});

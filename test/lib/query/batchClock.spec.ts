import { MemoryCheckpointStore } from '../../../lib/checkpoint/MemoryCheckpointStore.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import type { GroupState } from '../../../lib/groupState/GroupState.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { StreamingQueryManager } from '../../../lib/query/StreamingQueryManager.js';
import type { Sink } from '../../../lib/sinks/Sink.js';
import type { Source } from '../../../lib/sources/Source.js';
import { mapGroupsWithState } from '../../../operators/mapGroupsWithState.js';
import { VirtualClock } from './virtualClock.js';

interface Click {
  readonly user: string;
}
interface Out {
  readonly user: string;
  readonly timedOut: boolean;
  readonly at: number;
}

/** A replayable source over a growing log: offsets are row counts, one row per batch. */
function logSource(log: Click[]): Source<Click, number> {
  return {
    description: 'LogSource',
    async start() {},
    async latestOffset(start) {
      if (log.length === 0 && start === undefined) return undefined;
      return Math.min(log.length, (start ?? 0) + 1);
    },
    async getBatch(start, end) {
      return log.slice(start ?? 0, end);
    },
    async commit() {},
    async stop() {},
  };
}

describe('the batch clock of stateful operators', () => {
  it('gives a batch re-run after a crash the processing time of its first run, so its processing-time timeouts are the same', async () => {
    const clock = new VirtualClock();
    const manager = new StreamingQueryManager({ scheduler: clock });
    const store = new MemoryCheckpointStore();
    const log: Click[] = [];
    const attempts: { batchId: number; rows: readonly Out[] }[] = [];
    const run = (crashAfter: number | undefined) => {
      const sink: Sink<Out> = {
        description: 'RecordingSink',
        supportedModes: ['update'],
        idempotent: false,
        async addBatch(batchId, rows) {
          attempts.push({ batchId, rows });
          if (batchId === crashAfter) throw new Error('crash after the sink, before the commit');
        },
      };
      return startQuery<Click, Out>({
        source: logSource(log),
        pipeline: (b$) =>
          b$.pipe(
            mapGroupsWithState({ keyBy: 'user', timeout: 'processingTime' }, (user: string, rows: readonly Click[], state: GroupState<number>): Out => {
              const at = state.getCurrentProcessingTimeMs();
              if (state.hasTimedOut) {
                state.remove();
                return { user, timedOut: true, at };
              }
              state.update((state.getOption() ?? 0) + rows.length);
              state.setTimeoutDuration('5 seconds');
              return { user, timedOut: false, at };
            }),
          ),
        sink,
        checkpoint: openCheckpoint(store),
        scheduler: clock,
        manager,
      });
    };

    const first = run(1);
    log.push({ user: 'ann' });
    await clock.advanceTo(1_000); // batch 0 at ~1 s: ann's timeout is due at ~6 s
    log.push({ user: 'bob' });
    await clock.advanceTo(2_000); // batch 1 at ~2 s reaches the sink, then the process "crashes"
    await first.awaitTermination().catch(() => undefined);
    expect(attempts.map((a) => a.batchId)).toEqual([0, 1]);
    const firstRun = attempts[1]!.rows;
    expect(firstRun).toEqual([{ user: 'bob', timedOut: false, at: firstRun[0]!.at }]);

    await clock.advanceTo(60_000); // restarted much later: by the wall clock, ann would have timed out
    const second = run(undefined);
    await clock.advanceTo(61_000);
    expect(attempts[2]).toEqual({ batchId: 1, rows: firstRun }); // batch 1 again, as it first ran
    await second.stop();
  });
});

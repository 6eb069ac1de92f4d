import { InvalidOptionError } from '../../../lib/errors/index.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { StreamingQueryManager } from '../../../lib/query/StreamingQueryManager.js';
import { dropMemoryTable, memoryTable, toMemory } from '../../../lib/sinks/toMemory.js';
import { rateSource, rateValueAtSecond, type RateRow } from '../../../lib/sources/rateSource.js';
import { VirtualClock } from '../query/virtualClock.js';

describe('rateSource', () => {
  it('ramps up as Spark valueAtSecond does', () => {
    // rampUpTime 4 s, 10 rows/s: speeds 0 2 4 6 8 10 10 → totals 0 2 6 12 20 30 40
    expect([0, 1, 2, 3, 4, 5, 6].map((s) => rateValueAtSecond(s, 10, 4))).toEqual([0, 2, 6, 12, 20, 30, 40]);
    expect(rateValueAtSecond(3, 5, 0)).toBe(15);
  });

  it('generates rows deterministically from the scheduler clock, spread over each second, partition by partition', async () => {
    const clock = new VirtualClock();
    const manager = new StreamingQueryManager({ scheduler: clock });
    const query = startQuery({ source: rateSource({ rowsPerSecond: 4, numPartitions: 2 }), sink: toMemory('rate'), trigger: { processingTime: '1 second' }, scheduler: clock, manager });
    await clock.advanceTo(2_000);
    const rows = memoryTable<RateRow>('rate');
    expect(rows.map((r) => [r.value, r.timestamp.getTime()])).toEqual([
      [0, 0],
      [2, 500],
      [1, 250],
      [3, 750],
      [4, 1000],
      [6, 1500],
      [5, 1250],
      [7, 1750],
    ]);
    expect(query.recentProgress.map((p) => [p.batchId, p.sources[0]?.endOffset])).toEqual([
      [0, { seconds: 1, startTimeMs: 0 }],
      [1, { seconds: 2, startTimeMs: 0 }],
    ]);
    await query.stop();
    dropMemoryTable('rate');
  });

  it('rejects bad options', () => {
    expect(() => rateSource({ rowsPerSecond: 0 })).toThrow('rateSource: rowsPerSecond must be a positive integer; got 0.');
    expect(() => rateSource({ numPartitions: 1.5 })).toThrow(InvalidOptionError);
    expect(() => rateSource({ rampUpTime: 1500 })).toThrow("rateSource: rampUpTime must be whole seconds, not negative; got 1500. Use e.g. '5 seconds'.");
  });
});

import { Subject } from 'rxjs';
import type { Batch } from '../../../lib/batch/Batch.js';
import { toBatches } from '../../../lib/batch/toBatches.js';
import { streamJoin } from '../../../operators/streamJoin.js';
import { withWatermark } from '../../../operators/withWatermark.js';

interface Event {
  readonly id: number;
  readonly ts: number;
}

describe('streamJoin state with watermarks and a time range', () => {
  it('stays bounded while 1,000,000 rows per side are joined', () => {
    const BATCHES = 1000;
    const ROWS = 1000; // per side and batch: event times advance 1 ms per row, 1 s per batch
    const KEYS = 50_000; // a key comes back every 50 s of event time
    const leftIn = new Subject<readonly Event[]>();
    const rightIn = new Subject<readonly Event[]>();
    let pairs = 0;
    let maxState = 0;
    let removed = 0;
    let last: Batch<number> | undefined;
    leftIn
      .pipe(
        toBatches(),
        withWatermark<Event>('ts', '5 seconds'),
        streamJoin(rightIn.pipe(toBatches(), withWatermark<Event>('ts', '5 seconds')), {
          on: 'id',
          // rightTime in [leftTime, leftTime + 30 s]: each left row meets exactly the right row with the same time
          timeRange: { leftTime: 'ts', rightTime: 'ts', lower: 0, upper: '30 seconds' },
          aligned: true,
          select: () => 1,
        }),
      )
      .subscribe((b) => {
        pairs += b.rows.length;
        const state = b.metrics!.stateOperators!.at(-1)!;
        maxState = Math.max(maxState, state.numRowsTotal);
        removed += state.numRowsRemoved;
        last = b;
      });
    for (let i = 0; i < BATCHES; i++) {
      const rows: Event[] = new Array<Event>(ROWS);
      for (let j = 0; j < ROWS; j++) {
        const g = i * ROWS + j;
        rows[j] = { id: g % KEYS, ts: g + 1 };
      }
      leftIn.next(rows);
      rightIn.next(rows);
    }
    const final = last!.metrics!.stateOperators!.at(-1)!;
    expect(pairs).toBe(BATCHES * ROWS);
    // Left rows live while leftTime > W - 30 s - 1 ms, right rows while rightTime > W - 1 ms,
    // with W = max time - 5 s: about 36 s + 6 s of rows, never the 2,000,000 that flowed through.
    expect(maxState).toBeLessThan(45_000);
    expect(final.numRowsTotal).toBeGreaterThan(35_000);
    expect(removed + final.numRowsTotal).toBe(2 * BATCHES * ROWS);
    expect(last!.watermark).toBe(BATCHES * ROWS - 5_000 - 30_000 - 1);
  });
});

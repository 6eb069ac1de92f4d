// Notes 000, section 9 ("Duplicates"): a watermarked stream of device events is
// deduplicated on (id, ts), then counted per action in complete mode.
//   msdf.withWatermark('ts', '6 hours').dropDuplicates(['id', 'ts']).groupBy('action').count()
import { pipe } from 'rxjs';
import { withWatermark } from '../../operators/withWatermark.js';
import { dropDuplicates } from '../../operators/dropDuplicates.js';
import { groupAggregate } from '../../operators/groupAggregate.js';
import { outputMode } from '../../operators/outputMode.js';
import { count } from '../../lib/aggregate/count.js';
import { runBatches, streamTest } from '../../lib/testing/index.js';

type DeviceEvent = { id: string; action: string; ts: string };

// stream/input/f4.json of the notes (ISO timestamps without zone, read as UTC).
const f4: DeviceEvent[] = [
  { id: 'phone3', action: 'close', ts: '2018-03-02T04:07:35' },
  { id: 'phone3', action: 'close', ts: '2018-03-02T04:07:35' },
  { id: 'phone4', action: 'open', ts: '2018-03-02T05:07:50' },
];

describe('notes: deduplication with a 6-hour watermark', () => {
  it('drops the repeated phone3 event', () => {
    const [step] = runBatches(pipe(withWatermark<DeviceEvent>('ts', '6 hours'), dropDuplicates<DeviceEvent>(['id', 'ts'])), [f4]);
    expect(step!.rows).toEqual([f4[0], f4[2]]);
    expect(step!.metrics?.stateOperators?.[0]).toMatchObject({ operatorName: 'dropDuplicates', numRowsTotal: 2, numRowsDroppedByWatermark: 0 });
  });

  it('counts per action in complete mode: close 1, open 1 (Batch: 0 of the notes)', () => {
    const query = pipe(
      withWatermark<DeviceEvent>('ts', '6 hours'),
      dropDuplicates<DeviceEvent>(['id', 'ts']),
      groupAggregate({ keyBy: 'action', aggregate: { count: count() } }),
      outputMode('complete'),
    );
    streamTest(query)
      .addData(f4)
      .checkNewAnswer([{ action: 'close', count: 1 }, { action: 'open', count: 1 }])
      // The same file copied again: every row is a duplicate; complete mode repeats the table.
      .addData(f4)
      .checkNewAnswer([{ action: 'close', count: 1 }, { action: 'open', count: 1 }])
      // An event older than the watermark (05:07:50 - 6 h) is dropped as late, never counted.
      .addData([{ id: 'phone9', action: 'open', ts: '2018-03-01T22:00:00' }])
      .checkNewAnswer([{ action: 'close', count: 1 }, { action: 'open', count: 1 }])
      .checkDroppedByWatermark(1)
      .stop();
  });
});

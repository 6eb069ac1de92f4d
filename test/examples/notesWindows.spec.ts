/**
 * The worked examples of the Spark study notes (../shared/notes) reproduced
 * with this library, batch by batch, with the tables the notes print.
 *
 * - notes/000 §3 and §8: device open/close events counted per 10-, 3- and
 *   5-minute tumbling window and per 10-minute window sliding every 5 minutes
 *   (complete mode). The JSON lines are the files f1, f2 and f3 of the notes
 *   (sections 5 and 7 list them); each file is one batch.
 * - notes/003 "Time Bound Aggregations": profit summed per 5-minute window,
 *   where the late `asus` event still lands in its window.
 * - notes/003 "Use Case 2": weekly shopping totals per user. The notes do not
 *   give the query; a 7-day tumbling window per user starting on Mondays
 *   (startTime '4 days'), a 2-day watermark and update mode reproduce every
 *   output and the number of state rows after each transaction. Mismatches
 *   with the notes' prose: the notes describe the state as a per-user running
 *   total with a `lastshopped` date and say Sankar's purchase of the 20th is
 *   "moved out" after the 28th, yet still show Sankar 500 in the state; here
 *   the state is one total per (week, user), and Sankar's week [20-04, 27-04)
 *   stays until the watermark passes its end. "State 3" in the notes prints
 *   Sankar 800 where its own Output 3 says 500 (a typo there).
 */
import { pipe } from 'rxjs';
import { windowTumbling } from '../../operators/windowTumbling.js';
import { windowSliding } from '../../operators/windowSliding.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { outputMode } from '../../operators/outputMode.js';
import { count } from '../../lib/aggregate/count.js';
import { sum } from '../../lib/aggregate/sum.js';
import { runBatches, streamTest } from '../../lib/testing/index.js';

type Device = { id: string; action: 'open' | 'close'; ts: string };
const f1: Device[] = [
  { id: 'phone1', action: 'open', ts: '2018-03-02T10:02:33' },
  { id: 'phone2', action: 'open', ts: '2018-03-02T10:03:35' },
  { id: 'phone3', action: 'open', ts: '2018-03-02T10:03:50' },
  { id: 'phone1', action: 'close', ts: '2018-03-02T10:04:35' },
];
const f2: Device[] = [
  { id: 'phone3', action: 'close', ts: '2018-03-02T10:07:35' },
  { id: 'phone4', action: 'open', ts: '2018-03-02T10:07:50' },
];
const f3: Device[] = [
  { id: 'phone2', action: 'close', ts: '2018-03-02T10:04:50' },
  { id: 'phone5', action: 'open', ts: '2018-03-02T10:10:50' },
];

/** `[2018-03-02 10:00:00, 2018-03-02 10:10:00]` as the notes print a window column. */
const at = (hhmm: string, day = '2018-03-02') => Date.parse(`${day}T${hhmm}:00Z`);
const win = (from: string, to: string) => ({ start: at(from), end: at(to) });

const countsPer = (size: string) => pipe(windowTumbling<Device>()({ eventTime: 'ts', size, keyBy: 'action', aggregate: { count: count() } }), outputMode('complete'));

describe('notes/000: device events counted per window (complete mode)', () => {
  it('10-minute windows, batches 0 to 2', () => {
    const [b0, b1, b2] = runBatches(countsPer('10 minutes'), [f1, f2, f3]);
    expect(b0!.rows).toEqual(
      expect.arrayContaining([
        { window: win('10:00', '10:10'), action: 'close', count: 1 },
        { window: win('10:00', '10:10'), action: 'open', count: 3 },
      ]),
    );
    expect(b0!.rows).toHaveLength(2);
    expect(b1!.rows).toEqual(
      expect.arrayContaining([
        { window: win('10:00', '10:10'), action: 'close', count: 2 },
        { window: win('10:00', '10:10'), action: 'open', count: 4 },
      ]),
    );
    expect(b1!.rows).toHaveLength(2);
    expect(b2!.rows).toEqual(
      expect.arrayContaining([
        { window: win('10:10', '10:20'), action: 'open', count: 1 },
        { window: win('10:00', '10:10'), action: 'close', count: 3 },
        { window: win('10:00', '10:10'), action: 'open', count: 4 },
      ]),
    );
    expect(b2!.rows).toHaveLength(3);
  });

  it('3-minute windows, batches 0 to 2', () => {
    streamTest<Device, unknown>(countsPer('3 minutes'))
      .addData(f1)
      .checkNewAnswer([
        { window: win('10:00', '10:03'), action: 'open', count: 1 },
        { window: win('10:03', '10:06'), action: 'close', count: 1 },
        { window: win('10:03', '10:06'), action: 'open', count: 2 },
      ])
      .addData(f2)
      .checkNewAnswer([
        { window: win('10:00', '10:03'), action: 'open', count: 1 },
        { window: win('10:03', '10:06'), action: 'close', count: 1 },
        { window: win('10:03', '10:06'), action: 'open', count: 2 },
        { window: win('10:06', '10:09'), action: 'open', count: 1 },
        { window: win('10:06', '10:09'), action: 'close', count: 1 },
      ])
      .addData(f3)
      .checkNewAnswer([
        { window: win('10:00', '10:03'), action: 'open', count: 1 },
        { window: win('10:03', '10:06'), action: 'close', count: 2 },
        { window: win('10:09', '10:12'), action: 'open', count: 1 },
        { window: win('10:03', '10:06'), action: 'open', count: 2 },
        { window: win('10:06', '10:09'), action: 'open', count: 1 },
        { window: win('10:06', '10:09'), action: 'close', count: 1 },
      ])
      .checkStateRows(6)
      .stop();
  });

  it('5-minute windows, batch 0 (notes/000 §8 fixed window)', () => {
    streamTest<Device, unknown>(countsPer('5 minutes'))
      .addData(f1)
      .checkNewAnswer([
        { window: win('10:00', '10:05'), action: 'open', count: 3 },
        { window: win('10:00', '10:05'), action: 'close', count: 1 },
      ])
      .stop();
  });

  it('10-minute windows sliding every 5 minutes, batch 0 (notes/000 §8 sliding window)', () => {
    streamTest<Device, unknown>(pipe(windowSliding<Device>()({ eventTime: 'ts', size: '10 minutes', slide: '5 minutes', keyBy: 'action', aggregate: { count: count() } }), outputMode('complete')))
      .addData(f1)
      .checkNewAnswer([
        { window: win('10:00', '10:10'), action: 'close', count: 1 },
        { window: win('10:00', '10:10'), action: 'open', count: 3 },
        { window: win('09:55', '10:05'), action: 'close', count: 1 },
        { window: win('09:55', '10:05'), action: 'open', count: 3 },
      ])
      .stop();
  });
});

type Trade = { id: string; amount: number; type: 'buy' | 'sell'; time: string };
/** Spark's `to_timestamp(col('time'), 'dd-MM-yyyy-HH-mm')` (UTC session time zone): the event-time spec's `format`, no hand-written parser. */
const tradeTime = { field: 'time', format: 'dd-MM-yyyy-HH-mm' } as const;
/** `when(type == 'sell', -amount).otherwise(amount)`. */
const profit = (t: Trade): number => (t.type === 'sell' ? -t.amount : t.amount);
const twin = (from: string, to: string) => ({ start: at(from, '2020-04-20'), end: at(to, '2020-04-20') });

describe('notes/003: profit per 5-minute window, with a late event', () => {
  const apple: Trade = { id: 'apple', amount: 10, type: 'buy', time: '20-04-2020-10-10' };
  const shell: Trade = { id: 'shell', amount: 18, type: 'buy', time: '20-04-2020-10-12' };
  const appleSell: Trade = { id: 'apple', amount: 5, type: 'sell', time: '20-04-2020-10-22' };
  const asus: Trade = { id: 'asus', amount: 5, type: 'buy', time: '20-04-2020-10-14' };

  it('prints the notes tables batch by batch in complete mode (batch 0 ran on the empty topic)', () => {
    streamTest<Trade, unknown>(pipe(windowTumbling<Trade>()({ eventTime: tradeTime, size: '5 minute', aggregate: { profit: sum(profit) } }), outputMode('complete')))
      .addData([]) // Batch: 0 (empty topic, not printed in the notes)
      .checkNewAnswer([])
      .addData([apple]) // Batch: 1
      .checkNewAnswer([{ window: twin('10:10', '10:15'), profit: 10 }])
      .addData([shell]) // Batch: 2
      .checkNewAnswer([{ window: twin('10:10', '10:15'), profit: 28 }])
      .addData([appleSell]) // Batch: 3
      .checkNewAnswer([{ window: twin('10:10', '10:15'), profit: 28 }, { window: twin('10:20', '10:25'), profit: -5 }])
      .addData([asus]) // Batch: 4: the late asus event lands in [10:10, 10:15)
      .checkNewAnswer([{ window: twin('10:10', '10:15'), profit: 33 }, { window: twin('10:20', '10:25'), profit: -5 }])
      .stop();
  });

  it('still counts asus with a 10-minute watermark: its window ends after the watermark (update mode)', () => {
    streamTest<Trade, unknown>(pipe(withWatermark<Trade>(tradeTime, '10 minutes'), windowTumbling<Trade>()({ eventTime: tradeTime, size: '5 minutes', aggregate: { profit: sum(profit) } }), outputMode('update')))
      .addData([apple])
      .addData([shell])
      .addData([appleSell]) // watermark after: 10:12
      .checkWatermark(at('10:12', '2020-04-20'))
      .addData([asus]) // 10:14 is 2 minutes behind the max, [10:10,10:15) ends at 10:15 > 10:12
      .checkNewAnswer([{ window: twin('10:10', '10:15'), profit: 33 }])
      .checkDroppedByWatermark(0)
      .stop();
  });
});

describe('notes/003 use case 2: weekly shopping per user', () => {
  type Purchase = { user: string; shopping: number; date: string };
  /** 'dd-MM-yyyy' at midnight UTC. */
  const day = (p: Purchase): number => {
    const [dd, mm, yyyy] = p.date.split('-');
    return Date.UTC(Number(yyyy), Number(mm) - 1, Number(dd));
  };
  type Row = Purchase & { day: number };
  const row = (p: Purchase): Row => ({ ...p, day: day(p) });
  const week = (from: string, to: string) => ({ start: Date.parse(`${from}T00:00:00Z`), end: Date.parse(`${to}T00:00:00Z`) });

  it('reproduces the outputs and the state of the notes with 7-day windows starting on Mondays, a 2-day watermark, update mode', () => {
    // The epoch (1970-01-01) is a Thursday: startTime '4 days' makes weeks run Monday to Monday.
    streamTest<Row, unknown>(
      pipe(
        withWatermark<Row>('day', '2 days'),
        windowTumbling<Row>()({ eventTime: 'day', size: '7 days', startTime: '4 days', keyBy: 'user', aggregate: { total: sum('shopping') } }),
        outputMode('update'),
      ),
    )
      .addData([row({ user: 'Sankar', shopping: 200, date: '20-04-2020' })]) // Output 1; watermark after: 18-04
      .checkNewAnswer([{ window: week('2020-04-20', '2020-04-27'), user: 'Sankar', total: 200 }])
      .checkStateRows(1)
      .addData([row({ user: 'Jade', shopping: 800, date: '18-04-2020' })]) // arrives late but its week is open
      .checkNewAnswer([{ window: week('2020-04-13', '2020-04-20'), user: 'Jade', total: 800 }])
      .checkStateRows(2)
      .addData([row({ user: 'Sankar', shopping: 300, date: '25-04-2020' })]) // watermark after: 23-04: Jade's week is dropped from the state
      .checkNewAnswer([{ window: week('2020-04-20', '2020-04-27'), user: 'Sankar', total: 500 }])
      .checkStateRows(1)
      .addData([row({ user: 'Kun', shopping: 100, date: '28-04-2020' })]) // watermark after: 26-04: state holds Sankar 500 and Kun 100
      .checkNewAnswer([{ window: week('2020-04-27', '2020-05-04'), user: 'Kun', total: 100 }])
      .checkStateRows(2)
      .stop();
  });
});

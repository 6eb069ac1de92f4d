// The join walkthrough of the design notes (../shared/notes/000, section 5), batch by batch:
// device `monitor` events joined with `health` events on `id`, both with a 1-hour watermark,
// then the stream-static join against the static health table.
import { Subject } from 'rxjs';
import { toBatches } from '../../lib/batch/toBatches.js';
import type { Batch } from '../../lib/batch/Batch.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import { sameRows } from '../../lib/testing/rows.js';
import { streamJoin } from '../../operators/streamJoin.js';
import { withWatermark } from '../../operators/withWatermark.js';

interface Monitor {
  readonly id: string;
  readonly action: string;
  readonly ts: string;
}
interface Health {
  readonly id: string;
  readonly health: string;
  readonly ts: string;
}

const m = (id: string, action: string, ts: string): Monitor => ({ id, action, ts: `2018-03-02T${ts}` });
const h = (id: string, health: string, ts: string): Health => ({ id, health, ts: `2018-03-02T${ts}` });
const utc = (ts: string): number => Date.parse(`2018-03-02T${ts}Z`);

// The files the notes copy into the two input directories.
const f1 = [m('phone1', 'open', '10:02:33'), m('phone2', 'open', '10:03:35'), m('phone3', 'open', '10:03:50'), m('phone1', 'close', '10:04:35')];
const e1 = [h('phone1', 'good', '10:02:33'), h('phone2', 'good', '10:03:35'), h('phone3', 'good', '10:03:50'), h('phone1', 'bad', '11:14:35')];
const f2 = [m('phone3', 'close', '10:07:35'), m('phone4', 'open', '10:07:50')];
const f4 = [m('phone3', 'close', '04:07:35'), m('phone4', 'open', '05:07:50')];
const e2 = [h('phone4', 'good', '10:12:33')];

describe('notes 000 section 5: joins', () => {
  it('reproduces the stream-stream inner join batch by batch (unaligned, arrival order)', () => {
    const monitorFiles = new Subject<readonly Monitor[]>();
    const healthFiles = new Subject<readonly Health[]>();
    const monitor$ = monitorFiles.pipe(toBatches(), withWatermark<Monitor>('ts', '1 hours'));
    const health$ = healthFiles.pipe(toBatches(), withWatermark<Health>('ts', '1 hours'));
    const out: Batch<{ left: Monitor; right: Health }>[] = [];
    monitor$.pipe(streamJoin(health$, { on: 'id' })).subscribe((b) => out.push(b));

    // Batch 0: f1 into monitor/ (left). Nothing to join with yet; the health input has no
    // watermark yet, so the global watermark (min) stays 0.
    monitorFiles.next(f1);
    expect(out[0]!.batchId).toBe(0);
    expect(out[0]!.rows).toEqual([]);
    expect(out[0]!.watermark).toBe(0);

    // Batch 1: e1 into health/ (right). Every health row joins the buffered monitor rows.
    // Global watermark: min(10:04:35 - 1h, 11:14:35 - 1h) = 09:04:35.
    healthFiles.next(e1);
    expect(out[1]!.batchId).toBe(1);
    expect(
      sameRows(out[1]!.rows, [
        { left: m('phone3', 'open', '10:03:50'), right: h('phone3', 'good', '10:03:50') },
        { left: m('phone1', 'open', '10:02:33'), right: h('phone1', 'good', '10:02:33') },
        { left: m('phone1', 'close', '10:04:35'), right: h('phone1', 'good', '10:02:33') },
        { left: m('phone1', 'open', '10:02:33'), right: h('phone1', 'bad', '11:14:35') },
        { left: m('phone1', 'close', '10:04:35'), right: h('phone1', 'bad', '11:14:35') },
        { left: m('phone2', 'open', '10:03:35'), right: h('phone2', 'good', '10:03:35') },
      ]),
    ).toBe(true);
    expect(out[1]!.watermark).toBe(utc('09:04:35'));

    // Batch 2: f2 into monitor/. phone3 close joins the buffered phone3 health row; phone4 has
    // no partner yet and stays buffered. Watermark: min(10:07:50 - 1h, 10:14:35) = 09:07:50.
    monitorFiles.next(f2);
    expect(out[2]!.rows).toEqual([{ left: m('phone3', 'close', '10:07:35'), right: h('phone3', 'good', '10:03:50') }]);
    expect(out[2]!.watermark).toBe(utc('09:07:50'));

    // Batch 3: f4 into monitor/: both rows are older than the watermark (09:07:50): dropped as
    // late, no output, although health rows for phone3 and phone4's id exist or will come.
    monitorFiles.next(f4);
    expect(out[3]!.rows).toEqual([]);
    expect(out[3]!.metrics?.stateOperators?.[0]).toMatchObject({ numRowsDroppedByWatermark: 2, numRowsTotal: 10 });

    // Batch 4: e2 into health/. phone4 good joins the phone4 open row buffered in batch 2.
    healthFiles.next(e2);
    expect(out[4]!.batchId).toBe(4);
    expect(out[4]!.rows).toEqual([{ left: m('phone4', 'open', '10:07:50'), right: h('phone4', 'good', '10:12:33') }]);
    // An inner join without a time range keeps every row: no state watermark, nothing evicted.
    expect(out[4]!.metrics?.stateOperators?.[0]).toMatchObject({ numRowsTotal: 11, numRowsRemoved: 0 });
  });

  it('reproduces the stream-static join against the static health table', () => {
    const staticHealth = [...e1, ...e2];
    const monitor$ = fromBatches([f1, f4]).pipe(withWatermark<Monitor>('ts', '1 hours'));
    const out: Batch<{ health: Health; monitor: Monitor }>[] = [];
    // Spark's staticdf.join(msdfwm, ...): the static table's columns first.
    monitor$.pipe(streamJoin(staticHealth, { on: 'id', select: (monitor: Monitor, health: Health) => ({ health, monitor }) })).subscribe((b) => out.push(b));

    // Batch 0: f1, every monitor row against the whole table.
    expect(
      sameRows(out[0]!.rows, [
        { health: h('phone1', 'good', '10:02:33'), monitor: m('phone1', 'close', '10:04:35') },
        { health: h('phone1', 'good', '10:02:33'), monitor: m('phone1', 'open', '10:02:33') },
        { health: h('phone2', 'good', '10:03:35'), monitor: m('phone2', 'open', '10:03:35') },
        { health: h('phone3', 'good', '10:03:50'), monitor: m('phone3', 'open', '10:03:50') },
        { health: h('phone1', 'bad', '11:14:35'), monitor: m('phone1', 'close', '10:04:35') },
        { health: h('phone1', 'bad', '11:14:35'), monitor: m('phone1', 'open', '10:02:33') },
      ]),
    ).toBe(true);
    // Batch 1: f4. A stream-static join involves no watermark: the old rows join too.
    expect(
      sameRows(out[1]!.rows, [
        { health: h('phone3', 'good', '10:03:50'), monitor: m('phone3', 'close', '04:07:35') },
        { health: h('phone4', 'good', '10:12:33'), monitor: m('phone4', 'open', '05:07:50') },
      ]),
    ).toBe(true);
    expect(out).toHaveLength(2);
  });
});

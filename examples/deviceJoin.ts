// Device join: device events joined with device health
// reports on the device id, both with a 1-hour watermark, as a stream-stream
// inner join; then the same events joined with a static health table.
//
// Both kinds of event files are dropped into one directory; the pipeline
// splits each batch into the two sides, so the two inputs of the join carry
// the same batch ids (`aligned: true`), as a Spark query with two file
// sources reading in the same trigger.
//
// PySpark original:
//   msdfwm = msdf.withWatermark("ts", "1 hours"); mhdfwm = mhdf.withWatermark("ts", "1 hours")
//   joindf = msdfwm.join(mhdfwm, msdfwm['id'] == mhdfwm['id'], 'inner')
//   joindf.writeStream.format("console").option("truncate", "false").outputMode("append").start()
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { map, share, type Observable } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import { startQuery } from '../lib/query/startQuery.js';
import { toConsole } from '../lib/sinks/toConsole.js';
import { fromDirectory } from '../lib/sources/fromDirectory.js';
import { streamJoin } from '../operators/streamJoin.js';
import { withWatermark } from '../operators/withWatermark.js';
import { dropJsonLines, feedFiles } from './fileDrop.js';
import { runExample } from './runExample.js';

interface Event {
  readonly kind: string;
  readonly id: string;
  readonly action: string | null;
  readonly health: string | null;
  readonly ts: Date;
}

const monitor = (id: string, action: string, ts: string): string => JSON.stringify({ kind: 'monitor', id, action, ts });
const health = (id: string, state: string, ts: string): string => JSON.stringify({ kind: 'health', id, health: state, ts });

// The files of the notes, in the order they were copied in.
const FILES: readonly [string, readonly string[]][] = [
  ['f1', [monitor('phone1', 'open', '2018-03-02T10:02:33'), monitor('phone2', 'open', '2018-03-02T10:03:35'), monitor('phone3', 'open', '2018-03-02T10:03:50'), monitor('phone1', 'close', '2018-03-02T10:04:35')]],
  ['e1', [health('phone1', 'good', '2018-03-02T10:02:33'), health('phone2', 'good', '2018-03-02T10:03:35'), health('phone3', 'good', '2018-03-02T10:03:50'), health('phone1', 'bad', '2018-03-02T11:14:35')]],
  ['f2', [monitor('phone3', 'close', '2018-03-02T10:07:35'), monitor('phone4', 'open', '2018-03-02T10:07:50')]],
  ['f4', [monitor('phone3', 'close', '2018-03-02T04:07:35'), monitor('phone4', 'open', '2018-03-02T05:07:50')]], // behind the watermark: dropped
  ['e2', [health('phone4', 'good', '2018-03-02T10:12:33')]],
];

const side = (kind: string) => map((b: Batch<Event>): Batch<Event> => ({ ...b, rows: b.rows.filter((r) => r.kind === kind) }));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'device-join-'));
  const query = startQuery({
    name: 'deviceJoin',
    source: fromDirectory<Event>(dir, { schema: { kind: 'string', id: 'string', action: 'string', health: 'string', ts: 'timestamp' } }),
    pipeline: (events$: Observable<Batch<Event>>) => {
      const shared$ = events$.pipe(share());
      const health$ = shared$.pipe(side('health'), withWatermark('ts', '1 hour'));
      return shared$.pipe(
        side('monitor'),
        withWatermark('ts', '1 hour'),
        streamJoin(health$, {
          on: 'id',
          aligned: true,
          select: (m, h) => ({ id: m.id, action: m.action, ts: m.ts, health: h.health, healthTs: h.ts }),
        }),
      );
    },
    sink: toConsole({ truncate: false, columns: ['id', 'action', 'ts', 'health', 'healthTs'] }),
  });
  await query.ready;
  await feedFiles(query, dir, FILES);
  await query.stop();

  // Stream-static: the health table read once, joined with every batch of the stream.
  console.log('Stream-static join with the health table:\n');
  const table = [
    { id: 'phone1', health: 'good' },
    { id: 'phone2', health: 'good' },
    { id: 'phone3', health: 'good' },
    { id: 'phone1', health: 'bad' },
    { id: 'phone4', health: 'good' },
  ];
  rmSync(dir, { recursive: true, force: true });
  const dir2 = mkdtempSync(join(tmpdir(), 'device-join-static-'));
  const staticQuery = startQuery({
    source: fromDirectory<Event>(dir2, { schema: { kind: 'string', id: 'string', action: 'string', ts: 'timestamp' } }),
    pipeline: (events$: Observable<Batch<Event>>) =>
      events$.pipe(streamJoin(table, { on: 'id', select: (m: Event, h: { id: string; health: string }) => ({ id: h.id, health: h.health, action: m.action, ts: m.ts }) })),
    sink: toConsole({ truncate: false }),
  });
  await staticQuery.ready;
  dropJsonLines(dir2, 'f1.json', FILES[0]![1]);
  await staticQuery.processAllAvailable();
  await staticQuery.stop();
  rmSync(dir2, { recursive: true, force: true });
}

runExample(main);

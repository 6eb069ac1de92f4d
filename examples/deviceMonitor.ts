// `npm start`: a device monitor (a classic first Structured Streaming job),
// end to end with no external service. JSON files of open/close events are
// dropped into a temporary directory over time; the query reads each new file
// as a batch, puts a 10-minute watermark on the event time, counts events per
// 10-minute window and action, and prints every batch with the console sink
// (Spark's layout) plus a progress line. It stops by itself.
//
// PySpark original:
//   msdf = spark.readStream.schema(mbscm).json('.../monitor/')
//   gbmsdf = msdf.withWatermark('ts', '10 minutes').groupBy(window(msdf['ts'], '10 minutes'), 'action').count()
//   gbmsdf.writeStream.format("console").option("truncate", "false").outputMode("complete").start()
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// (Imported file by file; an application imports the same names from 'rxjs-structured-streaming'.)
import { count } from '../lib/aggregate/count.js';
import { formatProgressLine } from '../lib/query/progress.js';
import { startQuery } from '../lib/query/startQuery.js';
import { toConsole } from '../lib/sinks/toConsole.js';
import { fromDirectory } from '../lib/sources/fromDirectory.js';
import { outputMode } from '../operators/outputMode.js';
import { windowTumbling } from '../operators/windowTumbling.js';
import { withWatermark } from '../operators/withWatermark.js';
import { dropJsonLines } from './fileDrop.js';
import { runExample } from './runExample.js';

interface DeviceEvent {
  readonly id: string;
  readonly action: string;
  readonly ts: Date;
}

// The files of the notes: f1 and f2 (sections 3 and 5), f3 (section 7).
const FILES: readonly (readonly string[])[] = [
  [
    '{"id":"phone1","action":"open","ts":"2018-03-02T10:02:33"}',
    '{"id":"phone2","action":"open","ts":"2018-03-02T10:03:35"}',
    '{"id":"phone3","action":"open","ts":"2018-03-02T10:03:50"}',
    '{"id":"phone1","action":"close","ts":"2018-03-02T10:04:35"}',
  ],
  ['{"id":"phone3","action":"close","ts":"2018-03-02T10:07:35"}', '{"id":"phone4","action":"open","ts":"2018-03-02T10:07:50"}'],
  ['{"id":"phone2","action":"close","ts":"2018-03-02T10:04:50"}', '{"id":"phone5","action":"open","ts":"2018-03-02T10:10:50"}'],
];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const monitor = mkdtempSync(join(tmpdir(), 'device-monitor-'));
  console.log(`Watching ${monitor} for JSON files of device events.\n`);

  const query = startQuery({
    name: 'deviceMonitor',
    source: fromDirectory<DeviceEvent>(monitor, { format: 'json', schema: { id: 'string', action: 'string', ts: 'timestamp' } }),
    pipeline: (events$) =>
      events$.pipe(
        withWatermark('ts', '10 minutes'),
        windowTumbling({ eventTime: 'ts', size: '10 minutes', keyBy: 'action', aggregate: { count: count() } }),
        outputMode('complete'),
      ),
    sink: toConsole({ truncate: false }),
  });
  query.progress$.subscribe((progress) => console.log(`progress: ${formatProgressLine(progress)}\n`));

  await query.ready;
  for (const [i, lines] of FILES.entries()) {
    // Written under a temporary name, then renamed into place: the source only reads complete files.
    dropJsonLines(monitor, `f${i + 1}.json`, lines);
    await query.processAllAvailable();
    await sleep(200);
  }

  console.log('status:', JSON.stringify(query.status));
  const last = query.lastProgress;
  if (last !== undefined) {
    console.log('lastProgress:', JSON.stringify({ batchId: last.batchId, numInputRows: last.numInputRows, durationMs: last.durationMs, eventTime: last.eventTime, stateOperators: last.stateOperators, sources: last.sources, sink: last.sink }));
  }
  await query.stop();
  console.log('status after stop:', JSON.stringify(query.status));
  rmSync(monitor, { recursive: true, force: true });
}

runExample(main);

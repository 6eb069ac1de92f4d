// Streaming deduplication with a watermark: events are
// deduplicated on (id, ts) with a 6-hour watermark, so the dedup state of a
// key is dropped once the watermark passes its ts, then counted per action in
// complete mode.
//
// PySpark original:
//   msdfwm = msdf.withWatermark('ts', '6 hours').dropDuplicates(['id', 'ts'])
//   gbmsdf = msdfwm.groupBy('action').count()
//   gbmsdf.writeStream.format("console").option("truncate", "false").outputMode("complete").start()
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { count } from '../lib/aggregate/count.js';
import { formatProgressLine } from '../lib/query/progress.js';
import { startQuery } from '../lib/query/startQuery.js';
import { toConsole } from '../lib/sinks/toConsole.js';
import { fromDirectory } from '../lib/sources/fromDirectory.js';
import { dropDuplicates } from '../operators/dropDuplicates.js';
import { groupAggregate } from '../operators/groupAggregate.js';
import { outputMode } from '../operators/outputMode.js';
import { withWatermark } from '../operators/withWatermark.js';
import { feedFiles } from './fileDrop.js';
import { runExample } from './runExample.js';

interface DeviceEvent {
  readonly id: string;
  readonly action: string;
  readonly ts: Date;
}

const FILES: readonly [string, readonly string[]][] = [
  // f4 of the notes: phone3's close event is there twice.
  ['f4', ['{"id":"phone3","action":"close","ts":"2018-03-02T04:07:35"}', '{"id":"phone3","action":"close","ts":"2018-03-02T04:07:35"}', '{"id":"phone4","action":"open","ts":"2018-03-02T05:07:50"}']],
  // The same phone4 event again (a duplicate across batches), and a new one.
  ['f5', ['{"id":"phone4","action":"open","ts":"2018-03-02T05:07:50"}', '{"id":"phone5","action":"open","ts":"2018-03-02T10:10:50"}']],
];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dedup-'));
  const query = startQuery({
    name: 'dedupWatermark',
    source: fromDirectory<DeviceEvent>(dir, { schema: { id: 'string', action: 'string', ts: 'timestamp' } }),
    pipeline: (events$) =>
      events$.pipe(withWatermark('ts', '6 hours'), dropDuplicates(['id', 'ts']), groupAggregate({ keyBy: 'action', aggregate: { count: count() } }), outputMode('complete')),
    sink: toConsole({ truncate: false }),
  });
  query.progress$.subscribe((p) => console.log(`progress: ${formatProgressLine(p)}\n`));
  await query.ready;
  await feedFiles(query, dir, FILES);
  await query.stop();
  rmSync(dir, { recursive: true, force: true });
}

runExample(main);

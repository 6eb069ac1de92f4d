// `npm start`: a device monitor (a classic first Structured Streaming job),
// end to end with no external service. JSON files of open/close events are
// dropped into a temporary directory over time; the query reads each new file
// as a batch, puts a 10-minute watermark on the event time, counts events per
// 10-minute window and action, and prints every batch with the console sink
// (Spark's layout) plus a progress line. It stops by itself.
//
// It also serves the live progress page (Spark UI's Structured Streaming tab)
// and prints its URL. With `npm start -- --serve` the demo keeps going: after
// the notes' files it drops a new file of events every second and keeps the
// page up until Ctrl-C. Environment: RSS_PROGRESS_PORT (default: a free
// port), DEVICE_MONITOR_DIR (the directory to watch; default: a new
// temporary one). A failed query makes it exit with code 1.
//
// PySpark original:
//   msdf = spark.readStream.schema(mbscm).json('.../monitor/')
//   gbmsdf = msdf.withWatermark('ts', '10 minutes').groupBy(window(msdf['ts'], '10 minutes'), 'action').count()
//   gbmsdf.writeStream.format("console").option("truncate", "false").outputMode("complete").start()
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// (Imported file by file; an application imports the same names from 'rxjs-structured-streaming'.)
import { formatProgressLine } from '../lib/query/progress.js';
import { serveProgress } from '../lib/ui/serveProgress.js';
import { FILES, startDeviceMonitor } from './deviceMonitorQuery.js';
import { dropJsonLines } from './fileDrop.js';
import { runExample } from './runExample.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** More events for `--serve`: file n holds a few opens and closes one minute of event time after file n - 1. */
function generatedFile(n: number): string[] {
  const base = Date.UTC(2018, 2, 2, 10, 11, 0) + n * 60_000;
  const lines: string[] = [];
  for (let i = 0; i < 2 + (n % 4); i++) {
    const ts = new Date(base + i * 7_000).toISOString().slice(0, 19);
    lines.push(JSON.stringify({ id: `phone${(n + i) % 9}`, action: (n + i) % 3 === 0 ? 'close' : 'open', ts }));
  }
  return lines;
}

async function main(): Promise<void> {
  const serve = process.argv.includes('--serve');
  const given = process.env.DEVICE_MONITOR_DIR;
  const monitor = given ?? mkdtempSync(join(tmpdir(), 'device-monitor-'));
  console.log(`Watching ${monitor} for JSON files of device events.\n`);

  const query = startDeviceMonitor(monitor);
  query.progress$.subscribe((progress) => console.log(`progress: ${formatProgressLine(progress)}\n`));
  const page = await serveProgress(query, { port: Number(process.env.RSS_PROGRESS_PORT ?? 0) });
  console.log(`Progress page: ${page.url}${serve ? '' : ' (while the demo runs; npm start -- --serve keeps it going)'}\n`);

  try {
    await query.ready;
    await query.processAllAvailable(); // the query's first look at the directory (a missing one fails the query here)
    for (const [i, lines] of FILES.entries()) {
      // Written under a temporary name, then renamed into place: the source only reads complete files.
      dropJsonLines(monitor, `f${i + 1}.json`, lines);
      await query.processAllAvailable();
      await sleep(serve ? 2_000 : 200);
    }
    if (serve) {
      console.log(`Dropping a file every second; the progress page is at ${page.url}. Press Ctrl-C to stop.\n`);
      let interrupted = false;
      process.once('SIGINT', () => (interrupted = true));
      for (let n = 0; !interrupted; n++) {
        dropJsonLines(monitor, `g${n}.json`, generatedFile(n));
        await query.processAllAvailable();
        await sleep(1_000);
      }
    }

    console.log('status:', JSON.stringify(query.status));
    const last = query.lastProgress;
    if (last !== undefined) {
      console.log('lastProgress:', JSON.stringify({ batchId: last.batchId, numInputRows: last.numInputRows, durationMs: last.durationMs, eventTime: last.eventTime, stateOperators: last.stateOperators, sources: last.sources, sink: last.sink }));
    }
    await query.stop();
    console.log('status after stop:', JSON.stringify(query.status));
  } finally {
    await page.close();
    if (given === undefined) rmSync(monitor, { recursive: true, force: true });
  }
}

runExample(main);

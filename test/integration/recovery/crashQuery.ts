/**
 * The query the crash test kills: file source → withWatermark → dropDuplicates
 * → tumbling-window aggregation (append) → file sink, with a checkpoint.
 * (dropDuplicates comes before the aggregation: after one, Spark and this
 * library reject it.) Run as
 * a child process by `crashHarness.ts` (through tsx):
 *
 *   tsx crashQuery.ts <inputDir> <outputDir> <checkpointDir>
 *
 * `RSS_CRASH_AT=<point>:<n>` makes the process SIGKILL itself at the first
 * `<point>` of a batch with id >= n. Points: `batch-start`, `batch-end` (in
 * the pipeline), `sink-done` (the sink finished, the commit not yet written),
 * and `<file>-<step>` for every checkpoint file write, where `<file>` is
 * `offsets`, `delta`, `snapshot` or `commit` and `<step>` is `open`,
 * `partial`, `synced` or `renamed` (see `WritePhase`). It prints
 * `batch <id>` to stdout when a batch starts, for kills timed by the parent.
 */
import { join } from 'node:path';
import { tap, type MonoTypeOperatorFunction, type Observable } from 'rxjs';
import { streamJoin } from '../../../operators/streamJoin.js';
import type { Batch } from '../../../lib/batch/Batch.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import type { WritePhase } from '../../../lib/checkpoint/atomicWrite.js';
import { count } from '../../../lib/aggregate/count.js';
import { sum } from '../../../lib/aggregate/sum.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { fromDirectory } from '../../../lib/sources/fromDirectory.js';
import { toFiles } from '../../../lib/sinks/toFiles.js';
import type { Sink } from '../../../lib/sinks/Sink.js';
import { dropDuplicates } from '../../../operators/dropDuplicates.js';
import { outputMode } from '../../../operators/outputMode.js';
import { windowTumbling } from '../../../operators/windowTumbling.js';
import { withWatermark } from '../../../operators/withWatermark.js';

interface Reading {
  readonly device: string;
  readonly ts: number;
  readonly v: number;
}

const [input, output, checkpointDir] = process.argv.slice(2);
if (input === undefined || output === undefined || checkpointDir === undefined) {
  console.error('usage: crashQuery.ts <inputDir> <outputDir> <checkpointDir>');
  process.exit(2);
}

const crashSpec = /^([a-z-]+):(\d+)$/.exec(process.env['RSS_CRASH_AT'] ?? '');
const crashPoint = crashSpec?.[1];
const crashFrom = Number(crashSpec?.[2] ?? 0);

function point(name: string, batchId: number): void {
  if (name === crashPoint && batchId >= crashFrom) process.kill(process.pid, 'SIGKILL');
}

function onWritePhase(phase: WritePhase, path: string): void {
  const match = /^(offsets|commits)\/(\d+)$/.exec(path) ?? /^state\/[^/]+\/(\d+)\.(delta|snapshot)$/.exec(path);
  if (match === null) return;
  const [file, batchId] = match[1] === 'offsets' || match[1] === 'commits' ? [match[1] === 'commits' ? 'commit' : 'offsets', Number(match[2])] : [match[2]!, Number(match[1])];
  point(`${file}-${phase}`, batchId);
}

/** A hook in the pipeline; it keeps the plan of its source so that the operators after it validate as usual. */
function at<T>(name: 'batch-start' | 'batch-end'): MonoTypeOperatorFunction<Batch<T>> {
  // A plain RxJS tap: the pipeline information travels with the batches and through the tap's source link.
  return (source) =>
    source.pipe(
      tap((batch) => {
        if (name === 'batch-start') process.stdout.write(`batch ${batch.batchId}\n`);
        point(name, batch.batchId);
      }),
    );
}

const files = toFiles<Record<string, unknown>>(output, { format: 'json' });
const sink: Sink<Record<string, unknown>> = {
  description: files.description,
  supportedModes: files.supportedModes,
  idempotent: files.idempotent,
  ...(files.start === undefined ? {} : { start: (context) => files.start!(context) }),
  ...(files.stop === undefined ? {} : { stop: () => files.stop!() }),
  addBatch: async (batchId, rows) => {
    await files.addBatch(batchId, rows);
    point('sink-done', batchId);
  },
};

/** The two-source query (RSS_TWO_SOURCES=1): readings of input/left and input/right, joined per device within 2 s, counted per 10 s window. */
function twoSourceQuery() {
  return startQuery({
    name: 'crash-test-two-sources',
    sources: {
      left: fromDirectory<Reading>(join(input!, 'left'), { format: 'json', maxFilesPerTrigger: 1, watch: false }),
      right: fromDirectory<Reading>(join(input!, 'right'), { format: 'json', maxFilesPerTrigger: 1, watch: false }),
    },
    pipeline: ({ left, right }) =>
      left.pipe(
        at('batch-start'),
        withWatermark<Reading>('ts', '5 seconds'),
        streamJoin(right.pipe(withWatermark<Reading>('ts', '5 seconds')), { on: 'device', timeRange: { leftTime: 'ts', rightTime: 'ts', lower: '-2 seconds', upper: '2 seconds' } }),
        windowTumbling({ eventTime: 'left.ts', size: '10 seconds', keyBy: 'left.device', aggregate: { pairs: count() } }),
        outputMode('append'),
        at('batch-end'),
      ) as Observable<Batch<Record<string, unknown>>>,
    sink,
    trigger: { availableNow: true },
    checkpoint: openCheckpoint(checkpointDir!, { snapshotInterval: 4, snapshotDeltaRatio: 0, minBatchesToRetain: 8, onWritePhase }),
  });
}

const query = process.env['RSS_TWO_SOURCES'] === '1' ? twoSourceQuery() : startQuery<Reading, Record<string, unknown>>({
  name: 'crash-test',
  source: fromDirectory<Reading>(input, { format: 'json', maxFilesPerTrigger: 1, watch: false }),
  pipeline: (batches$) =>
    batches$.pipe(
      at('batch-start'),
      withWatermark<Reading>('ts', '5 seconds'),
      dropDuplicates<Reading>(['device', 'ts']),
      windowTumbling({ eventTime: 'ts', size: '10 seconds', keyBy: 'device', aggregate: { n: count(), total: sum('v') } }),
      outputMode('append'),
      at('batch-end'),
    ),
  sink,
  trigger: { availableNow: true },
  checkpoint: openCheckpoint(checkpointDir, { snapshotInterval: 4, snapshotDeltaRatio: 0, minBatchesToRetain: 8, onWritePhase }),
});

query
  .awaitTermination()
  .then(() => {
    const failure = query.exception;
    if (failure !== undefined && failure !== null) {
      console.error(failure);
      process.exit(1);
    }
    process.exit(0);
  })
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });

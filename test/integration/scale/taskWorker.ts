// One process of a per-partition query, started by scaleOut.spec.ts as a child
// process (node --import tsx). Configuration comes as one JSON argument; every
// task event and every committed batch is printed as a JSON line on stdout,
// which the test reads to know how far each task has got. SIGTERM stops the
// query cleanly (its tasks finish their batch in flight and the process leaves
// the group).
//
// `mode: 'single'` runs the same pipeline as one ordinary query (no tasks, one
// global watermark) over everything the topic holds (`availableNow`) and
// exits: the single-process run the scenarios compare with.
//
// `hang` makes the process stop inside a batch's sink write and say so
// (`{"event":"hang"}`), for the test to SIGKILL it there: `beforeWrite` after
// the batch was planned (offsets/N written) and computed, before the sink got
// it; `afterWrite` after the sink wrote the batch, before commits/N.
import { join } from 'node:path';
import type { Observable } from 'rxjs';
import type { Batch } from '../../../lib/batch/Batch.js';
import { count } from '../../../lib/aggregate/count.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import type { Sink } from '../../../lib/sinks/Sink.js';
import { toFiles } from '../../../lib/sinks/toFiles.js';
import { toKafka } from '../../../lib/sinks/toKafka.js';
import { fromKafka, type KafkaRow } from '../../../lib/sources/fromKafka.js';
import { mapRows, outputMode, windowTumbling, withWatermark } from '../../../operators/index.js';

interface WorkerConfig {
  readonly brokers: string;
  readonly topic: string;
  readonly groupId: string;
  readonly checkpointLocation: string;
  readonly output: string;
  readonly sessionTimeout: number;
  readonly maxOffsetsPerTrigger?: number;
  readonly mode?: 'tasks' | 'single';
  /** Write to this Kafka topic with toKafka instead of files under `output`. */
  readonly outputTopic?: string;
  readonly startingOffsets?: 'earliest' | 'latest';
  readonly initialOffsets?: 'startingOffsets' | 'group';
  /** Stop inside the `nth` (1-based) sink write that has rows (of a window starting at `minWindowStart` or later, when given), of any task. */
  readonly hang?: { readonly nth: number; readonly at: 'beforeWrite' | 'afterWrite'; readonly minWindowStart?: number };
}

interface WindowRow {
  readonly window: { readonly start: number; readonly end: number };
  readonly k: string;
  readonly n: number;
}

const config = JSON.parse(process.argv[2]!) as WorkerConfig;
const say = (line: object): void => void process.stdout.write(`${JSON.stringify({ pid: process.pid, ...line })}\n`);

let writesWithRows = 0;
/** The sink, wrapped so that the process can stop inside a write (every other member is the sink's own). */
function hanging(sink: Sink<WindowRow>, task: string): Sink<WindowRow> {
  const hang = config.hang;
  if (hang === undefined) return sink;
  const addBatch = async (batchId: number, rows: readonly WindowRow[], ...rest: unknown[]): Promise<void> => {
    const counts = rows.some((row) => row.window.start >= (hang.minWindowStart ?? 0));
    const stop = counts && ++writesWithRows === hang.nth;
    if (stop && hang.at === 'beforeWrite') {
      say({ event: 'hang', task, batchId, at: hang.at, rows: rows.length });
      await new Promise<never>(() => undefined);
    }
    await (sink.addBatch as (...args: unknown[]) => Promise<void>).call(sink, batchId, rows, ...rest);
    if (stop) {
      say({ event: 'hang', task, batchId, at: hang.at, rows: rows.length });
      await new Promise<never>(() => undefined);
    }
  };
  return new Proxy(sink, { get: (target, prop, receiver) => (prop === 'addBatch' ? addBatch : Reflect.get(target, prop, receiver)) });
}

function sinkFor(task: string): Sink<WindowRow> {
  const sink: Sink<WindowRow> =
    config.outputTopic === undefined
      ? toFiles<WindowRow>(join(config.output, task), { fsync: false })
      : // A plain producer: mokapi 0.52 refuses kafkajs's idempotent record batches of several records after a producer's
        // first batch (OUT_OF_ORDER_SEQUENCE_NUMBER; see test/integration/kafka/toKafka.spec.ts). The batch markers, not
        // the idempotent producer, are what make the sink exactly once across owners.
        toKafka<WindowRow>({ brokers: config.brokers, topic: config.outputTopic, key: (row) => row.k, value: (row) => JSON.stringify(row), idempotentProducer: false });
  return hanging(sink, task);
}

const source = fromKafka({
  brokers: config.brokers,
  topic: config.topic,
  groupId: config.groupId,
  startingOffsets: config.startingOffsets ?? 'earliest',
  keyFormat: 'string',
  valueFormat: 'json',
  ...(config.maxOffsetsPerTrigger === undefined ? {} : { maxOffsetsPerTrigger: config.maxOffsetsPerTrigger }),
  group: { sessionTimeout: config.sessionTimeout, heartbeatInterval: 200, rebalanceTimeout: config.sessionTimeout },
});
const pipeline = (batches$: Observable<Batch<KafkaRow<string, unknown>>>): Observable<Batch<WindowRow>> =>
  batches$.pipe(
    mapRows((row: KafkaRow<string, unknown>) => ({ k: row.key ?? '', ts: (row.value as { ts: number }).ts })),
    withWatermark('ts', '1 second'),
    windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'k', aggregate: { n: count() } }),
    outputMode('append'),
  );

if (config.mode === 'single') {
  const query = startQuery<KafkaRow<string, unknown>, WindowRow>({
    name: 'single',
    source,
    pipeline,
    sink: sinkFor('single'),
    checkpointLocation: config.checkpointLocation,
    trigger: { availableNow: true },
  });
  void query.awaitTermination().then(
    () => {
      say({ event: 'stopped' });
      process.exit(0);
    },
    (error: unknown) => {
      say({ event: 'error', error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      process.exit(3);
    },
  );
} else {
  const query = startQuery<KafkaRow<string, unknown>, WindowRow>({
    tasks: 'perPartition',
    name: 'scale',
    source,
    pipeline,
    sink: (task) => sinkFor(task.id),
    checkpointLocation: config.checkpointLocation,
    checkpointOptions: { fsync: false },
    pollInterval: 50,
    retry: { retries: 20, initialRetryTimeMs: 50, maxRetryTimeMs: 1000 },
    ...(config.initialOffsets === undefined ? {} : { initialOffsets: config.initialOffsets }),
  });

  query.events$.subscribe((event) => say({ event: event.type, task: event.task.id, epoch: event.task.epoch, ...(event.error === undefined ? {} : { error: event.error.message }) }));
  query.progress$.subscribe((progress) => {
    const name = progress.name ?? '';
    say({ event: 'batch', task: name.slice(name.lastIndexOf('/') + 1), batchId: progress.batchId, end: progress.sources[0]?.endOffset, rows: progress.numInputRows });
  });
  query.ready.then(
    () => say({ event: 'ready', owner: query.owner }),
    (error: unknown) => {
      say({ event: 'error', error: String(error) });
      process.exit(2);
    },
  );
  void query.awaitTermination().then(
    () => say({ event: 'stopped' }),
    (error: unknown) => {
      say({ event: 'error', error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      process.exit(3);
    },
  );
  process.on('SIGTERM', () => {
    void query.stop().then(() => process.exit(0));
  });
}

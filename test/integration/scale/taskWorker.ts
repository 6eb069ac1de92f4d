// One process of a per-partition query, started by scaleOut.spec.ts as a child
// process (through tsx). Configuration comes as one JSON argument; every task
// event and every committed batch is printed as a JSON line on stdout, which
// the test reads to know how far each task has got. SIGTERM stops the query
// cleanly (its tasks finish their batch in flight and the process leaves the group).
import { join } from 'node:path';
import { count } from '../../../lib/aggregate/count.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { toFiles } from '../../../lib/sinks/toFiles.js';
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
}

const config = JSON.parse(process.argv[2]!) as WorkerConfig;
const say = (line: object): void => void process.stdout.write(`${JSON.stringify({ pid: process.pid, ...line })}\n`);

const query = startQuery({
  tasks: 'perPartition',
  name: 'scale',
  source: fromKafka({
    brokers: config.brokers,
    topic: config.topic,
    groupId: config.groupId,
    startingOffsets: 'earliest',
    keyFormat: 'string',
    valueFormat: 'json',
    ...(config.maxOffsetsPerTrigger === undefined ? {} : { maxOffsetsPerTrigger: config.maxOffsetsPerTrigger }),
    group: { sessionTimeout: config.sessionTimeout, heartbeatInterval: 200, rebalanceTimeout: config.sessionTimeout },
  }),
  pipeline: (batches$) =>
    batches$.pipe(
      mapRows((row: KafkaRow<string, unknown>) => ({ k: row.key ?? '', ts: (row.value as { ts: number }).ts })),
      withWatermark('ts', '1 second'),
      windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'k', aggregate: { n: count() } }),
      outputMode('append'),
    ),
  sink: (task) => toFiles(join(config.output, task.id), { fsync: false }),
  checkpointLocation: config.checkpointLocation,
  checkpointOptions: { fsync: false },
  pollInterval: 50,
  retry: { retries: 20, initialRetryTimeMs: 50, maxRetryTimeMs: 1000 },
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

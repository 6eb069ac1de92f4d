/**
 * A child process for the one-writer-per-checkpoint tests: runs a windowed
 * query over a directory with the default trigger (it never ends by itself)
 * and prints `ready` once it processed what is there. On SIGTERM it stops the
 * query gracefully and exits 0. If the checkpoint is held by another process
 * it prints the error as JSON and exits 3. Bundled by `restartMatrix.ts`:
 *
 *   node lockHolderChild.cjs <input> <output> <checkpoint>
 */
import { count } from '../../../lib/aggregate/count.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import { CheckpointLockedError } from '../../../lib/errors/index.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { toFiles } from '../../../lib/sinks/toFiles.js';
import { fromDirectory } from '../../../lib/sources/fromDirectory.js';
import { outputMode } from '../../../operators/outputMode.js';
import { windowTumbling } from '../../../operators/windowTumbling.js';
import { withWatermark } from '../../../operators/withWatermark.js';

const [input, output, checkpoint] = process.argv.slice(2);
if (input === undefined || output === undefined || checkpoint === undefined) {
  console.error('usage: lockHolderChild <input> <output> <checkpoint>');
  process.exit(2);
}

interface Reading {
  readonly k: string;
  readonly ts: number;
}

const query = startQuery<Reading, unknown>({
  source: fromDirectory<Reading>(input, { format: 'json', watch: false }),
  pipeline: (b$) => b$.pipe(withWatermark<Reading>('ts', '2 seconds'), windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'k', aggregate: { n: count() } }), outputMode('append')),
  sink: toFiles(output, { format: 'json', fsync: false }),
  checkpoint: openCheckpoint(checkpoint, { fsync: false }),
});

process.on('SIGTERM', () => {
  void query.stop().then(() => process.exit(0));
});

query.ready.then(
  async () => {
    await query.processAllAvailable();
    process.stdout.write('ready\n');
  },
  (error: unknown) => {
    if (error instanceof CheckpointLockedError) {
      process.stdout.write(`${JSON.stringify({ name: error.name, holder: error.holder, message: error.message })}\n`);
      process.exit(3);
    }
    console.error(error);
    process.exit(1);
  },
);

/**
 * A child process of the restart-equivalence matrix: runs one scenario of
 * `restartScenarios.ts` from its checkpoint and SIGKILLs itself at the first
 * `<point>` of a batch with id >= n (`RSS_CRASH_AT=<point>:<n>`; points as in
 * `crashQuery.ts`). Run (bundled by `restartMatrix.ts`) as
 *
 *   node child.cjs <scenario> <input> <output> <checkpoint> <snapshotInterval>
 */
import { runScenario, scenario } from './restartScenarios.js';

const [name, input, output, checkpoint, interval] = process.argv.slice(2);
if (name === undefined || input === undefined || output === undefined || checkpoint === undefined || interval === undefined) {
  console.error('usage: restartChild <scenario> <input> <output> <checkpoint> <snapshotInterval>');
  process.exit(2);
}
const crash = /^([a-z-]+):(\d+)$/.exec(process.env['RSS_CRASH_AT'] ?? '');
const crashPoint = crash?.[1];
const crashFrom = Number(crash?.[2] ?? 0);

runScenario(scenario(name), { input, output, checkpoint }, {
  snapshotInterval: Number(interval),
  onPoint: (point, batchId) => {
    if (point === crashPoint && batchId >= crashFrom) process.kill(process.pid, 'SIGKILL');
  },
}).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

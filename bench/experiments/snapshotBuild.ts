// How long a snapshot of a 1M-key groupAggregate state takes to build, on a checkpoint that
// `bench/checkpoint.ts` left behind (the first full delta and --versions deltas of 10,000 keys
// each, no snapshot): `snapshotSteps` on this thread (the merge, framed, as the snapshot worker
// runs it, without the write), then the worker thread itself (build, write, fsync), each for
// versions 9, 19, 29, 39 in turn, the later ones over the cached one before.
//   rm -rf /tmp/ck && node --import tsx bench/checkpoint.ts --role query --dir /tmp/ck --batches 40 --snapshot-interval 1000
//   npx tsx bench/experiments/snapshotBuild.ts /tmp/ck
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { crc32 } from 'node:zlib';
import { WorkerSnapshotBuilder } from '../../lib/checkpoint/snapshotWorker.js';
import { snapshotSteps, type CachedSnapshot } from '../../lib/checkpoint/stateColumns.js';

const root: string =
  process.argv[2] ??
  ((): never => {
    throw new Error('usage: npx tsx bench/experiments/snapshotBuild.ts <checkpoint dir>');
  })();
const OPERATOR = 'groupAggregate#0';
const DIR = 'state/groupAggregate%230';
const VERSIONS = [9, 19, 29, 39];
const removeSnapshots = (): void => {
  for (const name of readdirSync(join(root, DIR))) if (name.endsWith('.snapshot')) rmSync(join(root, DIR, name));
};

async function main(): Promise<void> {
  removeSnapshots();
  let cached: CachedSnapshot | undefined;
  for (const version of VERSIONS) {
    const t0 = performance.now();
    const run = snapshotSteps(OPERATOR, DIR, version, cached, (data, previous) => crc32(data, previous));
    let step = run.next();
    while (!step.done) {
      let bytes: Uint8Array | undefined;
      try {
        bytes = readFileSync(join(root, step.value));
      } catch {
        bytes = undefined;
      }
      step = run.next(bytes);
    }
    cached = step.value.cached;
    console.log(`this thread, version ${version}: ${(performance.now() - t0).toFixed(0)} ms (${step.value.framed.length} bytes, not written)`);
  }
  const builder = new WorkerSnapshotBuilder({ root, fsync: true });
  for (const version of VERSIONS) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await builder.build(OPERATOR, DIR, version);
    const cpu = process.cpuUsage(c0);
    console.log(`worker, version ${version}: ${(performance.now() - t0).toFixed(0)} ms, CPU of all threads ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms (written, fsync)`);
  }
  await builder.close();
  removeSnapshots();
}

void main();

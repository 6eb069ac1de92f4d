/**
 * The crash experiment of test/integration/recovery/crash.spec.ts at a larger
 * scale: SIGKILL the query at many points (default 200) and restart it from
 * its checkpoint each time, then compare its output with an uninterrupted run.
 *
 *   npx tsx scripts/crash.ts [--kills 200] [--files 150] [--seed 1] [--timed 0.3] [--dir /tmp/crash]
 *
 * Exits 1 when the outputs differ. Not part of `npm test`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crashRun } from '../test/integration/recovery/crashHarness.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const kills = Number(arg('kills') ?? 200);
  const files = Number(arg('files') ?? 150);
  const seed = Number(arg('seed') ?? 1);
  const timedShare = Number(arg('timed') ?? 0.3);
  const given = arg('dir');
  const workDir = given ?? mkdtempSync(join(tmpdir(), 'rss-crash-'));
  const started = process.hrtime.bigint();
  const kinds = new Map<string, number>();
  const result = await crashRun({
    workDir,
    kills,
    files,
    seed,
    timedShare,
    onRun: (run, i) => {
      const what = run.kill === undefined ? 'final run' : `${run.kill.kind}:${run.kill.batchId}`;
      if (run.kill !== undefined && run.signal === 'SIGKILL') kinds.set(run.kill.kind, (kinds.get(run.kill.kind) ?? 0) + 1);
      process.stdout.write(`run ${String(i + 1).padStart(3)}  ${what.padEnd(22)} ${run.signal ?? `exit ${run.code}`}  last batch started ${run.lastBatch}\n`);
    },
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const same = JSON.stringify([...result.actual]) === JSON.stringify([...result.expected]);
  const sameManifest = JSON.stringify([...result.actualManifest]) === JSON.stringify([...result.expectedManifest]);
  console.log(`\n${kills} kill points over ${files} batches (seed ${seed}): ${result.killed} kills landed, ${result.missed} came after the end; ${seconds.toFixed(1)} s`);
  console.log(`kills by point: ${[...kinds].sort().map(([k, n]) => `${k} ${n}`).join(', ')}`);
  console.log(`output files: ${result.actual.size} (uninterrupted run: ${result.expected.size}); identical: ${same}; manifest identical: ${sameManifest}`);
  console.log(`files a plain reader saw after a kill that differ from the final ones: ${result.inconsistentAfterKill.length}`);
  if (given === undefined) rmSync(workDir, { recursive: true, force: true });
  if (!same || !sameManifest || result.inconsistentAfterKill.length > 0) {
    for (const line of result.inconsistentAfterKill.slice(0, 20)) console.log(`  ${line}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

/**
 * Checkpoint cost with a large state: 1,000,000 keys of aggregation state and
 * 1% of the keys changed per batch.
 *
 *   npx tsx bench/checkpoint.ts [--keys 1000000] [--changed 0.01] [--batches 25] [--snapshot-interval 10] [--dir /tmp/x]
 *
 * The query is `groupAggregate({ keyBy: 'k', aggregate: { n: count(), total: sum('v') } })`
 * followed by `outputMode('update')`, driven batch by batch through the
 * Checkpoint API the way `startQuery` drives it (writeOffsets, run, commit) on
 * a FileCheckpointStore with fsync. For each batch it reports:
 *
 * - process: running the batch through the pipeline (the operator's work);
 * - checkpoint (critical path): writeOffsets + commit, which waits for the
 *   delta writes that started when the operator published its state;
 * - bytes written for the batch (offsets + deltas + commit);
 * - background snapshots (every --snapshot-interval versions): time and bytes,
 *   written after the commit while the next batches run.
 *
 * Not a test: it never asserts; it prints figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Subject, asyncScheduler } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import { FileCheckpointStore } from '../lib/checkpoint/FileCheckpointStore.js';
import type { CheckpointStore } from '../lib/checkpoint/CheckpointStore.js';
import { StoreCheckpoint } from '../lib/checkpoint/StoreCheckpoint.js';
import { runInQueryContext } from '../lib/state/StateStore.js';
import { prng } from '../test/helpers/prng.js';
import { count } from '../lib/aggregate/count.js';
import { sum } from '../lib/aggregate/sum.js';
import { groupAggregate } from '../operators/groupAggregate.js';
import { outputMode } from '../operators/outputMode.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const dirArg = process.argv.indexOf('--dir') >= 0 ? process.argv[process.argv.indexOf('--dir') + 1] : undefined;

const KEYS = arg('keys', 1_000_000);
const CHANGED = arg('changed', 0.01);
const BATCHES = arg('batches', 25);
const SNAPSHOT_INTERVAL = arg('snapshot-interval', 10);
const PER_BATCH = Math.round(KEYS * CHANGED);

interface Row {
  readonly k: string;
  readonly v: number;
}

/** A store that counts bytes and time per file written. */
class MeasuredStore implements CheckpointStore {
  readonly location: string;
  readonly checksum;
  readonly writes: Array<{ path: string; bytes: number; ms: number }> = [];
  /** Snapshot writes in progress. */
  snapshotsActive = 0;
  constructor(private readonly inner: FileCheckpointStore) {
    this.location = inner.location;
    this.checksum = inner.checksum;
  }
  read(path: string) {
    return this.inner.read(path);
  }
  async write(path: string, chunks: AsyncIterable<Uint8Array>) {
    const t0 = performance.now();
    const snapshot = path.endsWith('.snapshot');
    if (snapshot) this.snapshotsActive++;
    try {
      const bytes = await this.inner.write(path, chunks);
      this.writes.push({ path, bytes, ms: performance.now() - t0 });
      return bytes;
    } finally {
      if (snapshot) this.snapshotsActive--;
    }
  }
  list(dir: string) {
    return this.inner.list(dir);
  }
  remove(path: string) {
    return this.inner.remove(path);
  }
  removeTemporaryFiles(dir: string) {
    return this.inner.removeTemporaryFiles(dir);
  }
  take(): Array<{ path: string; bytes: number; ms: number }> {
    return this.writes.splice(0, this.writes.length);
  }
}

const fmtMs = (ms: number) => `${ms.toFixed(1)} ms`;
const fmtBytes = (b: number) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

async function main(): Promise<void> {
  const dir = dirArg ?? mkdtempSync(join(tmpdir(), 'rss-bench-ckpt-'));
  const store = new MeasuredStore(new FileCheckpointStore(join(dir, 'checkpoint')));
  const checkpoint = new StoreCheckpoint(store, { snapshotInterval: SNAPSHOT_INTERVAL });
  await checkpoint.open();
  const input = new Subject<Batch<Row>>();
  let outputRows = 0;
  runInQueryContext(checkpoint.createContext('bench', asyncScheduler), () =>
    input.pipe(groupAggregate({ keyBy: 'k', aggregate: { n: count(), total: sum('v') } }), outputMode('update')).subscribe((b) => {
      outputRows += b.rows.length;
    }),
  );

  console.log(`checkpoint benchmark: ${KEYS.toLocaleString()} keys, ${PER_BATCH.toLocaleString()} keys changed per batch (${(CHANGED * 100).toFixed(2)}%), snapshot every ${SNAPSHOT_INTERVAL} versions, fsync on, dir ${dir}`);
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);

  // Batch 0 loads the whole key space (every key changed: its delta holds all of them).
  const keys = Array.from({ length: KEYS }, (_, i) => `key-${String(i).padStart(7, '0')}`);
  const random = prng(42);
  const runBatch = async (batchId: number, rows: Row[]) => {
    let withSnapshot = store.snapshotsActive > 0;
    const t0 = performance.now();
    await checkpoint.writeOffsets({ batchId, offsets: [batchId], watermark: 0, timestamp: batchId });
    const t1 = performance.now();
    input.next({ batchId, rows, watermark: 0 });
    const t2 = performance.now();
    await checkpoint.commit(batchId, { watermark: 0 });
    const t3 = performance.now();
    withSnapshot ||= store.snapshotsActive > 0;
    const files = store.take();
    const fg = files.filter((f) => !f.path.endsWith('.snapshot'));
    return { processMs: t2 - t1, checkpointMs: t1 - t0 + (t3 - t2), bytes: fg.reduce((s, f) => s + f.bytes, 0), files: fg.length, snapshots: files.filter((f) => f.path.endsWith('.snapshot')), withSnapshot };
  };

  const load = await runBatch(0, keys.map((k) => ({ k, v: 1 })));
  console.log(`\nbatch 0 (initial load, all ${KEYS.toLocaleString()} keys): process ${fmtMs(load.processMs)}, checkpoint ${fmtMs(load.checkpointMs)}, ${fmtBytes(load.bytes)} written`);

  const rows: Array<{ batchId: number; processMs: number; checkpointMs: number; bytes: number; withSnapshot: boolean }> = [];
  const snapshots: Array<{ path: string; bytes: number; ms: number }> = [...load.snapshots];
  console.log('\nbatch  process   checkpoint  bytes written   files  (* = a background snapshot was being written)');
  for (let batchId = 1; batchId <= BATCHES; batchId++) {
    const picked = new Set<string>();
    while (picked.size < PER_BATCH) picked.add(keys[Math.floor(random() * KEYS)]!);
    const batchRows = [...picked].map((k) => ({ k, v: Math.floor(random() * 100) }));
    const r = await runBatch(batchId, batchRows);
    snapshots.push(...r.snapshots);
    rows.push({ batchId, ...r });
    console.log(`${String(batchId).padStart(5)}  ${fmtMs(r.processMs).padStart(9)}  ${fmtMs(r.checkpointMs).padStart(10)}  ${fmtBytes(r.bytes).padStart(13)}  ${String(r.files).padStart(6)}${r.withSnapshot ? '  *' : ''}`);
  }
  const t0 = performance.now();
  await checkpoint.flush();
  const flushMs = performance.now() - t0;
  snapshots.push(...store.take().filter((f) => f.path.endsWith('.snapshot')));
  await checkpoint.close();

  const bytes = rows.map((r) => r.bytes);
  console.log('\nsummary over batches 1..' + BATCHES + ` (${PER_BATCH.toLocaleString()} changed keys each):`);
  console.log(`  process the batch (median):           ${fmtMs(median(rows.map((r) => r.processMs)))}`);
  console.log(`  checkpoint on the critical path (med): ${fmtMs(median(rows.map((r) => r.checkpointMs)))}  (offsets + wait for deltas + commit, fsync'd)`);
  const quiet = rows.filter((r) => !r.withSnapshot);
  const busy = rows.filter((r) => r.withSnapshot);
  if (quiet.length > 0) console.log(`    batches with no snapshot in flight (${quiet.length}): process ${fmtMs(median(quiet.map((r) => r.processMs)))}, checkpoint ${fmtMs(median(quiet.map((r) => r.checkpointMs)))}`);
  if (busy.length > 0) console.log(`    batches while a snapshot was written (${busy.length}): process ${fmtMs(median(busy.map((r) => r.processMs)))}, checkpoint ${fmtMs(median(busy.map((r) => r.checkpointMs)))}`);
  console.log(`  bytes written per batch (median):     ${fmtBytes(median(bytes))}  = ${(median(bytes) / PER_BATCH).toFixed(1)} bytes per changed key`);
  for (const s of snapshots) console.log(`  background snapshot ${s.path}: ${fmtBytes(s.bytes)} in ${fmtMs(s.ms)} (${(s.bytes / KEYS).toFixed(1)} bytes per key)`);
  console.log(`  waiting for the remaining background work at the end: ${fmtMs(flushMs)}`);

  // Recovery: rebuild the 1M-key state from the newest snapshot plus the deltas after it.
  const recoverStore = new FileCheckpointStore(join(dir, 'checkpoint'));
  const r0 = performance.now();
  const recovered = new StoreCheckpoint(recoverStore);
  const recovery = await recovered.open();
  runInQueryContext(recovered.createContext('recover', asyncScheduler), () =>
    new Subject<Batch<Row>>().pipe(groupAggregate({ keyBy: 'k', aggregate: { n: count(), total: sum('v') } }), outputMode('update')).subscribe(),
  );
  const recoverMs = performance.now() - r0;
  await recovered.close();
  console.log(`\nrecovery (open + restore ${KEYS.toLocaleString()} keys at batch ${recovery.lastCommittedBatchId}): ${fmtMs(recoverMs)}`);
  console.log(`output rows emitted: ${outputRows.toLocaleString()}`);
  if (dirArg === undefined) rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

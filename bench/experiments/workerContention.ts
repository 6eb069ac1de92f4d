// How much a busy worker thread slows the main thread on this machine: batches of 10,000 random keys
// folded into a 1M-key DenseGroupEngine (the checkpoint bench's batch, without RxJS or a checkpoint),
// timed with no other thread busy, then while a worker thread spins on arithmetic (no memory traffic),
// then while it copies 64 MB buffers (memory traffic), alternating, medians of the per-batch times.
// On the 2-core machine (2026-12-04): 4.66 ms alone, 4.57 ms beside the spinning worker, 5.94 ms beside
// the copying one (+27 %): a worker that streams through memory, as a snapshot's merge, checksum and
// write do, slows a main thread whose batch misses the caches on every key.
//   npx tsx bench/experiments/workerContention.ts
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { compileAggregates } from '../../lib/aggregate/Aggregator.js';
import { count } from '../../lib/aggregate/count.js';
import { DenseGroupEngine } from '../../lib/aggregate/denseGroupEngine.js';
import { compileKey } from '../../lib/aggregate/groupKey.js';
import { sum } from '../../lib/aggregate/sum.js';
import { prng } from '../workload.js';

type Row = { k: string; v: number };
const KEYS = 1_000_000;
const BATCH = 10_000;
const engine = new DenseGroupEngine<Row>(compileAggregates<Row>('bench', { n: count(), total: sum<Row>('v') }, ['k']), compileKey<Row>('bench', 'k'));
const names = Array.from({ length: KEYS }, (_, i) => `key-${i}`);
engine.step(names.map((k) => ({ k, v: 1 })), 'k', 0);
const random = prng(7);
const batches = Array.from({ length: 40 }, () => Array.from({ length: BATCH }, (): Row => ({ k: names[Math.floor(random() * KEYS)]!, v: 1 })));

const SPIN = `const { parentPort } = require('node:worker_threads');
let busy = false;
parentPort.on('message', (m) => { busy = m === 'spin' || m === 'copy'; if (busy) run(m); });
function run(kind) {
  const a = new Uint8Array(64e6), b = new Uint8Array(64e6);
  let x = 0;
  const tick = () => { const t = Date.now(); while (busy && Date.now() - t < 20) { if (kind === 'spin') for (let i = 0; i < 1e5; i++) x = (x * 31 + i) | 0; else { a.set(b); x += a[5]; } } if (busy) setImmediate(tick); else parentPort.postMessage(x & 1); };
  tick();
}`;

function batchMs(): number[] {
  const out: number[] = [];
  for (const rows of batches) {
    const t0 = performance.now();
    engine.step(rows, 'k', 0);
    out.push(performance.now() - t0);
  }
  return out;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const worker = new Worker(SPIN, { eval: true });
  const results: Record<string, number[]> = { alone: [], spin: [], copy: [] };
  batchMs(); // warm-up
  for (let round = 0; round < 3; round++) {
    for (const mode of ['alone', 'spin', 'copy'] as const) {
      if (mode !== 'alone') worker.postMessage(mode);
      await pause(50);
      results[mode]!.push(median(batchMs()));
      worker.postMessage('stop');
      await pause(50);
    }
  }
  for (const [mode, ms] of Object.entries(results)) console.log(`${mode.padEnd(6)} median per batch ${median(ms).toFixed(2)} ms (rounds: ${ms.map((m) => m.toFixed(2)).join(', ')})`);
  await worker.terminate();
}

void main();

/**
 * Does a batch cost what its rows cost, or what the state holds? The same
 * 10,000-row batch (10,000 distinct keys, all already in the state) is run
 * against a state of `--small` keys (default 10,000) and one of `--large`
 * keys (default 1,000,000), each in its own child process, interleaved, and
 * the per-batch times are compared.
 *
 *   npx tsx bench/stateSize.ts [--small 10000] [--large 1000000] [--batches 30] [--rounds 3] [--jobs aggregate,dedup] [--rows 10000]
 *
 * `--rows 0` times empty batches: what a batch costs besides its rows.
 *
 * Jobs (each way with and without a query context, "publish": the state
 * handed to a checkpoint after every batch as a persistent value, with the
 * changed entries encoded as a delta writer reads them, but nothing written
 * to disk, so that storage is not measured):
 *
 * - `aggregate`: `groupAggregate({ keyBy: 'k', aggregate: { n: count(), total: sum('v') } })` + `outputMode('update')`;
 * - `dedup`: `dropDuplicates(['k'])` with no watermark (every key stays in the state).
 *
 * Not a test: it never asserts; it prints figures.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Subject, asyncScheduler } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import { inQueryContext } from '../lib/internal/pipeline.js';
import { type QueryContext, type StatefulOperatorSpec, type StateHandle } from '../lib/state/StateStore.js';
import { count } from '../lib/aggregate/count.js';
import { sum } from '../lib/aggregate/sum.js';
import { groupAggregate } from '../operators/groupAggregate.js';
import { outputMode } from '../operators/outputMode.js';
import { dropDuplicates } from '../operators/dropDuplicates.js';
import { binaryCodec, textReader } from '../lib/checkpoint/stateFiles.js';

interface Row {
  readonly k: string;
  readonly v: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

/** Rows per timed batch (`--rows`, default 10,000); the fill batches are always 10,000 rows. */
const BATCH = Number(arg('rows', '10000'));
const FILL = 10_000;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

/** A query context that takes every published state and reads its changed entries, as a delta writer does, without storage. */
function publishingContext(encoded: { entries: number }): QueryContext {
  return {
    queryId: 'bench',
    runId: 'bench',
    scheduler: asyncScheduler,
    registerState<S>(spec: StatefulOperatorSpec<S>): StateHandle<S> {
      const getText = textReader<S>(spec.codec);
      const binary = binaryCodec<S>(spec.codec);
      let base = -1;
      return {
        operatorId: spec.kind,
        restored: undefined,
        publish(batchId: number, state: S, changedKeys: Iterable<string>) {
          // As the checkpoint does: a state in the binary layout is encoded from its columns (format version 3).
          const body = binary?.binaryDelta(state, (full) => ({ operator: spec.id, version: batchId, kind: 'delta', base: full ? -1 : base }));
          base = batchId;
          if (body !== undefined) {
            encoded.entries += body.length > 0 ? 1 : 0;
            return;
          }
          // As the checkpoint does: the codec's text reader when it has one, else JSON.stringify of `get`.
          if (getText !== undefined) {
            for (const key of changedKeys) {
              getText(state, key);
              encoded.entries++;
            }
            return;
          }
          for (const key of changedKeys) {
            JSON.stringify(spec.codec.get(state, key));
            encoded.entries++;
          }
        },
      };
    },
  };
}

/** One child: fill the state with `keys` keys, then time `batches` batches of the same 10,000 rows. */
function child(job: string, keys: number, batches: number, publish: boolean): void {
  const input = new Subject<Batch<Row>>();
  const encoded = { entries: 0 };
  let out = 0;
  const consume = (b: { readonly rows: readonly unknown[] }) => {
    out += b.rows.length;
  };
  const input$ = publish ? input.pipe(inQueryContext<Row>(publishingContext(encoded))) : input.asObservable();
  if (job === 'dedup') input$.pipe(dropDuplicates<Row>(['k'])).subscribe(consume);
  else input$.pipe(groupAggregate({ keyBy: 'k', aggregate: { n: count(), total: sum('v') } }), outputMode('update')).subscribe(consume);
  const names = Array.from({ length: keys }, (_, i) => `key-${i}`);
  let batchId = 0;
  for (let from = 0; from < keys; from += FILL) {
    const rows: Row[] = [];
    for (let i = from; i < Math.min(keys, from + FILL); i++) rows.push({ k: names[i]!, v: 1 });
    input.next({ batchId: batchId++, rows, watermark: 0 });
  }
  const times: number[] = [];
  const cpu: number[] = [];
  for (let b = 0; b < batches; b++) {
    // The same keys every time (key-0 … key-9999, present in both states); fresh row objects, as a source makes them.
    const rows: Row[] = new Array(BATCH);
    for (let i = 0; i < BATCH; i++) rows[i] = { k: names[i]!, v: b };
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    input.next({ batchId: batchId++, rows, watermark: 0 });
    const c = process.cpuUsage(c0);
    times.push(performance.now() - t0);
    cpu.push((c.user + c.system) / 1000);
  }
  if (process.env.STATE_SIZE_TIMES === '1') console.error(cpu.map((t) => t.toFixed(1)).join(' '));
  process.stdout.write(JSON.stringify({ median: median(times.slice(Math.floor(batches / 3))), min: Math.min(...times), cpu: median(cpu.slice(Math.floor(batches / 3))), rss: process.resourceUsage().maxRSS / 1024, out, encoded: encoded.entries }) + '\n');
}

function main(): void {
  if (process.argv.includes('--child')) {
    child(arg('job', 'aggregate'), Number(arg('keys', '10000')), Number(arg('batches', '30')), arg('publish', 'false') === 'true');
    return;
  }
  const small = Number(arg('small', '10000'));
  const large = Number(arg('large', '1000000'));
  const batches = Number(arg('batches', '30'));
  const rounds = Number(arg('rounds', '3'));
  const jobs = arg('jobs', 'aggregate,dedup').split(',');
  console.log(`state-size benchmark: the same ${BATCH.toLocaleString()}-row batch against ${small.toLocaleString()} and ${large.toLocaleString()} keys in state; ${batches} timed batches per process (median of the last two thirds), ${rounds} rounds, each in its own process`);
  console.log(`command: npx tsx bench/stateSize.ts ${process.argv.slice(2).join(' ')}`.trimEnd());
  console.log(`node ${process.version}, ${cpus().length} cores, load average at start ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const results = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const job of jobs) {
      for (const publish of [false, true]) {
        for (const keys of [small, large]) {
          const raw = execFileSync(process.execPath, ['--max-old-space-size=8192', '--import', 'tsx', new URL(import.meta.url).pathname, '--child', '--job', job, '--keys', String(keys), '--batches', String(batches), '--publish', String(publish), '--rows', String(BATCH)], { encoding: 'utf8' });
          const r = JSON.parse(raw.trim().split('\n').pop()!) as { median: number; min: number; cpu: number; rss: number };
          const id = `${job} ${publish ? 'publish' : 'plain  '} ${keys}`;
          results.set(id, [...(results.get(id) ?? []), r.cpu]);
          console.log(`round ${round + 1}  ${id.padEnd(28)} cpu median ${r.cpu.toFixed(2)} ms  wall median ${r.median.toFixed(2)} ms  wall min ${r.min.toFixed(2)} ms  RSS ${r.rss.toFixed(0)} MB`);
        }
      }
    }
  }
  console.log('\nCPU ms per batch (user + system, all threads; the medians of each process, then the median over rounds):');
  console.log('job        state handling   ms/batch small  ms/batch large  large/small');
  for (const job of jobs) {
    for (const publish of [false, true]) {
      const s = median(results.get(`${job} ${publish ? 'publish' : 'plain  '} ${small}`)!);
      const l = median(results.get(`${job} ${publish ? 'publish' : 'plain  '} ${large}`)!);
      console.log(`${job.padEnd(10)} ${(publish ? 'published' : 'no checkpoint').padEnd(16)} ${s.toFixed(2).padStart(14)}  ${l.toFixed(2).padStart(14)}  ${(l / s).toFixed(2)}x`);
    }
  }
}

main();

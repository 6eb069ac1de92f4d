/**
 * How long restoring a groupAggregate(count, sum by k) state takes, split into
 * opening the checkpoint (reading and parsing the state files) and registering
 * the operator (the codec building the state), wall and CPU time:
 *
 *   npx tsx bench/restoreTime.ts <checkpoint dir>   (e.g. one left by bench/checkpoint.ts --role query --dir ...)
 *
 * It opens the checkpoint (and takes its lock) but runs no batch. Not a test.
 */
import { performance } from 'node:perf_hooks';
import { asyncScheduler } from 'rxjs';
import { openCheckpoint } from '../lib/checkpoint/openCheckpoint.js';
import { fixedCodec } from '../lib/aggregate/fixedRunner.js';
import { compileAggregates } from '../lib/aggregate/Aggregator.js';
import { compileKey } from '../lib/aggregate/groupKey.js';
import { count } from '../lib/aggregate/count.js';
import { sum } from '../lib/aggregate/sum.js';
const dir = process.argv[2]!;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const c0 = cpu();
const t0 = performance.now();
const ck = openCheckpoint(dir);
await ck.open();
const t1 = performance.now();
const c1 = cpu();
const ctx = ck.createContext('r', asyncScheduler);
const key = compileKey<any>('groupAggregate', 'k');
const aggs = compileAggregates<any>('groupAggregate', { n: count(), total: sum('v') }, ['k']);
const h = ctx.registerState({ kind: 'groupAggregate', id: 'groupAggregate#0', descriptor: { keyBy: ['k'], aggregate: ['n', 'total'] }, codec: fixedCodec(aggs, key) });
const t2 = performance.now();
const c2 = cpu();
console.log(`open ${(t1 - t0).toFixed(0)} ms (cpu ${(c1 - c0).toFixed(0)}), register+restore ${(t2 - t1).toFixed(0)} ms (cpu ${(c2 - c1).toFixed(0)}), restored ${(h.restored?.state as any)?.dense?.engine.size ?? (h.restored?.state as any)?.buckets.get(0)?.size}${(h.restored?.state as any)?.dense !== undefined ? ' groups (binary files, dense columns)' : ' groups (text files)'}`);
await ck.close();

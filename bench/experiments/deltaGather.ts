// The binary delta of a 1M-key groupAggregate state with 10,000 changed keys, gathered in the
// order the batch first wrote the keys (what DenseGroupEngine.encodeDelta does) or with the ids
// sorted first (so that the gather walks the columns forwards), warm, alternating. The sort costs
// more than it saves (2026-12-04, 2-core machine: 2.75 against 2.99 ms while the keys were
// gathered from the arena; 1.8 against 2.2 ms since string keys are written from the batch's
// own key strings):
//   npx tsx bench/experiments/deltaGather.ts
import { DenseGroupEngine } from '../../lib/aggregate/denseGroupEngine.js';
import { compileAggregates } from '../../lib/aggregate/Aggregator.js';
import { compileKey } from '../../lib/aggregate/groupKey.js';
import { count } from '../../lib/aggregate/count.js';
import { sum } from '../../lib/aggregate/sum.js';
import { prng } from '../workload.js';

type Row = { key: string; v: number };
const KEYS = 1_000_000;
const CHANGED = 10_000;
const aggs = compileAggregates<Row>('bench', { n: count(), total: sum<Row>('v') }, ['key']);
const engine = new DenseGroupEngine<Row>(aggs, compileKey<Row>('bench', 'key'));
const names = Array.from({ length: KEYS }, (_, i) => `key-${i}`);
engine.step(names.map((key) => ({ key, v: 1 })), 'key', 0);
engine.encodeDelta(() => ({ version: 0 }) as never);
const rand = prng(7);
const header = () => ({ version: 1 }) as never;
const times: Record<string, number[]> = { sorted: [], firstWritten: [] };
for (let round = 0; round < 40; round++) {
  const rows: Row[] = [];
  for (let i = 0; i < CHANGED; i++) rows.push({ key: names[Math.floor(rand() * KEYS)]!, v: 1 });
  engine.step(rows, 'key', 0);
  const way = round % 2 === 0 ? 'sorted' : 'firstWritten';
  const t0 = performance.now();
  // Sorting the changed ids in place, with their raw keys (the encoder writes string keys from them).
  if (way === 'sorted') {
    const n = engine.changedCount;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => engine.changed[a]! - engine.changed[b]!);
    const ids = order.map((i) => engine.changed[i]!);
    const raws = order.map((i) => engine.changedRaw[i]);
    engine.changed.set(ids);
    engine.changedRaw = raws;
  }
  engine.encodeDelta(header);
  const ms = performance.now() - t0;
  if (round >= 10) times[way]!.push(ms);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`encodeDelta of ${CHANGED} of ${KEYS} keys: in id order ${median(times.sorted!).toFixed(2)} ms, in first-written order ${median(times.firstWritten!).toFixed(2)} ms (medians of ${times.sorted!.length})`);

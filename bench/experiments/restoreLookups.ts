// What a restore's delta lookups cost on this machine, and whether grouping them helps:
//   npx tsx bench/experiments/restoreLookups.ts
// A table and key arena laid out as DenseGroupEngine's (1M string keys, four int32 per slot, linear
// probing, FNV-1a over the key's UTF-16 units), then 1.2M lookups of random keys (a chain of 120
// deltas of 10,000): one key at a time (the engine's `lookUpUnits`), and in groups of 32 and 256
// (the hashes and first slots of a group, then its arena compares, then full probes for the rest),
// so that the loads of different keys do not wait for each other. Also prints the latency of a
// dependent random load in arrays of 8 to 64 MB. Not a test: it prints figures.
const N = 1_000_000;
const M = 1_200_000;
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const name = (i: number): string => `\u0001key-${String(i).padStart(7, '0')}`;

let slots = 16;
while (slots < 2 * N) slots *= 2;
const table = new Int32Array(slots * 4).fill(-1);
const mask = slots * 4 - 1;
const arena = new Uint16Array(N * 12);
let used = 0;
for (let i = 0; i < N; i++) {
  const k = name(i);
  let h = FNV_OFFSET;
  for (let u = 0; u < k.length; u++) h = Math.imul(h ^ k.charCodeAt(u), FNV_PRIME);
  let p = (h << 2) & mask;
  while (table[p] !== -1) p = (p + 4) & mask;
  table[p] = i;
  table[p + 1] = h;
  table[p + 2] = used;
  table[p + 3] = k.length;
  for (let u = 0; u < k.length; u++) arena[used++] = k.charCodeAt(u);
}
const keys = new Uint16Array(M * 12);
const keyUnits = new Uint32Array(M);
let filled = 0;
let seed = 7;
for (let i = 0; i < M; i++) {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  const k = name(seed % N);
  keyUnits[i] = k.length;
  for (let u = 0; u < k.length; u++) keys[filled++] = k.charCodeAt(u);
}

function probe(h: number, length: number, at: number): number {
  for (let p = (h << 2) & mask; ; p = (p + 4) & mask) {
    const c = table[p]!;
    if (c === -1) return -1;
    if (table[p + 1] !== h || table[p + 3] !== length) continue;
    const s = table[p + 2]! >>> 0;
    let u = 0;
    while (u < length && arena[s + u] === keys[at + u]) u++;
    if (u === length) return c;
  }
}

function oneByOne(ids: Int32Array): void {
  let at = 0;
  for (let i = 0; i < M; i++) {
    const length = keyUnits[i]!;
    let h = FNV_OFFSET;
    for (let u = 0; u < length; u++) h = Math.imul(h ^ keys[at + u]!, FNV_PRIME);
    ids[i] = probe(h, length, at);
    at += length;
  }
}

function grouped(ids: Int32Array, group: number): void {
  const hashes = new Int32Array(group);
  const starts = new Int32Array(group);
  const first = new Int32Array(group);
  let at = 0;
  for (let from = 0; from < M; from += group) {
    const to = Math.min(from + group, M);
    for (let i = from; i < to; i++) {
      const length = keyUnits[i]!;
      let h = FNV_OFFSET;
      for (let u = 0; u < length; u++) h = Math.imul(h ^ keys[at + u]!, FNV_PRIME);
      const p = (h << 2) & mask;
      const q = (p + 4) & mask;
      hashes[i - from] = h;
      starts[i - from] = at;
      first[i - from] = table[p + 1] === h && table[p + 3] === length ? p : table[p] !== -1 && table[q + 1] === h && table[q + 3] === length ? q : -1;
      at += length;
    }
    for (let i = from; i < to; i++) {
      const p = first[i - from]!;
      let id = -1;
      if (p >= 0) {
        const length = keyUnits[i]!;
        const k = starts[i - from]!;
        const s = table[p + 2]! >>> 0;
        let u = 0;
        while (u < length && arena[s + u] === keys[k + u]) u++;
        if (u === length) id = table[p]!;
      }
      ids[i] = id;
    }
    for (let i = from; i < to; i++) if (ids[i]! < 0) ids[i] = probe(hashes[i - from]!, keyUnits[i]!, starts[i - from]!);
  }
}

const a = new Int32Array(M);
const b = new Int32Array(M);
for (let round = 0; round < 4; round++) {
  let t = performance.now();
  oneByOne(a);
  const single = performance.now() - t;
  t = performance.now();
  grouped(b, 32);
  const g32 = performance.now() - t;
  t = performance.now();
  grouped(b, 256);
  const g256 = performance.now() - t;
  const same = a.every((id, i) => id === b[i]);
  console.log(`1.2M lookups: one by one ${single.toFixed(0)} ms, groups of 32 ${g32.toFixed(0)} ms, groups of 256 ${g256.toFixed(0)} ms${same ? '' : ' (ids differ!)'}`);
}
for (const mb of [8, 32, 64]) {
  const n = mb * 256 * 1024;
  const next = new Int32Array(n);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const x = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = x;
  }
  for (let i = 0; i < n; i++) next[perm[i]!] = perm[(i + 1) % n]!;
  let p = 0;
  const steps = 2_000_000;
  const t = performance.now();
  for (let i = 0; i < steps; i++) p = next[p]!;
  console.log(`dependent random load in ${mb} MB: ${(((performance.now() - t) * 1e6) / steps).toFixed(0)} ns${p < 0 ? '!' : ''}`);
}

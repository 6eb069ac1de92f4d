import type { CompiledAggregates } from './Aggregator.js';
import { columnKindOf, slotsOf, type ColumnKind } from './columnKinds.js';
import type { CompiledKey } from './groupKey.js';
import { decodeRawKey, encodeRawKey } from './groupKey.js';
import { encodeBinaryState, homeSlotOrder, type BinaryStateView } from '../checkpoint/stateColumns.js';
import type { StateFileHeader } from '../checkpoint/stateFiles.js';
import { CheckpointCorruptError } from '../errors/CheckpointError.js';

/** Key kinds: the first code unit of a key in the arena (and in a binary state file). */
const K_STRING = 1;
const K_NUMBER = 2;
const K_NULL = 3;
const K_BOOLEAN = 4;
/** Any other key (a date, an object…): the rest of the key is the JSON text of `encodeRawKey(raw)`; found through the canonical key. */
const K_OTHER = 5;

/** Tags of a slot: no value yet (`null`), a number in the column, another value (in `others`). */
const TAG_NULL = 0;
const TAG_NUMBER = 1;
const TAG_OTHER = 2;

/** The layout name written in binary state files; a file of another layout is refused. */
const LAYOUT_PREFIX = 'dense-group 1:';

/**
 * Slots of the cache of recently found string keys (id and hash, direct-mapped by hash): 512 KiB, so that
 * the keys a batch touches again are found without probing the table of a large state, whose
 * size misses the processor's caches.
 */
const HOT_SLOTS = 1 << 16;

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** Fills the table slot at offset `p` (see `DenseGroupEngine.table`): the group's id, its key's hash, start in the arena and length. */
function fillSlot(table: Int32Array, p: number, id: number, h: number, start: number, length: number): void {
  table[p] = id;
  table[p + 1] = h;
  table[p + 2] = start;
  table[p + 3] = length;
}

/** A copy of `bytes[from .. to)` in a buffer of its own, at offset 0 (a Node `Buffer`'s `slice` is a view into a shared buffer). */
function copyOf(bytes: Uint8Array, from: number, to: number): Uint8Array {
  const copy = new Uint8Array(to - from);
  copy.set(bytes.subarray(from, to));
  return copy;
}

/** One aggregate of the engine: its kind, its aggregator and its first slot. */
interface Slot {
  readonly kind: ColumnKind;
  readonly at: number;
}

/**
 * Whether {@link DenseGroupEngine} can hold a `groupAggregate` state: one key
 * field, every aggregator a built-in whose accumulator is numbers (`count`,
 * `sum`, `avg`, `min`, `max`).
 */
export function isDenseEligible<T>(aggs: CompiledAggregates<T>, key: CompiledKey<T>): boolean {
  return key.kind === 'field' && aggs.aggregators.length > 0 && aggs.aggregators.every((a) => columnKindOf(a) !== undefined);
}

/**
 * The state of a `groupAggregate` without a watermark, as columns: every
 * group has a dense id (0, 1, 2… in the order groups appear), its key is kept
 * as UTF-16 code units in one arena and found through an open-addressing hash
 * table of ids, and its accumulators are float64 columns indexed by id (a
 * tag byte per slot says `null`, a number, or another value kept aside).
 *
 * So the state is a handful of typed arrays, whatever the number of groups:
 * no object or `Map` entry per group for the garbage collector to trace, a
 * row costs one hash probe plus column writes, groups that appeared together
 * sit together in memory, and a checkpoint's delta and a restore are copies
 * of columns ({@link encodeDelta}, {@link restoreBinary}).
 *
 * Results are the aggregators' own: numbers are folded inline as each
 * aggregator's `add` would fold them, anything else (text to cast, nulls,
 * invalid values, a `min` over text) goes through the aggregator's `add`.
 */
export class DenseGroupEngine<T> {
  /** Groups in the state. */
  size = 0;
  /** Incremented by every batch. */
  version = 0;
  lateWatermarkMs = 0;
  /** The next delta holds every group (the state came from text files, or the chain must restart). */
  needsFull = false;

  private capacity: number;
  private keyStart: Float64Array;
  private keyLength: Uint32Array;
  private hashes: Int32Array;
  private stamp: Int32Array;
  private arena: Uint16Array;
  private arenaUsed = 0;
  /**
   * Open addressing, four int32 per slot so that a probe reads one cache line: the group's id (-1: an empty
   * slot), its key's hash, its key's start in the arena and its length. `mask` masks offsets into it (slots × 4 − 1).
   */
  private table: Int32Array;
  private mask: number;
  /** The cache of recently found string keys: per slot the group's id (-1: none) and its key's hash, so that a miss reads nothing else. */
  private readonly hot = new Int32Array(HOT_SLOTS * 2).fill(-1);
  readonly cols: Float64Array[];
  readonly tags: Uint8Array[];
  /** Per slot: the accumulators that are not numbers (a `min` over text). */
  readonly others: Map<number, unknown>[];
  /** Raw keys of kind {@link K_OTHER}, by id, and their ids by canonical key. */
  private readonly otherRaw = new Map<number, unknown>();
  private readonly otherIds = new Map<unknown, number>();
  /** Groups written by the last batch (ids) and the raw key each was written with. */
  changed: Int32Array = new Int32Array(1024);
  changedCount = 0;
  changedRaw: unknown[] = [];

  readonly slots: readonly Slot[];
  readonly nSlots: number;
  readonly layout: string;
  private readonly scratchUnits = new Uint16Array(8);
  private readonly numberBits = new Float64Array(1);
  private readonly numberUnits = new Uint16Array(this.numberBits.buffer);

  constructor(
    private readonly aggs: CompiledAggregates<T>,
    private readonly key: CompiledKey<T>,
    initialCapacity = 1024,
  ) {
    let at = 0;
    const slots: Slot[] = [];
    for (const a of aggs.aggregators) {
      const kind = columnKindOf(a)!;
      slots.push({ kind, at });
      at += slotsOf(kind);
    }
    this.slots = slots;
    this.nSlots = at;
    this.layout = `${LAYOUT_PREFIX}${slots.map((s) => s.kind.kind).join(',')}`;
    this.capacity = Math.max(16, initialCapacity);
    this.keyStart = new Float64Array(this.capacity);
    this.keyLength = new Uint32Array(this.capacity);
    this.hashes = new Int32Array(this.capacity);
    this.stamp = new Int32Array(this.capacity);
    // Grown by doubling; a restore adopts the file's key column instead.
    this.arena = new Uint16Array(Math.min(this.capacity * 12, 1 << 16));
    let tableSize = 16;
    while (tableSize < this.capacity * 2) tableSize *= 2;
    this.table = new Int32Array(tableSize * 4).fill(-1);
    this.mask = tableSize * 4 - 1;
    this.cols = [];
    this.tags = [];
    this.others = [];
    for (let s = 0; s < at; s++) {
      this.cols.push(new Float64Array(this.capacity));
      this.tags.push(new Uint8Array(this.capacity));
      this.others.push(new Map());
    }
  }

  // ---------------------------------------------------------------- keys

  private grow(minCapacity: number): void {
    let capacity = this.capacity;
    while (capacity < minCapacity) capacity *= 2;
    if (capacity === this.capacity) return;
    const grown = <A extends Float64Array | Uint32Array | Int32Array | Uint8Array>(a: A, make: (n: number) => A): A => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.keyStart = grown(this.keyStart, (n) => new Float64Array(n));
    this.keyLength = grown(this.keyLength, (n) => new Uint32Array(n));
    this.hashes = grown(this.hashes, (n) => new Int32Array(n));
    this.stamp = grown(this.stamp, (n) => new Int32Array(n));
    for (let s = 0; s < this.nSlots; s++) {
      this.cols[s] = grown(this.cols[s]!, (n) => new Float64Array(n));
      this.tags[s] = grown(this.tags[s]!, (n) => new Uint8Array(n));
    }
    this.capacity = capacity;
    if (this.table.length / 4 < capacity * 2) {
      let tableSize = this.table.length / 4;
      while (tableSize < capacity * 2) tableSize *= 2;
      const table = new Int32Array(tableSize * 4).fill(-1);
      const mask = tableSize * 4 - 1;
      for (let id = 0; id < this.size; id++) {
        const h = this.hashes[id]!;
        let p = (h << 2) & mask;
        while (table[p] !== -1) p = (p + 4) & mask;
        fillSlot(table, p, id, h, this.keyStart[id]!, this.keyLength[id]!);
      }
      this.table = table;
      this.mask = mask;
    }
  }

  private reserveArena(units: number): void {
    if (this.arenaUsed + units <= this.arena.length) return;
    let n = Math.max(16, this.arena.length * 2);
    while (n < this.arenaUsed + units) n *= 2;
    const a = new Uint16Array(n);
    a.set(this.arena.subarray(0, this.arenaUsed));
    this.arena = a;
  }

  /** A new group with the key `units[0 .. length)` (kind first) and hash `h`, placed in the table slot at offset `p`; its accumulators are each aggregator's `init()`. */
  private insert(units: Uint16Array | string, kind: number, length: number, h: number, p: number): number {
    if (this.size === this.capacity) {
      this.grow(this.capacity * 2);
      // The table was rebuilt: find the empty slot again.
      p = (h << 2) & this.mask;
      while (this.table[p] !== -1) p = (p + 4) & this.mask;
    }
    const id = this.size++;
    this.reserveArena(length);
    const start = this.arenaUsed;
    const arena = this.arena;
    if (typeof units === 'string') {
      arena[start] = kind;
      for (let i = 1; i < length; i++) arena[start + i] = units.charCodeAt(i - 1);
    } else {
      for (let i = 0; i < length; i++) arena[start + i] = units[i]!;
    }
    this.arenaUsed += length;
    this.keyStart[id] = start;
    this.keyLength[id] = length;
    this.hashes[id] = h;
    this.stamp[id] = 0;
    fillSlot(this.table, p, id, h, start, length);
    this.initAccumulators(id);
    return id;
  }

  private initAccumulators(id: number): void {
    const { slots, cols, tags } = this;
    for (let j = 0; j < slots.length; j++) {
      const { kind, at } = slots[j]!;
      switch (kind.kind) {
        case 'count':
          cols[at]![id] = 0;
          tags[at]![id] = TAG_NUMBER;
          break;
        case 'number':
          cols[at]![id] = this.aggs.aggregators[j]!.init() as number;
          tags[at]![id] = TAG_NUMBER;
          break;
        case 'avg':
          cols[at]![id] = 0;
          cols[at + 1]![id] = 0;
          tags[at]![id] = TAG_NUMBER;
          tags[at + 1]![id] = TAG_NUMBER;
          break;
        default:
          cols[at]![id] = 0;
          tags[at]![id] = TAG_NULL;
      }
    }
  }

  /** The id of the group with string key `k`, created when new. */
  private idOfString(k: string): number {
    const length = k.length;
    let h = Math.imul(FNV_OFFSET ^ K_STRING, FNV_PRIME);
    for (let i = 0; i < length; i++) h = Math.imul(h ^ k.charCodeAt(i), FNV_PRIME);
    const hot = this.hot;
    const hotAt = (h & (HOT_SLOTS - 1)) << 1;
    const cached = hot[hotAt]!;
    if (cached >= 0 && hot[hotAt + 1] === h && this.keyLength[cached] === length + 1 && this.isStringKey(cached, k)) return cached;
    const table = this.table;
    const mask = this.mask;
    for (let p = (h << 2) & mask; ; p = (p + 4) & mask) {
      let id = table[p]!;
      if (id === -1) id = this.insert(k, K_STRING, length + 1, h, p);
      else if (table[p + 1] !== h || table[p + 3] !== length + 1 || !this.isStringKeyAt(table[p + 2]! >>> 0, k)) continue;
      hot[hotAt] = id;
      hot[hotAt + 1] = h;
      return id;
    }
  }

  /** Whether group `id`'s key is the string `k` (its length already compared). */
  private isStringKey(id: number, k: string): boolean {
    return this.isStringKeyAt(this.keyStart[id]!, k);
  }

  /** Whether the key at `at` in the arena is the string `k` (its length already compared). */
  private isStringKeyAt(at: number, k: string): boolean {
    const arena = this.arena;
    const start = at + 1;
    if (arena[start - 1] !== K_STRING) return false;
    const length = k.length;
    let i = 0;
    while (i < length && arena[start + i] === k.charCodeAt(i)) i++;
    return i === length;
  }

  /** The id of the group whose key is `units[0 .. length)` (kind first), or -1 (`create`: created). */
  private idOfUnits(units: Uint16Array, length: number, create: boolean): number {
    let h = FNV_OFFSET;
    for (let i = 0; i < length; i++) h = Math.imul(h ^ units[i]!, FNV_PRIME);
    const table = this.table;
    const mask = this.mask;
    for (let p = (h << 2) & mask; ; p = (p + 4) & mask) {
      const id = table[p]!;
      if (id === -1) return create ? this.insert(units, units[0]!, length, h, p) : -1;
      if (table[p + 1] !== h || table[p + 3] !== length) continue;
      const arena = this.arena;
      const start = table[p + 2]! >>> 0;
      let i = 0;
      while (i < length && arena[start + i] === units[i]) i++;
      if (i === length) return id;
    }
  }

  /** The code units of a key that is not a string (kind first), in a scratch array; returns its length. */
  private unitsOf(k: unknown): { units: Uint16Array; length: number } {
    let units = this.scratchUnits;
    if (typeof k === 'number') {
      this.numberBits[0] = k !== k ? Number.NaN : k;
      units[0] = K_NUMBER;
      units.set(this.numberUnits, 1);
      return { units, length: 5 };
    }
    if (k === null) {
      units[0] = K_NULL;
      return { units, length: 1 };
    }
    if (typeof k === 'boolean') {
      units[0] = K_BOOLEAN;
      units[1] = k ? 1 : 0;
      return { units, length: 2 };
    }
    const text = JSON.stringify(encodeRawKey(k)) ?? 'null';
    units = new Uint16Array(text.length + 1);
    units[0] = K_OTHER;
    for (let i = 0; i < text.length; i++) units[i + 1] = text.charCodeAt(i);
    return { units, length: text.length + 1 };
  }

  /** The id of the group of raw key `k` (a missing key is `null`, -0 is 0), created when new. */
  idOf(k: unknown): number {
    if (typeof k === 'string') return this.idOfString(k);
    if (typeof k === 'object' && k !== null) {
      // Dates, lists, objects: one group per canonical key; the first raw key seen is the group's.
      const canonical = this.key.canonical(k);
      const known = this.otherIds.get(canonical);
      if (known !== undefined) return known;
      const { units, length } = this.unitsOf(k);
      const id = this.idOfUnits(units, length, true);
      this.otherIds.set(canonical, id);
      this.otherRaw.set(id, k);
      return id;
    }
    const { units, length } = this.unitsOf(k);
    return this.idOfUnits(units, length, true);
  }

  /** The id of the group of raw key `k`, or -1 when there is none. */
  find(k: unknown): number {
    if (typeof k === 'object' && k !== null) return this.otherIds.get(this.key.canonical(k)) ?? -1;
    let units: Uint16Array;
    let length: number;
    if (typeof k === 'string') {
      units = new Uint16Array(k.length + 1);
      units[0] = K_STRING;
      for (let i = 0; i < k.length; i++) units[i + 1] = k.charCodeAt(i);
      length = k.length + 1;
    } else ({ units, length } = this.unitsOf(k));
    return this.idOfUnits(units, length, false);
  }

  /** The raw key of a group (built from the arena for strings). */
  rawKey(id: number): unknown {
    const start = this.keyStart[id]!;
    const length = this.keyLength[id]!;
    const arena = this.arena;
    switch (arena[start]) {
      case K_STRING: {
        let s = '';
        for (let i = 1; i < length; i += 4096) s += String.fromCharCode.apply(null, arena.subarray(start + i, start + Math.min(length, i + 4096)) as unknown as number[]);
        return s;
      }
      case K_NUMBER:
        for (let i = 0; i < 4; i++) this.numberUnits[i] = arena[start + 1 + i]!;
        return this.numberBits[0];
      case K_NULL:
        return null;
      case K_BOOLEAN:
        return arena[start + 1] === 1;
      default:
        return this.otherRaw.get(id);
    }
  }

  // ---------------------------------------------------------------- accumulators

  /** The accumulator of aggregate `j` of group `id`, as the aggregator keeps it (a fresh array for `avg`). */
  accumulator(id: number, j: number): unknown {
    const { kind, at } = this.slots[j]!;
    if (kind.kind === 'avg') return [this.cols[at]![id]!, this.cols[at + 1]![id]!];
    const tag = this.tags[at]![id];
    return tag === TAG_NUMBER ? this.cols[at]![id]! : tag === TAG_NULL ? null : this.others[at]!.get(id);
  }

  /** Stores accumulator `acc` of aggregate `j` of group `id`. */
  setAccumulator(id: number, j: number, acc: unknown): void {
    const { kind, at } = this.slots[j]!;
    if (kind.kind === 'avg') {
      const pair = acc as readonly [number, number];
      this.cols[at]![id] = pair[0];
      this.cols[at + 1]![id] = pair[1];
      return;
    }
    const tags = this.tags[at]!;
    if (tags[id] === TAG_OTHER) this.others[at]!.delete(id);
    if (typeof acc === 'number') {
      this.cols[at]![id] = acc;
      tags[id] = TAG_NUMBER;
    } else if (acc === null || acc === undefined) {
      tags[id] = TAG_NULL;
    } else {
      tags[id] = TAG_OTHER;
      this.others[at]!.set(id, acc);
    }
  }

  /** A group's accumulators and raw key as the generic engine's record (`[...accumulators, raw key]`). */
  record(id: number, raw: unknown = this.rawKey(id)): unknown[] {
    const n = this.slots.length;
    const g = new Array<unknown>(n + 1);
    for (let j = 0; j < n; j++) g[j] = this.accumulator(id, j);
    g[n] = raw;
    return g;
  }

  // ---------------------------------------------------------------- batches

  /** Folds a batch in; afterwards `changed[0 .. changedCount)` are the groups it wrote, `changedRaw` their raw keys. */
  step(rows: readonly T[], keyField: string, nextLateWatermarkMs: number): void {
    const version = ++this.version;
    const slots = this.slots;
    const nAggs = slots.length;
    const cols = this.cols;
    const tags = this.tags;
    let changed = this.changed;
    if (changed.length < rows.length) changed = this.changed = new Int32Array(Math.max(rows.length, changed.length * 2));
    const changedRaw: unknown[] = [];
    let nChanged = 0;
    // The common shapes read their one or two columns directly.
    const c0 = slots[0]!;
    const k0 = c0.kind;
    let col0 = cols[c0.at]!;
    let tag0 = tags[c0.at]!;
    let stamp = this.stamp;
    let capacity = this.capacity;
    const f0 = 'field' in k0 ? k0.field : undefined;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      let k = (row as Record<string, unknown>)[keyField] ?? null; // a missing key is the SQL null
      if (k === 0) k = 0; // -0 is 0
      const id = typeof k === 'string' ? this.idOfString(k) : this.idOf(k);
      if (id >= capacity) {
        // The columns grew: read them again.
        capacity = this.capacity;
        col0 = cols[c0.at]!;
        tag0 = tags[c0.at]!;
        stamp = this.stamp;
      }
      if (stamp[id] !== version) {
        stamp[id] = version;
        changed[nChanged++] = id;
        changedRaw.push(k);
      }
      // Aggregate 0, inline for numbers.
      if (k0.kind === 'count') col0[id]! += 1;
      else if (k0.kind === 'sum' && f0 !== undefined) {
        const v = (row as Record<string, unknown>)[f0];
        if (typeof v === 'number') {
          if (tag0[id] === TAG_NUMBER) col0[id]! += v;
          else {
            col0[id] = v;
            tag0[id] = TAG_NUMBER;
          }
        } else this.slowAdd(id, 0, row);
      } else this.add(id, 0, row);
      for (let j = 1; j < nAggs; j++) this.add(id, j, row);
    }
    this.changedCount = nChanged;
    this.changedRaw = changedRaw;
    this.lateWatermarkMs = nextLateWatermarkMs;
  }

  /** The raw key of the `i`-th group the last batch wrote (the group's own for keys that are objects). */
  changedRawKey(i: number): unknown {
    const k = this.changedRaw[i];
    return typeof k === 'object' && k !== null ? this.otherRaw.get(this.changed[i]!) : k;
  }

  /** Folds `row` into aggregate `j` of group `id`: numbers inline, other values through the aggregator's `add`. */
  private add(id: number, j: number, row: T): void {
    const { kind, at } = this.slots[j]!;
    const col = this.cols[at]!;
    switch (kind.kind) {
      case 'count':
        col[id]! += 1;
        return;
      case 'sum': {
        if (kind.field === undefined) break;
        const v = (row as Record<string, unknown>)[kind.field];
        if (typeof v !== 'number') break;
        const tags = this.tags[at]!;
        if (tags[id] === TAG_NUMBER) col[id]! += v;
        else {
          col[id] = v;
          tags[id] = TAG_NUMBER;
        }
        return;
      }
      case 'avg': {
        if (kind.field === undefined) break;
        const v = (row as Record<string, unknown>)[kind.field];
        if (typeof v !== 'number') break;
        col[id]! += v;
        this.cols[at + 1]![id]! += 1;
        return;
      }
      case 'min':
      case 'max': {
        if (kind.field === undefined) break;
        const v = (row as Record<string, unknown>)[kind.field];
        if (v === null || v === undefined) return;
        if (typeof v !== 'number') break;
        const tags = this.tags[at]!;
        const tag = tags[id];
        if (tag === TAG_NULL) {
          col[id] = v;
          tags[id] = TAG_NUMBER;
          return;
        }
        if (tag !== TAG_NUMBER) break;
        const acc = col[id]!;
        // As the aggregator's `better`: NaN is above every number.
        if (kind.kind === 'min' ? v < acc || (acc !== acc && v === v) : v > acc || (v !== v && acc === acc)) col[id] = v;
        return;
      }
      default:
        break;
    }
    this.slowAdd(id, j, row);
  }

  /** `add` through the aggregator itself. */
  private slowAdd(id: number, j: number, row: T): void {
    this.setAccumulator(id, j, this.aggs.aggregators[j]!.add(this.accumulator(id, j) as never, row));
  }

  // ---------------------------------------------------------------- checkpoints

  /**
   * The binary delta body (format version 3) of the last batch: the groups it
   * wrote, or every group when {@link needsFull} (then `header(true)`, a delta
   * from the empty state). Reads the columns now.
   */
  encodeDelta(header: (full: boolean) => StateFileHeader): Uint8Array {
    const full = this.needsFull;
    this.needsFull = false;
    const count = full ? this.size : this.changedCount;
    const ids = full ? undefined : this.changed;
    const S = this.nSlots;
    const keyUnits = new Uint32Array(count);
    // A changed group's key as the batch wrote it (`changedRaw`, parallel to `changed`): a string
    // key is written from the string itself, which the batch just read, rather than gathered from
    // the arena, whose entries for 10,000 random groups of a large state miss the caches. The units
    // are the arena's: K_STRING, then the string's code units.
    const raw = full ? undefined : this.changedRaw;
    let total = 0;
    for (let i = 0; i < count; i++) {
      const k = raw?.[i];
      const units = typeof k === 'string' ? k.length + 1 : this.keyLength[ids === undefined ? i : ids[i]!]!;
      keyUnits[i] = units;
      total += units;
    }
    let keys: Uint16Array;
    if (full) keys = this.arena.subarray(0, this.arenaUsed);
    else {
      keys = new Uint16Array(total);
      let at = 0;
      const arena = this.arena;
      for (let i = 0; i < count; i++) {
        const length = keyUnits[i]!;
        const k = raw![i];
        if (typeof k === 'string') {
          keys[at] = K_STRING;
          for (let u = 1; u < length; u++) keys[at + u] = k.charCodeAt(u - 1);
        } else {
          const start = this.keyStart[ids![i]!]!;
          if (length > 16) keys.set(arena.subarray(start, start + length), at);
          else for (let u = 0; u < length; u++) keys[at + u] = arena[start + u]!;
        }
        at += length;
      }
    }
    const tags = new Uint8Array(count * S);
    const values = new Float64Array(count * S);
    let extras: (Uint8Array | undefined)[] | undefined;
    for (let s = 0; s < S; s++) {
      const col = this.cols[s]!;
      const tag = this.tags[s]!;
      for (let i = 0; i < count; i++) {
        const id = ids === undefined ? i : ids[i]!;
        values[i * S + s] = col[id]!;
        tags[i * S + s] = tag[id]!;
      }
      const others = this.others[s]!;
      if (others.size === 0) continue;
      extras ??= new Array<Uint8Array | undefined>(count);
      for (let i = 0; i < count; i++) {
        const id = ids === undefined ? i : ids[i]!;
        if (tag[id] !== TAG_OTHER) continue;
        extras[i] = this.extraOf(id);
      }
    }
    const h = header(full);
    const headerJson = JSON.stringify({ ...h, count, slots: S, layout: this.layout, lateWatermark: this.lateWatermarkMs });
    return encodeBinaryState(headerJson, count, S, keyUnits, keys, new Uint8Array(count), tags, values, extras);
  }

  /** The extra bytes of a group: the JSON text `[[slot, encoded accumulator], …]` of its accumulators that are not numbers. */
  private extraOf(id: number): Uint8Array {
    const parts: [number, unknown][] = [];
    for (let j = 0; j < this.slots.length; j++) {
      const at = this.slots[j]!.at;
      if (this.tags[at]![id] !== TAG_OTHER) continue;
      const a = this.aggs.aggregators[j]!;
      const acc = this.others[at]!.get(id);
      parts.push([at, a.encode === undefined ? acc : a.encode(acc as never)]);
    }
    return new TextEncoder().encode(JSON.stringify(parts));
  }

  /**
   * Restores the state from a chain of binary files (the snapshot or first
   * delta, then later deltas), applying each file's entries in order. The
   * first file's keys are copied into the arena in one go.
   *
   * @throws {CheckpointCorruptError} when a file's layout is not this engine's, or holds a removed or repeated key.
   */
  restoreBinary(files: readonly { readonly view: BinaryStateView; readonly path: string; readonly header: { readonly [field: string]: unknown } }[]): void {
    const S = this.nSlots;
    const little = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
    for (let f = 0; f < files.length; f++) {
      const { view, path, header } = files[f]!;
      const corrupt = (what: string): CheckpointCorruptError =>
        new CheckpointCorruptError(`checkpoint: file ${path} is corrupt; got ${what}. It is torn, truncated or damaged and was not used; restore it from a backup or start the query with a new checkpoint location.`, path);
      if (header['layout'] !== this.layout || view.slots !== S) throw corrupt(`a state of layout ${JSON.stringify(header['layout'])} where this operator keeps ${JSON.stringify(this.layout)}`);
      const count = view.count;
      const bytes = view.bytes;
      for (let i = 0; i < count; i++) if (bytes[view.flagsAt + i] !== 0) throw corrupt(`a removed key (entry ${i}), which this operator never writes`);
      if (typeof header['lateWatermark'] === 'number') this.lateWatermarkMs = header['lateWatermark'];
      // The numbers and tags, copied out in one go.
      const valueBytes = copyOf(bytes, view.valuesAt, view.valuesAt + count * S * 8);
      const values = little ? new Float64Array(valueBytes.buffer, 0, count * S) : Float64Array.from({ length: count * S }, (_, i) => new DataView(valueBytes.buffer).getFloat64(i * 8, true));
      const tagBytes = bytes.subarray(view.tagsAt, view.tagsAt + count * S);
      let keyUnitsTotal = 0;
      for (let i = 0; i < count; i++) keyUnitsTotal += view.keyUnits[i]!;
      const keyFrom = count > 0 ? view.keyStarts[0]! : 0;
      const keyBytes = copyOf(bytes, keyFrom, keyFrom + keyUnitsTotal * 2);
      const keys = little ? new Uint16Array(keyBytes.buffer, 0, keyUnitsTotal) : Uint16Array.from({ length: keyUnitsTotal }, (_, i) => new DataView(keyBytes.buffer).getUint16(i * 2, true));
      const ids = new Int32Array(count);
      if (this.size === 0) {
        // An empty state: the keys are the arena as they are; the hash table is built in one pass.
        this.grow(count);
        // The copied key column (a buffer of its own) becomes the arena.
        this.arena = keys;
        this.arenaUsed = keyUnitsTotal;
        const repeated = this.indexArena(count, view.keyUnits, ids);
        if (repeated >= 0) throw corrupt(`the key of entry ${repeated} twice`);
      } else this.lookUpUnits(count, view.keyUnits, keys, ids);
      const badKind = this.restoreOtherKeys(count, view.keyUnits, keys, ids);
      if (badKind >= 0) throw corrupt(`a key (entry ${badKind}) of an unknown kind, or whose JSON is not valid`);
      for (let s = 0; s < S; s++) {
        const badTag = this.restoreSlot(s, S, count, ids, values, tagBytes);
        if (badTag >= 0) throw corrupt(`a tag above ${TAG_OTHER} (entry ${badTag})`);
      }
      // Accumulators that are not numbers.
      let decoder: TextDecoder | undefined;
      const extraLengths = view.extraLengths;
      for (let i = 0; i < count; i++) {
        const length = extraLengths[i]!;
        if (length === 0) continue;
        decoder ??= new TextDecoder('utf-8', { fatal: true });
        let parts: unknown;
        try {
          const start = view.extraStarts[i]!;
          parts = JSON.parse(decoder.decode(bytes.subarray(start, start + length)));
        } catch {
          parts = undefined;
        }
        if (!Array.isArray(parts)) throw corrupt(`the extra value of entry ${i}, which is not valid JSON`);
        for (const part of parts as unknown[]) {
          const [slot, encoded] = part as [number, unknown];
          const j = this.slots.findIndex((x) => x.at === slot);
          if (j < 0 || this.tags[slot]![ids[i]!] !== TAG_OTHER) throw corrupt(`an extra value for slot ${JSON.stringify(slot)} (entry ${i})`);
          const a = this.aggs.aggregators[j]!;
          this.others[slot]!.set(ids[i]!, a.decode === undefined ? encoded : a.decode(encoded));
        }
      }
      // An entry this file tags as another value must have got one (none to look for when no tag says so).
      if (tagBytes.includes(TAG_OTHER)) {
        for (let s = 0; s < S; s++) {
          const missing = this.missingOther(s, count, ids);
          if (missing >= 0) throw corrupt(`no extra value for entry ${missing}`);
        }
      }
    }
  }
  /**
   * Indexes the first `count` keys of the arena (laid out back to back, `keyUnits` each) as ids 0.. in
   * order; returns the entry of a repeated key, or -1. The keys are hashed in one pass, then inserted in
   * {@link homeSlotOrder}, so that the inserts walk the table forwards.
   */
  private indexArena(count: number, keyUnits: Uint32Array, ids: Int32Array): number {
    const arena = this.arena;
    const table = this.table;
    const mask = this.mask;
    const hashes = this.hashes;
    const keyStart = this.keyStart;
    const keyLength = this.keyLength;
    const stamp = this.stamp;
    let at = 0;
    for (let i = 0; i < count; i++) {
      const length = keyUnits[i]!;
      let h = FNV_OFFSET;
      for (let u = 0; u < length; u++) h = Math.imul(h ^ arena[at + u]!, FNV_PRIME);
      keyStart[i] = at;
      keyLength[i] = length;
      hashes[i] = h;
      stamp[i] = 0;
      ids[i] = i;
      at += length;
    }
    const order = homeSlotOrder(hashes, count, table.length / 4);
    for (let k = 0; k < count; k++) {
      const i = order[k]!;
      const h = hashes[i]!;
      const length = keyLength[i]!;
      const from = keyStart[i]!;
      let p = (h << 2) & mask;
      for (;;) {
        const other = table[p]!;
        if (other === -1) break;
        if (table[p + 1] === h && table[p + 3] === length) {
          const s = table[p + 2]! >>> 0;
          let u = 0;
          while (u < length && arena[s + u] === arena[from + u]) u++;
          if (u === length) return Math.max(i, other);
        }
        p = (p + 4) & mask;
      }
      fillSlot(table, p, i, h, from, length);
    }
    this.size = count;
    return -1;
  }

  /** The ids of `count` keys laid out back to back in `keys` (`keyUnits` each), into `ids`; new keys are added. */
  private lookUpUnits(count: number, keyUnits: Uint32Array, keys: Uint16Array, ids: Int32Array): void {
    let at = 0;
    for (let i = 0; i < count; i++) {
      const length = keyUnits[i]!;
      let h = FNV_OFFSET;
      for (let u = 0; u < length; u++) h = Math.imul(h ^ keys[at + u]!, FNV_PRIME);
      const table = this.table;
      const mask = this.mask;
      const arena = this.arena;
      let id = -1;
      let p = (h << 2) & mask;
      for (; ; p = (p + 4) & mask) {
        const c = table[p]!;
        if (c === -1) break;
        if (table[p + 1] !== h || table[p + 3] !== length) continue;
        const s = table[p + 2]! >>> 0;
        let u = 0;
        while (u < length && arena[s + u] === keys[at + u]) u++;
        if (u === length) {
          id = c;
          break;
        }
      }
      ids[i] = id >= 0 ? id : this.insert(keys.subarray(at, at + length), keys[at]!, length, h, p);
      at += length;
    }
  }

  /** Restores the raw and canonical keys of keys of kind {@link K_OTHER}; returns the entry of a key of an unknown kind or bad JSON, or -1. */
  private restoreOtherKeys(count: number, keyUnits: Uint32Array, keys: Uint16Array, ids: Int32Array): number {
    let at = 0;
    for (let i = 0; i < count; i++) {
      const length = keyUnits[i]!;
      const kind = keys[at]!;
      if (kind === K_OTHER) {
        const id = ids[i]!;
        if (!this.otherRaw.has(id)) {
          let text = '';
          for (let u = 1; u < length; u++) text += String.fromCharCode(keys[at + u]!);
          let raw: unknown;
          try {
            raw = decodeRawKey(JSON.parse(text));
          } catch {
            return i;
          }
          this.otherRaw.set(id, raw);
          this.otherIds.set(this.key.canonical(raw), id);
        }
      } else if (kind < K_STRING || kind > K_OTHER) return i;
      at += length;
    }
    return -1;
  }

  /** Copies slot `s` of a file's entries (numbers and tags, `S` per entry) into its column; returns the entry of a bad tag, or -1. */
  private restoreSlot(s: number, S: number, count: number, ids: Int32Array, values: Float64Array, tagBytes: Uint8Array): number {
    const col = this.cols[s]!;
    const tag = this.tags[s]!;
    const others = this.others[s]!;
    const anyOthers = others.size > 0;
    for (let i = 0; i < count; i++) {
      const id = ids[i]!;
      if (anyOthers && tag[id] === TAG_OTHER) others.delete(id);
      col[id] = values[i * S + s]!;
      const t = tagBytes[i * S + s]!;
      if (t > TAG_OTHER) return i;
      tag[id] = t;
    }
    return -1;
  }

  /** The first entry whose slot `s` is tagged as another value but has none, or -1. */
  private missingOther(s: number, count: number, ids: Int32Array): number {
    const tag = this.tags[s]!;
    const others = this.others[s]!;
    for (let i = 0; i < count; i++) if (tag[ids[i]!] === TAG_OTHER && !others.has(ids[i]!)) return i;
    return -1;
  }
}

import { columnReader } from '../internal/columns.js';
import { keyPart, type ResolvedKey, type StableKey } from '../internal/keySpec.js';
import { MinHeap } from '../internal/MinHeap.js';

/**
 * The part of a deduplication key other than its event-time column, as the
 * fast path holds it: the primitive value of the single other key column, the
 * joined encodings of several, or `true` when the event time is the whole key.
 */
export type RestKey = string | number | boolean;

/** All the keys with one event time: one rest key, or a set of several. */
type Bucket = RestKey | Set<RestKey>;

/**
 * How `dropDuplicates` keys made of field names that include the event-time
 * column are split into (event time, rest), so that the per-row lookup builds
 * no composite string and eviction drops whole event times.
 *
 * A row takes the fast path only when its event time is a finite number and,
 * with one other key column, that column holds a string, number or boolean.
 * For those rows `(t, rest)` pairs are equal exactly when the rows'
 * {@link ResolvedKey.keyOf} keys are equal, and such keys never equal the key
 * of a row that does not qualify; {@link EventTimeKeys.compose} rebuilds the
 * `keyOf` key (what checkpoints hold) from the pair.
 */
export interface EventTimeKeys {
  /** The event-time column. */
  readonly field: string;
  /** The rest key of a qualifying row whose event time is a finite number, `undefined` when the row must take the general path. */
  readonly restOf: (row: Record<string, unknown>) => RestKey | undefined;
  /** The key {@link ResolvedKey.keyOf} gives a row with event time `t` and rest key `rest`. */
  readonly compose: (t: number, rest: RestKey) => StableKey;
  /** The rest key of a `keyOf` key with event time `t`, `undefined` when the key is not of a qualifying row. */
  readonly parse: (key: StableKey, t: number) => RestKey | undefined;
}

function restPrimitive(v: unknown): RestKey | undefined {
  const type = typeof v;
  return type === 'string' || type === 'number' || type === 'boolean' ? (v as RestKey) : undefined;
}

function decodePart(text: string): RestKey | undefined {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text.startsWith('"')) {
    try {
      const s: unknown = JSON.parse(text);
      return typeof s === 'string' ? s : undefined;
    } catch {
      return undefined;
    }
  }
  const n = Number(text);
  return Number.isNaN(n) && text !== 'NaN' ? undefined : n;
}

/**
 * The event-time split of `key` for the event-time column `field`, or
 * `undefined` when the key is not a list of field names (or one field name)
 * with `field` first or last. Several other columns are joined with their
 * `keyPart` encodings, like `keyOf` does.
 */
export function eventTimeKeys<T>(key: ResolvedKey<T>, field: string): EventTimeKeys | undefined {
  const fields = key.fields;
  if (fields === undefined || fields.length === 0) return undefined;
  if (typeof key.descriptor === 'string') {
    if (key.descriptor !== field) return undefined;
    // A single field name: keyOf is the number itself (-0 as 0).
    return {
      field,
      restOf: () => true,
      compose: (t) => (t === 0 ? 0 : t),
      parse: (k, t) => (k === (t === 0 ? 0 : t) ? true : undefined),
    };
  }
  const n = fields.length;
  const first = fields[0] === field;
  if (!first && fields[n - 1] !== field) return undefined;
  let compose: (t: number, rest: RestKey) => StableKey;
  let restOf: (row: Record<string, unknown>) => RestKey | undefined;
  if (n === 1) {
    restOf = () => true;
    compose = (t) => keyPart(t);
  } else if (n === 2) {
    const other = first ? fields[1]! : fields[0]!;
    const readOther = columnReader(other);
    restOf = (row) => restPrimitive(readOther(row));
    compose = first ? (t, rest) => `${keyPart(t)},${keyPart(rest)}` : (t, rest) => `${keyPart(rest)},${keyPart(t)}`;
  } else {
    const others = (first ? fields.slice(1) : fields.slice(0, n - 1)).map(columnReader);
    const m = others.length;
    restOf = (row) => {
      let out = keyPart(others[0]!(row));
      for (let i = 1; i < m; i++) out += `,${keyPart(others[i]!(row))}`;
      return out;
    };
    compose = first ? (t, rest) => `${keyPart(t)},${rest as string}` : (t, rest) => `${rest as string},${keyPart(t)}`;
  }
  const parse = (k: StableKey, t: number): RestKey | undefined => {
    if (typeof k !== 'string') return undefined;
    if (n === 1) return k === keyPart(t) ? true : undefined;
    const tsPart = keyPart(t);
    let restText: string;
    if (first) {
      if (!k.startsWith(`${tsPart},`)) return undefined;
      restText = k.slice(tsPart.length + 1);
    } else {
      if (!k.endsWith(`,${tsPart}`)) return undefined;
      restText = k.slice(0, k.length - tsPart.length - 1);
    }
    const rest = n === 2 ? decodePart(restText) : restText;
    return rest !== undefined && compose(t, rest) === k ? rest : undefined;
  };
  return { field, restOf, compose, parse };
}

/** Bytes a held key is counted for in `memoryUsedBytes`: a fixed per-entry overhead plus a string's UTF-16 code units. */
export const ENTRY_OVERHEAD_BYTES = 64;

/** The bytes {@link ENTRY_OVERHEAD_BYTES} counts for a rest key. */
export function restBytes(rest: RestKey): number {
  return typeof rest === 'string' ? ENTRY_OVERHEAD_BYTES + 2 * rest.length : ENTRY_OVERHEAD_BYTES;
}

/** One span of the index: its event times' keys, and how many keys and bytes it holds. */
interface Span {
  readonly times: Map<number, Bucket>;
  keys: number;
  bytes: number;
}

/** Width of the index's time buckets in ms (a power of two keeps bucket ids of epoch-ms times small integers). */
const SPAN_MS = 4096;

/**
 * The fast path's lookup structure: event time → the rest keys seen with it
 * (a bare rest key while there is one, a `Set` from the second on), the event
 * times grouped in spans of {@link SPAN_MS} so that eviction drops whole spans
 * (their ids sit in a {@link MinHeap}) and trims only the span the watermark
 * falls into. Mutable, owned by one subscription, derived from the
 * operator's state (rebuilt from it on recovery). Only finite times are held.
 * It counts the keys it holds and their {@link restBytes} (kept per span, so
 * that dropping a whole span needs no walk over its keys).
 */
export class EventTimeKeyIndex {
  private readonly spans = new Map<number, Span>();
  private readonly due = new MinHeap<number>();
  private lastId = Number.NaN;
  private lastSpan: Span | undefined;
  /** Keys held. */
  keys = 0;
  /** Their {@link restBytes}. */
  bytes = 0;

  /** Number of spans held. */
  get size(): number {
    return this.spans.size;
  }

  private spanOf(t: number, create: boolean): Span | undefined {
    const id = Math.floor(t / SPAN_MS);
    if (id === this.lastId) return this.lastSpan;
    let span = this.spans.get(id);
    if (span === undefined) {
      if (!create) return undefined;
      span = { times: new Map<number, Bucket>(), keys: 0, bytes: 0 };
      this.spans.set(id, span);
      this.due.add(id, id);
    }
    this.lastId = id;
    this.lastSpan = span;
    return span;
  }

  /** Adds `(t, rest)`; `false` when it was already there. */
  add(t: number, rest: RestKey): boolean {
    const span = this.spanOf(t, true)!;
    const times = span.times;
    const bucket = times.get(t);
    if (bucket === undefined) times.set(t, rest);
    else if (bucket === rest) return false;
    else if (typeof bucket === 'object') {
      if (bucket.has(rest)) return false;
      bucket.add(rest);
    } else times.set(t, new Set<RestKey>([bucket, rest]));
    const bytes = restBytes(rest);
    span.keys++;
    span.bytes += bytes;
    this.keys++;
    this.bytes += bytes;
    return true;
  }

  /** `true` when `(t, rest)` is held. */
  has(t: number, rest: RestKey): boolean {
    const bucket = this.spanOf(t, false)?.times.get(t);
    if (bucket === undefined) return false;
    return bucket === rest || (typeof bucket === 'object' && bucket.has(rest));
  }

  /** Removes `(t, rest)` (undoing an {@link add}). */
  remove(t: number, rest: RestKey): void {
    const span = this.spanOf(t, false);
    const bucket = span?.times.get(t);
    if (span === undefined || bucket === undefined) return;
    if (typeof bucket === 'object') {
      if (!bucket.delete(rest)) return;
      if (bucket.size === 0) span.times.delete(t);
    } else if (bucket === rest) span.times.delete(t);
    else return;
    this.forget(span, 1, restBytes(rest));
  }

  private forget(span: Span, keys: number, bytes: number): void {
    span.keys -= keys;
    span.bytes -= bytes;
    this.keys -= keys;
    this.bytes -= bytes;
  }

  /** Removes every key whose event time is at or below `watermark`. */
  evict(watermark: number): void {
    const due = this.due;
    while (due.size > 0) {
      const id = due.peekTime();
      if (id * SPAN_MS > watermark) return;
      if ((id + 1) * SPAN_MS <= watermark) {
        due.pop();
        const gone = this.spans.get(id);
        if (gone !== undefined) {
          this.keys -= gone.keys;
          this.bytes -= gone.bytes;
        }
        this.spans.delete(id);
        if (id === this.lastId) {
          this.lastId = Number.NaN;
          this.lastSpan = undefined;
        }
        continue;
      }
      // The watermark falls inside this span: drop its times at or below it, keep the span.
      const span = this.spans.get(id)!;
      let keys = 0;
      let bytes = 0;
      for (const [t, bucket] of span.times) {
        if (t > watermark) continue;
        if (typeof bucket === 'object') {
          for (const rest of bucket) bytes += restBytes(rest);
          keys += bucket.size;
        } else {
          bytes += restBytes(bucket);
          keys++;
        }
        span.times.delete(t);
      }
      this.forget(span, keys, bytes);
      return;
    }
  }
}

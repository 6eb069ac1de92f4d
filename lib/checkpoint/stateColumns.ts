/**
 * The columnar state file body (checkpoint format version 2) and the merge
 * that builds a snapshot from an older snapshot and the deltas after it.
 *
 * ```text
 * {"operator":"groupAggregate#0","version":19,"kind":"snapshot","count":3}\n    header line (JSON)
 * u32 LE × count     byte length of each key's JSON text
 * u32 LE × count     byte length of each value's JSON text; 0 = the key was removed (deltas only)
 * ["k1","k2","k3"]   the keys: one JSON array, each key a JSON string
 * [{"n":1},2,[3]]    the values that are present: one JSON array
 * \n
 * ```
 *
 * Each column is parsed with one `JSON.parse` when state is restored, so
 * loading builds the keys and values and nothing else per entry; the length
 * columns let the snapshot merge copy an entry's bytes without parsing its
 * value. The whole file is framed and checksummed like every checkpoint file
 * (`fileFormat.ts`), so a torn or damaged body is rejected before any of it
 * is read.
 *
 * Every function in this file is self-contained (it uses only its
 * arguments, globals and the other functions listed in {@link STATE_COLUMN_FUNCTIONS}):
 * the snapshot worker thread runs their source text.
 */

/** The parts of a parsed columnar body. Offsets are into `bytes`. */
export interface StateColumnsView {
  readonly bytes: Uint8Array;
  /** The header line's JSON text. */
  readonly headerJson: string;
  readonly count: number;
  /** Byte offset in `bytes` of each key's JSON text, and its length. */
  readonly keyStarts: Uint32Array;
  readonly keyLengths: Uint32Array;
  /** Byte offset of each value's JSON text, and its length (0: removed). */
  readonly valueStarts: Uint32Array;
  readonly valueLengths: Uint32Array;
  /** The key column `[...]` and the value column `[...]`: byte ranges. */
  readonly keysStart: number;
  readonly keysEnd: number;
  readonly valuesStart: number;
  readonly valuesEnd: number;
}

/**
 * Encodes a columnar body: `headerJson` (one line of JSON without a newline),
 * each key's JSON text and each value's JSON text (`undefined`: removed).
 * Each column is joined and encoded in one go.
 */
export function encodeStateColumns(headerJson: string, keyTexts: readonly string[], valueTexts: readonly (string | undefined)[]): Uint8Array {
  const count = keyTexts.length;
  const present: string[] = [];
  for (let i = 0; i < count; i++) {
    const text = valueTexts[i];
    if (text !== undefined) present.push(text);
  }
  const encoder = new TextEncoder();
  const head = encoder.encode(`${headerJson}\n`);
  const keys = encoder.encode(`[${keyTexts.join(',')}]`);
  const values = encoder.encode(`[${present.join(',')}]`);
  // UTF-8 length of a text (without allocating), for columns that are not all ASCII.
  const utf8Length = (text: string): number => {
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        n += 4;
        i++;
      } else n += 3;
    }
    return n;
  };
  let keyChars = 2 + Math.max(0, count - 1);
  for (let i = 0; i < count; i++) keyChars += keyTexts[i]!.length;
  let valueChars = 2 + Math.max(0, present.length - 1);
  for (let i = 0; i < present.length; i++) valueChars += present[i]!.length;
  const keysAscii = keys.length === keyChars;
  const valuesAscii = values.length === valueChars;
  const out = new Uint8Array(head.length + count * 8 + keys.length + values.length + 1);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.set(head, 0);
  const keyLengthsAt = head.length;
  const valueLengthsAt = keyLengthsAt + count * 4;
  for (let i = 0; i < count; i++) {
    const key = keyTexts[i]!;
    view.setUint32(keyLengthsAt + i * 4, keysAscii ? key.length : utf8Length(key), true);
    const value = valueTexts[i];
    view.setUint32(valueLengthsAt + i * 4, value === undefined ? 0 : valuesAscii ? value.length : utf8Length(value), true);
  }
  let at = valueLengthsAt + count * 4;
  out.set(keys, at);
  at += keys.length;
  out.set(values, at);
  at += values.length;
  out[at] = 0x0a;
  return out;
}

/**
 * Reads the layout of a columnar body (`bytes[start..end)`). Throws an `Error`
 * whose message says what is wrong when the layout does not add up; the
 * caller turns it into `CheckpointCorruptError`.
 */
export function readStateColumns(bytes: Uint8Array, start: number, end: number): StateColumnsView {
  const newline = bytes.indexOf(0x0a, start);
  if (newline < 0 || newline >= end) throw new Error('a state file without a header line');
  const headerJson = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, newline));
  let header: unknown;
  try {
    header = JSON.parse(headerJson);
  } catch {
    throw new Error('a state file without a valid header line');
  }
  const count = typeof header === 'object' && header !== null ? (header as { count?: unknown }).count : undefined;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) throw new Error('a state file header without an entry count');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const keyLengthsAt = newline + 1;
  const valueLengthsAt = keyLengthsAt + count * 4;
  const keysStart = valueLengthsAt + count * 4;
  if (keysStart + 5 > end) throw new Error(`a state file shorter than its ${count} entries`);
  const keyStarts = new Uint32Array(count);
  const valueStarts = new Uint32Array(count);
  // The two length columns, copied in one go into an aligned buffer and read as 32-bit words
  // where the platform is little-endian as the file (elsewhere word by word).
  let keyLengths: Uint32Array;
  let valueLengths: Uint32Array;
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] === 1) {
    const copy = new Uint8Array(keysStart - keyLengthsAt); // its own buffer, at offset 0 (a Buffer's slice would share the pool)
    copy.set(bytes.subarray(keyLengthsAt, keysStart));
    const words = new Uint32Array(copy.buffer, 0, 2 * count);
    keyLengths = words.subarray(0, count);
    valueLengths = words.subarray(count, 2 * count);
  } else {
    keyLengths = new Uint32Array(count);
    valueLengths = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      keyLengths[i] = view.getUint32(keyLengthsAt + i * 4, true);
      valueLengths[i] = view.getUint32(valueLengthsAt + i * 4, true);
    }
  }
  if (bytes[keysStart] !== 0x5b) throw new Error('a state file whose key column does not start with [');
  let at = keysStart + 1;
  for (let i = 0; i < count; i++) {
    if (i > 0) at++;
    const length = keyLengths[i]!;
    keyStarts[i] = at;
    at += length;
    if (length === 0 || at > end) throw new Error(`a state file whose key ${i} does not fit`);
  }
  if (bytes[at] !== 0x5d) throw new Error('a state file whose key column does not end with ]');
  const keysEnd = at + 1;
  const valuesStart = keysEnd;
  if (bytes[valuesStart] !== 0x5b) throw new Error('a state file whose value column does not start with [');
  at = valuesStart + 1;
  let first = true;
  for (let i = 0; i < count; i++) {
    const length = valueLengths[i]!;
    if (length === 0) continue;
    if (!first) at++;
    first = false;
    valueStarts[i] = at;
    at += length;
    if (at > end) throw new Error(`a state file whose value ${i} does not fit`);
  }
  if (bytes[at] !== 0x5d) throw new Error('a state file whose value column does not end with ]');
  const valuesEnd = at + 1;
  if (valuesEnd + 1 !== end || bytes[valuesEnd] !== 0x0a) throw new Error('a state file with bytes after its value column');
  return { bytes, headerJson, count, keyStarts, keyLengths, valueStarts, valueLengths, keysStart, keysEnd, valuesStart, valuesEnd };
}

/** The keys of a columnar body, parsed with one `JSON.parse`. */
export function stateColumnKeys(columns: StateColumnsView): string[] {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(columns.bytes.subarray(columns.keysStart, columns.keysEnd));
  const keys: unknown = JSON.parse(text);
  if (!Array.isArray(keys) || keys.length !== columns.count) throw new Error('a state file whose key column does not hold its entries');
  for (let i = 0; i < keys.length; i++) if (typeof keys[i] !== 'string') throw new Error(`a state file whose key ${i} is not a string`);
  return keys as string[];
}

/** The values that are present in a columnar body (removed entries have none), parsed with one `JSON.parse`. */
export function stateColumnValues(columns: StateColumnsView): unknown[] {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(columns.bytes.subarray(columns.valuesStart, columns.valuesEnd));
  const values: unknown = JSON.parse(text);
  let present = 0;
  for (let i = 0; i < columns.count; i++) if (columns.valueLengths[i] !== 0) present++;
  if (!Array.isArray(values) || values.length !== present) throw new Error('a state file whose value column does not hold its entries');
  return values;
}

/**
 * The body of the snapshot after `deltas` (oldest first) are applied to
 * `base` (`undefined`: the empty state; or the first delta, applied to the
 * empty state, whose removed keys are dropped), with `headerJson` as its header
 * (its `count` is filled in here). Bytes of entries are copied, never parsed,
 * except the deltas' keys: a base key is looked up among them by its bytes.
 *
 * The order is the one restoring gives ({@link rebuiltEntries} in
 * `stateFiles.ts`): the base's order, a key a delta updates keeps its place,
 * a new key comes after the older ones in the order the deltas list it, and
 * a key removed (and maybe added again) leaves its place.
 */
export function mergeStateColumns(
  headerJson: string,
  base: StateColumnsView | undefined,
  _baseKeys: readonly string[] | undefined,
  deltas: readonly StateColumnsView[],
  deltaKeys: readonly (readonly string[])[],
): { readonly body: Uint8Array } {
  // overrides: key -> where its latest occurrence is, packed as delta * 2^26 + entry; a removal as -(that) - 1
  const overrides = new Map<string, number>();
  const removed = new Set<string>();
  const SCALE = 67108864; // 2^26 entries per delta at most
  for (let d = 0; d < deltas.length; d++) {
    const delta = deltas[d]!;
    if (delta.count >= SCALE) throw new Error(`mergeStateColumns: a delta of ${delta.count} entries is more than this merge handles`);
    const keys = deltaKeys[d]!;
    for (let i = 0; i < delta.count; i++) {
      const key = keys[i]!;
      const at = d * SCALE + i;
      if (delta.valueLengths[i] === 0) {
        overrides.delete(key);
        overrides.set(key, -at - 1);
        removed.add(key);
      } else {
        const o = overrides.get(key);
        if (o !== undefined && o < 0) overrides.delete(key); // added again after a removal: to the end
        overrides.set(key, at);
      }
    }
  }
  // The overridden keys by their bytes (FNV-1a hash, open addressing), so that each base key is
  // looked up by its JSON bytes: no string is built per base entry. Equal keys have equal JSON text.
  const ovKeys: string[] = [];
  const ovAt: number[] = [];
  for (const [key, o] of overrides) {
    ovKeys.push(key);
    ovAt.push(o);
  }
  const count = ovKeys.length;
  // Per overridden key: where its bytes are (its latest occurrence), whether it is removed at the
  // end, whether a delta removed it at some point, and whether it took its place in the base.
  const where = new Float64Array(count);
  const removedLast = new Uint8Array(count);
  const removedEver = new Uint8Array(count);
  const inPlace = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    const o = ovAt[k]!;
    where[k] = o < 0 ? -o - 1 : o;
    removedLast[k] = o < 0 ? 1 : 0;
    removedEver[k] = removed.has(ovKeys[k]!) ? 1 : 0;
  }
  let size = 16;
  while (size < count * 2) size *= 2;
  const mask = size - 1;
  // Slot p holds [key index (-1: empty), hash] at 2p, 2p + 1: one cache line for both.
  const table = new Int32Array(2 * size).fill(-1);
  const hashOf = (bytes: Uint8Array, from: number, length: number): number => {
    let h = 0x811c9dc5 | 0;
    for (let j = 0; j < length; j++) h = Math.imul(h ^ bytes[from + j]!, 0x01000193);
    return h;
  };
  for (let k = 0; k < count; k++) {
    const at = where[k]!;
    const delta = deltas[Math.floor(at / SCALE)]!;
    const e = at % SCALE;
    const h = hashOf(delta.bytes, delta.keyStarts[e]!, delta.keyLengths[e]!);
    let p = h & mask;
    while (table[2 * p] !== -1) p = (p + 1) & mask;
    table[2 * p] = k;
    table[2 * p + 1] = h;
  }
  /** The index in `ovKeys` of the key whose JSON text is `bytes[from .. from + length)`, or -1. */
  const find = (bytes: Uint8Array, from: number, length: number): number => {
    const h = hashOf(bytes, from, length);
    for (let p = h & mask; ; p = (p + 1) & mask) {
      const c = table[2 * p]!;
      if (c === -1) return -1;
      if (table[2 * p + 1] !== h) continue;
      const at = where[c]!;
      const delta = deltas[Math.floor(at / SCALE)]!;
      const e = at % SCALE;
      if (delta.keyLengths[e] !== length) continue;
      const start = delta.keyStarts[e]!;
      let j = 0;
      while (j < length && delta.bytes[start + j] === bytes[from + j]) j++;
      if (j === length) return c;
    }
  };
  // The entries of the result: source (-1 = base, else a delta index) and entry index.
  let capacity = (base?.count ?? 0) + overrides.size;
  let sources = new Int32Array(capacity);
  let entries = new Int32Array(capacity);
  let n = 0;
  if (base !== undefined) {
    const any = count > 0;
    for (let i = 0; i < base.count; i++) {
      const c = any ? find(base.bytes, base.keyStarts[i]!, base.keyLengths[i]!) : -1;
      if (c < 0) {
        if (base.valueLengths[i] === 0) continue; // removed in a base that is the first delta
        sources[n] = -1;
        entries[n++] = i;
        continue;
      }
      if (removedEver[c] === 0 && base.valueLengths[i] !== 0) {
        // (A key removed in a base that is the first delta is new when a later delta adds it: at the end.)
        const o = where[c]!;
        inPlace[c] = 1;
        sources[n] = Math.floor(o / SCALE);
        entries[n++] = o % SCALE;
      }
    }
  }
  for (let c = 0; c < count; c++) {
    if (removedLast[c] === 1 || inPlace[c] === 1) continue;
    const o = where[c]!;
    if (n === capacity) {
      capacity *= 2;
      const s = new Int32Array(capacity);
      s.set(sources);
      sources = s;
      const e = new Int32Array(capacity);
      e.set(entries);
      entries = e;
    }
    sources[n] = Math.floor(o / SCALE);
    entries[n++] = o % SCALE;
  }
  const header = JSON.parse(headerJson) as Record<string, unknown>;
  header['count'] = n;
  const headerText = JSON.stringify(header);
  const encoder = new TextEncoder();
  const headerBytes = encoder.encode(headerText);
  let keyBytes = 0;
  let valueBytes = 0;
  for (let j = 0; j < n; j++) {
    const src = sources[j]! < 0 ? base! : deltas[sources[j]!]!;
    keyBytes += src.keyLengths[entries[j]!]!;
    valueBytes += src.valueLengths[entries[j]!]!;
  }
  const total = headerBytes.length + 1 + n * 8 + (keyBytes + Math.max(0, n - 1) + 2) + (valueBytes + Math.max(0, n - 1) + 2) + 1;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.set(headerBytes, 0);
  let at = headerBytes.length;
  out[at++] = 0x0a;
  const keyLengthsAt = at;
  const valueLengthsAt = at + n * 4;
  at = valueLengthsAt + n * 4;
  // Keys, copying runs of consecutive base entries in one go.
  out[at++] = 0x5b;
  for (let j = 0; j < n; ) {
    const s = sources[j]!;
    const src = s < 0 ? base! : deltas[s]!;
    let k = j + 1;
    if (s < 0) while (k < n && sources[k] === -1 && entries[k] === entries[k - 1]! + 1) k++;
    const first = entries[j]!;
    const last = entries[k - 1]!;
    if (j > 0) out[at++] = 0x2c;
    const from = src.keyStarts[first]!;
    const to = src.keyStarts[last]! + src.keyLengths[last]!;
    if (to - from > 64) out.set(src.bytes.subarray(from, to), at);
    else for (let b = from; b < to; b++) out[at + b - from] = src.bytes[b]!;
    at += to - from;
    for (let m = j; m < k; m++) view.setUint32(keyLengthsAt + m * 4, src.keyLengths[entries[m]!]!, true);
    j = k;
  }
  out[at++] = 0x5d;
  out[at++] = 0x5b;
  for (let j = 0; j < n; ) {
    const s = sources[j]!;
    const src = s < 0 ? base! : deltas[s]!;
    let k = j + 1;
    if (s < 0) while (k < n && sources[k] === -1 && entries[k] === entries[k - 1]! + 1) k++;
    const first = entries[j]!;
    const last = entries[k - 1]!;
    if (j > 0) out[at++] = 0x2c;
    const from = src.valueStarts[first]!;
    const to = src.valueStarts[last]! + src.valueLengths[last]!;
    if (to - from > 64) out.set(src.bytes.subarray(from, to), at);
    else for (let b = from; b < to; b++) out[at + b - from] = src.bytes[b]!;
    at += to - from;
    for (let m = j; m < k; m++) view.setUint32(valueLengthsAt + m * 4, src.valueLengths[entries[m]!]!, true);
    j = k;
  }
  out[at++] = 0x5d;
  out[at++] = 0x0a;
  if (at !== total) throw new Error(`mergeStateColumns: wrote ${at} bytes where ${total} were planned`);
  return { body: out };
}

/**
 * Converts the body of a version-1 state file (a JSON header line, then
 * lines of `[key, value]` / `[key]` entries) to a columnar body. Throws an
 * `Error` saying what is wrong when a line is not valid.
 */
export function stateColumnsFromJsonLines(text: string): Uint8Array {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let header: unknown;
  try {
    header = JSON.parse(lines[0] ?? '');
  } catch {
    throw new Error('a state file without a valid header line');
  }
  if (typeof header !== 'object' || header === null) throw new Error('a state file without a valid header line');
  const keyTexts: string[] = [];
  const valueTexts: (string | undefined)[] = [];
  for (let i = 1; i < lines.length; i++) {
    let line: unknown;
    try {
      line = JSON.parse(lines[i]!);
    } catch {
      throw new Error(`an invalid entry line (line ${i + 2})`);
    }
    if (!Array.isArray(line)) throw new Error(`an invalid entry line (line ${i + 2})`);
    for (const entry of line as unknown[]) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || entry.length < 1 || entry.length > 2) throw new Error(`an invalid entry on line ${i + 2}`);
      keyTexts.push(JSON.stringify(entry[0]));
      valueTexts.push(entry.length === 1 ? undefined : (JSON.stringify(entry[1]) ?? 'null'));
    }
  }
  return encodeStateColumns(JSON.stringify({ ...(header as Record<string, unknown>), count: keyTexts.length }), keyTexts, valueTexts);
}


// ---------------------------------------------------------------- binary state files (format version 3)

/**
 * A binary state file body (checkpoint format version 3), written by
 * operators whose state is columns of numbers (the dense-key aggregation,
 * `lib/aggregate/denseGroupEngine.ts`). Every entry has a key (UTF-16 code
 * units, compared by their bytes), `slots` numbers (float64) with a tag byte
 * each, and optional extra bytes (JSON text, for values that are not
 * numbers); all little-endian:
 *
 * ```text
 * {"operator":"groupAggregate#0","version":19,"kind":"snapshot","count":3,"slots":2,"layout":"…"}\n   header line (JSON)
 * u32 × count           key length of each entry, in UTF-16 code units (at least 1)
 * u32 × count           extra bytes of each entry (0: none)
 * u8 × count            flags: 1 = the key was removed (deltas only)
 * u8 × count × slots    a tag per number (what the codec makes of it)
 * f64 × count × slots   the numbers
 * u16 × Σ key lengths   the keys
 * u8 × Σ extra bytes    the extra bytes
 * \n
 * ```
 *
 * Loading is bulk copies of these columns; nothing is parsed per entry. A
 * file is framed and checksummed like every checkpoint file.
 */
export interface BinaryStateView {
  readonly binary: true;
  readonly bytes: Uint8Array;
  readonly headerJson: string;
  readonly count: number;
  readonly slots: number;
  /** Per entry: key length (code units), extra length (bytes), and their byte offsets in `bytes`. */
  readonly keyUnits: Uint32Array;
  readonly extraLengths: Uint32Array;
  readonly keyStarts: Float64Array;
  readonly extraStarts: Float64Array;
  /** Byte offsets of the flag, tag and number columns. */
  readonly flagsAt: number;
  readonly tagsAt: number;
  readonly valuesAt: number;
}

/** Reads the layout of a binary body (`bytes[start..end)`); throws an `Error` saying what does not add up. */
export function readBinaryState(bytes: Uint8Array, start: number, end: number): BinaryStateView {
  const newline = bytes.indexOf(0x0a, start);
  if (newline < 0 || newline >= end) throw new Error('a state file without a header line');
  const headerJson = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, newline));
  let header: { count?: unknown; slots?: unknown };
  try {
    header = JSON.parse(headerJson) as { count?: unknown; slots?: unknown };
  } catch {
    throw new Error('a state file without a valid header line');
  }
  const count = typeof header === 'object' && header !== null ? header.count : undefined;
  const slots = typeof header === 'object' && header !== null ? header.slots : undefined;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) throw new Error('a state file header without an entry count');
  if (typeof slots !== 'number' || !Number.isSafeInteger(slots) || slots < 0 || slots > 1024) throw new Error('a binary state file header without its number of slots');
  const lengthsAt = newline + 1;
  const flagsAt = lengthsAt + count * 8;
  const tagsAt = flagsAt + count;
  const valuesAt = tagsAt + count * slots;
  const keysAt = valuesAt + count * slots * 8;
  if (keysAt + 1 > end) throw new Error(`a state file shorter than its ${count} entries`);
  // The two length columns, copied into an aligned buffer (little-endian platforms read them as words).
  let keyUnits: Uint32Array;
  let extraLengths: Uint32Array;
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] === 1) {
    const copy = new Uint8Array(count * 8);
    copy.set(bytes.subarray(lengthsAt, flagsAt));
    keyUnits = new Uint32Array(copy.buffer, 0, count);
    extraLengths = new Uint32Array(copy.buffer, count * 4, count);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    keyUnits = new Uint32Array(count);
    extraLengths = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      keyUnits[i] = view.getUint32(lengthsAt + i * 4, true);
      extraLengths[i] = view.getUint32(lengthsAt + count * 4 + i * 4, true);
    }
  }
  const keyStarts = new Float64Array(count);
  const extraStarts = new Float64Array(count);
  let at = keysAt;
  for (let i = 0; i < count; i++) {
    const units = keyUnits[i]!;
    if (units === 0) throw new Error(`a state file whose key ${i} is empty`);
    keyStarts[i] = at;
    at += units * 2;
  }
  if (at > end) throw new Error('a state file whose keys do not fit');
  for (let i = 0; i < count; i++) {
    extraStarts[i] = at;
    at += extraLengths[i]!;
  }
  if (at + 1 !== end || bytes[at] !== 0x0a) throw new Error(`a binary state file of ${end - start} bytes where its columns take ${at + 1 - start}`);
  for (let i = 0; i < count; i++) if (bytes[flagsAt + i]! > 1) throw new Error(`a state file whose entry ${i} has flags ${bytes[flagsAt + i]}`);
  return { binary: true, bytes, headerJson, count, slots, keyUnits, extraLengths, keyStarts, extraStarts, flagsAt, tagsAt, valuesAt };
}

/**
 * Encodes a binary body from its columns: `keys` holds the keys' code units
 * back to back (`keyUnits[i]` each), `tags` / `values` `slots` per entry,
 * `extras[i]` an entry's extra bytes (or `undefined`), `flags[i]` 1 for a
 * removed key. `headerJson` must name `count` and `slots`.
 */
export function encodeBinaryState(
  headerJson: string,
  count: number,
  slots: number,
  keyUnits: Uint32Array,
  keys: Uint16Array,
  flags: Uint8Array,
  tags: Uint8Array,
  values: Float64Array,
  extras: readonly (Uint8Array | undefined)[] | undefined,
): Uint8Array {
  const head = new TextEncoder().encode(`${headerJson}\n`);
  let keyTotal = 0;
  for (let i = 0; i < count; i++) keyTotal += keyUnits[i]!;
  let extraTotal = 0;
  if (extras !== undefined) for (let i = 0; i < count; i++) extraTotal += extras[i]?.length ?? 0;
  const lengthsAt = head.length;
  const flagsAt = lengthsAt + count * 8;
  const tagsAt = flagsAt + count;
  const valuesAt = tagsAt + count * slots;
  const keysAt = valuesAt + count * slots * 8;
  const extrasAt = keysAt + keyTotal * 2;
  const out = new Uint8Array(extrasAt + extraTotal + 1);
  out.set(head, 0);
  const little = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (little) {
    out.set(new Uint8Array(keyUnits.buffer, keyUnits.byteOffset, count * 4), lengthsAt);
  } else for (let i = 0; i < count; i++) view.setUint32(lengthsAt + i * 4, keyUnits[i]!, true);
  for (let i = 0; i < count; i++) view.setUint32(lengthsAt + count * 4 + i * 4, extras?.[i]?.length ?? 0, true);
  out.set(flags.subarray(0, count), flagsAt);
  out.set(tags.subarray(0, count * slots), tagsAt);
  if (little) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, count * slots * 8), valuesAt);
    out.set(new Uint8Array(keys.buffer, keys.byteOffset, keyTotal * 2), keysAt);
  } else {
    for (let i = 0; i < count * slots; i++) view.setFloat64(valuesAt + i * 8, values[i]!, true);
    for (let i = 0; i < keyTotal; i++) view.setUint16(keysAt + i * 2, keys[i]!, true);
  }
  let at = extrasAt;
  if (extras !== undefined) {
    for (let i = 0; i < count; i++) {
      const e = extras[i];
      if (e === undefined) continue;
      out.set(e, at);
      at += e.length;
    }
  }
  out[at] = 0x0a;
  return out;
}

/**
 * The binary body of the snapshot after `deltas` (oldest first) are applied
 * to `base` (`undefined`: the empty state; or the first delta, whose removed
 * keys are dropped), with `headerJson` as its header (`count` filled in
 * here). The order is {@link mergeStateColumns}'s: the base's order, a key a
 * delta updates keeps its place, new keys follow in the order the deltas list
 * them, a removed key leaves. Entries are copied, never decoded.
 */
export function mergeBinaryState(headerJson: string, base: BinaryStateView | undefined, deltas: readonly BinaryStateView[]): Uint8Array {
  const slots = base?.slots ?? deltas[0]?.slots ?? 0;
  for (const d of deltas) if (d.slots !== slots) throw new Error(`mergeBinaryState: a delta with ${d.slots} slots on a state with ${slots}`);
  /** Copies `src[from .. to)` to `out` at `at`: short runs byte by byte (no view per run). */
  const copy = (out: Uint8Array, at: number, src: Uint8Array, from: number, to: number): void => {
    if (to - from > 64) out.set(src.subarray(from, to), at);
    else for (let b = from; b < to; b++) out[at + b - from] = src[b]!;
  };
  // The latest occurrence of every key the deltas hold: delta index, entry, hash; found by key bytes (open addressing).
  let total = 0;
  for (const d of deltas) total += d.count;
  let size = 16;
  while (size < total * 2) size *= 2;
  const mask = size - 1;
  const table = new Int32Array(size).fill(-1);
  const ovDelta = new Int32Array(total);
  const ovEntry = new Int32Array(total);
  const ovHash = new Int32Array(total);
  /** Overridden key order: a key removed then added again moves to where it was added again. */
  const ovSeq = new Float64Array(total);
  const ovRemovedEver = new Uint8Array(total);
  let nOv = 0;
  let seq = 0;
  for (let d = 0; d < deltas.length; d++) {
    const delta = deltas[d]!;
    for (let i = 0; i < delta.count; i++) {
      const h = binaryKeyHash(delta.bytes, delta.keyStarts[i]!, delta.keyUnits[i]! * 2);
      let p = h & mask;
      let c = -1;
      for (;;) {
        const t = table[p]!;
        if (t === -1) break;
        if (ovHash[t] === h && sameBinaryKey(deltas[ovDelta[t]!]!, ovEntry[t]!, delta, i)) {
          c = t;
          break;
        }
        p = (p + 1) & mask;
      }
      const removed = delta.bytes[delta.flagsAt + i] === 1;
      if (c === -1) {
        c = nOv++;
        table[p] = c;
        ovHash[c] = h;
        ovSeq[c] = seq++;
      } else {
        const wasRemoved = deltas[ovDelta[c]!]!.bytes[deltas[ovDelta[c]!]!.flagsAt + ovEntry[c]!] === 1;
        // Removed now, or added again after a removal: the key's place is its latest occurrence.
        if (removed || wasRemoved) ovSeq[c] = seq++;
      }
      if (removed) ovRemovedEver[c] = 1;
      ovDelta[c] = d;
      ovEntry[c] = i;
    }
  }
  const find = (view: BinaryStateView, i: number): number => {
    const h = binaryKeyHash(view.bytes, view.keyStarts[i]!, view.keyUnits[i]! * 2);
    for (let p = h & mask; ; p = (p + 1) & mask) {
      const t = table[p]!;
      if (t === -1) return -1;
      if (ovHash[t] === h && sameBinaryKey(deltas[ovDelta[t]!]!, ovEntry[t]!, view, i)) return t;
    }
  };
  // The result's entries: source (-1 = base, else a delta) and entry index.
  const capacity = (base?.count ?? 0) + nOv;
  const sources = new Int32Array(capacity);
  const entries = new Int32Array(capacity);
  const inPlace = new Uint8Array(nOv);
  /** Where an override kept in place sits in the base (the base's entry index). */
  const basePosOf = new Int32Array(nOv);
  let n = 0;
  // The common case, copied in bulk below: every base entry is kept at its index (none removed, in the base or by
  // a delta) and every override kept in place has its base entry's extra length (so every offset stays the same).
  let bulk = base !== undefined;
  if (base !== undefined) {
    for (let i = 0; i < base.count; i++) {
      const c = nOv > 0 ? find(base, i) : -1;
      const baseRemoved = base.bytes[base.flagsAt + i] === 1;
      if (c < 0) {
        if (baseRemoved) {
          bulk = false;
          continue;
        }
        sources[n] = -1;
        entries[n++] = i;
      } else if (ovRemovedEver[c] === 0 && !baseRemoved) {
        inPlace[c] = 1;
        basePosOf[c] = i;
        if (deltas[ovDelta[c]!]!.extraLengths[ovEntry[c]!] !== base.extraLengths[i]) bulk = false;
        sources[n] = ovDelta[c]!;
        entries[n++] = ovEntry[c]!;
      } else bulk = false;
    }
  }
  const order = new Int32Array(nOv);
  for (let c = 0; c < nOv; c++) order[c] = c;
  const sorted = Array.from(order).sort((a, b) => ovSeq[a]! - ovSeq[b]!);
  for (const c of sorted) {
    if (inPlace[c] === 1) continue;
    const src = deltas[ovDelta[c]!]!;
    if (src.bytes[src.flagsAt + ovEntry[c]!] === 1) continue;
    sources[n] = ovDelta[c]!;
    entries[n++] = ovEntry[c]!;
  }
  const header = JSON.parse(headerJson) as Record<string, unknown>;
  header['count'] = n;
  header['slots'] = slots;
  const head = new TextEncoder().encode(`${JSON.stringify(header)}\n`);
  let keyBytes = 0;
  let extraBytes = 0;
  for (let j = 0; j < n; j++) {
    const src = sources[j]! < 0 ? base! : deltas[sources[j]!]!;
    keyBytes += src.keyUnits[entries[j]!]! * 2;
    extraBytes += src.extraLengths[entries[j]!]!;
  }
  const lengthsAt = head.length;
  const flagsAt = lengthsAt + n * 8;
  const tagsAt = flagsAt + n;
  const valuesAt = tagsAt + n * slots;
  const keysAt = valuesAt + n * slots * 8;
  const extrasAt = keysAt + keyBytes;
  const out = new Uint8Array(extrasAt + extraBytes + 1);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.set(head, 0);
  let keyAt = keysAt;
  let extraAt = extrasAt;
  let j = 0;
  if (bulk && base !== undefined && base.count > 0) {
    // The base's columns as they are, then each override kept in place written over its entry.
    const m = base.count;
    const b = base.bytes;
    const baseLengthsAt = base.flagsAt - m * 8;
    copy(out, lengthsAt, b, baseLengthsAt, baseLengthsAt + m * 4);
    copy(out, lengthsAt + n * 4, b, baseLengthsAt + m * 4, base.flagsAt);
    copy(out, tagsAt, b, base.tagsAt, base.tagsAt + m * slots);
    copy(out, valuesAt, b, base.valuesAt, base.valuesAt + m * slots * 8);
    const baseKeysTo = base.keyStarts[m - 1]! + base.keyUnits[m - 1]! * 2;
    copy(out, keysAt, b, base.keyStarts[0]!, baseKeysTo);
    const baseExtrasTo = base.extraStarts[m - 1]! + base.extraLengths[m - 1]!;
    copy(out, extrasAt, b, base.extraStarts[0]!, baseExtrasTo);
    for (let c = 0; c < nOv; c++) {
      if (inPlace[c] === 0) continue;
      const i = basePosOf[c]!;
      const src = deltas[ovDelta[c]!]!;
      const e = ovEntry[c]!;
      copy(out, tagsAt + i * slots, src.bytes, src.tagsAt + e * slots, src.tagsAt + (e + 1) * slots);
      copy(out, valuesAt + i * slots * 8, src.bytes, src.valuesAt + e * slots * 8, src.valuesAt + (e + 1) * slots * 8);
      const length = src.extraLengths[e]!;
      if (length > 0) copy(out, extrasAt + (base.extraStarts[i]! - base.extraStarts[0]!), src.bytes, src.extraStarts[e]!, src.extraStarts[e]! + length);
    }
    keyAt = keysAt + (baseKeysTo - base.keyStarts[0]!);
    extraAt = extrasAt + (baseExtrasTo - base.extraStarts[0]!);
    j = m;
  }
  while (j < n) {
    const s = sources[j]!;
    const src = s < 0 ? base! : deltas[s]!;
    // Runs of consecutive entries of one file are copied in one go.
    let k = j + 1;
    while (k < n && sources[k] === s && entries[k] === entries[k - 1]! + 1) k++;
    const first = entries[j]!;
    const count = k - j;
    for (let m = 0; m < count; m++) {
      view.setUint32(lengthsAt + (j + m) * 4, src.keyUnits[first + m]!, true);
      view.setUint32(lengthsAt + n * 4 + (j + m) * 4, src.extraLengths[first + m]!, true);
    }
    // Flags stay 0: a snapshot holds no removed keys.
    copy(out, tagsAt + j * slots, src.bytes, src.tagsAt + first * slots, src.tagsAt + (first + count) * slots);
    copy(out, valuesAt + j * slots * 8, src.bytes, src.valuesAt + first * slots * 8, src.valuesAt + (first + count) * slots * 8);
    const keyFrom = src.keyStarts[first]!;
    const keyTo = src.keyStarts[k - j + first - 1]! + src.keyUnits[k - j + first - 1]! * 2;
    copy(out, keyAt, src.bytes, keyFrom, keyTo);
    keyAt += keyTo - keyFrom;
    const extraFrom = src.extraStarts[first]!;
    const extraTo = src.extraStarts[k - j + first - 1]! + src.extraLengths[k - j + first - 1]!;
    copy(out, extraAt, src.bytes, extraFrom, extraTo);
    extraAt += extraTo - extraFrom;
    j = k;
  }
  out[extraAt] = 0x0a;
  if (keyAt !== extrasAt || extraAt + 1 !== out.length) throw new Error(`mergeBinaryState: wrote ${extraAt + 1} bytes where ${out.length} were planned`);
  return out;
}

/**
 * A hash index of a binary state view's keys, by their bytes: what lets the
 * snapshot builder find the entries a delta changes without hashing every
 * key of its base. Kept with the builder's cached snapshot and moved to the
 * next one by {@link mergeBinaryStateIndexed}, which updates it in place.
 *
 * `table` is open addressing with four int32 per slot, so that a probe reads
 * one cache line: the key's {@link binaryKeyHash}, its entry + 1 (0: an empty
 * slot), its byte offset in the view's key column, and a mark the merge uses
 * (0 outside a merge).
 */
export interface BinaryKeyIndex {
  /** The number of entries indexed: the merge checks it against its base's. */
  count: number;
  table: Int32Array;
  /** An entry of the view is flagged removed, or a key is there twice (a first delta may be either): no indexed merge. */
  readonly irregular: boolean;
}

/** FNV-1a over a key's UTF-16 code units (`length` bytes from `from`, two per unit, little-endian). */
export function binaryKeyHash(bytes: Uint8Array, from: number, length: number): number {
  let h = 0x811c9dc5 | 0;
  for (let j = 0; j < length; j += 2) h = Math.imul(h ^ (bytes[from + j]! | (bytes[from + j + 1]! << 8)), 0x01000193);
  return h;
}

/** Whether entry `i` of `a` and entry `j` of `b` have the same key bytes. */
export function sameBinaryKey(a: BinaryStateView, i: number, b: BinaryStateView, j: number): boolean {
  const length = a.keyUnits[i]! * 2;
  if (b.keyUnits[j]! * 2 !== length) return false;
  const x = a.keyStarts[i]!;
  const y = b.keyStarts[j]!;
  const ab = a.bytes;
  const bb = b.bytes;
  for (let k = 0; k < length; k++) if (ab[x + k] !== bb[y + k]) return false;
  return true;
}

/**
 * The entries `0 .. count` in the order of their home slots in an
 * open-addressing table of `slots` slots (a power of two) by `hashes` (a
 * stable counting sort by the slot's top 11 bits): inserting them in this
 * order walks the table forwards instead of missing the caches on every key
 * of a large table.
 */
export function homeSlotOrder(hashes: Int32Array, count: number, slots: number): Int32Array {
  const slotMask = slots - 1;
  let shift = 0;
  while (slots >>> shift > 2048) shift++;
  const starts = new Int32Array((slots >>> shift) + 1);
  for (let i = 0; i < count; i++) starts[((hashes[i]! & slotMask) >>> shift) + 1]!++;
  for (let b = 1; b < starts.length; b++) starts[b]! += starts[b - 1]!;
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[starts[(hashes[i]! & slotMask) >>> shift]!++] = i;
  return order;
}

/** Indexes the keys of `view`: one hash of each key, then the inserts in {@link homeSlotOrder}. */
export function indexBinaryKeys(view: BinaryStateView): BinaryKeyIndex {
  const n = view.count;
  let size = 16;
  while (size < n * 2) size *= 2;
  const table = new Int32Array(size * 4);
  const keysFrom = n > 0 ? view.keyStarts[0]! : 0;
  if (n > 0 && view.keyStarts[n - 1]! - keysFrom > 0x7fffffff) return { count: n, table, irregular: true };
  const hashes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (view.bytes[view.flagsAt + i] === 1) return { count: n, table, irregular: true };
    hashes[i] = binaryKeyHash(view.bytes, view.keyStarts[i]!, view.keyUnits[i]! * 2);
  }
  const order = homeSlotOrder(hashes, n, size);
  const wrap = size * 4 - 1;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const h = hashes[i]!;
    let p = (h << 2) & wrap;
    for (;;) {
      const t = table[p + 1]!;
      if (t === 0) {
        table[p] = h;
        table[p + 1] = i + 1;
        table[p + 2] = view.keyStarts[i]! - keysFrom;
        break;
      }
      if (table[p] === h && sameBinaryKey(view, t - 1, view, i)) return { count: n, table, irregular: true };
      p = (p + 4) & wrap;
    }
  }
  return { count: n, table, irregular: false };
}

/**
 * {@link mergeBinaryState} for the common case, in time proportional to the
 * deltas rather than to the base: `index` indexes `base`'s keys, so each
 * delta entry is looked up once and the base's columns are copied in bulk
 * with the changed entries written over them and the new keys after them.
 * The bytes are the same as `mergeBinaryState`'s. `allocate` gives the
 * buffer to build the body in (a file's frame, {@link openFrame}). Returns
 * the body and the index of its keys, which is `index` moved to the result
 * (updated in place: it no longer fits `base`, and its `count` says so), or
 * `undefined`, with `index` unchanged, when a key is removed (in the base or
 * a delta) or the base is irregular, which `mergeBinaryState` handles.
 */
export function mergeBinaryStateIndexed(
  headerJson: string,
  base: BinaryStateView,
  index: BinaryKeyIndex,
  deltas: readonly BinaryStateView[],
  allocate: (bodyLength: number) => { readonly out: Uint8Array; readonly bodyAt: number } = (bodyLength) => ({ out: new Uint8Array(bodyLength), bodyAt: 0 }),
): { readonly body: Uint8Array; readonly index: BinaryKeyIndex } | undefined {
  const slots = base.slots;
  for (const d of deltas) if (d.slots !== slots) throw new Error(`mergeBinaryState: a delta with ${d.slots} slots on a state with ${slots}`);
  if (index.irregular || index.count !== base.count) return undefined;
  const m = base.count;
  const table = index.table;
  const wrap = table.length - 1;
  const b = base.bytes;
  const baseKeysFrom = m > 0 ? base.keyStarts[0]! : 0;
  let total = 0;
  for (const d of deltas) total += d.count;
  // Base entries the deltas change, in first-change order: the base entry, its slot in `table` (marked with
  // its place in this list plus one) and the latest delta entry for it.
  const tBase = new Int32Array(total);
  const tSlot = new Int32Array(total);
  const tDelta = new Int32Array(total);
  const tEntry = new Int32Array(total);
  let nT = 0;
  // Keys the base does not hold, in first-seen order, with their latest delta entry (open addressing by key).
  let size = 16;
  while (size < total * 2) size *= 2;
  const newMask = size - 1;
  const newTable = new Int32Array(size);
  const nHash = new Int32Array(total);
  const nDelta = new Int32Array(total);
  const nEntry = new Int32Array(total);
  let nN = 0;
  let removal = false;
  for (let d = 0; d < deltas.length && !removal; d++) {
    const delta = deltas[d]!;
    const db = delta.bytes;
    for (let e = 0; e < delta.count; e++) {
      if (db[delta.flagsAt + e] === 1) {
        removal = true;
        break;
      }
      const from = delta.keyStarts[e]!;
      const units = delta.keyUnits[e]!;
      const h = binaryKeyHash(db, from, units * 2);
      let slot = -1;
      for (let p = (h << 2) & wrap; ; p = (p + 4) & wrap) {
        const t = table[p + 1]!;
        if (t === 0) break;
        if (table[p] !== h || base.keyUnits[t - 1] !== units) continue;
        const at = baseKeysFrom + table[p + 2]!;
        let k = 0;
        while (k < units * 2 && b[at + k] === db[from + k]) k++;
        if (k === units * 2) {
          slot = p;
          break;
        }
      }
      if (slot >= 0) {
        let s = table[slot + 3]! - 1;
        if (s < 0) {
          s = nT++;
          table[slot + 3] = s + 1;
          tSlot[s] = slot;
          tBase[s] = table[slot + 1]! - 1;
        }
        tDelta[s] = d;
        tEntry[s] = e;
        continue;
      }
      for (let q = h & newMask; ; q = (q + 1) & newMask) {
        const t = newTable[q]!;
        if (t === 0) {
          newTable[q] = ++nN;
          nHash[nN - 1] = h;
          nDelta[nN - 1] = d;
          nEntry[nN - 1] = e;
          break;
        }
        if (nHash[t - 1] === h && sameBinaryKey(deltas[nDelta[t - 1]!]!, nEntry[t - 1]!, delta, e)) {
          nDelta[t - 1] = d;
          nEntry[t - 1] = e;
          break;
        }
      }
    }
  }
  for (let s = 0; s < nT; s++) table[tSlot[s]! + 3] = 0;
  if (removal) return undefined;
  const n = m + nN;
  const header = JSON.parse(headerJson) as Record<string, unknown>;
  header['count'] = n;
  header['slots'] = slots;
  const head = new TextEncoder().encode(`${JSON.stringify(header)}\n`);
  const baseKeysTo = m > 0 ? base.keyStarts[m - 1]! + base.keyUnits[m - 1]! * 2 : 0;
  const baseExtrasFrom = m > 0 ? base.extraStarts[0]! : 0;
  const baseExtrasTo = m > 0 ? base.extraStarts[m - 1]! + base.extraLengths[m - 1]! : 0;
  let keyBytes = baseKeysTo - baseKeysFrom;
  let extraBytes = baseExtrasTo - baseExtrasFrom;
  let extrasInPlace = true;
  for (let s = 0; s < nT; s++) {
    const change = deltas[tDelta[s]!]!.extraLengths[tEntry[s]!]! - base.extraLengths[tBase[s]!]!;
    if (change !== 0) extrasInPlace = false;
    extraBytes += change;
  }
  for (let k = 0; k < nN; k++) {
    const src = deltas[nDelta[k]!]!;
    keyBytes += src.keyUnits[nEntry[k]!]! * 2;
    extraBytes += src.extraLengths[nEntry[k]!]!;
  }
  // Key offsets are int32 in the index (a key column of 2 GiB or more takes the general merge).
  if (keyBytes > 0x7fffffff) return undefined;
  const bodyLength = head.length + n * 8 + n + n * slots * 9 + keyBytes + extraBytes + 1;
  const { out, bodyAt } = allocate(bodyLength);
  const lengthsAt = bodyAt + head.length;
  const flagsAt = lengthsAt + n * 8;
  const tagsAt = flagsAt + n;
  const valuesAt = tagsAt + n * slots;
  const keysAt = valuesAt + n * slots * 8;
  const extrasAt = keysAt + keyBytes;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.set(head, bodyAt);
  // The base's columns as they are (its flags are all 0, as a fresh buffer's).
  if (m > 0) {
    const baseLengthsAt = base.flagsAt - m * 8;
    out.set(b.subarray(baseLengthsAt, baseLengthsAt + m * 4), lengthsAt);
    out.set(b.subarray(baseLengthsAt + m * 4, base.flagsAt), lengthsAt + n * 4);
    out.set(b.subarray(base.tagsAt, base.tagsAt + m * slots), tagsAt);
    out.set(b.subarray(base.valuesAt, base.valuesAt + m * slots * 8), valuesAt);
    out.set(b.subarray(baseKeysFrom, baseKeysTo), keysAt);
  }
  // The changed entries over them.
  for (let s = 0; s < nT; s++) {
    const i = tBase[s]!;
    const src = deltas[tDelta[s]!]!;
    const e = tEntry[s]!;
    for (let k = 0; k < slots; k++) out[tagsAt + i * slots + k] = src.bytes[src.tagsAt + e * slots + k]!;
    const from = src.valuesAt + e * slots * 8;
    const to = valuesAt + i * slots * 8;
    for (let k = 0; k < slots * 8; k++) out[to + k] = src.bytes[from + k]!;
    view.setUint32(lengthsAt + n * 4 + i * 4, src.extraLengths[e]!, true);
  }
  // Extra bytes: the base's with the changed entries' in their place.
  let extraAt = extrasAt;
  if (extrasInPlace) {
    if (m > 0) out.set(b.subarray(baseExtrasFrom, baseExtrasTo), extrasAt);
    for (let s = 0; s < nT; s++) {
      const src = deltas[tDelta[s]!]!;
      const e = tEntry[s]!;
      const length = src.extraLengths[e]!;
      if (length > 0) out.set(src.bytes.subarray(src.extraStarts[e]!, src.extraStarts[e]! + length), extrasAt + base.extraStarts[tBase[s]!]! - baseExtrasFrom);
    }
    extraAt = extrasAt + (baseExtrasTo - baseExtrasFrom);
  } else {
    const order = Array.from(tBase.subarray(0, nT).keys()).sort((x, y) => tBase[x]! - tBase[y]!);
    let cursor = baseExtrasFrom;
    for (const s of order) {
      const i = tBase[s]!;
      const src = deltas[tDelta[s]!]!;
      const e = tEntry[s]!;
      const runTo = base.extraStarts[i]!;
      out.set(b.subarray(cursor, runTo), extraAt);
      extraAt += runTo - cursor;
      const length = src.extraLengths[e]!;
      out.set(src.bytes.subarray(src.extraStarts[e]!, src.extraStarts[e]! + length), extraAt);
      extraAt += length;
      cursor = runTo + base.extraLengths[i]!;
    }
    out.set(b.subarray(cursor, baseExtrasTo), extraAt);
    extraAt += baseExtrasTo - cursor;
  }
  // The new keys, in the order the deltas first list them.
  let keyAt = keysAt + (baseKeysTo - baseKeysFrom);
  for (let k = 0; k < nN; k++) {
    const src = deltas[nDelta[k]!]!;
    const e = nEntry[k]!;
    const j = m + k;
    const units = src.keyUnits[e]!;
    const extra = src.extraLengths[e]!;
    view.setUint32(lengthsAt + j * 4, units, true);
    view.setUint32(lengthsAt + n * 4 + j * 4, extra, true);
    for (let t = 0; t < slots; t++) out[tagsAt + j * slots + t] = src.bytes[src.tagsAt + e * slots + t]!;
    const from = src.valuesAt + e * slots * 8;
    for (let t = 0; t < slots * 8; t++) out[valuesAt + j * slots * 8 + t] = src.bytes[from + t]!;
    const keyFrom = src.keyStarts[e]!;
    for (let t = 0; t < units * 2; t++) out[keyAt + t] = src.bytes[keyFrom + t]!;
    keyAt += units * 2;
    if (extra > 0) out.set(src.bytes.subarray(src.extraStarts[e]!, src.extraStarts[e]! + extra), extraAt);
    extraAt += extra;
  }
  out[extraAt] = 0x0a;
  if (keyAt !== extrasAt || extraAt + 1 !== bodyAt + bodyLength) throw new Error(`mergeBinaryState: wrote ${extraAt + 1 - bodyAt} bytes where ${bodyLength} were planned`);
  // The index moves to the result: the base's entries keep their places and key offsets, the new keys follow.
  let grown = table;
  if (n * 2 > table.length / 4) {
    let slots4 = table.length;
    while (n * 2 > slots4 / 4) slots4 *= 2;
    grown = new Int32Array(slots4);
    const grownWrap = slots4 - 1;
    for (let p = 0; p < table.length; p += 4) {
      if (table[p + 1] === 0) continue;
      let q = (table[p]! << 2) & grownWrap;
      while (grown[q + 1] !== 0) q = (q + 4) & grownWrap;
      grown[q] = table[p]!;
      grown[q + 1] = table[p + 1]!;
      grown[q + 2] = table[p + 2]!;
    }
  }
  const grownWrap = grown.length - 1;
  let keyRel = baseKeysTo - baseKeysFrom;
  for (let k = 0; k < nN; k++) {
    let q = (nHash[k]! << 2) & grownWrap;
    while (grown[q + 1] !== 0) q = (q + 4) & grownWrap;
    grown[q] = nHash[k]!;
    grown[q + 1] = m + k + 1;
    grown[q + 2] = keyRel;
    keyRel += deltas[nDelta[k]!]!.keyUnits[nEntry[k]!]! * 2;
  }
  index.table = grown;
  index.count = n;
  return { body: out.subarray(bodyAt, bodyAt + bodyLength), index };
}

/**
 * Checks the frame of a state file as `fileFormat.ts`'s `checkFrame` does
 * (end line, length, CRC-32, header, type) and returns the format version
 * and where the body is; throws an `Error` saying what is wrong otherwise.
 * (The worker thread cannot import `fileFormat.ts`.)
 */
export function checkStateFrame(bytes: Uint8Array, type: string, checksum: (data: Uint8Array, previous: number) => number): { readonly version: number; readonly bodyStart: number; readonly bodyEnd: number } {
  const size = bytes.length;
  if (size === 0) throw new Error('an empty file');
  if (bytes[size - 1] !== 0x0a) throw new Error('no end line (the file is truncated)');
  const endStart = bytes.lastIndexOf(0x0a, size - 2) + 1;
  let endLine: string;
  try {
    endLine = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(endStart, size - 1));
  } catch {
    throw new Error('an unreadable end line (the file is truncated)');
  }
  const match = /^#end crc32=([0-9a-f]{8}) bytes=(0|[1-9][0-9]*)$/.exec(endLine);
  if (match === null) throw new Error('no end line (the file is truncated)');
  if (Number(match[2]) !== endStart) throw new Error(`${endStart} bytes before the end line where it records ${match[2]}`);
  const actual = (checksum(bytes.subarray(0, endStart), 0) >>> 0).toString(16).padStart(8, '0');
  if (actual !== match[1]) throw new Error(`checksum crc32=${actual} where the file records crc32=${match[1]}`);
  const headerEnd = bytes.indexOf(0x0a);
  const header = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, headerEnd)).split(' ');
  if (header.length !== 3 || header[0] !== 'rss-checkpoint') throw new Error('a header that is not a checkpoint header');
  if (header[1] !== '1' && header[1] !== '2' && header[1] !== '3') throw new Error(`format version ${header[1]}, which this version cannot read`);
  if (header[2] !== type) throw new Error(`a ${header[2]} file where a ${type} file belongs`);
  return { version: Number(header[1]), bodyStart: headerEnd + 1, bodyEnd: endStart };
}

/**
 * Frames a version-2 body: `rss-checkpoint 2 <type>\n`, the body, and the end
 * line with the CRC-32 and length of everything before it.
 */
export function frameStateColumns(type: string, body: Uint8Array, checksum: (data: Uint8Array, previous: number) => number, formatVersion = 2): Uint8Array {
  const frame = openFrame(type, body.length, formatVersion);
  frame.out.set(body, frame.bodyAt);
  return sealFrame(frame, body.length, checksum);
}

/**
 * The buffer of a framed file whose body will take `bodyLength` bytes: the
 * head line written, the body to be written at `bodyAt`, then
 * {@link sealFrame}. Lets a body be built in place instead of copied.
 */
export function openFrame(type: string, bodyLength: number, formatVersion: number): { readonly out: Uint8Array; readonly bodyAt: number } {
  const head = new TextEncoder().encode(`rss-checkpoint ${formatVersion} ${type}\n`);
  const length = head.length + bodyLength;
  // `#end crc32=` 8 hex digits ` bytes=` the length, newline.
  const out = new Uint8Array(length + 27 + String(length).length);
  out.set(head, 0);
  return { out, bodyAt: head.length };
}

/** Writes the end line of a frame from {@link openFrame} whose body is in place; returns the file. */
export function sealFrame(frame: { readonly out: Uint8Array; readonly bodyAt: number }, bodyLength: number, checksum: (data: Uint8Array, previous: number) => number): Uint8Array {
  const { out, bodyAt } = frame;
  const length = bodyAt + bodyLength;
  const crc = checksum(out.subarray(0, length), 0);
  const end = new TextEncoder().encode(`#end crc32=${(crc >>> 0).toString(16).padStart(8, '0')} bytes=${length}\n`);
  if (length + end.length !== out.length) throw new Error(`sealFrame: a frame of ${out.length} bytes for ${length + end.length}`);
  out.set(end, length);
  return out;
}

/** A snapshot kept in memory by the builder that wrote it: the base of its next snapshot. */
export interface CachedSnapshot {
  readonly version: number;
  readonly view: StateColumnsView | BinaryStateView;
  /** The index of a binary view's keys, when the merge that built it had one to carry over. */
  readonly index?: BinaryKeyIndex;
}

/** A snapshot built by {@link snapshotSteps}: the framed file and what to cache for the next one. */
export interface BuiltSnapshot {
  readonly framed: Uint8Array;
  readonly cached: CachedSnapshot;
}

/** An `Error` about a state file: `path` (relative to the checkpoint) and what is wrong with it (`message`). */
export function stateFileError(path: string, what: string): Error & { readonly path: string } {
  const error = new Error(what) as Error & { path: string };
  error.name = 'StateFileError';
  error.path = path;
  return error;
}

/** Checks and opens one state file of either format version as columns; throws {@link stateFileError}. */
export function openStateFile(
  bytes: Uint8Array,
  path: string,
  kind: 'delta' | 'snapshot',
  operatorId: string,
  version: number,
  checksum: (data: Uint8Array, previous: number) => number,
): { readonly view: StateColumnsView | BinaryStateView; readonly base: number } {
  try {
    const frame = checkStateFrame(bytes, kind, checksum);
    let view: StateColumnsView | BinaryStateView;
    if (frame.version === 3) {
      view = readBinaryState(bytes, frame.bodyStart, frame.bodyEnd);
    } else if (frame.version === 1) {
      const body = stateColumnsFromJsonLines(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(frame.bodyStart, frame.bodyEnd)));
      view = readStateColumns(body, 0, body.length);
    } else {
      view = readStateColumns(bytes, frame.bodyStart, frame.bodyEnd);
    }
    const header = JSON.parse(view.headerJson) as { operator?: unknown; version?: unknown; kind?: unknown; base?: unknown };
    if (header.operator !== operatorId || header.version !== version || header.kind !== kind) throw new Error(`the header ${view.headerJson.slice(0, 120)} where operator ${operatorId}, version ${version}, ${kind} belongs`);
    const base = kind === 'delta' ? header.base : -1;
    if (typeof base !== 'number' || !Number.isSafeInteger(base) || base < -1 || base >= version) throw new Error(`a delta with base ${JSON.stringify(header.base)}`);
    return { view, base };
  } catch (error) {
    if (error instanceof Error && error.name === 'StateFileError') throw error;
    throw stateFileError(path, error instanceof Error ? error.message : String(error));
  }
}

/**
 * Builds the snapshot of `operatorId` at `version` from the state files in
 * `stateDir`: the newest snapshot below it (or `cached`, when it is one of
 * them) and the deltas after it, merged. A generator so that the same code
 * reads files synchronously (the worker thread) or asynchronously (a store
 * in memory): it yields each path it needs and receives the file's bytes
 * (`undefined` when there is none).
 */
export function* snapshotSteps(
  operatorId: string,
  stateDir: string,
  version: number,
  cached: CachedSnapshot | undefined,
  checksum: (data: Uint8Array, previous: number) => number,
): Generator<string, BuiltSnapshot, Uint8Array | undefined> {
  const deltas: (StateColumnsView | BinaryStateView)[] = [];
  const deltaPaths: string[] = [];
  let base: StateColumnsView | BinaryStateView | undefined;
  let baseIndex: BinaryKeyIndex | undefined;
  let current = version;
  while (current >= 0) {
    if (cached !== undefined && cached.version === current) {
      base = cached.view;
      baseIndex = cached.index;
      break;
    }
    if (current !== version) {
      const snapshotPath = `${stateDir}/${current}.snapshot`;
      const bytes = yield snapshotPath;
      if (bytes !== undefined) {
        let opened: { readonly view: StateColumnsView | BinaryStateView } | undefined;
        try {
          opened = openStateFile(bytes, snapshotPath, 'snapshot', operatorId, current, checksum);
        } catch {
          opened = undefined; // a damaged snapshot: use the delta of the same version, as recovery does
        }
        if (opened !== undefined) {
          base = opened.view;
          break;
        }
      }
    }
    const deltaPath = `${stateDir}/${current}.delta`;
    const bytes = yield deltaPath;
    if (bytes === undefined) throw stateFileError(deltaPath, `no file, where version ${current} of operator ${operatorId}'s state belongs`);
    const opened = openStateFile(bytes, deltaPath, 'delta', operatorId, current, checksum);
    deltas.push(opened.view);
    deltaPaths.push(deltaPath);
    current = opened.base;
  }
  deltas.reverse();
  deltaPaths.reverse();
  if (base === undefined && deltas.length > 0) {
    // The first delta applies to the empty state: it is the base (its keys are neither parsed nor gathered in a map).
    base = deltas.shift();
    deltaPaths.shift();
  }
  // A binary chain (format 3) is merged as binary; a chain never mixes the formats (an operator that
  // changes format starts a new chain with a delta from the empty state).
  const binary = (base !== undefined && 'binary' in base) || deltas.some((d) => 'binary' in d);
  if (binary) {
    const all = [...(base === undefined ? [] : [base]), ...deltas];
    const textAt = all.findIndex((v) => !('binary' in v));
    if (textAt >= 0) throw stateFileError(textAt === 0 && base !== undefined ? `${stateDir}/(base of ${version})` : deltaPaths[textAt - (base === undefined ? 0 : 1)] ?? stateDir, `a state chain that mixes binary (format 3) and text state files, which no writer produces`);
    const header = JSON.parse(all[all.length - 1]!.headerJson) as Record<string, unknown>;
    const headerOut = JSON.stringify({ ...header, operator: operatorId, version, kind: 'snapshot', base: undefined });
    const binaryBase = base as BinaryStateView | undefined;
    const binaryDeltas = deltas as BinaryStateView[];
    // In time proportional to the deltas when the base's keys are indexed (the index is built once, then
    // carried from snapshot to snapshot); the general merge when a key is removed.
    // The indexed merge writes the body in place in the file's frame.
    let frame: { readonly out: Uint8Array; readonly bodyAt: number } | undefined;
    const indexed =
      binaryBase === undefined ? undefined : mergeBinaryStateIndexed(headerOut, binaryBase, baseIndex ?? indexBinaryKeys(binaryBase), binaryDeltas, (length) => (frame = openFrame('snapshot', length, 3)));
    const body = indexed?.body ?? mergeBinaryState(headerOut, binaryBase, binaryDeltas);
    const framed = indexed !== undefined && frame !== undefined ? sealFrame(frame, body.length, checksum) : frameStateColumns('snapshot', body, checksum, 3);
    const start = framed.indexOf(0x0a) + 1;
    const view = readBinaryState(framed, start, start + body.length);
    return { framed, cached: indexed === undefined ? { version, view } : { version, view, index: indexed.index } };
  }
  const textBase = base as StateColumnsView | undefined;
  const textDeltas = deltas as StateColumnsView[];
  // Only the keys of the deltas applied on top of the base are parsed.
  const deltaKeys = textDeltas.map((delta, d) => {
    try {
      return stateColumnKeys(delta);
    } catch (error) {
      throw stateFileError(deltaPaths[d]!, error instanceof Error ? error.message : String(error));
    }
  });
  const merged = mergeStateColumns(JSON.stringify({ operator: operatorId, version, kind: 'snapshot' }), textBase, undefined, textDeltas, deltaKeys);
  const framed = frameStateColumns('snapshot', merged.body, checksum);
  const start = framed.indexOf(0x0a) + 1;
  const view = readStateColumns(framed, start, start + merged.body.length);
  return { framed, cached: { version, view } };
}

/** The functions the snapshot worker runs, by their source text (see `snapshotWorker.ts`). */
export const STATE_COLUMN_FUNCTIONS = {
  encodeStateColumns,
  readStateColumns,
  stateColumnKeys,
  mergeStateColumns,
  frameStateColumns,
  openFrame,
  sealFrame,
  stateColumnsFromJsonLines,
  checkStateFrame,
  stateFileError,
  openStateFile,
  readBinaryState,
  mergeBinaryState,
  binaryKeyHash,
  sameBinaryKey,
  homeSlotOrder,
  indexBinaryKeys,
  mergeBinaryStateIndexed,
  snapshotSteps,
} as const;

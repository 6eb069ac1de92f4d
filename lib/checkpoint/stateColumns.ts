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
  if (header[1] !== '1' && header[1] !== '2') throw new Error(`format version ${header[1]}, which this version cannot read`);
  if (header[2] !== type) throw new Error(`a ${header[2]} file where a ${type} file belongs`);
  return { version: Number(header[1]), bodyStart: headerEnd + 1, bodyEnd: endStart };
}

/**
 * Frames a version-2 body: `rss-checkpoint 2 <type>\n`, the body, and the end
 * line with the CRC-32 and length of everything before it.
 */
export function frameStateColumns(type: string, body: Uint8Array, checksum: (data: Uint8Array, previous: number) => number): Uint8Array {
  const encoder = new TextEncoder();
  const head = encoder.encode(`rss-checkpoint 2 ${type}\n`);
  const length = head.length + body.length;
  let crc = checksum(head, 0);
  crc = checksum(body, crc);
  const end = encoder.encode(`#end crc32=${(crc >>> 0).toString(16).padStart(8, '0')} bytes=${length}\n`);
  const out = new Uint8Array(length + end.length);
  out.set(head, 0);
  out.set(body, head.length);
  out.set(end, length);
  return out;
}

/** A snapshot kept in memory by the builder that wrote it: the base of its next snapshot. */
export interface CachedSnapshot {
  readonly version: number;
  readonly view: StateColumnsView;
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
): { readonly view: StateColumnsView; readonly base: number } {
  try {
    const frame = checkStateFrame(bytes, kind, checksum);
    let view: StateColumnsView;
    if (frame.version === 1) {
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
  const deltas: StateColumnsView[] = [];
  const deltaPaths: string[] = [];
  let base: StateColumnsView | undefined;
  let current = version;
  while (current >= 0) {
    if (cached !== undefined && cached.version === current) {
      base = cached.view;
      break;
    }
    if (current !== version) {
      const snapshotPath = `${stateDir}/${current}.snapshot`;
      const bytes = yield snapshotPath;
      if (bytes !== undefined) {
        let opened: { readonly view: StateColumnsView } | undefined;
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
  // Only the keys of the deltas applied on top of the base are parsed.
  const deltaKeys = deltas.map((delta, d) => {
    try {
      return stateColumnKeys(delta);
    } catch (error) {
      throw stateFileError(deltaPaths[d]!, error instanceof Error ? error.message : String(error));
    }
  });
  const merged = mergeStateColumns(JSON.stringify({ operator: operatorId, version, kind: 'snapshot' }), base, undefined, deltas, deltaKeys);
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
  stateColumnsFromJsonLines,
  checkStateFrame,
  stateFileError,
  openStateFile,
  snapshotSteps,
} as const;

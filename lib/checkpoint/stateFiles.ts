import { corruptContent } from './fileFormat.js';
import type { StateFileKind } from './layout.js';
import { encodeStateColumns, readBinaryState, readStateColumns, stateColumnKeys, stateColumnValues, type BinaryStateView, type StateColumnsView } from './stateColumns.js';

/**
 * The header of a state file: which operator, which version, delta or
 * snapshot. A delta applies on top of the state at version `base` (-1: the
 * empty state).
 *
 * State files are written in the columnar format (version 2, see
 * `stateColumns.ts`). Files of format version 1 (JSON lines) are still read:
 *
 * ```text
 * {"operator":"dropDuplicates#2","version":12,"kind":"delta","base":11}
 * [["k1",{"count":3}],["k7"]]                 up to 256 [key, value] or [key] (removed) per line
 * ```
 */
export interface StateFileHeader {
  readonly operator: string;
  readonly version: number;
  readonly kind: StateFileKind;
  /** For a delta: the version it applies to (-1 for the empty state). */
  readonly base?: number;
}

/** Marks a removed key in {@link ParsedStateFile.values}. */
export const REMOVED: unique symbol = Symbol('removed');

/** A parsed state file, as columns: `keys[i]` has `values[i]` (or {@link REMOVED}). */
export interface ParsedStateFile {
  readonly header: StateFileHeader;
  readonly keys: readonly string[];
  readonly values: readonly unknown[];
}

/**
 * One state file as a codec that restores in bulk reads it: entry `i` has
 * key `key(i)` and value `values[i]`, or the removed marker (deltas only).
 * `key(i)` parses one key; the whole key column is parsed only if `keys` is read.
 */
export interface StateFileEntries {
  readonly count: number;
  readonly values: readonly unknown[];
  key(i: number): string;
}

/**
 * The optional bulk part of a `StateCodec`: restores the state straight from
 * the state files of a recovery (the snapshot or first delta, then the later
 * deltas, oldest first), as if each file's entries were applied in order to
 * the empty state, an entry setting its key to its value or, when its value
 * is `removed`, removing the key. The result must equal
 * `fromEntries(rebuiltEntries(...))` of the same files, iteration order
 * included; what it saves is the merged entry stream (a lookup of every
 * snapshot key among the deltas' keys, a tuple per entry) and, where the
 * values carry what the state is keyed by, the parsing of the key column.
 */
export interface BulkStateCodec<S> {
  fromStateFiles(files: readonly StateFileEntries[], removed: typeof REMOVED): S;
}

/**
 * The optional text part of a `StateCodec`: the JSON text of `get(state, key)`
 * (`undefined` when the key is absent), the same text as
 * `JSON.stringify(get(state, key)) ?? 'null'`, written without building the
 * value first. A checkpoint uses it to encode a delta's entries.
 */
export interface TextStateCodec<S> {
  getText(state: S, key: string): string | undefined;
}

/** The codec's text reader when it has one (see {@link TextStateCodec}). */
export function textReader<S>(codec: object): TextStateCodec<S>['getText'] | undefined {
  const f = (codec as Partial<TextStateCodec<S>>).getText;
  return typeof f === 'function' ? f.bind(codec) : undefined;
}

/** `files` as {@link StateFileEntries} (a columnar file parses its keys only when asked). */
export function stateFileEntries(files: readonly ParsedStateFile[]): StateFileEntries[] {
  return files.map((f) => (f instanceof ColumnarStateFile ? f : { count: f.keys.length, values: f.values, key: (i: number) => f.keys[i]! }));
}

/** The codec's bulk restore when it has one (see {@link BulkStateCodec}). */
export function bulkRestore<S>(codec: object): BulkStateCodec<S>['fromStateFiles'] | undefined {
  const f = (codec as Partial<BulkStateCodec<S>>).fromStateFiles;
  return typeof f === 'function' ? f.bind(codec) : undefined;
}

/**
 * The entries of a state rebuilt from `files` (the snapshot or first delta,
 * then the later deltas), for codecs without a bulk restore.
 */
export function rebuiltFileEntries(files: readonly ParsedStateFile[]): Iterable<readonly [string, unknown]> {
  return rebuiltEntries(files[0], files.slice(1));
}

/**
 * A columnar (version 2) state file: the layout was checked and the values
 * parsed when it was opened; the keys are parsed when first needed (all of
 * them with {@link keys}, one with {@link key}), since a bulk restore needs
 * only the keys of removed and special entries.
 */
class ColumnarStateFile implements ParsedStateFile, StateFileEntries {
  private parsedKeys: string[] | undefined;
  private decoder: TextDecoder | undefined;

  constructor(
    readonly header: StateFileHeader,
    readonly values: readonly unknown[],
    private readonly view: StateColumnsView,
    private readonly path: string,
  ) {}

  get count(): number {
    return this.view.count;
  }

  get keys(): readonly string[] {
    if (this.parsedKeys === undefined) {
      try {
        this.parsedKeys = stateColumnKeys(this.view);
      } catch (error) {
        throw corruptContent(this.path, error instanceof Error ? error.message : String(error));
      }
    }
    return this.parsedKeys;
  }

  key(i: number): string {
    if (this.parsedKeys !== undefined) return this.parsedKeys[i]!;
    const { bytes, keyStarts, keyLengths } = this.view;
    this.decoder ??= new TextDecoder('utf-8', { fatal: true });
    let key: unknown;
    try {
      key = JSON.parse(this.decoder.decode(bytes.subarray(keyStarts[i]!, keyStarts[i]! + keyLengths[i]!)));
    } catch (error) {
      throw corruptContent(this.path, `a key ${i} that is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
    }
    if (typeof key !== 'string') throw corruptContent(this.path, `a state file whose key ${i} is not a string`);
    return key;
  }
}

/**
 * The columnar body of a delta: the changed keys with the JSON text of each
 * one's value (`undefined` = removed), in the order they were published.
 */
export function deltaBody(header: StateFileHeader, entries: ReadonlyMap<string, string | undefined>): Uint8Array {
  const keyTexts: string[] = [];
  const valueTexts: (string | undefined)[] = [];
  for (const [key, text] of entries) {
    keyTexts.push(JSON.stringify(key));
    valueTexts.push(text);
  }
  return encodeStateColumns(JSON.stringify({ ...header, count: keyTexts.length }), keyTexts, valueTexts);
}

function checkHeader(header: unknown, headerText: string, path: string, expected: { readonly operator: string; readonly version: number; readonly kind: StateFileKind }): StateFileHeader {
  const h = header as StateFileHeader | null;
  if (typeof h !== 'object' || h === null || h.operator !== expected.operator || h.version !== expected.version || h.kind !== expected.kind) {
    throw corruptContent(path, `the header ${JSON.stringify(headerText).slice(0, 120)} where operator ${expected.operator}, version ${expected.version}, ${expected.kind} belongs`);
  }
  if (expected.kind === 'delta' && (typeof h.base !== 'number' || !Number.isSafeInteger(h.base) || h.base < -1 || h.base >= h.version)) {
    throw corruptContent(path, `a delta with base ${JSON.stringify(h.base)}`);
  }
  return h;
}

/**
 * Parses a columnar (version 2) state file body, `bytes[start..end)`, and
 * checks that it is the file `expected` describes: the layout and the
 * value column (one `JSON.parse`) now, the key column (one `JSON.parse`)
 * when the keys are first read.
 */
export function parseStateColumnsFile(bytes: Uint8Array, start: number, end: number, path: string, expected: { readonly operator: string; readonly version: number; readonly kind: StateFileKind }): ParsedStateFile {
  let present: unknown[];
  let header: StateFileHeader;
  let view: StateColumnsView;
  try {
    view = readStateColumns(bytes, start, end);
    header = checkHeader(JSON.parse(view.headerJson), view.headerJson, path, expected);
    present = stateColumnValues(view);
  } catch (error) {
    if (error instanceof Error && error.name === 'CheckpointCorruptError') throw error;
    throw corruptContent(path, error instanceof Error ? error.message : String(error));
  }
  const count = view.count;
  if (present.length === count) return new ColumnarStateFile(header, present, view, path);
  if (expected.kind === 'snapshot') throw corruptContent(path, 'a snapshot with a removed key');
  const values = new Array<unknown>(count);
  const valueLengths = view.valueLengths;
  let j = 0;
  for (let i = 0; i < count; i++) values[i] = valueLengths[i] === 0 ? REMOVED : present[j++];
  return new ColumnarStateFile(header, values, view, path);
}

/**
 * The optional binary part of a `StateCodec` (state files of format
 * version 3, see `stateColumns.ts`): for states kept as columns of numbers.
 * A checkpoint writes a state the codec encodes this way as a binary delta,
 * and restores a chain of binary files with {@link fromBinaryFiles}.
 */
export interface BinaryStateCodec<S> {
  /**
   * The binary delta body of the batch just published, or `undefined` when
   * `state` is not kept in the binary layout (the checkpoint then reads its
   * changed keys as text). `header(full)` gives the header to write: `full`
   * when the body holds every entry (a delta from the empty state, which
   * starts a new chain: after a restore from text files, so that a chain never
   * mixes the formats).
   */
  binaryDelta(state: S, header: (full: boolean) => StateFileHeader): Uint8Array | undefined;
  /** Restores the state from a chain of binary files (the snapshot or first delta, then later deltas). */
  fromBinaryFiles(files: readonly BinaryStateFile[]): S;
}

/** The codec's binary part when it has one (see {@link BinaryStateCodec}). */
export function binaryCodec<S>(codec: object): BinaryStateCodec<S> | undefined {
  const c = codec as Partial<BinaryStateCodec<S>>;
  return typeof c.binaryDelta === 'function' && typeof c.fromBinaryFiles === 'function' ? (c as BinaryStateCodec<S>) : undefined;
}

/** A binary (format version 3) state file, checked when it was opened: its header and its columns. */
export class BinaryStateFile implements ParsedStateFile {
  constructor(
    readonly header: StateFileHeader & { readonly count: number; readonly slots: number; readonly [field: string]: unknown },
    readonly view: BinaryStateView,
    readonly path: string,
  ) {}

  /** Not available: a binary file is read by its codec's {@link BinaryStateCodec.fromBinaryFiles}. */
  get keys(): readonly string[] {
    throw corruptContent(this.path, 'a binary state file read as text entries');
  }

  get values(): readonly unknown[] {
    throw corruptContent(this.path, 'a binary state file read as text entries');
  }
}

/** Parses a binary (format version 3) state file body, `bytes[start..end)`, and checks that it is the file `expected` describes. */
export function parseBinaryStateFile(bytes: Uint8Array, start: number, end: number, path: string, expected: { readonly operator: string; readonly version: number; readonly kind: StateFileKind }): BinaryStateFile {
  let view: BinaryStateView;
  let header: StateFileHeader;
  try {
    view = readBinaryState(bytes, start, end);
    header = checkHeader(JSON.parse(view.headerJson), view.headerJson, path, expected);
  } catch (error) {
    if (error instanceof Error && error.name === 'CheckpointCorruptError') throw error;
    throw corruptContent(path, error instanceof Error ? error.message : String(error));
  }
  if (expected.kind === 'snapshot') {
    for (let i = 0; i < view.count; i++) if (bytes[view.flagsAt + i] !== 0) throw corruptContent(path, 'a snapshot with a removed key');
  }
  return new BinaryStateFile(header as BinaryStateFile['header'], view, path);
}

/** Parses a version-1 (JSON lines) state file body and checks that it is the file `expected` describes. */
export function parseStateFile(body: string, path: string, expected: { readonly operator: string; readonly version: number; readonly kind: StateFileKind }): ParsedStateFile {
  const text = body.split('\n');
  if (text[text.length - 1] === '') text.pop();
  let header: unknown;
  try {
    header = JSON.parse(text[0] ?? '') as unknown;
  } catch {
    throw corruptContent(path, 'a state file without a valid header line');
  }
  const checked = checkHeader(header, text[0] ?? '', path, expected);
  const snapshot = expected.kind === 'snapshot';
  const keys: string[] = [];
  const values: unknown[] = [];
  for (let i = 1; i < text.length; i++) {
    let line: unknown;
    try {
      line = JSON.parse(text[i]!);
    } catch {
      throw corruptContent(path, `an invalid entry line (line ${i + 2})`);
    }
    if (!Array.isArray(line)) throw corruptContent(path, `an invalid entry line (line ${i + 2})`);
    for (let j = 0; j < line.length; j++) {
      const entry: unknown = line[j];
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || entry.length < 1 || entry.length > 2 || (snapshot && entry.length !== 2)) {
        throw corruptContent(path, `an invalid entry on line ${i + 2}`);
      }
      keys.push(entry[0]);
      values.push(entry.length === 1 ? REMOVED : entry[1]);
    }
  }
  return { header: checked, keys, values };
}

/**
 * The entries of a state rebuilt from a snapshot (or the empty state) and the
 * deltas after it, oldest first. Only the keys the deltas touch are gathered
 * in a map; the snapshot's columns are streamed, so restoring a large state
 * does not build a second copy of it.
 *
 * The order is the one the live state had, for codecs whose `entries` follow
 * insertion order: a key updated by a delta keeps its place, a new key comes
 * after the older ones in the order the deltas list them, and a key removed
 * and added again moves to the end (where it was added again). Snapshots are written in this same order
 * (`mergeStateColumns`), so a state restored from a snapshot and one restored
 * from the deltas before it iterate alike.
 */
export function rebuiltEntries(base: ParsedStateFile | undefined, deltas: readonly ParsedStateFile[]): Iterable<readonly [string, unknown]> {
  if (base === undefined && deltas.length > 0) {
    // The first delta applies to the empty state: stream it as the base instead of gathering it in a map.
    base = deltas[0];
    deltas = deltas.slice(1);
  }
  const overrides = new Map<string, unknown>();
  const removed = new Set<string>();
  for (const delta of deltas) {
    const { keys, values } = delta;
    for (let j = 0; j < keys.length; j++) {
      const key = keys[j]!;
      const value = values[j];
      if (value === REMOVED) {
        overrides.delete(key); // a later add goes to the end
        overrides.set(key, REMOVED);
        removed.add(key);
      } else {
        if (overrides.get(key) === REMOVED) overrides.delete(key); // added again after a removal: to the end, as in the live state
        overrides.set(key, value);
      }
    }
  }
  return {
    *[Symbol.iterator]() {
      const inPlace = new Set<string>();
      if (base !== undefined) {
        const { keys, values } = base;
        for (let j = 0; j < keys.length; j++) {
          const key = keys[j]!;
          if (overrides.size === 0 || !overrides.has(key)) {
            if (values[j] !== REMOVED) yield [key, values[j]] as const;
          } else if (!removed.has(key) && values[j] !== REMOVED) {
            inPlace.add(key);
            yield [key, overrides.get(key)] as const;
          }
        }
      }
      for (const [key, value] of overrides) if (value !== REMOVED && !inPlace.has(key)) yield [key, value] as const;
    },
  };
}

import type { StateCodec } from '../state/StateStore.js';
import { corruptContent } from './fileFormat.js';
import type { StateFileKind } from './layout.js';

/**
 * The body of a state file: a header line, then lines that each hold a JSON
 * array of up to {@link ENTRIES_PER_LINE} entries, `[key, value]` for a
 * written key and `[key]` for a removed one (deltas only).
 *
 * ```text
 * {"operator":"dropDuplicates#2","version":12,"kind":"delta","base":11}
 * [["k1",{"count":3}],["k7"]]
 * ```
 *
 * A delta applies on top of the state at version `base` (-1: the empty state).
 */
export interface StateFileHeader {
  readonly operator: string;
  readonly version: number;
  readonly kind: StateFileKind;
  /** For a delta: the version it applies to (-1 for the empty state). */
  readonly base?: number;
}

/** Entries per body line (one `JSON.stringify` call each). */
export const ENTRIES_PER_LINE = 256;
/** Lines serialised between two yields to the event loop while a snapshot is written in the background. */
const LINES_PER_SLICE = 1;

/** Lets I/O callbacks and other work run (a macrotask turn where the platform has `setImmediate`). */
function yieldToEventLoop(): Promise<void> {
  return typeof setImmediate === 'function' ? new Promise((resolve) => setImmediate(resolve)) : Promise.resolve();
}

/** The body of a delta: the entries of `keys` in `state`, read with `codec.get` (`undefined` = removed). */
export function* deltaBody<S>(header: StateFileHeader, state: S, keys: Iterable<string>, codec: StateCodec<S>): Generator<string> {
  yield `${JSON.stringify(header)}\n`;
  let line: Array<[string] | [string, unknown]> = [];
  for (const key of keys) {
    const value = codec.get(state, key);
    line.push(value === undefined ? [key] : [key, value]);
    if (line.length === ENTRIES_PER_LINE) {
      yield `${JSON.stringify(line)}\n`;
      line = [];
    }
  }
  if (line.length > 0) yield `${JSON.stringify(line)}\n`;
}

/**
 * The body of a snapshot: every entry of `state`. It yields to the event loop
 * every few lines, so that writing a large snapshot in the background does
 * not hold up the batches and the foreground checkpoint writes meanwhile.
 */
export async function* snapshotBody<S>(header: StateFileHeader, state: S, codec: StateCodec<S>): AsyncGenerator<string> {
  yield `${JSON.stringify(header)}\n`;
  let line: Array<[string, unknown]> = [];
  let lines = 0;
  for (const [key, value] of codec.entries(state)) {
    if (value === undefined) continue;
    line.push([key, value]);
    if (line.length === ENTRIES_PER_LINE) {
      yield `${JSON.stringify(line)}\n`;
      line = [];
      if (++lines % LINES_PER_SLICE === 0) await yieldToEventLoop();
    }
  }
  if (line.length > 0) yield `${JSON.stringify(line)}\n`;
}

/** One state-file entry: `[key, value]`, or `[key]` for a removed key. */
export type StateEntry = readonly [string] | readonly [string, unknown];

/** A parsed state file. */
export interface ParsedStateFile {
  readonly header: StateFileHeader;
  /** The entry lines in file order. */
  readonly lines: ReadonlyArray<readonly StateEntry[]>;
}

/** Parses a state file body and checks that it is the file `expected` describes. */
export function parseStateFile(body: string, path: string, expected: { readonly operator: string; readonly version: number; readonly kind: StateFileKind }): ParsedStateFile {
  const text = body.split('\n');
  if (text[text.length - 1] === '') text.pop();
  let header: StateFileHeader;
  try {
    header = JSON.parse(text[0] ?? '') as StateFileHeader;
  } catch {
    throw corruptContent(path, 'a state file without a valid header line');
  }
  if (typeof header !== 'object' || header === null || header.operator !== expected.operator || header.version !== expected.version || header.kind !== expected.kind) {
    throw corruptContent(path, `the header ${JSON.stringify(text[0]).slice(0, 120)} where operator ${expected.operator}, version ${expected.version}, ${expected.kind} belongs`);
  }
  if (expected.kind === 'delta' && (typeof header.base !== 'number' || !Number.isSafeInteger(header.base) || header.base < -1 || header.base >= header.version)) {
    throw corruptContent(path, `a delta with base ${JSON.stringify(header.base)}`);
  }
  const snapshot = expected.kind === 'snapshot';
  const lines: StateEntry[][] = new Array<StateEntry[]>(text.length - 1);
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
    }
    lines[i - 1] = line as StateEntry[];
  }
  return { header, lines };
}

const REMOVED: unique symbol = Symbol('removed');

/**
 * The entries of a state rebuilt from a snapshot (or the empty state) and the
 * deltas after it, oldest first. Only the keys the deltas touch are gathered
 * in a map; the snapshot's entries are streamed, so restoring a large state
 * does not build a second copy of it.
 *
 * The order is the one the live state had, for codecs whose `entries` follow
 * insertion order (Immutable's small maps do): a key updated by a delta keeps
 * its place, a new key comes after the older ones in the order the deltas
 * list them, and a key removed and added again moves to the end. Operators
 * that emit in state order then emit the same rows in the same order after a
 * restart.
 */
export function rebuiltEntries(base: ParsedStateFile | undefined, deltas: readonly ParsedStateFile[]): Iterable<readonly [string, unknown]> {
  const overrides = new Map<string, unknown>();
  const removed = new Set<string>();
  for (const delta of deltas) {
    for (const line of delta.lines) {
      for (let j = 0; j < line.length; j++) {
        const entry = line[j]!;
        const key = entry[0];
        if (entry.length === 1) {
          overrides.delete(key); // a later add goes to the end
          overrides.set(key, REMOVED);
          removed.add(key);
        } else {
          overrides.set(key, entry[1]);
        }
      }
    }
  }
  return {
    *[Symbol.iterator]() {
      const inPlace = new Set<string>();
      if (base !== undefined) {
        for (const line of base.lines) {
          for (let j = 0; j < line.length; j++) {
            const entry = line[j]!;
            const key = entry[0];
            if (!overrides.has(key)) {
              yield entry as readonly [string, unknown];
            } else if (!removed.has(key)) {
              inPlace.add(key);
              yield [key, overrides.get(key)] as const;
            }
          }
        }
      }
      for (const [key, value] of overrides) if (value !== REMOVED && !inPlace.has(key)) yield [key, value] as const;
    },
  };
}

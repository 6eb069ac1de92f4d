import { canonicalRow } from './rows.js';

/**
 * How a marble assertion compares the rows of two batches: `'any'` (the
 * default) as multisets, for operators whose row order is unspecified (all
 * aggregations, dedup, joins — as Spark's `CheckAnswer`); `'ordered'` in
 * order, for operators that define one (`orderBy`, `limit` after it, a plain
 * pass-through).
 */
export type RowOrder = 'any' | 'ordered';

/** Options for {@link createTestScheduler}. */
export interface MarbleMatchOptions {
  /** How rows of a batch are compared. @defaultValue `'any'` */
  readonly rowOrder?: RowOrder;
  /**
   * The assertion run on the normalised frames (see {@link createTestScheduler});
   * by default one that throws an `Error` with a line diff of the frames. With
   * jest, `(actual, expected) => expect(actual).toEqual(expected)` gives jest's
   * own diff instead.
   */
  readonly assert?: (actual: unknown, expected: unknown) => void;
}

interface Frame {
  readonly frame: number;
  readonly notification: { readonly kind: string; readonly value?: unknown; readonly error?: unknown };
}

const CORE = new Set(['batchId', 'rows', 'watermark']);

/** `true` for an object with a numeric `batchId`, a `rows` array and a numeric `watermark`. */
function isBatchLike(value: unknown): value is { batchId: number; rows: readonly unknown[]; watermark: number } & Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const b = value as Record<string, unknown>;
  return typeof b['batchId'] === 'number' && Array.isArray(b['rows']) && typeof b['watermark'] === 'number';
}

function isFrameList(value: unknown): value is readonly Frame[] {
  return Array.isArray(value) && value.every((m) => typeof m === 'object' && m !== null && typeof (m as Frame).frame === 'number' && typeof (m as Frame).notification === 'object');
}

/**
 * The comparable form of a batch: its id, watermark and rows (sorted by their
 * canonical text unless `rowOrder` is `'ordered'`), plus the metadata fields
 * the expected batch names (`batch(id, rows, wm, { metrics })` checks
 * `metrics`; a batch built without them ignores whatever the pipeline attached:
 * metrics, event-time marker, output mode, aggregation handles, symbol-keyed
 * info).
 */
function normaliseBatch(value: { batchId: number; rows: readonly unknown[]; watermark: number } & Record<string, unknown>, extraKeys: readonly string[], rowOrder: RowOrder): Record<string, unknown> {
  const rows = rowOrder === 'ordered' ? [...value.rows] : [...value.rows].map((r) => [canonicalRow(r), r] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, r]) => r);
  const out: Record<string, unknown> = { batchId: value.batchId, watermark: value.watermark, rows };
  for (const key of extraKeys) out[key] = value[key];
  return out;
}

function extraKeysOf(expected: unknown): string[] {
  if (!isBatchLike(expected)) return [];
  return Object.keys(expected).filter((k) => !CORE.has(k) && expected[k] !== undefined);
}

function normaliseFrames(actual: readonly Frame[], expected: readonly Frame[], rowOrder: RowOrder): [Frame[], Frame[]] {
  const norm = (m: Frame, extra: readonly string[]): Frame =>
    m.notification.kind === 'N' && isBatchLike(m.notification.value) ? { frame: m.frame, notification: { ...m.notification, value: normaliseBatch(m.notification.value, extra, rowOrder) } } : m;
  const e = expected.map((m) => norm(m, extraKeysOf(m.notification.value)));
  const a = actual.map((m, i) => {
    const counterpart = expected[i];
    return norm(m, counterpart !== undefined && counterpart.notification.kind === 'N' ? extraKeysOf(counterpart.notification.value) : []);
  });
  return [a, e];
}

/**
 * Prepares the two sides of a TestScheduler assertion: for marble frames,
 * every batch is reduced to what a marble test compares (see
 * {@link MarbleMatchOptions.rowOrder}); anything else (subscription logs) is
 * left alone.
 */
export function normaliseForMarbles(actual: unknown, expected: unknown, rowOrder: RowOrder = 'any'): [unknown, unknown] {
  if (isFrameList(actual) && isFrameList(expected)) return normaliseFrames(actual, expected, rowOrder);
  return [actual, expected];
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return canonicalRow(error) ?? String(error);
}

function describeValue(value: unknown): string {
  if (isBatchLike(value)) {
    const extra = Object.keys(value).filter((k) => !CORE.has(k));
    return `batch #${value.batchId} wm ${value.watermark} rows [${value.rows.map(canonicalRow).join(', ')}]${extra.map((k) => ` ${k} ${canonicalRow(value[k])}`).join('')}`;
  }
  return canonicalRow(value) ?? String(value);
}

function describeFrame(m: Frame): string {
  const at = `frame ${m.frame}:`;
  switch (m.notification.kind) {
    case 'N':
      return `${at} ${describeValue(m.notification.value)}`;
    case 'E':
      return `${at} error ${describeError(m.notification.error)}`;
    case 'C':
      return `${at} complete`;
    default:
      return `${at} ${canonicalRow(m.notification)}`;
  }
}

/** A comparison key for one frame (errors by name and message, as jest compares them). */
function frameKey(m: Frame): string {
  if (m.notification.kind === 'E') return `${m.frame} E ${describeError(m.notification.error)}`;
  if (m.notification.kind === 'N') return `${m.frame} N ${canonicalRow(m.notification.value)}`;
  return `${m.frame} ${m.notification.kind}`;
}

function multisetDifference(from: readonly unknown[], remove: readonly unknown[]): string[] {
  const counts = new Map<string, number>();
  for (const r of remove) {
    const k = canonicalRow(r);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const left: string[] = [];
  for (const r of from) {
    const k = canonicalRow(r);
    const n = counts.get(k) ?? 0;
    if (n > 0) counts.set(k, n - 1);
    else left.push(k);
  }
  return left;
}

/** Why two batches at the same frame differ, one line per difference. */
function batchDetail(expected: unknown, actual: unknown, rowOrder: RowOrder): string[] {
  if (!isBatchLike(expected) || !isBatchLike(actual)) return [];
  const out: string[] = [];
  if (expected.batchId !== actual.batchId) out.push(`batchId: expected ${expected.batchId}, got ${actual.batchId}`);
  if (expected.watermark !== actual.watermark) out.push(`watermark: expected ${expected.watermark}, got ${actual.watermark}`);
  const missing = multisetDifference(expected.rows, actual.rows);
  const unexpected = multisetDifference(actual.rows, expected.rows);
  if (missing.length > 0) out.push(`missing rows: ${missing.join(', ')}`);
  if (unexpected.length > 0) out.push(`unexpected rows: ${unexpected.join(', ')}`);
  if (missing.length === 0 && unexpected.length === 0 && rowOrder === 'ordered' && canonicalRow(expected.rows) !== canonicalRow(actual.rows)) out.push('same rows in a different order (rowOrder: ordered)');
  for (const k of Object.keys(expected).filter((key) => !CORE.has(key))) {
    if (canonicalRow(expected[k]) !== canonicalRow(actual[k])) out.push(`${k}: expected ${canonicalRow(expected[k])}, got ${canonicalRow(actual[k])}`);
  }
  return out;
}

/** Longest common subsequence of two key lists, as index pairs. */
function lcs(a: readonly string[], b: readonly string[]): [number, number][] {
  const n = a.length;
  const m = b.length;
  const len: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) len[i]![j] = a[i] === b[j] ? len[i + 1]![j + 1]! + 1 : Math.max(len[i + 1]![j]!, len[i]![j + 1]!);
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (len[i + 1]![j]! >= len[i]![j + 1]!) i++;
    else j++;
  }
  return pairs;
}

/** A line diff of two frame lists: `  ` same, `- ` expected only, `+ ` emitted only, with per-batch details. */
export function diffFrames(actual: readonly Frame[], expected: readonly Frame[], rowOrder: RowOrder): string {
  const ek = expected.map(frameKey);
  const ak = actual.map(frameKey);
  const lines: string[] = [];
  let i = 0;
  let j = 0;
  const flush = (untilE: number, untilA: number): void => {
    const removed = expected.slice(i, untilE);
    const added = actual.slice(j, untilA);
    removed.forEach((m) => lines.push(`- ${describeFrame(m)}`));
    added.forEach((m) => lines.push(`+ ${describeFrame(m)}`));
    for (const e of removed) {
      const a = added.find((x) => x.frame === e.frame && x.notification.kind === 'N');
      if (e.notification.kind === 'N' && a !== undefined) for (const d of batchDetail(e.notification.value, a.notification.value, rowOrder)) lines.push(`    at frame ${e.frame}, ${d}`);
    }
    i = untilE;
    j = untilA;
  };
  for (const [ei, ai] of [...lcs(ek, ak), [expected.length, actual.length] as [number, number]]) {
    flush(ei, ai);
    if (ei < expected.length) {
      lines.push(`  ${describeFrame(expected[ei]!)}`);
      i++;
      j++;
    }
  }
  return lines.join('\n');
}

/**
 * The default marble assertion: passes when the normalised frames are equal,
 * else throws an `Error` whose message lists expected (`-`) and emitted (`+`)
 * frames with, for batches, the missing and unexpected rows.
 */
export function assertMarbles(actual: unknown, expected: unknown, rowOrder: RowOrder = 'any'): void {
  if (isFrameList(actual) && isFrameList(expected)) {
    if (actual.length === expected.length && actual.every((m, k) => frameKey(m) === frameKey(expected[k]!))) return;
    const order = rowOrder === 'ordered' ? 'rows compared in order' : 'rows compared as multisets';
    throw new Error(`Marble mismatch (${order}; - expected, + emitted):\n${diffFrames(actual, expected, rowOrder)}`);
  }
  const a = canonicalRow(actual);
  const e = canonicalRow(expected);
  if (a !== e) throw new Error(`Marble mismatch.\nExpected:\n  ${e}\nActual:\n  ${a}`);
}

import { checkSameReading, markerColumn, sameConversion, toEpochMs, type EventTimeReader } from '../time/eventTime.js';
import type { ResolvedJoinCondition } from './JoinCondition.js';

/**
 * The watermarked (event-time) column of one join input, as far as it is
 * known: a field name, or a function that reads it. `undefined` stands for an
 * input without a watermark.
 */
export interface WatermarkColumn {
  /** The column name; `'<function>'` or `undefined` when it is computed. */
  readonly field: string | undefined;
  /** The function reading the column, when it is computed. */
  readonly read: ((row: never) => unknown) | undefined;
}

/** How one side's buffered rows are evicted (Spark's join state watermark predicates). */
export type SideEviction =
  /**
   * State-key watermark: drop rows whose key column `field` is at or below
   * the eviction watermark (a window by its end); `read` converts the column
   * when the watermarked key column has a unit or format.
   */
  | { readonly kind: 'key'; readonly field: string; readonly read?: ((row: unknown) => number) | undefined }
  /** State-value watermark: drop rows whose watermarked column is at or below `W + offsetMs`. */
  | { readonly kind: 'value'; readonly offsetMs: number; readonly column: WatermarkColumn };

/** The eviction rule of each side; `undefined` keeps that side's rows forever. */
export interface EvictionPlan {
  readonly left: SideEviction | undefined;
  readonly right: SideEviction | undefined;
  /** Identifies the plan, to notice when it changes (buffered rows are then re-filed). */
  readonly signature: string;
}

/** A time compared with a watermark: a window `{ start, end }` by its end, other values as event times. `NaN` when missing. */
export function evictionTimeOf(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    const end = (value as { end?: unknown }).end;
    return typeof end === 'number' ? end : Number.NaN;
  }
  return toEpochMs(value);
}

function readColumn(column: WatermarkColumn, row: unknown): unknown {
  if (column.read !== undefined) return (column.read as (r: unknown) => unknown)(row);
  return (row as Record<string, unknown>)[column.field!];
}

/** The time of `row` that `eviction` compares with its state watermark. */
export function evictionTimeReader(eviction: SideEviction): (row: unknown) => number {
  if (eviction.kind === 'key') {
    const field = eviction.field;
    const read = eviction.read;
    if (read !== undefined) return read;
    return (row) => evictionTimeOf((row as Record<string, unknown>)[field]);
  }
  const column = eviction.column;
  return (row) => evictionTimeOf(readColumn(column, row));
}

/**
 * `true` when the time spec is the watermarked column: `fn` is what the
 * spec's reader puts in a marker (the function of a function spec, the
 * converter of a `{ field, unit?, format? }` spec), and must be the marker's;
 * a plain field name must be the marker's plain column.
 */
function isWatermarkColumn(column: WatermarkColumn | undefined, field: string, fn: ((row: never) => unknown) | undefined): boolean {
  if (column === undefined) return false;
  if (fn !== undefined) {
    if (column.read === fn) return true;
    // Known from the plan only by name (before the first batch brings the marker): the converter of a `{ field, format }` spec reads that name.
    return column.read === undefined && column.field !== undefined && markerColumn({ field: column.field, read: fn }) === column.field;
  }
  return column.read === undefined && column.field === field;
}

/**
 * The position of a join key that is a watermarked column (left keys first,
 * as Spark looks), or `undefined`. Both sides then evict by that key.
 */
export function watermarkKeyOrdinal(cond: ResolvedJoinCondition<unknown, unknown>, left: WatermarkColumn | undefined, right: WatermarkColumn | undefined): number | undefined {
  return keyMatch(cond, left, right)?.ordinal;
}

/** The watermarked join key (see {@link watermarkKeyOrdinal}) and the watermarked column it was found by. */
function keyMatch(cond: ResolvedJoinCondition<unknown, unknown>, left: WatermarkColumn | undefined, right: WatermarkColumn | undefined): { ordinal: number; column: WatermarkColumn } | undefined {
  const find = (fields: readonly string[] | undefined, column: WatermarkColumn | undefined): { ordinal: number; column: WatermarkColumn } | undefined => {
    if (fields === undefined || column === undefined) return undefined;
    // A plain column, or one read through its unit or format (`{ field, format }`).
    const name = markerColumn(column);
    const i = name === undefined ? -1 : fields.indexOf(name);
    return i < 0 ? undefined : { ordinal: i, column };
  };
  return find(cond.leftKeyFields, left) ?? find(cond.rightKeyFields, right);
}

/** The key eviction of one side: its key column at `ordinal`, converted as the watermarked column is. */
function keyEviction(fields: readonly string[], ordinal: number, column: WatermarkColumn): SideEviction {
  const field = fields[ordinal]!;
  const read = column.read === undefined ? undefined : sameConversion(column.read, field);
  return read === undefined ? { kind: 'key', field } : { kind: 'key', field, read };
}

/**
 * Refuses a `timeRange` time that names a side's watermarked column but
 * reads it otherwise than its `withWatermark` (a unit or format on one of
 * them only): the range would compare times the watermark does not use.
 */
function checkRangeReadings(cond: ResolvedJoinCondition<unknown, unknown>, left: WatermarkColumn | undefined, right: WatermarkColumn | undefined): void {
  const range = cond.range;
  if (range === undefined) return;
  if (left !== undefined) checkSameReading(range.leftTime as EventTimeReader<unknown>, left);
  if (right !== undefined) checkSameReading(range.rightTime as EventTimeReader<unknown>, right);
}

/** Offset of the left state-value watermark from `W`, when the condition bounds leftTime from below by the watermarked rightTime. */
function leftValueOffset(cond: ResolvedJoinCondition<unknown, unknown>, right: WatermarkColumn | undefined): number | undefined {
  const range = cond.range;
  if (range === undefined || range.upperMs === undefined) return undefined;
  if (!isWatermarkColumn(right, range.rightTime.field, range.rightTime.markerRead)) return undefined;
  // rightTime <= leftTime + upper  <=>  leftTime >= rightTime - upper; with rightTime >= W: leftTime >= W - upper.
  // Non-strict: rows with leftTime <= W - upper - 1 can no longer match; strict: leftTime <= W - upper.
  return -range.upperMs - (range.upperInclusive ? 1 : 0);
}

/** Offset of the right state-value watermark from `W`, when the condition bounds rightTime from below by the watermarked leftTime. */
function rightValueOffset(cond: ResolvedJoinCondition<unknown, unknown>, left: WatermarkColumn | undefined): number | undefined {
  const range = cond.range;
  if (range === undefined || range.lowerMs === undefined) return undefined;
  if (!isWatermarkColumn(left, range.leftTime.field, range.leftTime.markerRead)) return undefined;
  // rightTime >= leftTime + lower; with leftTime >= W: rightTime >= W + lower (minus 1 ms when non-strict).
  return range.lowerMs - (range.lowerInclusive ? 1 : 0);
}

/**
 * Derives each side's eviction rule the way Spark does
 * (`StreamingSymmetricHashJoinHelper.getStateWatermarkPredicates`):
 * a watermarked join key gives both sides a state-key watermark; otherwise a
 * side with a watermarked input gets a state-value watermark when the time
 * range bounds its time from below by the other side's watermarked column.
 */
export function deriveEvictionPlan(cond: ResolvedJoinCondition<unknown, unknown>, left: WatermarkColumn | undefined, right: WatermarkColumn | undefined): EvictionPlan {
  checkRangeReadings(cond, left, right);
  const key = keyMatch(cond, left, right);
  let leftEviction: SideEviction | undefined;
  let rightEviction: SideEviction | undefined;
  if (key !== undefined) {
    leftEviction = keyEviction(cond.leftKeyFields!, key.ordinal, key.column);
    rightEviction = keyEviction(cond.rightKeyFields!, key.ordinal, key.column);
  } else {
    const lo = left === undefined ? undefined : leftValueOffset(cond, right);
    const ro = right === undefined ? undefined : rightValueOffset(cond, left);
    if (lo !== undefined) leftEviction = { kind: 'value', offsetMs: lo, column: left! };
    if (ro !== undefined) rightEviction = { kind: 'value', offsetMs: ro, column: right! };
  }
  const describe = (e: SideEviction | undefined): string =>
    e === undefined ? '-' : e.kind === 'key' ? `key:${e.field}${e.read === undefined ? '' : ':converted'}` : `value:${e.offsetMs}:${e.column.field ?? '<function>'}${e.column.read === undefined ? '' : ':read'}`;
  return { left: leftEviction, right: rightEviction, signature: `${describe(leftEviction)}|${describe(rightEviction)}` };
}

/** A side's state watermark for eviction watermark `W`: rows at or below it are evicted. */
export function sideStateWatermark(eviction: SideEviction | undefined, watermarkMs: number): number | undefined {
  if (eviction === undefined) return undefined;
  return eviction.kind === 'key' ? watermarkMs : watermarkMs + eviction.offsetMs;
}

/**
 * Spark's start-time check for outer and semi stream-stream joins
 * (`UnsupportedOperationChecker.checkForStreamStreamJoinWatermark`): a
 * watermarked join key, or a watermark on the nullable side plus a range
 * condition that yields a state-value watermark for each preserved side.
 * Inner joins always pass.
 */
export function outerJoinSupported(cond: ResolvedJoinCondition<unknown, unknown>, left: WatermarkColumn | undefined, right: WatermarkColumn | undefined): boolean {
  checkRangeReadings(cond, left, right);
  if (cond.type === 'inner') return true;
  if (watermarkKeyOrdinal(cond, left, right) !== undefined) return true;
  const leftOk = leftValueOffset(cond, right) !== undefined;
  const rightOk = rightValueOffset(cond, left) !== undefined;
  switch (cond.type) {
    case 'leftOuter':
    case 'leftSemi':
      return leftOk;
    case 'rightOuter':
      return rightOk;
    case 'fullOuter':
      // Spark's checkForStreamStreamJoinWatermark accepts a full outer join when either side gets a state watermark.
      return leftOk || rightOk;
  }
}

/**
 * The watermark a join passes downstream (Spark's
 * `StreamingSymmetricHashJoinExec.produceOutputWatermark`): the minimum of the
 * input watermark and the state watermarks, never negative.
 */
export function joinOutputWatermark(inputWatermarkMs: number, leftStateMs: number | undefined, rightStateMs: number | undefined): number {
  let w = inputWatermarkMs;
  if (leftStateMs !== undefined && leftStateMs < w) w = leftStateMs;
  if (rightStateMs !== undefined && rightStateMs < w) w = rightStateMs;
  return w < 0 ? 0 : w;
}

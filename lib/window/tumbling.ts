/**
 * The start of the tumbling window `[start, start + sizeMs)` holding `tMs`, on
 * the grid shifted by `startMs` (Spark's `startTime`). Uses a floor modulo, so
 * timestamps before 1970 get the window that contains them (Spark >= 3.4).
 *
 * @example
 * tumblingWindowStart(12_000, 10_000, 0);   //=> 10000
 * tumblingWindowStart(-1, 10_000, 0);       //=> -10000
 * tumblingWindowStart(12_000, 10_000, 5_000); //=> 5000
 */
export function tumblingWindowStart(tMs: number, sizeMs: number, startMs: number): number {
  const r = (tMs - startMs) % sizeMs;
  return r < 0 ? tMs - r - sizeMs : tMs - r;
}

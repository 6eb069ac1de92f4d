import type { WindowBounds, WindowSpec } from './WindowBounds.js';

/**
 * The latest window start `<= tMs` on the grid `startMs + k * slideMs`
 * (Spark: `t - floorMod(t - startTime, slide)`).
 */
export function lastWindowStart(tMs: number, slideMs: number, startMs: number): number {
  const r = (tMs - startMs) % slideMs;
  return r < 0 ? tMs - r - slideMs : tMs - r;
}

/**
 * Writes into `out` the starts of every sliding window `[start, start + size)`
 * holding `tMs`, latest first, and returns how many there are: `size / slide`
 * when `size` is a multiple of `slide`, else `floor` or `ceil` of it (Spark's
 * candidates `lastStart - i * slide` for `i < ceil(size / slide)`, keeping
 * those that contain `tMs`). `out` is reused by the caller to avoid
 * allocating per row.
 *
 * @example
 * const out: number[] = [];
 * slidingWindowStarts(12_000, { sizeMs: 10_000, slideMs: 5_000, startMs: 0 }, out); //=> 2 (out = [10000, 5000])
 */
export function slidingWindowStarts(tMs: number, spec: WindowSpec, out: number[]): number {
  const { sizeMs, slideMs, startMs } = spec;
  const last = lastWindowStart(tMs, slideMs, startMs);
  const candidates = Math.ceil(sizeMs / slideMs);
  let n = 0;
  for (let i = 0; i < candidates; i++) {
    const start = last - i * slideMs;
    if (start + sizeMs > tMs) out[n++] = start;
  }
  return n;
}

/**
 * Every window `[start, end)` of the grid that holds `tMs`, earliest first.
 * One window for a tumbling spec (`slide = size`).
 *
 * @example
 * windowsOf(12_000, { sizeMs: 10_000, slideMs: 5_000, startMs: 0 });
 * //=> [{ start: 5000, end: 15000 }, { start: 10000, end: 20000 }]
 */
export function windowsOf(tMs: number, spec: WindowSpec): WindowBounds[] {
  const starts: number[] = [];
  const n = slidingWindowStarts(tMs, spec, starts);
  const windows: WindowBounds[] = [];
  for (let i = n - 1; i >= 0; i--) windows.push({ start: starts[i]!, end: starts[i]! + spec.sizeMs });
  return windows;
}

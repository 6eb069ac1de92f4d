import { lateValueOf, type EventTimeMarker } from '../batch/Batch.js';

/**
 * Returns a function reading the value a row is compared with the watermark
 * by (its event time, or its window's `end`), specialised for the common case
 * of a plain numeric column so that the per-row cost is one property read.
 * The result is cached for markers describing the same column (each batch
 * carries a fresh marker object).
 */
export function lateValueReader(): (marker: EventTimeMarker) => (row: unknown) => number {
  let cachedField: string | undefined;
  let cachedIsWindow = false;
  let cachedRead: unknown;
  let cached: ((row: unknown) => number) | undefined;
  return (marker) => {
    if (cached !== undefined && marker.field === cachedField && marker.isWindow === cachedIsWindow && marker.read === cachedRead) return cached;
    cachedField = marker.field;
    cachedIsWindow = marker.isWindow;
    cachedRead = marker.read;
    if (marker.read === undefined && !marker.isWindow) {
      const field = marker.field;
      cached = (row) => {
        const v = (row as Record<string, unknown>)[field];
        return typeof v === 'number' ? v : lateValueOf(marker, row);
      };
    } else {
      cached = (row) => lateValueOf(marker, row);
    }
    return cached;
  };
}

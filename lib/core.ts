// The browser-safe core: batch model, time, errors, state interfaces. Re-exported by lib/index.ts.
export type { Batch, BatchMetrics, EventTimeMarker, EventTimeStats } from './batch/Batch.js';
export { isBatch } from './batch/Batch.js';
export { fromBatches } from './batch/fromBatches.js';
export { toBatches, type ToBatchesOptions } from './batch/toBatches.js';
export { flattenRows } from './batch/flattenRows.js';
export type { Duration, EventTimeSpec, EventTimeValue, KeySpec, InvalidEventTimePolicy } from './types.js';
export { parseDuration, type ParseDurationOptions } from './time/parseDuration.js';
export { toEpochMs } from './time/eventTime.js';
export type { StateOperatorMetrics } from './state/metrics.js';
export type { StateCodec, StatefulOperatorSpec, StateHandle, RestoredState, QueryContext } from './state/StateStore.js';
export type { WatermarkPolicy } from './internal/watermarkPolicy.js';
export * from './errors/index.js';

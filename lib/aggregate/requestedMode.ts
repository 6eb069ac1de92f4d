import type { OutputModeName } from '../internal/plan.js';

/*
 * How `outputMode` tells the aggregation upstream which mode it will emit in.
 * Subscribing an RxJS chain is synchronous and runs from the sink towards the
 * source, so `outputMode` sets the mode while it subscribes its source, and the
 * first aggregation that subscribes takes it (and clears it, so that an
 * aggregation further upstream, feeding this one, does not see it). Complete
 * mode changes what an aggregation does (no late filtering, no eviction);
 * append and update evict the same way.
 */
let pending: OutputModeName | undefined;

/** Runs `subscribe` with `mode` offered to the nearest aggregation upstream. */
export function subscribeWithOutputMode<T>(mode: OutputModeName, subscribe: () => T): T {
  const previous = pending;
  pending = mode;
  try {
    return subscribe();
  } finally {
    pending = previous;
  }
}

/** Takes the output mode offered by a downstream `outputMode`, if any. Call it in an aggregation's subscribe function. */
export function takeOutputMode(): OutputModeName | undefined {
  const mode = pending;
  pending = undefined;
  return mode;
}

/** Hides any offered output mode from the pipeline `subscribe` subscribes (for stateful operators that are not aggregations). */
export function subscribeHidingOutputMode<T>(subscribe: () => T): T {
  const previous = pending;
  pending = undefined;
  try {
    return subscribe();
  } finally {
    pending = previous;
  }
}

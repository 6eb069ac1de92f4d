import type { Observable } from 'rxjs';

/**
 * What our operators know about the pipeline upstream of an Observable they
 * returned, so that shapes Spark refuses can be rejected when the pipeline is
 * subscribed, before any batch flows. A foreign operator (a plain RxJS `map`)
 * loses the plan; operators then fall back to checking the markers carried by
 * the first batch.
 */
export interface StreamPlan {
  /** A `withWatermark` is upstream. */
  readonly watermarked: boolean;
  /** The watermarked column, when known. */
  readonly eventTimeField?: string;
  /** Set on the output of an aggregation operator. */
  readonly aggregation?: {
    readonly kind: 'window' | 'session' | 'group';
    /** The aggregation groups by the watermarked column or a window on it. */
    readonly hasWatermark: boolean;
  };
  /** Kinds of the stateful operators upstream, nearest last. */
  readonly statefulOperators: readonly string[];
}

const PLAN = Symbol.for('rxjs-structured-streaming.plan');

export const EMPTY_PLAN: StreamPlan = { watermarked: false, statefulOperators: [] };

/** The plan attached to an Observable by one of our operators, or `undefined` when unknown. */
export function planOf(observable: Observable<unknown>): StreamPlan | undefined {
  return (observable as unknown as { [PLAN]?: StreamPlan })[PLAN];
}

/** Attaches a plan to an Observable an operator returns; returns the same Observable. */
export function withPlan<O extends Observable<unknown>>(observable: O, plan: StreamPlan): O {
  Object.defineProperty(observable, PLAN, { value: plan, enumerable: false });
  return observable;
}

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
  /** Set by `outputMode` (and by operators with a fixed mode, e.g. joins emit in append mode). */
  readonly outputMode?: OutputModeName;
}

/** Spark's output modes. */
export type OutputModeName = 'append' | 'update' | 'complete';

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

/**
 * The plan of an operator's output: the upstream plan (or an empty one when
 * unknown) with `patch` applied; `stateful` appends a stateful operator kind.
 */
export function derivePlan(source: Observable<unknown>, patch: Partial<StreamPlan> = {}, stateful?: string): StreamPlan {
  const upstream = planOf(source) ?? EMPTY_PLAN;
  return {
    ...upstream,
    ...patch,
    statefulOperators: stateful === undefined ? (patch.statefulOperators ?? upstream.statefulOperators) : [...upstream.statefulOperators, stateful],
  };
}

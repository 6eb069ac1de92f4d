import type { SchedulerLike } from 'rxjs';
import type { QueryContext, StateHandle, StatefulOperatorSpec } from '../state/StateStore.js';

/**
 * The query context of a query without a checkpoint: stateful operators get
 * their stable ids (`name`, or `<kind>#<n>` in registration order) and keep
 * their state in memory only; nothing is restored.
 */
export function memoryQueryContext(queryId: string, runId: string, scheduler: SchedulerLike): QueryContext {
  let registered = 0;
  return {
    queryId,
    runId,
    scheduler,
    registerState<S>(spec: StatefulOperatorSpec<S>): StateHandle<S> {
      const operatorId = spec.name ?? `${spec.kind}#${registered}`;
      registered++;
      return { operatorId, restored: undefined, publish: () => undefined };
    },
  };
}

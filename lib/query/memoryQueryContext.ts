import type { SchedulerLike } from 'rxjs';
import { InvalidOptionError, describeValue } from '../errors/index.js';
import type { QueryContext, StateHandle, StatefulOperatorSpec } from '../state/StateStore.js';

/**
 * The query context of a query without a checkpoint: stateful operators get
 * their stable ids (`name`, or `<kind>#<n>` from the pipeline's shape) and keep
 * their state in memory only; nothing is restored.
 */
export function memoryQueryContext(queryId: string, runId: string, scheduler: SchedulerLike, inputs: readonly string[] = ['0']): QueryContext {
  const registered = new Set<string>();
  return {
    queryId,
    runId,
    scheduler,
    inputs,
    registerState<S>(spec: StatefulOperatorSpec<S>): StateHandle<S> {
      if (registered.has(spec.id)) {
        throw new InvalidOptionError(
          `${spec.kind}: the operator id must be unique among the stateful operators of a query; got ${describeValue(spec.id)} twice (two operators with that name, or two unnamed operators of that kind at the same depth in parallel branches). Give each stateful operator its own name.`,
          'name',
          spec.id,
          'a unique name',
        );
      }
      registered.add(spec.id);
      return { operatorId: spec.id, restored: undefined, publish: () => undefined };
    },
  };
}

import { InvalidOptionError, describeValue } from '../errors/index.js';
import type { QueryRef } from '../instrumentation/events.js';
import type { StreamingQuery } from './StreamingQuery.js';

/**
 * Receives the exception of a query that stopped with one while nobody was
 * waiting for it (no pending `awaitTermination()`, `processAllAvailable()`,
 * `awaitAnyTermination()`, nor a read `ready` of a query that failed to
 * start). Called once per failed query. Set it with `startQuery({
 * onQueryError })` for one query, or on a {@link StreamingQueryManager} (its
 * `onQueryError` option or property) for every query of that manager; the
 * default is {@link logQueryError}.
 */
export type QueryErrorHandler = (error: Error, query: StreamingQuery) => void;

/**
 * How Spark names a query in its logs (`prettyIdString`):
 * `deviceMonitor [id = …, runId = …]`, or `[id = …, runId = …]` without a name.
 *
 * @example
 * ```ts
 * describeQuery({ id: 'a1', runId: 'r7', name: 'monitor' }); // => 'monitor [id = a1, runId = r7]'
 * ```
 */
export function describeQuery(query: QueryRef): string {
  const ids = `[id = ${query.id}, runId = ${query.runId}]`;
  return query.name === null ? ids : `${query.name} ${ids}`;
}

/**
 * The default {@link QueryErrorHandler}: logs `Query <name> [id = …, runId =
 * …] terminated with error:` and the error (message, stack and cause) with
 * `console.error`, as Spark logs a query's exception. Call it from your own
 * handler to keep the log line.
 *
 * @example
 * ```ts
 * streams.onQueryError = (error, query) => {
 *   logQueryError(error, query);
 *   process.exitCode = 1; // a script whose query failed exits non-zero
 * };
 * ```
 */
export function logQueryError(error: Error, query: QueryRef): void {
  console.error(`Query ${describeQuery(query)} terminated with error:`, error);
}

/** Checks a `onQueryError` option or property value. */
export function requireQueryErrorHandler(where: string, handler: unknown): QueryErrorHandler {
  if (typeof handler !== 'function') {
    throw new InvalidOptionError(
      `${where}: onQueryError must be a function (error, query) => void; got ${describeValue(handler)}. Pass logQueryError for the default log line.`,
      'onQueryError',
      handler,
      'a function (error, query) => void',
    );
  }
  return handler as QueryErrorHandler;
}

/** Calls `handler`; a handler that throws is logged, never allowed to break the query's shutdown. */
export function callQueryErrorHandler(handler: QueryErrorHandler, error: Error, query: StreamingQuery): void {
  try {
    handler(error, query);
  } catch (handlerError) {
    console.error(`The onQueryError handler of query ${describeQuery(query)} threw:`, handlerError, '\nwhile reporting:', error);
  }
}

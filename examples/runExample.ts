// Shared by the examples: runs an example's main function so that a failed
// query never goes unnoticed. A query that fails while the example waits for
// it rejects that wait (and main); one that fails while nobody waits is
// reported by the query manager's onQueryError handler. Either way the error
// is logged once and the process exits with code 1. (Not an example on its own.)
import { logQueryError } from '../lib/query/queryErrors.js';
import { streams } from '../lib/query/StreamingQueryManager.js';

/** Runs `main`; logs a failure (of `main` or of a query nobody waited for) once and sets exit code 1. */
export function runExample(main: () => Promise<void>): void {
  const reported = new WeakSet<Error>();
  streams.onQueryError = (error, query) => {
    logQueryError(error, query);
    reported.add(error);
    process.exitCode = 1;
  };
  main().catch((error: unknown) => {
    if (!(error instanceof Error && reported.has(error))) console.error(error);
    process.exitCode = 1;
  });
}

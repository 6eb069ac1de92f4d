// Run by failedQueries.spec.ts: a script in the examples' style whose query
// reads a socket nobody listens on (RSS_PORT). With RSS_AWAIT=1 it awaits
// the query's termination; otherwise it starts the query and returns, so the
// failure reaches the manager's onQueryError handler.
import { startQuery } from '../../../lib/query/startQuery.js';
import { toConsole } from '../../../lib/sinks/toConsole.js';
import { fromSocket } from '../../../lib/sources/fromSocket.js';
import { runExample } from '../../../examples/runExample.js';

async function main(): Promise<void> {
  const query = startQuery({
    name: 'wordCount',
    source: fromSocket({ host: '127.0.0.1', port: Number(process.env.RSS_PORT) }),
    sink: toConsole(),
    retry: { retries: 0 },
  });
  console.log(`started ${query.id}`);
  if (process.env.RSS_AWAIT === '1') await query.awaitTermination();
}

runExample(main);

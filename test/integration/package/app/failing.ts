// Queries that fail while nobody awaits them: the default handler logs each once
// (with the query's name and ids), startQuery({ onQueryError }) and
// streams.onQueryError replace it. Prints what the handlers saw, then serves the
// progress page of the failed query and reads it back.
import { Subject } from 'rxjs';
import { forEachBatch, fromObservable, serveProgress, startQuery, streams, type StreamingQuery } from 'rxjs-structured-streaming';

const failingQuery = (name: string, options: { onQueryError?: (error: Error, query: StreamingQuery) => void } = {}): StreamingQuery => {
  const input = new Subject<{ n: number }>();
  const query = startQuery({
    name,
    source: fromObservable(input),
    sink: forEachBatch(() => {
      throw new Error(`${name}: the sink is down`);
    }),
    ...options,
  });
  input.next({ n: 1 });
  return query;
};

const settle = (query: StreamingQuery): Promise<void> => new Promise((resolve) => query.progress$.subscribe({ complete: () => resolve(), error: () => resolve() }));

// 1. Nobody awaits, default handler: one log line on stderr.
const logged = failingQuery('fresh-default');
console.log(`default ${logged.id}`);
await settle(logged);

// 2. The query's own handler.
const seen: string[] = [];
const own = failingQuery('fresh-own', { onQueryError: (error, query) => seen.push(`own ${query.name} ${error.message}`) });
await settle(own);

// 3. The manager's handler, for every query without its own.
streams.onQueryError = (error, query) => seen.push(`manager ${query.name} ${error.message}`);
const managed = failingQuery('fresh-manager');
await settle(managed);
console.log(JSON.stringify(seen));

// The progress page of the failed query: loopback, everything served by itself, the last error in the feed.
const page = await serveProgress(managed);
const html = await (await fetch(page.url)).text();
const script = await (await fetch(new URL('app.js', page.url))).text();
const feed = (await (await fetch(new URL('api/progress', page.url))).json()) as unknown;
await page.close();
console.log(
  JSON.stringify({
    url: /^http:\/\/127\.0\.0\.1:\d+\/$/.test(page.url),
    externalUrls: [...`${html}\n${script}`.matchAll(/(?:src|href)=["']?(https?:)?\/\//g)].length,
    feedHasError: JSON.stringify(feed).includes('fresh-manager: the sink is down'),
  }),
);

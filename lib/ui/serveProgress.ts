import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SchedulerLike } from 'rxjs';
import { InvalidOptionError, StreamingError, describeValue } from '../errors/index.js';
import type { StreamingQuery } from '../query/StreamingQuery.js';
import type { StreamingQueryManager } from '../query/StreamingQueryManager.js';
import { ProgressFeed } from './ProgressFeed.js';
import { progressAppScript, progressPageHtml } from './progressPage.js';
import { feedJson, formatSseEvent } from './sse.js';

/** Options for {@link serveProgress}. */
export interface ServeProgressOptions {
  /** The TCP port; `0` picks a free one (read it from the handle's `url`). Spark's UI uses 4040. @defaultValue `0` */
  readonly port?: number;
  /** The interface to listen on. Anything but a loopback address makes the page reachable from other machines. @defaultValue `'127.0.0.1'` */
  readonly host?: string;
  /** Progress reports kept per query (the page's charts show that many batches). @defaultValue `100` */
  readonly history?: number;
  /** The page's title. @defaultValue `'Structured Streaming'` */
  readonly title?: string;
  /** Defers reading a query's status until its runtime updated it after an event. @defaultValue `asyncScheduler` */
  readonly scheduler?: SchedulerLike;
}

/** A running progress page, as returned by {@link serveProgress}. */
export interface ProgressServer {
  /** The page's address, e.g. `http://127.0.0.1:4040/`; the feed is at `api/progress` (JSON) and `api/events` (Server-Sent Events) under it. */
  readonly url: string;
  /** The port listened on (useful with `port: 0`). */
  readonly port: number;
  /** Ends every open event stream and stops the server; resolves once it is closed. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function isTarget(value: unknown): value is StreamingQuery | StreamingQueryManager {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['on'] === 'function' && (typeof v['runId'] === 'string' || Array.isArray(v['active']));
}

/**
 * Serves a live progress page for a query, or for every query of a manager
 * (also those started later): Spark UI's Structured Streaming tab, with no
 * external service. Per query it charts input vs processed rows per second,
 * batch duration by phase, state rows per operator, the watermark and its
 * lag behind the max event time, rows dropped late, and shows the status and
 * the last error. The page is plain HTML with a bundled script (no CDN)
 * reading a feed the server also offers to scripts: `GET api/progress`
 * returns a JSON {@link ProgressSnapshot} and `GET api/events` is a
 * Server-Sent-Events stream (`snapshot`, then `query` and `progress`
 * events). By default it listens on 127.0.0.1 only and refuses requests for
 * another host name (DNS rebinding).
 *
 * Spark: the Structured Streaming tab of the Spark UI (`spark.ui.port`, 4040).
 *
 * ```text
 * query     --p0------p1-----p2----|       p = a progress report (query.progress event)
 * api/events S-q-p0----p1-q---p2-q--       S = snapshot on connect, q = status/lifecycle change
 * ```
 *
 * @example
 * ```ts
 * const events$ = new Subject<{ ts: number; page: string }>();
 * const query = startQuery({ source: fromObservable(events$), sink: toConsole(), name: 'monitor' });
 * const page = await serveProgress(query, { port: 4040 });
 * console.log(`Progress page: ${page.url}`); // => Progress page: http://127.0.0.1:4040/
 * // …
 * await query.stop();
 * await page.close();
 * ```
 *
 * @param target A query (`startQuery`'s result) or a manager (`streams`, or one passed as `startQuery({ manager })`).
 * @returns A promise of the running server's handle, once it listens.
 * @throws {InvalidOptionError} `serveProgress: target must be a StreamingQuery or a StreamingQueryManager; got …`, or a bad `port`, `host` or `history`.
 * @throws {StreamingError} (the promise rejects) `serveProgress: cannot listen on <host>:<port>; got EADDRINUSE …` when the port is taken or the host is not an address of this machine.
 * @see {@link StreamingQuery.progress$}, {@link formatProgressLine}
 */
export function serveProgress(target: StreamingQuery | StreamingQueryManager, options: ServeProgressOptions = {}): Promise<ProgressServer> {
  if (!isTarget(target)) {
    throw new InvalidOptionError(`serveProgress: target must be a StreamingQuery or a StreamingQueryManager; got ${describeValue(target)}. Pass what startQuery returned, or streams.`, 'target', target, 'a StreamingQuery or a StreamingQueryManager');
  }
  const { port = 0, host = '127.0.0.1', history = 100, title = 'Structured Streaming', scheduler } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidOptionError(`serveProgress: port must be an integer from 0 to 65535; got ${describeValue(port)}. Use 0 for a free port.`, 'port', port, 'an integer from 0 to 65535');
  }
  if (typeof host !== 'string' || host.length === 0) {
    throw new InvalidOptionError(`serveProgress: host must be a non-empty string; got ${describeValue(host)}. Use '127.0.0.1' (loopback only).`, 'host', host, 'a host name or address');
  }
  if (!Number.isInteger(history) || history < 1) {
    throw new InvalidOptionError(`serveProgress: history must be a positive integer; got ${describeValue(history)}.`, 'history', history, 'a positive integer');
  }

  const feed = new ProgressFeed(target, { history, ...(scheduler === undefined ? {} : { scheduler }) });
  const page = progressPageHtml(title, history);
  const script = progressAppScript();
  const streams = new Set<ServerResponse>();
  let eventId = 0;
  let boundPort = port;

  const allowedHosts = (): Set<string> | undefined =>
    LOOPBACK.has(host) ? new Set([`127.0.0.1:${boundPort}`, `localhost:${boundPort}`, `[::1]:${boundPort}`]) : undefined;

  const send = (res: ServerResponse, status: number, type: string, body: string): void => {
    res.writeHead(status, {
      'Content-Type': type,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
    });
    res.end(body);
  };

  const openStream = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write('retry: 2000\n\n');
    res.write(formatSseEvent('snapshot', feed.snapshot(), ++eventId));
    const remove = feed.subscribe((event) => {
      res.write(formatSseEvent(event.type, event.data, ++eventId));
    });
    streams.add(res);
    const end = (): void => {
      remove();
      streams.delete(res);
    };
    req.on('close', end);
    res.on('close', end);
  };

  const server = createServer((req, res) => {
    const allowed = allowedHosts();
    if (allowed !== undefined && !allowed.has(req.headers.host ?? '')) {
      send(res, 403, 'text/plain; charset=utf-8', `serveProgress: refused a request for host ${JSON.stringify(req.headers.host ?? '')}; this page answers ${[...allowed].join(', ')} only.\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', `serveProgress: method ${req.method ?? ''} not allowed; use GET.\n`);
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/':
      case '/index.html':
        send(res, 200, 'text/html; charset=utf-8', page);
        return;
      case '/app.js':
        send(res, 200, 'text/javascript; charset=utf-8', script);
        return;
      case '/api/progress':
        send(res, 200, 'application/json; charset=utf-8', feedJson(feed.snapshot()));
        return;
      case '/api/events':
        if (req.method === 'HEAD') send(res, 200, 'text/event-stream; charset=utf-8', '');
        else openStream(req, res);
        return;
      default:
        send(res, 404, 'text/plain; charset=utf-8', `serveProgress: no page at ${path ?? ''}; the page is at / and the feed at /api/progress and /api/events.\n`);
    }
  });

  return new Promise<ProgressServer>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      feed.close();
      reject(
        new StreamingError(`serveProgress: cannot listen on ${hostForUrl(host)}:${port}; got ${error.code ?? error.message}. Pass another port (0 picks a free one) or a host of this machine.`, { cause: error }),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      boundPort = (server.address() as AddressInfo).port;
      let closing: Promise<void> | undefined;
      resolve({
        url: `http://${hostForUrl(host)}:${boundPort}/`,
        port: boundPort,
        close: () => {
          closing ??= new Promise<void>((done) => {
            feed.close();
            for (const res of streams) res.end();
            streams.clear();
            server.close(() => done());
            server.closeAllConnections();
          });
          return closing;
        },
      });
    });
  });
}

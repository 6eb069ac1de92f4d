import { createConnection, type Socket } from 'node:net';
import type { SchedulerLike } from 'rxjs';
import { InvalidOptionError, SourceError, describeValue } from '../errors/index.js';
import { RowBuffer } from './bufferedSource.js';
import type { Source } from './Source.js';

/** Options for {@link fromSocket}. */
export interface FromSocketOptions {
  readonly host: string;
  readonly port: number;
  /** Add a `timestamp` column: when the line arrived (a `Date`, from the query's scheduler). @defaultValue `false` */
  readonly includeTimestamp?: boolean;
}

/** A row of {@link fromSocket}: one line of text. */
export interface SocketLine {
  readonly value: string;
  readonly timestamp?: Date;
}

/**
 * Connects to a TCP server and turns every line it sends (UTF-8, `\n` or
 * `\r\n` separated) into a row `{ value }`. For testing only, as in Spark:
 * lines are kept in memory until their batch is committed, so a restarted
 * query does not see them again.
 *
 * Spark: `spark.readStream.format("socket").option("host", …).option("port", …)`.
 *
 * ```text
 * server   -"a b\n"--"c\n"-----
 * batches  --0(a b)---1(c)-----
 * ```
 *
 * **Offsets**: the number of lines received. A connection that fails to open
 * is a retriable `SourceError` (the runtime retries it with backoff).
 *
 * @example
 * ```ts
 * // nc -lk 9999
 * const query = startQuery({ source: fromSocket({ host: '127.0.0.1', port: 9999 }), sink: toConsole() });
 * ```
 *
 * @throws {InvalidOptionError} `fromSocket: host must be a non-empty string; got …` / `fromSocket: port must be an integer from 1 to 65535; got …`
 */
export function fromSocket(options: FromSocketOptions): Source<SocketLine, number> {
  const op = 'fromSocket';
  const { host, port, includeTimestamp = false } = options ?? ({} as FromSocketOptions);
  if (typeof host !== 'string' || host.length === 0) throw new InvalidOptionError(`${op}: host must be a non-empty string; got ${describeValue(host)}.`, 'host', host, 'a host name');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidOptionError(`${op}: port must be an integer from 1 to 65535; got ${describeValue(port)}.`, 'port', port, 'a TCP port');
  const description = `TextSocketSource[host: ${host}, port: ${port}]`;
  const buffer = new RowBuffer<SocketLine>(description);
  let socket: Socket | undefined;
  let scheduler: SchedulerLike | undefined;
  let partial = '';
  let stopping = false;

  const emitLine = (line: string): void => {
    const value = line.endsWith('\r') ? line.slice(0, -1) : line;
    buffer.push(includeTimestamp && scheduler !== undefined ? { value, timestamp: new Date(scheduler.now()) } : { value });
  };

  return {
    description,
    dataAvailable$: buffer.dataAvailable$,
    async start(context) {
      scheduler = context.scheduler;
      await new Promise<void>((resolve, reject) => {
        const s = createConnection({ host, port });
        s.setEncoding('utf8');
        const onError = (error: Error): void => {
          s.destroy();
          reject(new SourceError(description, `cannot connect to ${host}:${port}; got ${(error as { code?: string }).code ?? error.message}. Start the server first`, error, true));
        };
        s.once('error', onError);
        s.once('connect', () => {
          s.off('error', onError);
          socket = s;
          s.on('data', (chunk: string) => {
            const parts = (partial + chunk).split('\n');
            partial = parts.pop()!;
            for (const line of parts) emitLine(line);
          });
          s.on('end', () => {
            if (partial !== '') emitLine(partial);
            partial = '';
          });
          s.on('error', (error) => {
            if (!stopping) buffer.fail(new SourceError(description, `connection to ${host}:${port} failed; got ${(error as { code?: string }).code ?? error.message}`, error, false));
          });
          resolve();
        });
      });
    },
    async latestOffset(start, limit) {
      return buffer.latestOffset(start, limit, undefined);
    },
    async getBatch(start, end) {
      return buffer.getBatch(start, end);
    },
    async commit(end) {
      buffer.commit(end);
    },
    async prepareForAvailableNow() {
      buffer.fixAvailableNow();
    },
    async stop() {
      stopping = true;
      socket?.destroy();
      socket = undefined;
    },
  };
}

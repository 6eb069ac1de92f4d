import { createConnection, type Socket } from 'node:net';
import type { SchedulerLike, Subscription } from 'rxjs';
import { InvalidOptionError, SourceError, describeValue } from '../errors/index.js';
import { parseDuration } from '../time/parseDuration.js';
import type { Duration } from '../types.js';
import { RowBuffer, bufferOptions, type BufferFullPolicy } from './bufferedSource.js';
import type { Source } from './Source.js';

/** How {@link fromSocket} reconnects when the server closes or drops the connection. */
export interface SocketReconnectOptions {
  /** Failed attempts in a row before the query stops with a `SocketConnectionLostError`. @defaultValue `10` */
  readonly maxAttempts?: number;
  /** Wait before the first attempt; doubled after each failed one. @defaultValue `'100 ms'` */
  readonly initialDelay?: Duration;
  /** Longest wait between attempts. @defaultValue `'10 s'` */
  readonly maxDelay?: Duration;
}

/** Options for {@link fromSocket}. */
export interface FromSocketOptions {
  readonly host: string;
  readonly port: number;
  /** Add a `timestamp` column: when the line arrived (a `Date`, from the query's scheduler). @defaultValue `false` */
  readonly includeTimestamp?: boolean;
  /**
   * Reconnect with exponential backoff when the connection is closed or lost
   * (`false`: stop the query with a `SocketConnectionLostError` at once).
   * @defaultValue `{ maxAttempts: 10, initialDelay: '100 ms', maxDelay: '10 s' }`
   */
  readonly reconnect?: SocketReconnectOptions | false;
  /** At most this many lines held in memory (received, not yet committed). @defaultValue `100000` */
  readonly maxBufferedRows?: number;
  /**
   * When the buffer is full: stop reading from the socket until batches
   * commit (`'pause'`: TCP backpressure slows the server), stop the query
   * with a `SourceBufferOverflowError` (`'error'`), or drop and count new
   * lines (`'drop'`). @defaultValue `'pause'`
   */
  readonly onBufferFull?: BufferFullPolicy;
}

/** A row of {@link fromSocket}: one line of text. */
export interface SocketLine {
  readonly value: string;
  readonly timestamp?: Date;
}

/** The socket source lost its connection and could not get it back (or was told not to try). */
export class SocketConnectionLostError extends SourceError {
  override name = 'SocketConnectionLostError';
  /** Failed reconnection attempts in a row. */
  readonly attempts: number;

  constructor(source: string, attempts: number, message: string, cause?: unknown) {
    super(source, message, cause, false);
    this.attempts = attempts;
  }
}

function code(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  return String((error as { code?: unknown }).code ?? (error as { message?: unknown }).message ?? error);
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
 * server   -"a b\n"--"c\n"--x(closes)---(back)-"d\n"--
 * batches  --0(a b)---1(c)-----------------------2(d)--    reconnected with backoff
 * ```
 *
 * **Offsets**: the number of lines received (after a restart from a
 * checkpoint, counted on from the checkpoint's offset, so no new line is
 * skipped; a batch the earlier run left pending runs without its lines,
 * counted as `numRowsLost`). A connection that fails to open at start is a
 * retriable `SourceError` (the runtime retries it with backoff).
 *
 * **Lost connections**: when the server closes the connection or it breaks,
 * the source reconnects with exponential backoff (on the query's scheduler),
 * `initialDelay` doubling up to `maxDelay`; after `maxAttempts` failed
 * attempts in a row the query stops with a `SocketConnectionLostError`.
 * Lines the server sent while no connection was open are lost (the socket
 * source cannot replay). Progress counts `numReconnects` and shows
 * `connected` (1 or 0).
 *
 * **Bounded buffer**: at most `maxBufferedRows` lines are held; by default
 * the source then stops reading (TCP backpressure) until batches commit,
 * holding at most one more read (64 KiB) of lines. Progress shows
 * `numBufferedRows`, `maxBufferedRowsSeen`, `bufferCapacity`, `numPauses`
 * and `numRowsDropped`.
 *
 * @example
 * ```ts
 * // nc -lk 9999
 * const query = startQuery({ source: fromSocket({ host: '127.0.0.1', port: 9999 }), sink: toConsole() });
 * ```
 *
 * @throws {InvalidOptionError} `fromSocket: host must be a non-empty string; got …` / `fromSocket: port must be an integer from 1 to 65535; got …`, and for bad `reconnect`, `maxBufferedRows`, `onBufferFull`.
 * @throws {SocketConnectionLostError} (stops the query) when the connection is lost and cannot be opened again.
 */
export function fromSocket(options: FromSocketOptions): Source<SocketLine, number> {
  const op = 'fromSocket';
  const { host, port, includeTimestamp = false, reconnect = {} } = options ?? ({} as FromSocketOptions);
  if (typeof host !== 'string' || host.length === 0) throw new InvalidOptionError(`${op}: host must be a non-empty string; got ${describeValue(host)}.`, 'host', host, 'a host name');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidOptionError(`${op}: port must be an integer from 1 to 65535; got ${describeValue(port)}.`, 'port', port, 'a TCP port');
  if (reconnect !== false && (typeof reconnect !== 'object' || reconnect === null)) {
    throw new InvalidOptionError(`${op}: reconnect must be false or { maxAttempts, initialDelay, maxDelay }; got ${describeValue(reconnect)}.`, 'reconnect', reconnect, 'false | SocketReconnectOptions');
  }
  const maxAttempts = reconnect === false ? 0 : (reconnect.maxAttempts ?? 10);
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 0) {
    throw new InvalidOptionError(`${op}: reconnect.maxAttempts must be a non-negative integer; got ${describeValue(maxAttempts)}.`, 'reconnect.maxAttempts', maxAttempts, 'a non-negative integer');
  }
  const initialDelayMs = reconnect === false ? 0 : parseDuration(reconnect.initialDelay ?? 100, { option: `${op}: reconnect.initialDelay` });
  const maxDelayMs = reconnect === false ? 0 : parseDuration(reconnect.maxDelay ?? 10_000, { option: `${op}: reconnect.maxDelay` });
  const bound = bufferOptions(op, options, ['pause', 'error', 'drop'], { maxBufferedRows: 100_000, onBufferFull: 'pause' });
  const description = `TextSocketSource[host: ${host}, port: ${port}]`;
  let socket: Socket | undefined;
  const buffer = new RowBuffer<SocketLine>(description, {
    ...bound,
    pause: () => socket?.pause(),
    resume: () => socket?.resume(),
  });
  let scheduler: SchedulerLike | undefined;
  let partial = '';
  let stopping = false;
  let failedAttempts = 0;
  let reconnects = 0;
  let retryTimer: Subscription | undefined;

  const toRow = (line: string): SocketLine => {
    const value = line.endsWith('\r') ? line.slice(0, -1) : line;
    return includeTimestamp && scheduler !== undefined ? { value, timestamp: new Date(scheduler.now()) } : { value };
  };
  const emitLine = (line: string): void => buffer.push(toRow(line));

  /** Opens a connection; resolves once connected, rejects with the error of a failed attempt. */
  const connect = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const s = createConnection({ host, port });
      s.setEncoding('utf8');
      const onError = (error: Error): void => {
        s.destroy();
        reject(error);
      };
      s.once('error', onError);
      s.once('connect', () => {
        s.off('error', onError);
        socket = s;
        if (buffer.isPaused) s.pause();
        let lost: unknown;
        s.on('data', (chunk: string) => {
          const parts = (partial + chunk).split('\n');
          partial = parts.pop()!;
          buffer.pushAll(parts.map(toRow));
        });
        s.on('error', (error) => {
          lost = error;
        });
        s.on('close', () => {
          if (partial !== '') emitLine(partial);
          partial = '';
          if (socket === s) socket = undefined;
          if (!stopping) connectionLost(lost);
        });
        resolve();
      });
    });

  /** The connection is gone: try again after a backoff, or stop the query once the attempts are used up. */
  const connectionLost = (cause: unknown): void => {
    const why = cause === undefined ? 'the server closed the connection' : `the connection broke (${code(cause)})`;
    if (failedAttempts >= maxAttempts) {
      buffer.fail(
        new SocketConnectionLostError(
          description,
          failedAttempts,
          maxAttempts === 0
            ? `${why} to ${host}:${port}; got reconnect: false. Pass reconnect: { maxAttempts } to reconnect instead`
            : `${why} to ${host}:${port} and ${failedAttempts} reconnection attempts in a row failed; got ${code(cause)}. Check the server, or raise reconnect.maxAttempts`,
          cause,
        ),
      );
      return;
    }
    const delay = Math.min(maxDelayMs, initialDelayMs * 2 ** failedAttempts);
    retryTimer = scheduler!.schedule(() => {
      retryTimer = undefined;
      if (stopping) return;
      connect().then(
        () => {
          failedAttempts = 0;
          reconnects++;
        },
        (error: unknown) => {
          failedAttempts++;
          connectionLost(error);
        },
      );
    }, delay);
  };

  return {
    description,
    columns: includeTimestamp ? ['value', 'timestamp'] : ['value'],
    dataAvailable$: buffer.dataAvailable$,
    async start(context) {
      scheduler = context.scheduler;
      stopping = false;
      try {
        await connect();
      } catch (error) {
        throw new SourceError(description, `cannot connect to ${host}:${port}; got ${code(error)}. Start the server first`, error, true);
      }
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
    progressMetrics() {
      return { ...buffer.metrics(), numReconnects: reconnects, connected: socket === undefined ? 0 : 1 };
    },
    async stop() {
      stopping = true;
      retryTimer?.unsubscribe();
      retryTimer = undefined;
      socket?.destroy();
      socket = undefined;
    },
  };
}

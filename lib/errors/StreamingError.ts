/**
 * Root of every error this library raises. `retriable` tells the query runtime
 * whether retrying the failed step (with backoff) can help; it defaults to
 * `false` because most failures here are programming or data errors.
 */
export class StreamingError extends Error {
  override name = 'StreamingError';
  readonly retriable: boolean;

  constructor(message: string, options: { readonly retriable?: boolean; readonly cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retriable = options.retriable ?? false;
  }
}

/** `true` for any error raised by this library. */
export function isStreamingError(error: unknown): error is StreamingError {
  return error instanceof StreamingError;
}

/**
 * Echoes a value in an error message: `JSON.stringify`d (functions and other
 * unserialisable values by `String`) and cut off at 80 characters.
 */
export function describeValue(value: unknown): string {
  let text: string;
  if (typeof value === 'function') text = `[function ${value.name || 'anonymous'}]`;
  else if (value === undefined) text = 'undefined';
  else if (typeof value === 'number' && !Number.isFinite(value)) text = String(value);
  else if (typeof value === 'bigint') text = `${value}n`;
  else if (value instanceof Date) text = Number.isNaN(value.getTime()) ? 'Invalid Date' : JSON.stringify(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

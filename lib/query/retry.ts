import type { SchedulerLike } from 'rxjs';
import { CheckpointIOError, SinkError, SourceError, StreamingError } from '../errors/index.js';

/** How the runtime retries retriable failures (`SourceError`, `SinkError`, `CheckpointIOError` with `retriable`). */
export interface RetryOptions {
  /** Retries after the first attempt. @defaultValue `5` */
  readonly retries?: number;
  /** Backoff before the first retry, in ms; doubled at each retry. @defaultValue `100` */
  readonly initialRetryTimeMs?: number;
  /** Longest backoff, in ms. @defaultValue `10000` */
  readonly maxRetryTimeMs?: number;
  /** Each backoff is multiplied by a random factor in `[1 - jitter, 1 + jitter]`. @defaultValue `0.2` */
  readonly jitter?: number;
  /** Source of randomness for the jitter (`Math.random` by default; inject one for repeatable tests). */
  readonly random?: () => number;
}

/** `true` for the errors the runtime may retry: source, sink and checkpoint I/O failures marked retriable. Never native or argument errors. */
export function isRetriable(error: unknown): boolean {
  if (!(error instanceof StreamingError) || !error.retriable) return false;
  return error instanceof SourceError || error instanceof SinkError || error instanceof CheckpointIOError;
}

/** The backoff before retry number `attempt` (0 = first retry), with jitter. */
export function backoffMs(attempt: number, options: RetryOptions = {}): number {
  const { initialRetryTimeMs = 100, maxRetryTimeMs = 10_000, jitter = 0.2, random = Math.random } = options;
  const base = Math.min(maxRetryTimeMs, initialRetryTimeMs * 2 ** attempt);
  return Math.max(0, Math.round(base * (1 - jitter + 2 * jitter * random())));
}

/**
 * Runs `operation`, retrying it with exponential backoff and jitter (waiting
 * on `scheduler`) while it fails with a retriable error and retries are left.
 * The last error is rethrown unchanged.
 */
export async function withRetry<T>(
  operation: () => Promise<T>,
  scheduler: SchedulerLike,
  options: RetryOptions = {},
  onRetry?: (attempt: number, delayMs: number, error: Error) => void,
): Promise<T> {
  const retries = options.retries ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= retries || !isRetriable(error)) throw error;
      const delayMs = backoffMs(attempt, options);
      onRetry?.(attempt + 1, delayMs, error as Error);
      await new Promise<void>((resolve) => scheduler.schedule(() => resolve(), delayMs));
    }
  }
}

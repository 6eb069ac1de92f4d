import { StreamingError } from './StreamingError.js';

/** A condition that can only fail through a bug in this library. */
export class InvariantViolationError extends StreamingError {
  override name = 'InvariantViolationError';

  constructor(message: string) {
    super(`${message.replace(/\.+$/, '')}. This is a bug in rxjs-structured-streaming; please report it with the pipeline that triggered it.`);
  }
}

/** Throws an {@link InvariantViolationError} when `condition` is false. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantViolationError(message);
}

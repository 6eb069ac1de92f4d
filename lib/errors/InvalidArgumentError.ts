import { StreamingError } from './StreamingError.js';

/** A bad argument or option, raised synchronously when an operator is built. */
export class InvalidArgumentError extends StreamingError {
  override name = 'InvalidArgumentError';
  /** The option or argument that was wrong, e.g. `size` or `delay`. */
  readonly option: string;

  constructor(message: string, option: string, options: { readonly cause?: unknown } = {}) {
    super(message, options);
    this.option = option;
  }
}

/** A value that is not a duration, or a duration that breaks a rule (e.g. months in a window size). */
export class InvalidDurationError extends InvalidArgumentError {
  override name = 'InvalidDurationError';
  /** The input exactly as it was given. */
  readonly input: unknown;

  constructor(message: string, option: string, input: unknown) {
    super(message, option);
    this.input = input;
  }
}

/** An option whose value breaks the operator's contract. */
export class InvalidOptionError extends InvalidArgumentError {
  override name = 'InvalidOptionError';
  readonly received: unknown;
  readonly expected: string;

  constructor(message: string, option: string, received: unknown, expected: string) {
    super(message, option);
    this.received = received;
    this.expected = expected;
  }
}

import { StreamingError } from './StreamingError.js';

/**
 * A pipeline shape that Spark Structured Streaming refuses. The message
 * contains Spark's own wording for the same case (see
 * `lib/query/unsupportedOperations.ts`), so that it can be searched for.
 */
export class UnsupportedOperationError extends StreamingError {
  override name = 'UnsupportedOperationError';
  /** The operator that detected the unsupported shape. */
  readonly operator: string;

  constructor(operator: string, message: string) {
    super(`${operator}: ${message}`);
    this.operator = operator;
  }
}

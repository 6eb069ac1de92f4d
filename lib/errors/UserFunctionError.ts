import { StreamingError } from './StreamingError.js';

/** A user callback (`keyBy`, an aggregator, `select`, `where`, a sink function, …) threw. */
export class UserFunctionError extends StreamingError {
  override name = 'UserFunctionError';
  readonly operator: string;
  /** The batch being processed, or -1 when the failure happened outside a batch. */
  readonly batchId: number;

  constructor(operator: string, batchId: number, cause: unknown) {
    const inner = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`${operator}: a user function threw while processing batch ${batchId}: ${inner}`, { cause });
    this.operator = operator;
    this.batchId = batchId;
  }
}

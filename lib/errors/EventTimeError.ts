import { StreamingError, describeValue } from './StreamingError.js';

/** A row whose event time is missing or cannot be parsed. */
export class EventTimeError extends StreamingError {
  override name = 'EventTimeError';
  readonly operator: string;
  /** The event-time field name, or `'<function>'` when the event time is computed by a function. */
  readonly field: string;
  readonly batchId: number;
  readonly rowIndex: number;
  /** The value found in the row (`undefined` when the field is missing). */
  readonly received: unknown;

  /**
   * @param options.where Where the row is, for the message, when it is not a batch's (`static table row 3`); `batchId` is then `-1`.
   * @param options.hint What to do about it, when the operator has no `onInvalidEventTime` option.
   */
  constructor(operator: string, field: string, batchId: number, rowIndex: number, received: unknown, options: { readonly where?: string; readonly hint?: string } = {}) {
    super(
      `${operator}: event time ${field} is ${received === undefined || received === null ? 'missing' : 'not a valid time'} ${options.where ?? `in batch ${batchId}, row ${rowIndex}`}; got ${describeValue(received)}. ` +
        (options.hint ?? `Use epoch milliseconds, a Date or an ISO-8601 string, or pass onInvalidEventTime: 'drop' to drop and count such rows.`),
    );
    this.operator = operator;
    this.field = field;
    this.batchId = batchId;
    this.rowIndex = rowIndex;
    this.received = received;
  }
}

/** Batch ids from upstream that do not increase. */
export class BatchSequenceError extends StreamingError {
  override name = 'BatchSequenceError';
  readonly operator: string;
  readonly previousBatchId: number;
  readonly batchId: number;

  constructor(operator: string, previousBatchId: number, batchId: number) {
    super(
      `${operator}: batch ids must increase; got batch ${batchId} after batch ${previousBatchId}. ` +
        'Each upstream emission must be a new batch (use fromBatches or toBatches to number them).',
    );
    this.operator = operator;
    this.previousBatchId = previousBatchId;
    this.batchId = batchId;
  }
}

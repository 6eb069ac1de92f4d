import { StreamingError } from './StreamingError.js';

/**
 * A column an operator names (a `keyBy` field, an aggregate's field, an
 * event-time column, a dedup or join key) that the rows do not have: Spark's
 * analysis error `cannot resolve '<col>' given input columns: [...]`. Raised
 * when the pipeline is built if the columns are known (a source with a
 * schema), else for the first non-empty batch in which no row has the field.
 */
export class ColumnNotFoundError extends StreamingError {
  override name = 'ColumnNotFoundError';
  readonly operator: string;
  /** The option that names the column (`keyBy`, `aggregate.total`, `eventTime`, `keys`, `on`). */
  readonly option: string;
  readonly column: string;
  /** The input columns: the schema's, or those present in the batch. */
  readonly columns: readonly string[];
  /** The batch in which no row had the column; `undefined` when found from a schema before any batch. */
  readonly batchId: number | undefined;

  constructor(operator: string, option: string, column: string, columns: readonly string[], batchId?: number) {
    const list = `[${columns.join(', ')}]`;
    super(
      batchId === undefined
        ? `${operator}: cannot resolve '${column}' given input columns: ${list} (${option}).`
        : `${operator}: cannot resolve '${column}' in batch ${batchId}: no row has it; input columns present: ${list} (${option}). ` +
            'If the field may be absent from a whole batch (sparse data), pass checkColumns: false.',
    );
    this.operator = operator;
    this.option = option;
    this.column = column;
    this.columns = columns;
    this.batchId = batchId;
  }
}

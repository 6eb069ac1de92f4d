/** What one stateful operator reports for one batch (Spark's `stateOperators[i]` in a progress report). */
export interface StateOperatorMetrics {
  /** Stable operator id (`options.name`, or `<kind>#<n>`). */
  readonly operatorId: string;
  /** The operator kind, e.g. `windowTumbling`, `dropDuplicates`, `streamJoin`. */
  readonly operatorName: string;
  /** State rows held after the batch. */
  readonly numRowsTotal: number;
  /** State rows written (inserted or changed) by the batch. */
  readonly numRowsUpdated: number;
  /** State rows removed by the batch (evicted by the watermark or removed by user code). */
  readonly numRowsRemoved: number;
  /** Input rows dropped because they were behind the watermark. */
  readonly numRowsDroppedByWatermark: number;
  /** Approximate bytes held by the operator's state. */
  readonly memoryUsedBytes: number;
  /**
   * Aggregated values that were not taken in this batch: text that `sum`/`avg`
   * could not cast to a number (a null, as Spark's cast gives), and values
   * of a wrong type dropped with `onInvalidValue: 'drop'`. Absent when 0.
   */
  readonly numRowsInvalidValue?: number;
  /** Operator-specific counters. */
  readonly customMetrics?: Readonly<Record<string, number>>;
}

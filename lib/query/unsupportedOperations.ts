/**
 * Spark's own wording for every pipeline shape it refuses, in one table so
 * that messages stay identical wherever they are raised. Each entry names the
 * Spark source it comes from (see docs/guides/semantics.md §11 and docs/guides/errors.md, "What is refused").
 */
export const UNSUPPORTED = {
  /** UnsupportedOperationChecker.checkForStreaming */
  appendWithoutWatermark:
    'Append output mode not supported when there are streaming aggregations on streaming DataFrames/DataSets without watermark',
  /** UnsupportedOperationChecker.checkForStreaming */
  completeWithoutAggregation:
    'Complete output mode not supported when there are no streaming aggregations on streaming DataFrames/Datasets',
  /** UnsupportedOperationChecker.checkForStreaming */
  updateWithSessionWindow: 'Update output mode not supported for session window on streaming DataFrames/DataSets',
  /** AggUtils.planStreamingAggregationForSession */
  globalSessionWindow: 'Global aggregation with session window in streaming query is not supported.',
  /** UnsupportedOperationChecker.checkForStreaming */
  distinctAggregation:
    'Distinct aggregations are not supported on streaming DataFrames/Datasets. Consider using approx_count_distinct() instead.',
  /** UnsupportedOperationChecker.checkForStreaming */
  sortNotAfterCompleteAggregation:
    'Sorting is not supported on streaming DataFrames/Datasets, unless it is on aggregated DataFrame/Dataset in Complete output mode',
  /** UnsupportedOperationChecker.checkForStreaming */
  limitInUpdateMode: 'Limits are not supported on streaming DataFrames/Datasets in Update output mode',
  /** UnsupportedOperationChecker.checkForStreaming */
  joinNotAppend: (mode: 'Update' | 'Complete'): string =>
    `Join between two streaming DataFrames/Datasets is not supported in ${mode} output mode, only in Append output mode`,
  /** StreamingJoinStrategy */
  joinWithoutEquality: 'Stream-stream join without equality predicate is not supported',
  /** UnsupportedOperationChecker.checkForStreamStreamJoinWatermark */
  outerJoinWithoutWatermark: (joinType: 'LeftOuter' | 'RightOuter' | 'FullOuter' | 'LeftSemi'): string =>
    `Stream-stream ${joinType} join between two streaming DataFrame/Datasets is not supported without a watermark in the join keys, or a watermark on the nullable side and an appropriate range condition`,
  /** UnsupportedOperationChecker.checkForStreaming (stream-static joins) */
  fullOuterStreamStatic:
    'FullOuter joins with streaming DataFrames/Datasets on the left and a static DataFrame/Dataset on the right is not supported',
  rightOuterStreamLeftStatic:
    'RightOuter join with a streaming DataFrame/Dataset on the left and a static DataFrame/DataSet on the right not supported',
  /** UnsupportedOperationChecker: dropDuplicatesWithinWatermark */
  dedupWithinWatermarkWithoutWatermark:
    'dropDuplicatesWithinWatermark is not supported on streaming DataFrames/DataSets without watermark',
  /** UnsupportedOperationChecker: union of streaming and batch */
  unionStreamingAndBatch: 'Union between streaming and batch DataFrames/Datasets is not supported',
  /** EventTimeWatermark.getDelayMs / Dataset.withWatermark */
  negativeDelay: (delay: string): string => `delay threshold (${delay}) should not be negative.`,
  /** WatermarkPropagator.PropagateWatermarkSimulator */
  redefiningWatermark:
    'Redefining watermark is disallowed. You can set the config \'spark.sql.streaming.statefulOperator.allowMultiple\' to \'false\' to restore the previous behavior. Note that multiple stateful operators will be disallowed.',
  /** WatermarkSupport.findEventTimeColumn */
  multipleEventTimeColumns:
    'More than one event time columns are available. Please ensure there is at most one event time column per stream.',
  /** TimeWindowResolution */
  multipleWindows: 'Multiple time/session window expressions would result in a cartesian product of rows, therefore they are currently not supported.',
  /** MultipleWatermarkPolicy */
  invalidWatermarkPolicy: (got: string): string =>
    `Invalid value for multipleWatermarkPolicy: '${got}'. Valid values are 'min' and 'max'.`,
  /** UnsupportedOperationChecker.checkStreamingQueryGlobalWatermarkLimit */
  globalWatermarkCorrectness:
    'Detected pattern of possible \'correctness\' issue due to global watermark. The query contains stateful operation which can emit rows older than the current watermark plus allowed late record delay, which are "late rows" in downstream stateful operations and these rows can be discarded. Please refer the programming guide doc for more details. If you understand the possible risk of correctness issue and still need to run the query, you can disable this check by setting the config `spark.sql.streaming.statefulOperator.checkCorrectness.enabled` to false.',
  /** UnsupportedOperationChecker: continuous processing */
  continuousWithAggregation: (op: string): string =>
    `Continuous processing does not support ${op} operations.`,
  /** UnsupportedOperationChecker.checkForStreaming: mapGroupsWithState with an aggregation in the query */
  mapGroupsWithStateWithAggregation: 'mapGroupsWithState is not supported with aggregation on a streaming DataFrame/Dataset',
  /** UnsupportedOperationChecker.checkForStreaming: flatMapGroupsWithState in update mode with an aggregation in the query */
  flatMapGroupsWithStateUpdateWithAggregation: 'flatMapGroupsWithState in update mode is not supported with aggregation on a streaming DataFrame/Dataset',
  /** UnsupportedOperationChecker.checkForStreaming: flatMapGroupsWithState in append mode after an aggregation */
  flatMapGroupsWithStateAppendAfterAggregation: 'flatMapGroupsWithState in append mode is not supported after aggregation on a streaming DataFrame/Dataset',
  /** UnsupportedOperationChecker.checkForStreaming: EventTimeTimeout without a watermark */
  eventTimeTimeoutWithoutWatermark:
    "Watermark must be specified in the query using '[Dataset/DataFrame].withWatermark()' for using event-time timeout in a [map|flatMap]GroupsWithState. Event-time timeout not supported without watermark.",
  /** UnsupportedOperationChecker.checkForStreaming: several flatMapGroupsWithState */
  multipleFlatMapGroupsWithState:
    'Multiple flatMapGroupsWithStates are not supported when they are not all in append mode or the output mode is not append on a streaming DataFrames/Datasets',
  /** UnsupportedOperationChecker.checkForStreaming: flatMapGroupsWithState without aggregation, whose mode differs from the query's */
  flatMapGroupsWithStateModeMismatch: (modes: `${'append' | 'update'} mode is not supported with ${'Append' | 'Update' | 'Complete'}`): string =>
    `flatMapGroupsWithState in ${modes} output mode on a streaming DataFrame/Dataset`,
  /** UnsupportedOperationChecker.checkForStreaming: mapGroupsWithState outside update mode */
  mapGroupsWithStateMode: (queryMode: 'Append' | 'Complete'): string => `mapGroupsWithState is not supported with ${queryMode} output mode on a streaming DataFrame/Dataset`,
  /** FlatMapGroupsWithState: the function's output mode */
  flatMapGroupsWithStateFunctionMode: 'The output mode of function should be append or update',
} as const;

const MODE_NAMES = { append: 'Append', update: 'Update', complete: 'Complete' } as const;

const AGGREGATIONS: ReadonlySet<string> = new Set(['windowTumbling', 'windowSliding', 'windowSession', 'groupAggregate']);

/** `true` for the kind of an aggregation operator. */
export function isAggregationKind(kind: string): boolean {
  return AGGREGATIONS.has(kind);
}

/**
 * Spark's refusals that depend on the query's output mode, for a stream whose
 * stateful operators upstream are `stateful` (Spark's
 * UnsupportedOperationChecker, with the query output mode given by
 * `outputMode(…)` or `startQuery({ outputMode })`): joins only in append mode,
 * an aggregation feeding another only in append mode, the
 * `(flat)MapGroupsWithState` mode rules. `undefined` when accepted.
 */
export function outputModeRefusal(stateful: readonly { readonly kind: string; readonly outputMode?: 'append' | 'update' | 'complete' }[], mode: 'append' | 'update' | 'complete'): string | undefined {
  const name = MODE_NAMES[mode];
  if (mode !== 'append' && stateful.some((s) => s.kind === 'streamJoin')) return UNSUPPORTED.joinNotAppend(name as 'Update' | 'Complete');
  const aggregations = stateful.filter((s) => AGGREGATIONS.has(s.kind));
  if (mode !== 'append' && aggregations.length > 1) return UNSUPPORTED.globalWatermarkCorrectness;
  const groups = stateful.filter((s) => s.kind === 'mapGroupsWithState' || s.kind === 'flatMapGroupsWithState');
  if (groups.length > 1 && (mode !== 'append' || groups.some((g) => g.outputMode !== 'append'))) return UNSUPPORTED.multipleFlatMapGroupsWithState;
  for (const g of groups) {
    if (g.kind === 'mapGroupsWithState') {
      if (aggregations.length > 0) return UNSUPPORTED.mapGroupsWithStateWithAggregation;
      if (mode !== 'update') return UNSUPPORTED.mapGroupsWithStateMode(name as 'Append' | 'Complete');
    } else if (aggregations.length === 0) {
      const fnMode = g.outputMode === 'update' ? 'update' : 'append';
      if (fnMode !== mode) return UNSUPPORTED.flatMapGroupsWithStateModeMismatch(`${fnMode} mode is not supported with ${name}`);
    } else if (g.outputMode === 'update') return UNSUPPORTED.flatMapGroupsWithStateUpdateWithAggregation;
  }
  return undefined;
}

/**
 * Spark's refusals of output mode `mode` for the stream a query writes, whose
 * stream info says whether an aggregation feeds it (`aggregation`) and which
 * stateful operators are upstream. `undefined` when accepted.
 */
export function queryModeRefusal(
  info: { readonly aggregation?: { readonly kind: string; readonly hasWatermark: boolean }; readonly stateful: readonly { readonly kind: string; readonly outputMode?: 'append' | 'update' | 'complete' }[] },
  mode: 'append' | 'update' | 'complete',
): string | undefined {
  const aggregation = info.aggregation;
  if (aggregation === undefined) {
    if (mode === 'complete' && !info.stateful.some((s) => AGGREGATIONS.has(s.kind))) return UNSUPPORTED.completeWithoutAggregation;
  } else {
    if (mode === 'append' && !aggregation.hasWatermark) return UNSUPPORTED.appendWithoutWatermark;
    if (mode === 'update' && aggregation.kind === 'session') return UNSUPPORTED.updateWithSessionWindow;
  }
  return outputModeRefusal(info.stateful, mode);
}

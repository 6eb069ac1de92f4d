// Browser-safe operator entry point: every operator here, and the core it uses,
// imports no Node built-ins. (The `checkpoint` operator touches the file system
// and is exported from the package root instead.)
export { withWatermark, type WithWatermarkOptions } from './withWatermark.js';
export { union, type UnionOptions } from './union.js';
export { dropDuplicates, type DropDuplicatesOptions } from './dropDuplicates.js';
export { dropDuplicatesWithinWatermark, type DropDuplicatesWithinWatermarkOptions } from './dropDuplicatesWithinWatermark.js';
export { assignWindows, type AssignWindowsFor, type AssignWindowsOptions, type WithWindow } from './assignWindows.js';
export { windowTumbling, type WindowTumblingOptions, type WindowTumblingFor } from './windowTumbling.js';
export { windowSliding, type WindowSlidingOptions, type WindowSlidingFor } from './windowSliding.js';
export { windowSession, type WindowSessionOptions, type WindowSessionFor } from './windowSession.js';
export { groupAggregate, type GroupAggregateOptions, type GroupAggregateFor } from './groupAggregate.js';
export { outputMode, type OutputBatch } from './outputMode.js';
export { mapRows } from './mapRows.js';
export { filterRows } from './filterRows.js';
export { orderBy, type OrderSpec, type CompleteBatch } from './orderBy.js';
export { limit, type LimitOptions, type LimitableBatch } from './limit.js';
export { streamJoin, type StreamJoinFor, type StreamJoinOptions, type StaticJoinOptions, type StaticJoinType, type JoinRow, type JoinedLeft, type JoinedRight, type JoinableBatch, type JoinLateRowsHandler, type JoinKeys, type JoinTimeRange, type JoinType, type JoinWhere } from './streamJoin.js';
export { staticTable, type StaticTable } from '../lib/join/staticTable.js';
export { mapGroupsWithState, type MapGroupsWithStateOptions, type MapGroupsWithStateFor } from './mapGroupsWithState.js';
export { flatMapGroupsWithState, type FlatMapGroupsWithStateOptions, type FlatMapGroupsWithStateFor } from './flatMapGroupsWithState.js';

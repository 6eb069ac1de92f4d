/**
 * Spark Structured Streaming semantics as batch-at-a-time RxJS operators: the
 * whole public API (Node). The browser-safe subset is
 * `rxjs-structured-streaming/browser`, the operators alone
 * `rxjs-structured-streaming/operators`.
 *
 * @module rxjs-structured-streaming
 */
// Package entry point: the whole public API (Node). The browser-safe subset is
// `rxjs-structured-streaming/browser`.
export * from './core.js';
export * from '../operators/index.js';
// Checkpoints (Node: file system).
export type { Checkpoint, CheckpointCommitStats, CheckpointRecovery, OffsetLogEntry, CommitInfo } from './checkpoint/Checkpoint.js';
export type { CheckpointStore, SnapshotBuilder } from './checkpoint/CheckpointStore.js';
export type { ChecksumFn } from './checkpoint/checksum.js';
export type { WritePhase } from './checkpoint/atomicWrite.js';
export { FileCheckpointStore, type FileCheckpointStoreOptions } from './checkpoint/FileCheckpointStore.js';
export { MemoryCheckpointStore } from './checkpoint/MemoryCheckpointStore.js';
export { openCheckpoint, isCheckpointStore, type OpenCheckpointOptions } from './checkpoint/openCheckpoint.js';
export { StoreCheckpoint, type CheckpointStateOptions } from './checkpoint/StoreCheckpoint.js';
export { checkpoint, type CheckpointOptions } from '../operators/checkpoint.js';
// Query runtime, triggers, progress, instrumentation (Node).
export { startQuery, type StartQueryOptions } from './query/startQuery.js';
export { PartitionedQuery, startPartitionedQuery, type PartitionTask, type StartPartitionedQueryOptions, type TaskEvent } from './query/tasks.js';
export { FencedCheckpointStore, TaskFencedError, readEpochClaims, type EpochClaim } from './checkpoint/FencedCheckpointStore.js';
export { TaskKeyPartitionError, defaultPartitionOfKey, type KeyPartitioner } from './kafka/partitionTasks.js';
export { KafkaClientUnsupportedError, KafkaUndecodableReplyError } from './kafka/KafkaLog.js';
export type { StreamingQuery } from './query/StreamingQuery.js';
export { StreamingQueryManager, streams, type StreamingQueryManagerOptions } from './query/StreamingQueryManager.js';
export { resolveTrigger, nextTriggerTime, type Trigger, type WhenBehind } from './query/triggers.js';
export { formatProgressLine, type StreamingQueryProgress, type StreamingQueryStatus, type DurationMs, type EventTimeProgress, type StateOperatorProgress, type SourceProgress, type SinkProgress } from './query/progress.js';
export type { RetryOptions } from './query/retry.js';
export { logQueryError, describeQuery, type QueryErrorHandler } from './query/queryErrors.js';
export { STATUS_MESSAGES } from './query/QueryStatusTracker.js';
// The progress page (Node: HTTP server).
export { serveProgress, type ServeProgressOptions, type ProgressServer } from './ui/serveProgress.js';
export { ProgressFeed, type ProgressFeedOptions, type ProgressFeedEvent, type ProgressSnapshot, type QueryView, type QueryHeader, type ErrorView } from './ui/ProgressFeed.js';
export { EVENTS, type EventType, type EventPayloads, type InstrumentationEvent, type EventListener } from './instrumentation/events.js';
// Sources and sinks (Node).
export type { Source, SourceContext, ReadLimit, DeadLetterRecord } from './sources/Source.js';
export type { BatchOrigin, Sink, SinkContext } from './sinks/Sink.js';
export { fromDirectory, isIgnoredFileName, type FromDirectoryOptions, type DirectoryOffset } from './sources/fromDirectory.js';
export type { Schema, ColumnType, ColumnValue, FileFormat, RowOf, CsvTextRow, ReaderMode, TimestampColumn } from './sources/parseRecords.js';
export { fromSocket, SocketConnectionLostError, type FromSocketOptions, type SocketLine, type SocketReconnectOptions } from './sources/fromSocket.js';
export { rateSource, type RateSourceOptions, type RateRow, type RateOffset } from './sources/rateSource.js';
export { fromObservable, type FromObservableOptions } from './sources/fromObservable.js';
export type { BufferFullPolicy } from './sources/bufferedSource.js';
export { fromKafka, type FromKafkaOptions, type KafkaRow, type KafkaFormat, type KafkaDecoded, type StartingOffsets, type KafkaSource, type KafkaOffsets, type TopicPartition, type KafkaHeader, type KafkaConnectionOptions, type KafkaGroupOptions } from './sources/fromKafka.js';
export { toConsole, type ToConsoleOptions } from './sinks/toConsole.js';
export { formatTable, formatCell, type FormatTableOptions, type StructFormat } from './sinks/formatTable.js';
export { toFiles, committedFiles, readCommittedJson, type ToFilesOptions, type FileSinkEntry } from './sinks/toFiles.js';
export { forEach, type ForEachWriter } from './sinks/forEach.js';
export { forEachBatch } from './sinks/forEachBatch.js';
export { toMemory, memoryTable, dropMemoryTable } from './sinks/toMemory.js';
export { toKafka, MARKER_HEADERS, type ToKafkaOptions, type KafkaColumn, type KafkaSink, type KafkaBytes, type KafkaHeadersInput } from './sinks/toKafka.js';

// Package entry point: the whole public API (Node). The browser-safe subset is
// `rxjs-structured-streaming/operators`.
export * from './core.js';
export * from '../operators/index.js';
// Checkpoints (Node: file system).
export type { Checkpoint, CheckpointRecovery, OffsetLogEntry, CommitInfo } from './checkpoint/Checkpoint.js';
export type { CheckpointStore } from './checkpoint/CheckpointStore.js';
export { FileCheckpointStore, type FileCheckpointStoreOptions } from './checkpoint/FileCheckpointStore.js';
export { MemoryCheckpointStore } from './checkpoint/MemoryCheckpointStore.js';
export { openCheckpoint, isCheckpointStore, type OpenCheckpointOptions } from './checkpoint/openCheckpoint.js';
export { StoreCheckpoint, type CheckpointStateOptions } from './checkpoint/StoreCheckpoint.js';
export { checkpoint, type CheckpointOptions } from '../operators/checkpoint.js';

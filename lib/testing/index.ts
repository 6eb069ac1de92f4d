/**
 * Testing helpers for pipelines built with rxjs-structured-streaming: batch
 * builders for marble tests with RxJS's `TestScheduler`, a synchronous batch
 * runner, and a step runner in the spirit of Spark's `StreamTest`.
 *
 * Import from `rxjs-structured-streaming/testing`. Nothing here needs a broker
 * or a file system.
 *
 * @module rxjs-structured-streaming/testing
 */
export { createTestScheduler, batch, at } from './marbles.js';
export { runBatches, type BatchStep } from './runBatches.js';
export { StreamTest, streamTest, type StreamTestStep } from './StreamTest.js';
export { sameRows, canonicalRow } from './rows.js';
export { assertMarbles, type MarbleMatchOptions, type RowOrder } from './batchMatch.js';

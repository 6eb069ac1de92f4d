/**
 * The S3 checkpoint store: checkpoints (and fenced per-partition task
 * checkpoints, on servers with conditional writes) in an S3 bucket through the
 * AWS SDK v3. A separate entry point, so that only applications that import it
 * need `@aws-sdk/client-s3` (an optional peer dependency of the package).
 *
 * @module rxjs-structured-streaming/s3
 */
export { S3CheckpointStore, S3CheckpointStoreError, S3ConditionalWriteUnsupportedError, type S3CheckpointStoreOptions, type S3Operation } from './S3CheckpointStore.js';

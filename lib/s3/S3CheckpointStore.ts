import { randomUUID } from 'node:crypto';
import { crc32 as nativeCrc32 } from 'node:zlib';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ChecksumFn } from '../checkpoint/checksum.js';
import type { CheckpointStore } from '../checkpoint/CheckpointStore.js';
import { isTemporaryName } from '../checkpoint/atomicWrite.js';
import { CheckpointError, CheckpointIOError } from '../errors/CheckpointError.js';
import { InvalidOptionError } from '../errors/InvalidArgumentError.js';
import { describeValue } from '../errors/StreamingError.js';

/** The S3 request an {@link S3CheckpointStoreError} is about. */
export type S3Operation = 'GetObject' | 'PutObject' | 'ListObjectsV2' | 'DeleteObject';

/**
 * An S3 request of a checkpoint failed (network, server, permissions, missing
 * bucket). It names the bucket, the key (or listed prefix) and the operation;
 * `retriable` is `false` for answers that a retry cannot change (HTTP 400,
 * 403, 404 other than a missing key, 405, 501), `true` otherwise (network
 * errors, 5xx, throttling), so the query's retry policy retries only those.
 */
export class S3CheckpointStoreError extends CheckpointIOError {
  override name = 'S3CheckpointStoreError';
  readonly bucket: string;
  /** The object key, or for `ListObjectsV2` the listed prefix. */
  readonly key: string;
  readonly operation: S3Operation;
  /** The HTTP status of the server's answer; `undefined` when there was none (network). */
  readonly statusCode: number | undefined;
  /** The S3 error code (`AccessDenied`, `NoSuchBucket`, …) or the network error's name. */
  readonly code: string | undefined;

  constructor(message: string, details: { readonly bucket: string; readonly key: string; readonly operation: S3Operation; readonly statusCode: number | undefined; readonly code: string | undefined; readonly retriable: boolean }, cause: unknown) {
    super(message, `s3://${details.bucket}/${details.key}`, cause, { retriable: details.retriable });
    this.bucket = details.bucket;
    this.key = details.key;
    this.operation = details.operation;
    this.statusCode = details.statusCode;
    this.code = details.code;
  }
}

/**
 * Fencing was asked of an S3 store whose server does not honour conditional
 * writes (`PutObject` with `If-None-Match: *` overwrote the probe object
 * instead of answering 412, or refused the header). Create-if-absent cannot be
 * had there, so a `FencedCheckpointStore` over it would not fence:
 * refused instead. Use a shared directory for per-partition tasks, or a server
 * with conditional writes (AWS S3 since 2024, MinIO, Ceph RGW, …).
 */
export class S3ConditionalWriteUnsupportedError extends CheckpointError {
  override name = 'S3ConditionalWriteUnsupportedError';
  readonly bucket: string;
  /** The probe object's key. */
  readonly key: string;
  /** What the probe saw, e.g. `the second PutObject with If-None-Match: * succeeded (HTTP 200)`. */
  readonly observed: string;

  constructor(message: string, bucket: string, key: string, observed: string) {
    super(message, `s3://${bucket}/${key}`);
    this.bucket = bucket;
    this.key = key;
    this.observed = observed;
  }
}

/** Options for {@link S3CheckpointStore}. */
export interface S3CheckpointStoreOptions {
  /** The client: region, credentials, `endpoint` and `forcePathStyle` for an S3-compatible server. */
  readonly client: S3Client;
  readonly bucket: string;
  /** The key prefix of the checkpoint (`checkpoints/my-query`); a trailing `/` is added. @defaultValue `''` (the bucket's root) */
  readonly prefix?: string;
  /** Keys per `ListObjectsV2` page (1–1000). @defaultValue 1000 */
  readonly listPageSize?: number;
}

interface S3ErrorShape {
  readonly name?: unknown;
  readonly Code?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
  readonly message?: unknown;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as S3ErrorShape | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function codeOf(error: unknown): string | undefined {
  const e = error as S3ErrorShape | null;
  if (typeof e?.Code === 'string') return e.Code;
  return typeof e?.name === 'string' ? e.name : undefined;
}

const FINAL_STATUSES = new Set([400, 403, 404, 405, 411, 501]);

function isNoSuchKey(error: unknown): boolean {
  return codeOf(error) === 'NoSuchKey' || (statusOf(error) === 404 && codeOf(error) !== 'NoSuchBucket');
}

function isPreconditionFailed(error: unknown): boolean {
  return statusOf(error) === 412 || codeOf(error) === 'PreconditionFailed';
}

/** 409 ConditionalRequestConflict: another conditional write of the same key was in flight; AWS asks for a retry. */
function isConditionalConflict(error: unknown): boolean {
  return statusOf(error) === 409 || codeOf(error) === 'ConditionalRequestConflict';
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    parts.push(chunk);
    size += chunk.length;
  }
  if (parts.length === 1) return parts[0]!;
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

/** Conditional `PutObject` attempts on 409 ConditionalRequestConflict before giving up. */
const CONFLICT_ATTEMPTS = 5;

/**
 * A {@link CheckpointStore} in an S3 bucket (AWS S3 or an S3-compatible
 * server), through the AWS SDK v3: file `offsets/3` of a checkpoint with
 * prefix `cp/q` is the object `cp/q/offsets/3`. A `PutObject` is atomic (a
 * reader sees the old object or the whole new one, never part), so writes
 * need no temporary objects; `GetObject` of a missing key reads as no file;
 * directories are `ListObjectsV2` with `Delimiter: '/'`. Every S3 failure is
 * an {@link S3CheckpointStoreError} naming the bucket, key and operation.
 *
 * Consistency: the checkpoint relies on S3's strong read-after-write and
 * list-after-write consistency (AWS S3 since December 2020, and single-node
 * S3-compatible servers). There is no lock file (no `directory`): run one
 * query per prefix, or fence per-partition tasks with a
 * `FencedCheckpointStore` over this store, which needs the server to
 * honour conditional writes (`If-None-Match: *`): {@link S3CheckpointStore.open}
 * probes for it, and {@link S3CheckpointStore.createIfAbsent} refuses with
 * {@link S3ConditionalWriteUnsupportedError} where it is missing.
 *
 * Imported from `rxjs-structured-streaming/s3`, so that the core has no
 * dependency on `@aws-sdk/client-s3` (an optional peer dependency).
 *
 * The checkpoint holds everything a Kafka or rate source needs to resume;
 * `fromDirectory` keeps its file log in a local checkpoint directory only
 * (in memory otherwise), so a file-source query on this store does not survive
 * a restart.
 *
 * @example
 * ```ts
 * import { S3Client } from '@aws-sdk/client-s3';
 * import { fromKafka, startQuery, toFiles } from 'rxjs-structured-streaming';
 * import { S3CheckpointStore } from 'rxjs-structured-streaming/s3';
 *
 * const client = new S3Client({ region: 'eu-west-1' });
 * const store = await S3CheckpointStore.open({ client, bucket: 'my-bucket', prefix: 'checkpoints/clicks' });
 * console.log(store.location, store.conditionalWrites);
 * // => s3://my-bucket/checkpoints/clicks true
 * const query = startQuery({
 *   source: fromKafka({ brokers: 'kafka:9092', topic: 'clicks' }),
 *   sink: toFiles('/data/clicks-out'),
 *   checkpointLocation: store,
 * });
 * await query.processAllAvailable();
 * ```
 */
export class S3CheckpointStore implements CheckpointStore {
  /** `s3://<bucket>/<prefix>` (no trailing `/`), so that the checkpoint names a file `s3://<bucket>/<prefix>/offsets/3`. */
  readonly location: string;
  readonly checksum: ChecksumFn = (data, previous) => nativeCrc32(data, previous);
  readonly bucket: string;
  /** The key prefix, `''` or ending in `/`. */
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly listPageSize: number;
  private probe: Promise<boolean> | undefined;
  private probed: boolean | undefined;

  /**
   * A store that has not probed the server yet (the first `createIfAbsent`
   * probes); {@link S3CheckpointStore.open} probes at once.
   *
   * @throws {InvalidOptionError} `s3: bucket must be a non-empty string; got …` (and for `client`, `prefix`, `listPageSize`).
   */
  constructor(options: S3CheckpointStoreOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError(`s3: options must be an object { client, bucket, prefix? }; got ${describeValue(options)}.`, 'options', options, '{ client, bucket, prefix? }');
    }
    if (typeof options.client !== 'object' || options.client === null || typeof (options.client as { send?: unknown }).send !== 'function') {
      throw new InvalidOptionError(`s3: client must be an S3Client from @aws-sdk/client-s3; got ${describeValue(options.client)}.`, 'client', options.client, 'an S3Client');
    }
    if (typeof options.bucket !== 'string' || options.bucket.length === 0) {
      throw new InvalidOptionError(`s3: bucket must be a non-empty string; got ${describeValue(options.bucket)}.`, 'bucket', options.bucket, 'a bucket name');
    }
    const prefix = options.prefix ?? '';
    if (typeof prefix !== 'string' || prefix.startsWith('/') || prefix.split('/').some((part, i, all) => part === '' && i < all.length - 1) || prefix.split('/').includes('..')) {
      throw new InvalidOptionError(`s3: prefix must be a key prefix such as 'checkpoints/my-query' (no leading '/', no empty or '..' segment); got ${describeValue(prefix)}.`, 'prefix', prefix, "a key prefix such as 'checkpoints/my-query'");
    }
    const listPageSize = options.listPageSize ?? 1000;
    if (!Number.isInteger(listPageSize) || listPageSize < 1 || listPageSize > 1000) {
      throw new InvalidOptionError(`s3: listPageSize must be an integer from 1 to 1000; got ${describeValue(listPageSize)}.`, 'listPageSize', listPageSize, 'an integer from 1 to 1000');
    }
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.listPageSize = listPageSize;
    this.location = this.prefix === '' ? `s3://${this.bucket}` : `s3://${this.bucket}/${this.prefix.slice(0, -1)}`;
  }

  /**
   * Opens a store and probes whether the server honours conditional writes
   * (a probe object, removed afterwards, written twice with
   * `If-None-Match: *`: the second must fail with 412), so that
   * {@link S3CheckpointStore.conditionalWrites} is known before any task is
   * fenced. Rejects with {@link S3CheckpointStoreError} when the bucket cannot
   * be written.
   */
  static async open(options: S3CheckpointStoreOptions): Promise<S3CheckpointStore> {
    const store = new S3CheckpointStore(options);
    await store.probeConditionalWrites();
    return store;
  }

  /** Whether the server honours `If-None-Match: *` on `PutObject`; `undefined` before the probe. */
  get conditionalWrites(): boolean | undefined {
    return this.probed;
  }

  /** The object key of a checkpoint path. */
  keyOf(path: string): string {
    return `${this.prefix}${path}`;
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    const key = this.keyOf(path);
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (answer.Body === undefined) return new Uint8Array(0);
      const bytes = await answer.Body.transformToByteArray();
      if (answer.ContentLength !== undefined && bytes.length !== answer.ContentLength) {
        // A body cut short is never handed on as the file (the checkpoint would take it for a torn file).
        throw this.failure('GetObject', key, new Error(`the body had ${bytes.length} of ${answer.ContentLength} bytes`));
      }
      return bytes;
    } catch (error) {
      if (error instanceof S3CheckpointStoreError) throw error;
      if (isNoSuchKey(error)) return undefined;
      throw this.failure('GetObject', key, error);
    }
  }

  async write(path: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
    const key = this.keyOf(path);
    const bytes = await collect(chunks);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentLength: bytes.length, ContentType: 'application/octet-stream' }));
      return bytes.length;
    } catch (error) {
      throw this.failure('PutObject', key, error);
    }
  }

  async list(dir: string): Promise<string[]> {
    const names = new Set<string>();
    for (const name of await this.listRaw(dir)) if (!isTemporaryName(name)) names.add(name);
    return [...names].sort();
  }

  async remove(path: string): Promise<void> {
    const key = this.keyOf(path);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (isNoSuchKey(error)) return;
      throw this.failure('DeleteObject', key, error);
    }
  }

  /** Removes probe objects that an interrupted {@link S3CheckpointStore.open} left in `dir` (writes leave nothing: a `PutObject` lands whole or not at all). */
  async removeTemporaryFiles(dir: string): Promise<void> {
    for (const name of await this.listRaw(dir)) {
      if (isTemporaryName(name)) await this.remove(dir === '' ? name : `${dir}/${name}`);
    }
  }

  /**
   * Writes `path` only if no object has its key: `PutObject` with
   * `If-None-Match: *`, `'exists'` on 412 Precondition Failed (and a retry on
   * 409 ConditionalRequestConflict, a concurrent conditional write).
   *
   * @throws {S3ConditionalWriteUnsupportedError} when the server does not honour conditional writes (probed on first use).
   */
  async createIfAbsent(path: string, bytes: Uint8Array): Promise<'created' | 'exists'> {
    if (!(await this.probeConditionalWrites())) {
      throw new S3ConditionalWriteUnsupportedError(
        `s3: ${this.location}: the server does not honour conditional writes (PutObject with If-None-Match: *), so ${path} cannot be created only if absent and this store cannot be fenced. Fence per-partition tasks on a shared directory instead, or use a server with conditional writes.`,
        this.bucket,
        this.keyOf(path),
        'the probe object was overwritten',
      );
    }
    const outcome = await this.putIfAbsent(this.keyOf(path), bytes);
    return outcome;
  }

  /** Whether the server honours `If-None-Match: *` (probed once, then remembered). */
  probeConditionalWrites(): Promise<boolean> {
    this.probe ??= this.runProbe().then(
      (supported) => {
        this.probed = supported;
        return supported;
      },
      (error: unknown) => {
        this.probe = undefined;
        throw error;
      },
    );
    return this.probe;
  }

  private async runProbe(): Promise<boolean> {
    const name = `.conditional-write-probe-${randomUUID()}.tmp`;
    const key = this.keyOf(name);
    const body = new TextEncoder().encode('rxjs-structured-streaming conditional write probe\n');
    try {
      const first = await this.putIfAbsentOnce(key, body);
      if (first === 'exists') return false; // a fresh random key cannot exist: the header is not understood as asked
      return (await this.putIfAbsentOnce(key, body)) === 'exists';
    } catch (error) {
      // A server that refuses the header (400 / 501 NotImplemented) has no conditional writes; other failures are real.
      const status = statusOf(error);
      if (status === 400 || status === 501 || codeOf(error) === 'NotImplemented') return false;
      throw this.failure('PutObject', key, error);
    } finally {
      await this.remove(name).catch(() => undefined);
    }
  }

  private async putIfAbsent(key: string, bytes: Uint8Array): Promise<'created' | 'exists'> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.putIfAbsentOnce(key, bytes);
      } catch (error) {
        if (isConditionalConflict(error) && attempt < CONFLICT_ATTEMPTS) continue;
        throw this.failure('PutObject', key, error);
      }
    }
  }

  private async putIfAbsentOnce(key: string, bytes: Uint8Array): Promise<'created' | 'exists'> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentLength: bytes.length, ContentType: 'application/octet-stream', IfNoneMatch: '*' }));
      return 'created';
    } catch (error) {
      if (isPreconditionFailed(error)) return 'exists';
      throw error;
    }
  }

  /** Every name directly in `dir` (objects and common prefixes), temporary ones included. */
  private async listRaw(dir: string): Promise<string[]> {
    const prefix = dir === '' ? this.prefix : `${this.keyOf(dir)}/`;
    const names: string[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', MaxKeys: this.listPageSize, ...(token === undefined ? {} : { ContinuationToken: token }) }));
      } catch (error) {
        throw this.failure('ListObjectsV2', prefix, error);
      }
      for (const entry of page.CommonPrefixes ?? []) {
        if (entry.Prefix !== undefined && entry.Prefix.startsWith(prefix)) names.push(entry.Prefix.slice(prefix.length).replace(/\/$/, ''));
      }
      for (const entry of page.Contents ?? []) {
        if (entry.Key !== undefined && entry.Key.startsWith(prefix) && entry.Key.length > prefix.length) names.push(entry.Key.slice(prefix.length));
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return names.filter((name) => name !== '');
  }

  private failure(operation: S3Operation, key: string, error: unknown): S3CheckpointStoreError {
    const statusCode = statusOf(error);
    const code = codeOf(error);
    const detail = error instanceof Error ? error.message : String(error);
    const retriable = statusCode === undefined || !FINAL_STATUSES.has(statusCode);
    return new S3CheckpointStoreError(
      `s3: ${operation} of s3://${this.bucket}/${key} failed; got ${statusCode === undefined ? '' : `HTTP ${statusCode} `}${code ?? 'error'}: ${detail}. ${retriable ? 'Retried by the query when it has a retry policy; check the endpoint and network.' : 'Check the bucket name, the credentials and their permissions.'}`,
      { bucket: this.bucket, key, operation, statusCode, code, retriable },
      error,
    );
  }
}

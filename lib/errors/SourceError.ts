import { StreamingError } from './StreamingError.js';

function retriableOf(cause: unknown): boolean {
  return typeof cause === 'object' && cause !== null && (cause as { retriable?: unknown }).retriable === true;
}

/** A source failed to read (file system, socket, Kafka). `retriable` is copied from a KafkaJS cause. */
export class SourceError extends StreamingError {
  override name = 'SourceError';
  readonly source: string;

  constructor(source: string, message: string, cause?: unknown, retriable: boolean = retriableOf(cause)) {
    super(`${source}: ${message}`, { cause, retriable });
    this.source = source;
  }
}

/** A sink failed to write. `retriable` is copied from a KafkaJS cause. */
export class SinkError extends StreamingError {
  override name = 'SinkError';
  readonly sink: string;

  constructor(sink: string, message: string, cause?: unknown, retriable: boolean = retriableOf(cause)) {
    super(`${sink}: ${message}`, { cause, retriable });
    this.sink = sink;
  }
}

/**
 * A sink refused at start because its output belongs to another query (a
 * directory another query's manifest covers). Names the output and the
 * owners; never retriable.
 */
export class SinkConflictError extends SinkError {
  override name = 'SinkConflictError';
  /** The directory or topic. */
  readonly output: string;
  /** The other writers, as the sink describes them. */
  readonly owners: readonly string[];

  constructor(sink: string, output: string, owners: readonly string[], message: string) {
    super(sink, message, undefined, false);
    this.output = output;
    this.owners = owners;
  }
}

/** A push source's buffer is full and its policy is `'error'`: the source produces faster than the query commits. */
export class SourceBufferOverflowError extends SourceError {
  override name = 'SourceBufferOverflowError';
  /** The buffer's capacity in rows. */
  readonly capacity: number;

  constructor(source: string, capacity: number, message: string) {
    super(source, message, undefined, false);
    this.capacity = capacity;
  }
}

/**
 * The Kafka source could not look up a consumer group's committed offset for
 * a partition it has no checkpointed offset for. Retriable (the runtime
 * retries it with backoff); when the retries run out the query stops with
 * it rather than guess a starting offset.
 */
export class KafkaOffsetLookupError extends SourceError {
  override name = 'KafkaOffsetLookupError';
  readonly groupId: string;
  readonly topic: string;
  readonly partitions: readonly number[];

  constructor(source: string, groupId: string, topic: string, partitions: readonly number[], message: string, cause: unknown) {
    super(source, message, cause, true);
    this.groupId = groupId;
    this.topic = topic;
    this.partitions = partitions;
  }
}

/** A row the source could not parse (malformed JSON or CSV line). */
export class MalformedRecordError extends SourceError {
  override name = 'MalformedRecordError';
  readonly file: string;
  readonly line: number;
  readonly text: string;
  /** The column whose value did not fit the schema, when one did not (else the whole record is malformed). */
  readonly column: string | undefined;

  constructor(source: string, file: string, line: number, text: string, reason: string, column?: string) {
    super(
      source,
      `malformed record in ${file} at line ${line}${column === undefined ? '' : `, column ${column}`}: ${reason}; got ${JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text)}. ` +
        "Pass mode: 'PERMISSIVE' (keep it with nulls) or 'DROPMALFORMED' (drop and count it), or onMalformed: 'deadLetter' to route such lines to a dead-letter output instead.",
      undefined,
      false,
    );
    this.file = file;
    this.line = line;
    this.text = text;
    this.column = column;
  }
}

import { InvalidArgumentError, StreamingError, UnsupportedOperationError, describeValue } from '../errors/index.js';
import { parseDuration } from '../time/parseDuration.js';
import { toEpochMs } from '../time/eventTime.js';
import type { Duration } from '../types.js';

/**
 * How keys of `mapGroupsWithState` / `flatMapGroupsWithState` time out:
 * never (`'none'`), when processing time passes a deadline set with
 * {@link GroupState.setTimeoutDuration} (`'processingTime'`), or when the
 * watermark passes a timestamp set with {@link GroupState.setTimeoutTimestamp}
 * (`'eventTime'`). Spark: `GroupStateTimeout.NoTimeout` /
 * `ProcessingTimeTimeout` / `EventTimeTimeout`.
 */
export type GroupStateTimeout = 'none' | 'processingTime' | 'eventTime';

/** No timeout set (Spark's `NO_TIMESTAMP`). */
export const NO_TIMEOUT = -1;

/**
 * Spark's wording for misuse of the state handle (`QueryExecutionErrors`,
 * `GroupStateImpl`), raised while the user function runs.
 */
export const GROUP_STATE_MESSAGES = {
  /** QueryExecutionErrors.stateNotDefinedOrAlreadyRemovedError */
  notDefined: 'State is either not defined or has already been removed',
  /** QueryExecutionErrors.cannotSetTimeoutDurationError */
  cannotSetTimeoutDuration: 'Cannot set timeout duration without enabling processing time timeout in [map|flatMap]GroupsWithState',
  /** QueryExecutionErrors.cannotSetTimeoutTimestampError */
  cannotSetTimeoutTimestamp: 'Cannot set timeout timestamp without enabling event time timeout in [map|flatMap]GroupsWithState',
  /** QueryExecutionErrors.cannotGetEventTimeWatermarkError */
  cannotGetWatermark: 'Cannot get event time watermark timestamp without setting watermark before [map|flatMap]GroupsWithState',
  /** GroupStateImpl.update */
  nullState: "'null' is not a valid state value",
  /** GroupStateImpl.setTimeoutDuration */
  durationNotPositive: 'Timeout duration must be positive',
  /** GroupStateImpl.setTimeoutTimestamp */
  timestampNotPositive: 'Timeout timestamp must be positive',
  /** GroupStateImpl.setTimeoutTimestamp */
  timestampBeforeWatermark: (timestampMs: number, watermarkMs: number): string =>
    `Timeout timestamp (${timestampMs}) cannot be earlier than the current watermark (${watermarkMs})`,
} as const;

/** `state.get()` on a key that has no state (Spark raises `NoSuchElementException`). */
export class NoSuchStateError extends StreamingError {
  override name = 'NoSuchStateError';
  readonly operator: string;
  /** The key whose state was asked for. */
  readonly key: unknown;

  constructor(operator: string, key: unknown) {
    super(`${operator}: ${GROUP_STATE_MESSAGES.notDefined}; key ${describeValue(key)}. Check state.exists or use state.getOption() first.`);
    this.operator = operator;
    this.key = key;
  }
}

/**
 * The handle the user function of `mapGroupsWithState` /
 * `flatMapGroupsWithState` gets for one key in one batch: read, replace or
 * remove the key's state, and set when the key times out.
 *
 * The timeout is reset every time the function is called for the key: set it
 * again on every call that should keep one (as in Spark). State values must
 * be treated as immutable once passed to {@link GroupState.update} (a
 * checkpoint may serialise them later) and must be JSON-serialisable when the
 * query checkpoints.
 *
 * Spark: `org.apache.spark.sql.streaming.GroupState`.
 */
export interface GroupState<S> {
  /** `true` when the key has state. */
  readonly exists: boolean;
  /** The state. @throws {NoSuchStateError} when there is none. */
  get(): S;
  /** The state, or `undefined` when there is none. */
  getOption(): S | undefined;
  /** Replaces the state. @throws {InvalidArgumentError} `'null' is not a valid state value` for `null` or `undefined`. */
  update(value: S): void;
  /** Removes the state (a timeout set in the same call is kept). */
  remove(): void;
  /**
   * Times the key out when processing time passes now + `duration` (only
   * with `timeout: 'processingTime'`).
   * @throws {UnsupportedOperationError} `Cannot set timeout duration without enabling processing time timeout in [map|flatMap]GroupsWithState` with another timeout.
   * @throws {InvalidArgumentError} `Timeout duration must be positive` for zero or less.
   */
  setTimeoutDuration(duration: Duration): void;
  /**
   * Times the key out when the watermark passes `timestamp` (+ `additionalDuration`)
   * (only with `timeout: 'eventTime'`).
   * @throws {UnsupportedOperationError} `Cannot set timeout timestamp without enabling event time timeout in [map|flatMap]GroupsWithState` with another timeout.
   * @throws {InvalidArgumentError} `Timeout timestamp (<t>) cannot be earlier than the current watermark (<w>)`, or `Timeout timestamp must be positive`.
   */
  setTimeoutTimestamp(timestamp: number | Date | string, additionalDuration?: Duration): void;
  /** `true` when the function is called because the key timed out (with no rows). */
  readonly hasTimedOut: boolean;
  /**
   * The batch's eviction watermark (epoch ms).
   * @throws {UnsupportedOperationError} `Cannot get event time watermark timestamp without setting watermark before [map|flatMap]GroupsWithState` without a watermark upstream.
   */
  getCurrentWatermarkMs(): number;
  /** The processing time of the batch (epoch ms, from the operator's scheduler), the same for every key of the batch. */
  getCurrentProcessingTimeMs(): number;
}

/** One key's stored state: the key as the user sees it, the value (when `exists`), and the timeout deadline. */
export interface GroupEntry {
  readonly key: unknown;
  readonly exists: boolean;
  readonly value: unknown;
  /** Epoch ms, or {@link NO_TIMEOUT}. */
  readonly timeoutAt: number;
}

/** The handle given to one invocation of the user function; the operator reads back what the function did. */
export class GroupStateImpl<S> implements GroupState<S> {
  private value: unknown;
  private defined: boolean;
  /** The value was replaced in this call. */
  updated = false;
  /** The value was removed in this call. */
  removed = false;
  /** The deadline after this call (reset to none at every call, as in Spark). */
  timeoutAt = NO_TIMEOUT;

  constructor(
    private readonly operator: string,
    private readonly key: unknown,
    entry: GroupEntry | undefined,
    private readonly processingTimeMs: number,
    private readonly watermarkMs: number,
    private readonly watermarkPresent: boolean,
    private readonly timeout: GroupStateTimeout,
    readonly hasTimedOut: boolean,
  ) {
    this.defined = entry?.exists ?? false;
    this.value = entry?.value;
  }

  get exists(): boolean {
    return this.defined;
  }

  get(): S {
    if (!this.defined) throw new NoSuchStateError(this.operator, this.key);
    return this.value as S;
  }

  getOption(): S | undefined {
    return this.defined ? (this.value as S) : undefined;
  }

  update(value: S): void {
    if (value === null || value === undefined) {
      throw new InvalidArgumentError(`${this.operator}: ${GROUP_STATE_MESSAGES.nullState}; got ${describeValue(value)}. Call state.remove() to drop the state.`, 'state');
    }
    this.value = value;
    this.defined = true;
    this.updated = true;
    this.removed = false;
  }

  remove(): void {
    this.value = undefined;
    this.defined = false;
    this.updated = false;
    this.removed = true;
  }

  setTimeoutDuration(duration: Duration): void {
    if (this.timeout !== 'processingTime') throw new UnsupportedOperationError(this.operator, GROUP_STATE_MESSAGES.cannotSetTimeoutDuration);
    const ms = parseDuration(duration, { option: `${this.operator}: timeout duration` });
    if (!(ms > 0)) throw new InvalidArgumentError(`${this.operator}: ${GROUP_STATE_MESSAGES.durationNotPositive}; got ${describeValue(duration)}.`, 'duration');
    this.timeoutAt = this.processingTimeMs + ms;
  }

  setTimeoutTimestamp(timestamp: number | Date | string, additionalDuration?: Duration): void {
    if (this.timeout !== 'eventTime') throw new UnsupportedOperationError(this.operator, GROUP_STATE_MESSAGES.cannotSetTimeoutTimestamp);
    const base = toEpochMs(timestamp);
    if (Number.isNaN(base)) throw new InvalidArgumentError(`${this.operator}: timeout timestamp is not a time; got ${describeValue(timestamp)}. Use epoch milliseconds, a Date or an ISO-8601 string.`, 'timestamp');
    const extra = additionalDuration === undefined ? 0 : parseDuration(additionalDuration, { option: `${this.operator}: additional duration` });
    const ms = base + extra;
    if (!(ms > 0)) throw new InvalidArgumentError(`${this.operator}: ${GROUP_STATE_MESSAGES.timestampNotPositive}; got ${ms}.`, 'timestamp');
    if (this.watermarkPresent && ms < this.watermarkMs) {
      throw new InvalidArgumentError(`${this.operator}: ${GROUP_STATE_MESSAGES.timestampBeforeWatermark(ms, this.watermarkMs)}`, 'timestamp');
    }
    this.timeoutAt = ms;
  }

  getCurrentWatermarkMs(): number {
    if (!this.watermarkPresent) throw new UnsupportedOperationError(this.operator, GROUP_STATE_MESSAGES.cannotGetWatermark);
    return this.watermarkMs;
  }

  getCurrentProcessingTimeMs(): number {
    return this.processingTimeMs;
  }

  /** The entry to store after the call, or `undefined` when the key's state goes away. */
  toEntry(): GroupEntry | undefined {
    if (!this.defined && this.timeoutAt === NO_TIMEOUT) return undefined;
    return Object.freeze({ key: this.key, exists: this.defined, value: this.defined ? this.value : undefined, timeoutAt: this.timeoutAt });
  }

  toString(): string {
    return `GroupState(${this.defined ? describeValue(this.value) : '<undefined>'})`;
  }
}

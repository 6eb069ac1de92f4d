import { Observable, Subscription, type SchedulerLike } from 'rxjs';
import { InvalidOptionError, describeValue } from '../errors/index.js';
import { parseDuration } from '../time/parseDuration.js';
import type { Duration } from '../types.js';

/** What a processing-time trigger does after a batch that overran its interval. */
export type WhenBehind = 'runImmediately' | 'nextInterval';

/**
 * When a query runs its micro-batches. Leave it out for the default trigger
 * (the next batch starts as soon as the previous one finished and new data is
 * there).
 *
 * - `{ processingTime }`: one trigger per interval, on multiples of the
 *   interval (epoch-aligned, as Spark's `ProcessingTimeExecutor`); a trigger
 *   that finds no new data runs no batch. A batch that takes longer than the
 *   interval never piles batches up: by default the next batch starts as soon
 *   as it finished (Spark's behaviour); with `whenBehind: 'nextInterval'` it
 *   waits for the next interval boundary instead.
 * - `{ once: true }`: one batch with everything available, ignoring
 *   per-trigger limits, then stop.
 * - `{ availableNow: true }`: everything available when the query starts, in
 *   as many batches as the per-trigger limits need, then stop.
 * - `{ continuous }`: rows are read, processed and written as soon as they
 *   arrive; the checkpoint is written once per `continuous` interval (an
 *   epoch). Stateless pipelines only.
 *
 * Spark: `Trigger.ProcessingTime`, `Trigger.Once`, `Trigger.AvailableNow`, `Trigger.Continuous`.
 */
export type Trigger =
  | { readonly processingTime: Duration; readonly whenBehind?: WhenBehind }
  | { readonly once: true }
  | { readonly availableNow: true }
  | { readonly continuous: Duration };

/** A trigger after validation. */
export type ResolvedTrigger =
  | { readonly kind: 'default' }
  | { readonly kind: 'processingTime'; readonly intervalMs: number; readonly whenBehind: WhenBehind }
  | { readonly kind: 'once' }
  | { readonly kind: 'availableNow' }
  | { readonly kind: 'continuous'; readonly intervalMs: number };

const EXPECTED = "undefined, { processingTime: '10 seconds' }, { once: true }, { availableNow: true } or { continuous: '1 second' }";

function invalid(received: unknown, rule: string): InvalidOptionError {
  return new InvalidOptionError(`startQuery: trigger ${rule}; got ${describeValue(received)}. Use ${EXPECTED}.`, 'trigger', received, EXPECTED);
}

/**
 * Validates a {@link Trigger}.
 *
 * @throws {InvalidOptionError} `startQuery: trigger must be one of the trigger shapes; got …` for anything else.
 * @throws {InvalidOptionError} `startQuery: trigger interval should not be negative; got …` for a negative interval.
 * @throws {InvalidDurationError} when the interval is not a duration.
 */
export function resolveTrigger(trigger: Trigger | undefined): ResolvedTrigger {
  if (trigger === undefined) return { kind: 'default' };
  if (typeof trigger !== 'object' || trigger === null) throw invalid(trigger, 'must be one of the trigger shapes');
  const keys = Object.keys(trigger).filter((k) => k !== 'whenBehind');
  if (keys.length !== 1) throw invalid(trigger, 'must be one of the trigger shapes');
  const t = trigger as Record<string, unknown>;
  if ('once' in t) {
    if (t['once'] !== true) throw invalid(trigger, 'once must be true');
    return { kind: 'once' };
  }
  if ('availableNow' in t) {
    if (t['availableNow'] !== true) throw invalid(trigger, 'availableNow must be true');
    return { kind: 'availableNow' };
  }
  if ('processingTime' in t) {
    const intervalMs = parseDuration(t['processingTime'] as Duration, { option: 'startQuery: trigger processingTime' });
    if (intervalMs < 0) throw invalid(trigger, 'interval should not be negative');
    const whenBehind = t['whenBehind'] ?? 'runImmediately';
    if (whenBehind !== 'runImmediately' && whenBehind !== 'nextInterval') {
      throw new InvalidOptionError(
        `startQuery: trigger whenBehind must be 'runImmediately' or 'nextInterval'; got ${describeValue(whenBehind)}.`,
        'trigger.whenBehind',
        whenBehind,
        "'runImmediately' | 'nextInterval'",
      );
    }
    // ProcessingTime(0) is Spark's default trigger.
    if (intervalMs === 0) return { kind: 'default' };
    return { kind: 'processingTime', intervalMs, whenBehind };
  }
  if ('continuous' in t) {
    const intervalMs = parseDuration(t['continuous'] as Duration, { option: 'startQuery: trigger continuous' });
    if (intervalMs <= 0) throw invalid(trigger, 'continuous interval must be positive');
    return { kind: 'continuous', intervalMs };
  }
  throw invalid(trigger, 'must be one of the trigger shapes');
}

/**
 * The start time of the trigger after one that started at `startedAtMs`: the
 * next multiple of `intervalMs` strictly after it (Spark's
 * `ProcessingTimeExecutor.nextBatchTime`).
 */
export function nextBatchTime(startedAtMs: number, intervalMs: number): number {
  return Math.floor(startedAtMs / intervalMs) * intervalMs + intervalMs;
}

/**
 * When the trigger after one that started at `startedAtMs` and finished at
 * `finishedAtMs` fires. On time: the next interval boundary after the start.
 * Behind (the batch overran that boundary): at once (`'runImmediately'`, as
 * Spark), or at the first boundary at or after the finish (`'nextInterval'`).
 * Either way missed intervals are never made up: no batches pile up.
 */
export function nextTriggerTime(startedAtMs: number, finishedAtMs: number, intervalMs: number, whenBehind: WhenBehind): number {
  const next = nextBatchTime(startedAtMs, intervalMs);
  if (finishedAtMs <= next) return next;
  return whenBehind === 'runImmediately' ? finishedAtMs : Math.ceil(finishedAtMs / intervalMs) * intervalMs;
}

/** What one trigger did. */
export interface TriggerStep {
  /** A batch ran (new data was there). */
  readonly ranBatch: boolean;
  /** For `once` / `availableNow`: nothing is left to read, the query may stop. */
  readonly exhausted?: boolean;
}

/** Options for {@link triggerLoop}. */
export interface TriggerLoopOptions {
  /** Every wait goes through it. */
  readonly scheduler: SchedulerLike;
  /** Signals that new data may be there (a source's `dataAvailable$`); wakes an idle default or continuous trigger at once. */
  readonly wake$?: Observable<unknown>;
  /** How long an idle default or continuous trigger waits before asking the source again when nothing woke it. */
  readonly pollIntervalMs: number;
}

/**
 * Runs `step` (one trigger: plan and run at most one batch) again and again on
 * the trigger's timetable, one at a time, and emits each step's result. It
 * completes when a `once` trigger ran its step or an `availableNow` step
 * reports `exhausted`; it errors when a step errors. Unsubscribing cancels the
 * next wait (a step already running is left to finish).
 *
 * ```text
 * processingTime 10, batches taking 2, 25 and 2 frames (whenBehind 'runImmediately'):
 * starts   a---------b------------------------c---------d   a 0, b 10, c 35 (b overran 20 and 30), d 40
 * ```
 */
export function triggerLoop(trigger: ResolvedTrigger, step: () => Observable<TriggerStep>, options: TriggerLoopOptions): Observable<TriggerStep> {
  const { scheduler, wake$, pollIntervalMs } = options;
  return new Observable<TriggerStep>((subscriber) => {
    const subscriptions = new Subscription();
    let running = false;
    let wokenWhileRunning = false;
    let idleWait: Subscription | undefined;

    const schedule = (delayMs: number): void => {
      const wait = scheduler.schedule(() => {
        if (idleWait === wait) idleWait = undefined;
        subscriptions.remove(wait);
        runStep();
      }, Math.max(0, delayMs));
      subscriptions.add(wait);
      if (trigger.kind === 'default' || trigger.kind === 'continuous') idleWait = wait;
    };

    const runStep = (): void => {
      if (subscriber.closed) return;
      running = true;
      wokenWhileRunning = false;
      const startedAtMs = scheduler.now();
      let result: TriggerStep = { ranBatch: false };
      const inner = step().subscribe({
        next: (r) => {
          result = r;
        },
        error: (error: unknown) => {
          running = false;
          subscriber.error(error);
        },
        complete: () => {
          running = false;
          subscriptions.remove(inner);
          subscriber.next(result);
          if (subscriber.closed) return;
          afterStep(startedAtMs, result);
        },
      });
      if (running) subscriptions.add(inner);
    };

    const afterStep = (startedAtMs: number, result: TriggerStep): void => {
      switch (trigger.kind) {
        case 'once':
          subscriber.complete();
          return;
        case 'availableNow':
          if (result.exhausted === true) subscriber.complete();
          else schedule(0);
          return;
        case 'processingTime':
          schedule(nextTriggerTime(startedAtMs, scheduler.now(), trigger.intervalMs, trigger.whenBehind) - scheduler.now());
          return;
        case 'default':
        case 'continuous':
          schedule(result.ranBatch || wokenWhileRunning ? 0 : pollIntervalMs);
          return;
      }
    };

    if (wake$ !== undefined && (trigger.kind === 'default' || trigger.kind === 'continuous')) {
      subscriptions.add(
        wake$.subscribe(() => {
          if (running) {
            wokenWhileRunning = true;
            return;
          }
          if (idleWait !== undefined) {
            idleWait.unsubscribe();
            subscriptions.remove(idleWait);
            idleWait = undefined;
            schedule(0);
          }
        }),
      );
    }
    runStep();
    return subscriptions;
  });
}

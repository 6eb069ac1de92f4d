import { Observable, asyncScheduler as asyncSchedulerInRun, type SchedulerLike } from 'rxjs';
import { InvalidDurationError, InvalidOptionError } from '../../../lib/errors/index.js';
import { nextBatchTime, nextTriggerTime, resolveTrigger, triggerLoop, type TriggerStep } from '../../../lib/query/triggers.js';
import { createTestScheduler } from '../../helpers/scheduler.js';

/** A step that takes `frames` of virtual time and reports `result`, recording when it started. */
function timedStep(scheduler: SchedulerLike, starts: number[], durations: readonly number[], results: readonly TriggerStep[] = []): () => Observable<TriggerStep> {
  let n = 0;
  return () =>
    new Observable<TriggerStep>((subscriber) => {
      const i = n++;
      starts.push(scheduler.now());
      const result = results[i] ?? { ranBatch: true };
      return scheduler.schedule(() => {
        subscriber.next(result);
        subscriber.complete();
      }, durations[i] ?? 0);
    });
}

describe('triggers', () => {
  describe('resolveTrigger', () => {
    it('reads every trigger shape', () => {
      expect(resolveTrigger(undefined)).toEqual({ kind: 'default' });
      expect(resolveTrigger({ processingTime: '10 seconds' })).toEqual({ kind: 'processingTime', intervalMs: 10_000, whenBehind: 'runImmediately' });
      expect(resolveTrigger({ processingTime: 500, whenBehind: 'nextInterval' })).toEqual({ kind: 'processingTime', intervalMs: 500, whenBehind: 'nextInterval' });
      expect(resolveTrigger({ processingTime: 0 })).toEqual({ kind: 'default' });
      expect(resolveTrigger({ once: true })).toEqual({ kind: 'once' });
      expect(resolveTrigger({ availableNow: true })).toEqual({ kind: 'availableNow' });
      expect(resolveTrigger({ continuous: '1 second' })).toEqual({ kind: 'continuous', intervalMs: 1000 });
    });

    describe('misconfiguration', () => {
      it('rejects an unknown shape', () => {
        expect(() => resolveTrigger({ every: 5 } as never)).toThrow(InvalidOptionError);
        expect(() => resolveTrigger({ every: 5 } as never)).toThrow(
          `startQuery: trigger must be one of the trigger shapes; got {"every":5}. Use undefined, { processingTime: '10 seconds' }, { once: true }, { availableNow: true } or { continuous: '1 second' }.`,
        );
      });
      it('rejects once: false and two triggers at once', () => {
        expect(() => resolveTrigger({ once: false } as never)).toThrow('startQuery: trigger once must be true; got {"once":false}.');
        expect(() => resolveTrigger({ once: true, availableNow: true } as never)).toThrow(InvalidOptionError);
      });
      it('rejects a negative or unparsable interval', () => {
        expect(() => resolveTrigger({ processingTime: -5 })).toThrow('startQuery: trigger interval should not be negative; got {"processingTime":-5}.');
        expect(() => resolveTrigger({ processingTime: '10 minuts' })).toThrow(InvalidDurationError);
        expect(() => resolveTrigger({ continuous: 0 })).toThrow('startQuery: trigger continuous interval must be positive; got {"continuous":0}.');
      });
      it('rejects an unknown whenBehind', () => {
        expect(() => resolveTrigger({ processingTime: 10, whenBehind: 'queue' } as never)).toThrow(
          `startQuery: trigger whenBehind must be 'runImmediately' or 'nextInterval'; got "queue".`,
        );
      });
    });
  });

  describe('nextTriggerTime', () => {
    it('aligns triggers on multiples of the interval (Spark ProcessingTimeExecutor.nextBatchTime)', () => {
      expect(nextBatchTime(0, 10)).toBe(10);
      expect(nextBatchTime(13, 10)).toBe(20);
      expect(nextBatchTime(20, 10)).toBe(30);
    });
    it('starts at once after a batch that overran, or at the next boundary with nextInterval, never making up missed intervals', () => {
      expect(nextTriggerTime(0, 4, 10, 'runImmediately')).toBe(10);
      expect(nextTriggerTime(0, 25, 10, 'runImmediately')).toBe(25);
      expect(nextTriggerTime(0, 25, 10, 'nextInterval')).toBe(30);
      expect(nextTriggerTime(0, 30, 10, 'nextInterval')).toBe(30);
    });
  });

  describe('triggerLoop', () => {
    it('processing time: a batch per interval; a slow batch never piles batches up (Spark: next starts as soon as it finished)', () => {
      const starts: number[] = [];
      createTestScheduler().run(({ expectObservable }) => {
        const scheduler = asyncSchedulerInRun;
        // Batches take 2, 25, 2, 2 frames; interval 10.
        const step = timedStep(scheduler, starts, [2, 25, 2, 2]);
        const loop = triggerLoop({ kind: 'processingTime', intervalMs: 10, whenBehind: 'runImmediately' }, step, { scheduler, pollIntervalMs: 5 });
        const r = { ranBatch: true };
        //                                   a at 2 (start 0), b at 35 (start 10), c at 37 (start 35), d at 42 (start 40)
        expectObservable(loop, '^ 45ms !').toBe('--a 32ms b-c 4ms d', { a: r, b: r, c: r, d: r });
      });
      expect(starts).toEqual([0, 10, 35, 40]);
    });

    it('processing time with whenBehind nextInterval: after a slow batch the next waits for the next boundary', () => {
      const starts: number[] = [];
      createTestScheduler().run(({ expectObservable }) => {
        const scheduler = asyncSchedulerInRun;
        const step = timedStep(scheduler, starts, [2, 25, 2]);
        const loop = triggerLoop({ kind: 'processingTime', intervalMs: 10, whenBehind: 'nextInterval' }, step, { scheduler, pollIntervalMs: 5 });
        const r = { ranBatch: true };
        // start 0 (ends 2), start 10 (ends 35), start 40 (ends 42)
        expectObservable(loop, '^ 45ms !').toBe('--a 32ms b 6ms c', { a: r, b: r, c: r });
      });
      expect(starts).toEqual([0, 10, 40]);
    });

    it('processing time: a trigger without new data runs no batch and waits for the next interval', () => {
      const starts: number[] = [];
      createTestScheduler().run(({ expectObservable }) => {
        const scheduler = asyncSchedulerInRun;
        const idle = { ranBatch: false, exhausted: true };
        const step = timedStep(scheduler, starts, [0, 0, 0], [idle, { ranBatch: true }, idle]);
        const loop = triggerLoop({ kind: 'processingTime', intervalMs: 10, whenBehind: 'runImmediately' }, step, { scheduler, pollIntervalMs: 5 });
        expectObservable(loop, '^ 25ms !').toBe('i 9ms b 9ms i', { i: idle, b: { ranBatch: true } });
      });
      expect(starts).toEqual([0, 10, 20]);
    });

    it('default: the next batch starts as soon as the previous finished; idle, it polls', () => {
      const starts: number[] = [];
      createTestScheduler().run(({ expectObservable }) => {
        const scheduler = asyncSchedulerInRun;
        const idle = { ranBatch: false, exhausted: true };
        const step = timedStep(scheduler, starts, [3, 3, 0, 0], [{ ranBatch: true }, { ranBatch: true }, idle, idle]);
        const loop = triggerLoop({ kind: 'default' }, step, { scheduler, pollIntervalMs: 5 });
        expectObservable(loop, '^ 12ms !').toBe('---a--(bi)-i', { a: { ranBatch: true }, b: { ranBatch: true }, i: idle });
      });
      expect(starts).toEqual([0, 3, 6, 11]);
    });

    it('default: a wake-up signal ends an idle wait at once', () => {
      const starts: number[] = [];
      createTestScheduler().run(({ expectObservable, cold }) => {
        const scheduler = asyncSchedulerInRun;
        const idle = { ranBatch: false, exhausted: true };
        const step = timedStep(scheduler, starts, [0, 0, 0], [idle, { ranBatch: true }, idle]);
        const loop = triggerLoop({ kind: 'default' }, step, { scheduler, pollIntervalMs: 100, wake$: cold('--w') });
        expectObservable(loop, '^ 5ms !').toBe('i-(bi)', { i: idle, b: { ranBatch: true } });
      });
      expect(starts).toEqual([0, 2, 2]);
    });

    it('once: one step, then complete', () => {
      createTestScheduler().run(({ expectObservable }) => {
        const scheduler = asyncSchedulerInRun;
        const loop = triggerLoop({ kind: 'once' }, timedStep(scheduler, [], [4]), { scheduler, pollIntervalMs: 5 });
        expectObservable(loop).toBe('----(a|)', { a: { ranBatch: true } });
      });
    });

    it('availableNow: steps back to back until one reports exhausted', () => {
      createTestScheduler().run(({ expectObservable }) => {
        const scheduler = asyncSchedulerInRun;
        const results = [{ ranBatch: true, exhausted: false }, { ranBatch: true, exhausted: false }, { ranBatch: false, exhausted: true }];
        const loop = triggerLoop({ kind: 'availableNow' }, timedStep(scheduler, [], [2, 2, 0], results), { scheduler, pollIntervalMs: 5 });
        expectObservable(loop).toBe('--a-(bc|)', { a: results[0], b: results[1], c: results[2] });
      });
    });

    it('errors when a step errors, and stops', () => {
      createTestScheduler().run(({ expectObservable, cold }) => {
        const scheduler = asyncSchedulerInRun;
        const loop = triggerLoop({ kind: 'default' }, () => cold<TriggerStep>('--#', undefined, new Error('boom')), { scheduler, pollIntervalMs: 5 });
        expectObservable(loop).toBe('--#', undefined, new Error('boom'));
      });
    });

    it('unsubscribing cancels the next wait', () => {
      const starts: number[] = [];
      createTestScheduler().run(({ expectObservable }) => {
        const scheduler = asyncSchedulerInRun;
        const loop = triggerLoop({ kind: 'processingTime', intervalMs: 10, whenBehind: 'runImmediately' }, timedStep(scheduler, starts, [1, 1, 1]), { scheduler, pollIntervalMs: 5 });
        expectObservable(loop, '^ 14ms !').toBe('-a 9ms b', { a: { ranBatch: true }, b: { ranBatch: true } });
      });
      expect(starts).toEqual([0, 10]);
    });
  });
});

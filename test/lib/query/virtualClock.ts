import { VirtualAction, VirtualTimeScheduler } from 'rxjs';

/** Lets promise continuations (and setImmediate callbacks) run. */
export async function settle(rounds = 8): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A virtual clock for async code: `advanceTo` runs the scheduled actions one
 * by one in time order, letting promises settle between them, so that a
 * query's timers, awaits and batches interleave as they would in real time.
 */
export class VirtualClock extends VirtualTimeScheduler {
  constructor() {
    super(VirtualAction, Number.POSITIVE_INFINITY);
  }

  async advanceTo(target: number): Promise<void> {
    for (;;) {
      await settle();
      const next = this.actions[0];
      if (next === undefined || next.delay > target) break;
      this.actions.shift();
      this.frame = next.delay;
      const error = next.execute(next.state, next.delay);
      if (error) throw error;
    }
    this.frame = Math.max(this.frame, target);
    await settle();
  }

  advanceBy(ms: number): Promise<void> {
    return this.advanceTo(this.frame + ms);
  }
}

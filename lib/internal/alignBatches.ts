import { Observable, Subscriber, type Observer } from 'rxjs';
import type { Batch } from '../batch/Batch.js';
import { infoOfBatch } from './pipeline.js';
import type { Step } from './statefulOperator.js';

/** One step of two merged batch streams: a batch from one side, or (aligned) batch N of both sides; `batches` is `[left, right]` (the stateful-operator shell's {@link Step}). */
export interface PairedBatch<L, R> extends Step {
  readonly batchId: number;
  readonly left: Batch<L> | undefined;
  readonly right: Batch<R> | undefined;
}

function paired<L, R>(batchId: number, left: Batch<L> | undefined, right: Batch<R> | undefined): PairedBatch<L, R> {
  return { batchId, left, right, batches: [left, right] };
}

/**
 * Merges two batch streams into a stream of steps. Unaligned, each arriving
 * batch is its own step, in arrival order, numbered 0, 1, 2 …; aligned, batch
 * N of the left and batch N of the right form step N (a side that completed
 * early contributes nothing). Completes when both inputs complete; errors as
 * soon as either errors.
 */
export function pairBatches<L, R>(left$: Observable<Batch<L>>, right$: Observable<Batch<R>>, alignedOption: boolean | undefined): Observable<PairedBatch<L, R>> {
  return new Observable<PairedBatch<L, R>>((subscriber) => {
    // Unless the user says, batches of one query's inputs (one trigger plans all of them) are aligned: the first batch tells.
    let aligned = alignedOption ?? false;
    let decided = alignedOption !== undefined;
    const decide = (batch: Batch<unknown>): void => {
      if (decided) return;
      aligned = infoOfBatch(batch).aligned;
      decided = true;
    };
    let done = 0;
    let nextId = 0;
    const pendingLeft = new Map<number, Batch<L>>();
    const pendingRight = new Map<number, Batch<R>>();
    let leftDone = false;
    let rightDone = false;
    let leftMax = -1;
    let rightMax = -1;

    const flushAligned = (): void => {
      // Emit every id both sides have reached (or that a completed side will never send).
      for (;;) {
        const id = nextId;
        const l = pendingLeft.get(id);
        const r = pendingRight.get(id);
        const leftReady = l !== undefined || leftDone || leftMax > id;
        const rightReady = r !== undefined || rightDone || rightMax > id;
        if (!(leftReady && rightReady)) return;
        if (l === undefined && r === undefined) {
          const upcoming = Math.min(...[...pendingLeft.keys(), ...pendingRight.keys()]);
          if (!Number.isFinite(upcoming)) return;
          nextId = upcoming;
          continue;
        }
        pendingLeft.delete(id);
        pendingRight.delete(id);
        nextId = id + 1;
        subscriber.next(paired(id, l, r));
      }
    };
    const complete = (): void => {
      done++;
      if (aligned) flushAligned();
      if (done === 2) subscriber.complete();
    };
    // Each input is subscribed through a Subscriber linked to the output, so an
    // unsubscribe reaches a synchronous input (a firehose) while it is still emitting.
    const linked = <V>(observer: Observer<V>): Subscriber<V> => {
      const inner = new Subscriber<V>(observer);
      subscriber.add(inner);
      return inner;
    };
    left$.subscribe(linked<Batch<L>>({
      next: (batch) => {
        decide(batch);
        if (!aligned) return subscriber.next(paired<L, R>(nextId++, batch, undefined));
        pendingLeft.set(batch.batchId, batch);
        leftMax = Math.max(leftMax, batch.batchId);
        flushAligned();
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => {
        leftDone = true;
        complete();
      },
    }));
    right$.subscribe(linked<Batch<R>>({
      next: (batch) => {
        decide(batch);
        if (!aligned) return subscriber.next(paired<L, R>(nextId++, undefined, batch));
        pendingRight.set(batch.batchId, batch);
        rightMax = Math.max(rightMax, batch.batchId);
        flushAligned();
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => {
        rightDone = true;
        complete();
      },
    }));
  });
}

import type { Aggregator } from './Aggregator.js';

/** Folds one row into a batch-local accumulator array (one slot per aggregate). */
export type RowFolder<T> = (accs: unknown[], row: T) => void;

/**
 * Builds the function that folds one row into every aggregate's accumulator.
 * For up to four aggregates the calls are unrolled, each aggregator bound to
 * its own call site, so that the engine's per-row work stays monomorphic
 * (an issue 6 finding: a loop over mixed aggregators was a megamorphic call).
 */
export function rowFolder<T>(aggregators: readonly Aggregator<T, unknown, unknown>[]): RowFolder<T> {
  const [a0, a1, a2, a3] = aggregators;
  switch (aggregators.length) {
    case 1:
      return (accs, row) => {
        accs[0] = a0!.add(accs[0] as never, row);
      };
    case 2:
      return (accs, row) => {
        accs[0] = a0!.add(accs[0] as never, row);
        accs[1] = a1!.add(accs[1] as never, row);
      };
    case 3:
      return (accs, row) => {
        accs[0] = a0!.add(accs[0] as never, row);
        accs[1] = a1!.add(accs[1] as never, row);
        accs[2] = a2!.add(accs[2] as never, row);
      };
    case 4:
      return (accs, row) => {
        accs[0] = a0!.add(accs[0] as never, row);
        accs[1] = a1!.add(accs[1] as never, row);
        accs[2] = a2!.add(accs[2] as never, row);
        accs[3] = a3!.add(accs[3] as never, row);
      };
    default:
      return (accs, row) => {
        for (let j = 0; j < aggregators.length; j++) accs[j] = aggregators[j]!.add(accs[j] as never, row);
      };
  }
}

/** Builds a fresh accumulator array (`init()` of every aggregate), with `extra` more slots at the end. */
export function accumulatorFactory<T>(aggregators: readonly Aggregator<T, unknown, unknown>[], extra = 0): () => unknown[] {
  const n = aggregators.length;
  return () => {
    const a = new Array<unknown>(n + extra);
    for (let j = 0; j < n; j++) a[j] = aggregators[j]!.init();
    return a;
  };
}

import { INLINE_ADD, type Aggregator, type InlineAdd } from './Aggregator.js';

/** Folds one row into a batch-local accumulator array (one slot per aggregate). */
export type RowFolder<T> = (accs: unknown[], row: T) => void;

/**
 * Builds the function that folds one row into every aggregate's accumulator.
 * For up to four aggregates the calls are unrolled, each aggregator bound to
 * its own call site, so that the engine's per-row work stays monomorphic
 * (an issue 6 finding: a loop over mixed aggregators was a megamorphic call).
 */
export function rowFolder<T>(aggregators: readonly Aggregator<T, unknown, unknown>[]): RowFolder<T> {
  const inlined = inlinedFolder(aggregators);
  if (inlined !== undefined) return inlined;
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
  // The common sizes as array literals: allocated inline, packed (no holes), one shape.
  const [a0, a1] = aggregators;
  if (extra === 0 && n === 1) return () => [a0!.init()];
  if (extra === 0 && n === 2) return () => [a0!.init(), a1!.init()];
  if (extra === 4 && n === 1) return () => [a0!.init(), undefined, undefined, undefined, undefined];
  if (extra === 4 && n === 2) return () => [a0!.init(), a1!.init(), undefined, undefined, undefined, undefined];
  return () => {
    const a = new Array<unknown>(n + extra);
    for (let j = 0; j < n; j++) a[j] = aggregators[j]!.init();
    return a;
  };
}

function inlineShape(a: Aggregator<never, unknown, unknown> | undefined): InlineAdd | undefined {
  return a === undefined ? undefined : (a as { [INLINE_ADD]?: InlineAdd })[INLINE_ADD];
}

/**
 * The common built-in shapes (`count()` and `sum(field)`, one or two of them)
 * folded inline: no call per aggregate per row. A sum of a value that is not
 * a number goes through the aggregator's own `add` (casts, invalid values),
 * so the result is the aggregator's in every case.
 */
function inlinedFolder<T>(aggregators: readonly Aggregator<T, unknown, unknown>[]): RowFolder<T> | undefined {
  if (aggregators.length > 2) return undefined;
  const s0 = inlineShape(aggregators[0] as never);
  const s1 = inlineShape(aggregators[1] as never);
  if (s0 === undefined || (aggregators.length === 2 && s1 === undefined)) return undefined;
  const a0 = aggregators[0]!;
  const a1 = aggregators[1];
  if (aggregators.length === 1) {
    if (s0.kind === 'count') return (accs) => void (accs[0] = (accs[0] as number) + 1);
    const f = s0.field;
    return (accs, row) => {
      const v = (row as Record<string, unknown>)[f];
      const acc = accs[0] as number | null;
      accs[0] = typeof v === 'number' ? (acc === null ? v : acc + v) : a0.add(acc as never, row);
    };
  }
  if (s0.kind === 'sum' && s1!.kind === 'count') {
    const f = s0.field;
    return (accs, row) => {
      const v = (row as Record<string, unknown>)[f];
      const acc = accs[0] as number | null;
      accs[0] = typeof v === 'number' ? (acc === null ? v : acc + v) : a0.add(acc as never, row);
      accs[1] = (accs[1] as number) + 1;
    };
  }
  if (s0.kind === 'count' && s1!.kind === 'sum') {
    const f = s1!.field;
    return (accs, row) => {
      accs[0] = (accs[0] as number) + 1;
      const v = (row as Record<string, unknown>)[f];
      const acc = accs[1] as number | null;
      accs[1] = typeof v === 'number' ? (acc === null ? v : acc + v) : a1!.add(acc as never, row);
    };
  }
  return undefined;
}

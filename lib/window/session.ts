/**
 * A session window with its partial aggregate: `[start, end)` where `end` is
 * the last event's time plus its gap. Session lists are kept sorted by
 * `start`, non-overlapping and non-touching.
 */
export interface Session<A> {
  readonly start: number;
  readonly end: number;
  readonly acc: A;
}

/**
 * Merges two sorted session lists of one key, as Spark's
 * `MergingSessionsIterator` does: walking by start, a session joins the
 * current one when it overlaps **or touches** it (`next.start <= current.end`),
 * the merged end being the larger end and the partial aggregates combined with
 * `merge` (earlier session first). A new session can therefore bridge two
 * existing ones. Neither input is modified; the result is a new array, in which
 * a session that nothing joined is the same object as in the input.
 *
 * @example
 * const add = (a: number, b: number) => a + b;
 * mergeSessionLists([{ start: 25, end: 35, acc: 1 }, { start: 40, end: 50, acc: 1 }], [{ start: 30, end: 40, acc: 1 }], add);
 * //=> [{ start: 25, end: 50, acc: 3 }]
 */
export function mergeSessionLists<A>(a: readonly Session<A>[], b: readonly Session<A>[], merge: (x: A, y: A) => A): Session<A>[] {
  const out: Session<A>[] = [];
  let i = 0;
  let j = 0;
  let cur: Session<A> | undefined;
  while (i < a.length || j < b.length) {
    const next = j >= b.length || (i < a.length && a[i]!.start <= b[j]!.start) ? a[i++]! : b[j++]!;
    if (cur !== undefined && next.start <= cur.end) {
      cur = { start: cur.start, end: next.end > cur.end ? next.end : cur.end, acc: merge(cur.acc, next.acc) };
    } else {
      if (cur !== undefined) out.push(cur);
      cur = next;
    }
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

/**
 * Builds the sessions of one key from events sorted by time, each event
 * opening `[t, t + gap)`: consecutive events whose sessions overlap or touch
 * share a session. `times`, `gaps` and `rows` are parallel arrays (already
 * sorted by time); `newAcc` creates an empty accumulator and `add` folds a row
 * into it (it may mutate the fresh accumulator).
 */
export function sessionsFromSortedEvents<T, A>(
  times: readonly number[],
  ends: readonly number[],
  rows: readonly T[],
  newAcc: () => A,
  add: (acc: A, row: T) => A,
): Session<A>[] {
  const out: Session<A>[] = [];
  let start = 0;
  let end = Number.NEGATIVE_INFINITY;
  let acc: A | undefined;
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (acc !== undefined && t <= end) {
      if (ends[i]! > end) end = ends[i]!;
      acc = add(acc, rows[i]!);
    } else {
      if (acc !== undefined) out.push({ start, end, acc });
      start = t;
      end = ends[i]!;
      acc = add(newAcc(), rows[i]!);
    }
  }
  if (acc !== undefined) out.push({ start, end, acc });
  return out;
}

import { merge, type Observable } from 'rxjs';
import { SourceError, describeValue } from '../errors/index.js';
import type { DeadLetterRecord, ReadLimit, Source, SourceContext } from '../sources/Source.js';

/** The offset of a multi-source query: one entry per input, in input order (`null` for an input that never had data). */
export type MultiOffset = readonly unknown[];

/** One input's part of a batch's progress report. */
export interface InputProgressPart {
  readonly description: string;
  readonly startOffset: unknown;
  readonly endOffset: unknown;
  readonly latestOffset: unknown;
  readonly numInputRows: number;
  readonly metrics: Readonly<Record<string, number>>;
}

function sameOffset(source: Source<unknown, unknown>, a: unknown, b: unknown): boolean {
  const same = (source as { sameOffset?: (x: unknown, y: unknown) => boolean }).sameOffset;
  if (same !== undefined) return same.call(source, a, b);
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * The sources of a multi-source query seen as one source: one trigger plans
 * every input (`latestOffset` asks each), the write-ahead log entry of batch N
 * holds every input's offsets (`offsets[i]` is input i's), and `getBatch`
 * reads each input's range, giving one row list per input, in input order
 * (`startQuery` feeds list i to input i). Recovery restores every input's
 * offsets; each source keeps its own metadata under `sources/<i>`.
 */
export class MultiSource implements Source<readonly unknown[], MultiOffset> {
  readonly description: string;
  readonly supportsContinuous = false;
  readonly dataAvailable$: Observable<void> | undefined;
  private readonly lastRows = new Map<string, readonly number[]>();

  constructor(
    readonly names: readonly string[],
    readonly sources: readonly Source<unknown, unknown>[],
  ) {
    this.description = `MultiSource[${names.map((n, i) => `${n}: ${sources[i]!.description}`).join(', ')}]`;
    // Wake the trigger on any input's signal; an input without one makes the runtime poll.
    const signals = sources.map((s) => s.dataAvailable$);
    this.dataAvailable$ = signals.every((s) => s !== undefined) ? merge(...(signals as Observable<void>[])) : undefined;
  }

  async start(context: SourceContext): Promise<void> {
    await Promise.all(
      this.sources.map((source, i) => {
        const dir = context.metadataDirFor?.(i);
        const { metadataDir: _single, ...rest } = context;
        const deadLetter = (record: DeadLetterRecord): void => context.deadLetter(record);
        return source.start({ ...rest, deadLetter, ...(dir === undefined ? {} : { metadataDir: dir }) });
      }),
    );
  }

  async latestOffset(start: MultiOffset | undefined, limit: ReadLimit): Promise<MultiOffset | undefined> {
    const latest = await Promise.all(this.sources.map((source, i) => source.latestOffset(start?.[i] ?? undefined, limit)));
    if (latest.every((o, i) => o === undefined && (start?.[i] ?? undefined) === undefined)) return undefined;
    return latest.map((o, i) => (o === undefined ? (start?.[i] ?? null) : o));
  }

  sameOffset(a: MultiOffset | undefined, b: MultiOffset | undefined): boolean {
    return this.sources.every((source, i) => sameOffset(source, a?.[i] ?? null, b?.[i] ?? null));
  }

  async getBatch(start: MultiOffset | undefined, end: MultiOffset): Promise<readonly (readonly unknown[])[]> {
    const parts = await Promise.all(
      this.sources.map((source, i) => {
        const from = start?.[i] ?? undefined;
        const to = end[i] ?? undefined;
        if (to === undefined || (from !== undefined && sameOffset(source, from, to))) return Promise.resolve([] as readonly unknown[]);
        return source.getBatch(from, to);
      }),
    );
    this.lastRows.set(JSON.stringify(end), parts.map((p) => p.length));
    return parts;
  }

  /**
   * Per input, what it needs beyond its offsets to plan its part of
   * `(start, end]` again ({@link Source.describePlan} of each input): a list
   * in input order, `null` for an input that read nothing in the batch or
   * whose offsets say everything. The runtime hands it to the sink as the
   * batch origin's `plans` (one entry per input, like its offsets), so a
   * checkpoint behind the output re-plans a multi-source query too.
   */
  async describePlan(start: MultiOffset | undefined, end: MultiOffset): Promise<readonly unknown[]> {
    return Promise.all(
      this.sources.map(async (source, i) => {
        const from = start?.[i] ?? undefined;
        const to = end[i] ?? undefined;
        if (to === undefined || source.describePlan === undefined || (from !== undefined && sameOffset(source, from, to))) return null;
        return (await source.describePlan(from, to)) ?? null;
      }),
    );
  }

  /**
   * Gives each input its part of a plan {@link MultiSource.describePlan}
   * made (`plan[i]` to input i's `restorePlan`). Throws what an input throws
   * when what it has contradicts the plan; a plan that is not a list with one
   * entry per input is refused.
   */
  async restorePlan(start: MultiOffset | undefined, end: MultiOffset, plan: unknown): Promise<void> {
    if (!Array.isArray(plan) || plan.length !== this.sources.length) {
      throw new SourceError(this.description, `a plan for its ${this.sources.length} inputs must be a list with one entry per input; got ${describeValue(plan)}. Restore the newest copy of the checkpoint, or start the query with a new checkpoint location and a new output`, undefined, false);
    }
    for (const [i, source] of this.sources.entries()) {
      const part: unknown = plan[i];
      const to = end[i] ?? undefined;
      if (part === null || part === undefined || to === undefined) continue;
      if (source.restorePlan === undefined) {
        throw new SourceError(this.description, `input ${this.names[i]} (${source.description}) cannot restore a plan; got ${describeValue(part)}`, undefined, false);
      }
      await source.restorePlan(start?.[i] ?? undefined, to, part);
    }
  }

  async commit(end: MultiOffset): Promise<void> {
    await Promise.all(this.sources.map((source, i) => (end[i] === undefined || end[i] === null ? Promise.resolve() : source.commit(end[i]))));
  }

  async stop(): Promise<void> {
    const results = await Promise.allSettled(this.sources.map((s) => s.stop()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  async prepareForAvailableNow(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.prepareForAvailableNow?.()));
  }

  /** The progress report's `sources`: one entry per input. */
  progressParts(start: MultiOffset | undefined, end: MultiOffset, latest: MultiOffset | undefined, deadLetters: number): InputProgressPart[] {
    const counts = this.lastRows.get(JSON.stringify(end)) ?? [];
    this.lastRows.delete(JSON.stringify(end));
    return this.sources.map((source, i) => ({
      description: `${this.names[i]}: ${source.description}`,
      startOffset: start?.[i] ?? null,
      endOffset: end[i] ?? null,
      latestOffset: latest?.[i] ?? null,
      numInputRows: counts[i] ?? 0,
      metrics: { ...source.progressMetrics?.(end[i] ?? undefined), ...(i === 0 ? { numDeadLetterRecords: deadLetters } : {}) },
    }));
  }
}

/** `true` for the source of a multi-source query. */
export function isMultiSource(source: Source<unknown, unknown>): source is MultiSource {
  return source instanceof MultiSource;
}

import { merge, type Observable } from 'rxjs';
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
      metrics: { ...source.progressMetrics?.(end[i]), ...(i === 0 ? { numDeadLetterRecords: deadLetters } : {}) },
    }));
  }
}

/** `true` for the source of a multi-source query. */
export function isMultiSource(source: Source<unknown, unknown>): source is MultiSource {
  return source instanceof MultiSource;
}

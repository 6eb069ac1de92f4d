import { InvalidOptionError, describeValue } from '../errors/index.js';
import { UNSUPPORTED } from '../query/unsupportedOperations.js';

/** How the watermarks of several inputs combine: the slowest (`'min'`, Spark's default) or the fastest (`'max'`). */
export type WatermarkPolicy = 'min' | 'max';

/** Validates a `policy` option with Spark's wording. */
export function watermarkPolicy(operator: string, policy: unknown): WatermarkPolicy {
  if (policy === undefined) return 'min';
  if (policy === 'min' || policy === 'max') return policy;
  throw new InvalidOptionError(`${operator}: ${UNSUPPORTED.invalidWatermarkPolicy(String(describeValue(policy)).replace(/^"|"$/g, ''))}`, 'policy', policy, "'min' | 'max'");
}

/**
 * The global watermark over several inputs, as Spark's `WatermarkTracker`
 * computes it; the one implementation used by every operator with more than
 * one input (`union`, stream-stream joins). Only inputs that have a watermark
 * take part (Spark looks at its `EventTimeWatermark` nodes only); one that has
 * reported nothing yet counts as 0. Their latest values are combined with the
 * policy, and the global value is replaced only when the result is strictly
 * greater, so it never moves back and never goes below its floor (0, or the
 * value restored from a checkpoint).
 */
export class GlobalWatermark {
  private readonly inputs: number[];
  private readonly watermarked: boolean[];
  private value: number;

  constructor(
    readonly policy: WatermarkPolicy,
    inputCount: number,
    floorMs = 0,
  ) {
    this.inputs = new Array<number>(inputCount).fill(0);
    this.watermarked = new Array<boolean>(inputCount).fill(false);
    this.value = floorMs;
  }

  /**
   * Records input `index`'s watermark (never lowering it) and whether the
   * input has a watermark at all, as far as is known now (see
   * {@link takesPartInWatermark}).
   */
  observe(index: number, watermarkMs: number, watermarked: boolean): void {
    this.watermarked[index] = watermarked;
    if (watermarkMs > this.inputs[index]!) this.inputs[index] = watermarkMs;
  }

  /** Recomputes and returns the global watermark. */
  advance(): number {
    let chosen: number | undefined;
    for (let i = 0; i < this.inputs.length; i++) {
      if (!this.watermarked[i]) continue;
      const w = this.inputs[i]!;
      chosen = chosen === undefined ? w : this.policy === 'min' ? Math.min(chosen, w) : Math.max(chosen, w);
    }
    if (chosen !== undefined && chosen > this.value) this.value = chosen;
    return this.value;
  }

  get current(): number {
    return this.value;
  }
}

/**
 * Whether an input takes part in the global watermark, given what is known of
 * it: its pipeline info (carried by its batches, or known when the pipeline
 * was built) says whether it has a watermark; where neither tells (batches
 * made by hand behind a foreign Observable), the batches' `watermark` field is
 * taken as the input's watermark, so it takes part.
 */
export function takesPartInWatermark(carried: { readonly watermarked: boolean } | undefined, built: { readonly watermarked: boolean } | undefined): boolean {
  return (carried ?? built)?.watermarked ?? true;
}

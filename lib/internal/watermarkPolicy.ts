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
 * Tracks the global watermark over several inputs as Spark's WatermarkTracker
 * does: combine the inputs' latest values with the policy (an input that has
 * reported nothing counts as 0), and replace the global value only when the
 * result is strictly greater, so it never moves back and never goes negative.
 */
export class GlobalWatermark {
  private readonly inputs: number[];
  private value = 0;

  constructor(
    readonly policy: WatermarkPolicy,
    inputCount: number,
  ) {
    this.inputs = new Array<number>(inputCount).fill(0);
  }

  /** Records input `index`'s watermark (never lowering it). */
  observe(index: number, watermarkMs: number): void {
    if (watermarkMs > this.inputs[index]!) this.inputs[index] = watermarkMs;
  }

  /** Recomputes and returns the global watermark. */
  advance(): number {
    let chosen = this.inputs[0]!;
    for (let i = 1; i < this.inputs.length; i++) chosen = this.policy === 'min' ? Math.min(chosen, this.inputs[i]!) : Math.max(chosen, this.inputs[i]!);
    if (chosen > this.value) this.value = chosen;
    return this.value;
  }

  get current(): number {
    return this.value;
  }
}

/**
 * The checkpoint entry holding a keyed operator's late-events watermark (the
 * watermark after its last batch). Shared by the deduplication and
 * `groupsWithState` codecs and by the changed-key lists their steps report.
 */
export const WATERMARK_ENTRY = '@watermark';

/**
 * What one batch of a keyed stateful step (deduplication, `groupsWithState`)
 * reports to its operator shell: output rows, late rows, and what changed in
 * the state for metrics and incremental checkpoints.
 */
export interface KeyedStepResult<T, R> {
  /** The rows to emit. */
  readonly rows: R[];
  /** Late rows (collected only when asked for). */
  readonly lateRows: T[] | undefined;
  readonly numLate: number;
  /** The late-events watermark the rows were compared with (the previous batch's watermark). */
  readonly lateWatermarkMs: number;
  /** Entries removed from the state. */
  readonly numRemoved: number;
  /** Checkpoint keys written or removed by the batch (encoded lazily, when read). */
  readonly changedKeys: Iterable<string>;
}

/**
 * The checkpoint keys a batch changed, encoded lazily when read:
 * {@link WATERMARK_ENTRY} first when the watermark moved, then `encode` of
 * every item of `lists` in order.
 */
export function changedEntries<K>(watermarkChanged: boolean, encode: (item: K) => string, ...lists: readonly (readonly K[])[]): Iterable<string> {
  return {
    *[Symbol.iterator]() {
      if (watermarkChanged) yield WATERMARK_ENTRY;
      for (const list of lists) for (let i = 0; i < list.length; i++) yield encode(list[i]!);
    },
  };
}

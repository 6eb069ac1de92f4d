import { asyncScheduler, Observable, type MonoTypeOperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { Batch } from '../lib/batch/Batch.js';
import type { CheckpointRecovery } from '../lib/checkpoint/Checkpoint.js';
import type { CheckpointStore } from '../lib/checkpoint/CheckpointStore.js';
import { openCheckpoint, type OpenCheckpointOptions } from '../lib/checkpoint/openCheckpoint.js';
import { BatchSequenceError, CheckpointError } from '../lib/errors/index.js';
import { wrapError } from '../lib/internal/batchSubscriber.js';
import { Stage, assignOperatorIds, infoOfBatch, prepareRestoredState, upstreamNodes, type QueryBinding } from '../lib/internal/pipeline.js';

/** Options for {@link checkpoint}. */
export interface CheckpointOptions extends OpenCheckpointOptions {
  /** Where processing time (the offsets entries' `timestamp`) comes from. @defaultValue `asyncScheduler` */
  readonly scheduler?: SchedulerLike;
  /** Called once the checkpoint is open, before the pipeline is subscribed: where the run resumes. */
  readonly onRecovery?: (recovery: CheckpointRecovery) => void;
}

/**
 * Emits the batches of the pipeline above it unchanged, after making the
 * state of every stateful operator in that pipeline durable in a checkpoint,
 * and on a restart resumes from that checkpoint: the stateful operators start
 * from their restored state and batches already committed are skipped.
 *
 * Spark: `writeStream.option("checkpointLocation", dir)` (for pipelines run
 * without `startQuery`).
 *
 * ```text
 * input    a---b---c---|     a = #0 [k1]   b = #1 [k2]   c = #2 [k1]
 *          dropDuplicates('k'), checkpoint(dir)          (first run)
 * output   a---b---c---|     c has no rows; commits/0..2 written
 *
 * input    a---b---c---d---| d = #3 [k2, k3]             (restart: same dir, upstream replays 0..2)
 *          dropDuplicates('k'), checkpoint(dir)
 * output   ------------d---| 0..2 skipped (committed); d = #3 [k3]
 * ```
 *
 * When subscribed it opens (or creates) the checkpoint, then subscribes its
 * upstream inside the checkpoint's query context, so that every stateful
 * operator above it registers under its stable id (`name`, or `<kind>#<n>` in
 * subscription order) and gets its restored state. For each batch that comes
 * down it writes `offsets/N` (batch id, the watermark batch N started with,
 * `offsets: []`: a plain Observable has no source offsets), emits the batch,
 * then writes the operators' state for N and `commits/N`. Batch ids up to the
 * last committed one are dropped: the upstream replays them, and their effect
 * is already in the restored state.
 *
 * **State**: none of its own; the state of the stateful operators above it,
 * written as a delta of the keys changed per batch, with a full snapshot
 * after at least `snapshotInterval` batches once the deltas since the last
 * one reach `snapshotDeltaRatio` of its size, keeping what the last
 * `minBatchesToRetain` commits need.
 *
 * **Guarantee**: the operators' state is exactly once: a restarted pipeline
 * continues exactly where the last commit left it. The batches emitted
 * downstream are at least once: a batch emitted just before a crash, before
 * its commit, is emitted again after the restart. Use `startQuery` with an
 * idempotent sink (`toFiles`, `forEachBatch` with the batch id) for
 * exactly-once output.
 *
 * Node only (it touches the file system): import it from the package root,
 * not from `rxjs-structured-streaming/operators`. With a
 * `MemoryCheckpointStore` it runs anywhere.
 *
 * @example
 * ```ts
 * const run = () =>
 *   fromBatches([[{ k: 'a' }], [{ k: 'b' }], [{ k: 'a' }, { k: 'c' }]])
 *     .pipe(dropDuplicates('k'), checkpoint('/tmp/dedup-checkpoint'))
 *     .subscribe((b) => console.log(b.batchId, b.rows));
 * run();
 * // => 0 [ { k: 'a' } ]
 * // => 1 [ { k: 'b' } ]
 * // => 2 [ { k: 'c' } ]
 * run(); // later, with the same directory: everything is committed, nothing is emitted again
 * ```
 *
 * @param location A directory (created when missing) or a {@link CheckpointStore} such as `MemoryCheckpointStore`.
 * @param options Snapshot interval and delta ratio, retention, query id for a new checkpoint, scheduler.
 * @returns An operator that emits the same batches, minus those already committed.
 * @throws {InvalidOptionError} `checkpoint: location must be a directory path or a CheckpointStore; got <value>. …` (when the operator is built)
 * @throws {InvalidOptionError} `checkpoint: snapshotInterval must be a positive integer; got <value>.` (the same for `minBatchesToRetain`); `checkpoint: snapshotDeltaRatio must be a finite number of at least 0; got <value>.`
 * @throws {CheckpointIncompatibleError} (as an error notification) `checkpoint: stateful operator <id> does not match the checkpoint; …`, `… is not in the checkpoint; …` or `… is in the checkpoint but not in the pipeline; …` when the pipeline's stateful operators changed.
 * @throws {CheckpointCorruptError} (as an error notification) `checkpoint: file <path> is corrupt; …` or `… is missing; …` when recovery needs a damaged file.
 * @throws {CheckpointIOError} (as an error notification) when the file system fails.
 * @throws {CheckpointError} (as an error notification) a checkpoint file of another format version.
 * @throws {UserFunctionError} (as an error notification) when `onRecovery` throws.
 * @see startQuery
 */
export function checkpoint<T>(location: string | CheckpointStore, options: CheckpointOptions = {}): MonoTypeOperatorFunction<Batch<T>> {
  const op = 'checkpoint';
  openCheckpoint(location, options); // validates location and options now, inside pipe()
  const { scheduler = asyncScheduler, onRecovery, ...checkpointOptions } = options;

  return (source) => {
    // The stateful operators upstream register with this checkpoint's query: bind them now, while the pipeline is built.
    const binding: QueryBinding = { context: undefined };
    for (const node of upstreamNodes(source)) node.binding = binding;
    assignOperatorIds(source, ['0']);
    const stage = new Stage(op, [source], ([input]) => input!);
    const output = new Observable<Batch<T>>((subscriber) => {
      const store = openCheckpoint(location, checkpointOptions);
      let verified = false;
      const queue: Batch<T>[] = [];
      let upstream: Subscription | undefined;
      let upstreamEnd: { readonly error?: unknown; readonly failed: boolean } | undefined;
      let stopped = false;
      let draining = false;
      let subscribed = false;
      let watermark = 0;
      let lastBatchId = Number.NEGATIVE_INFINITY;

      const fail = (error: unknown, batchId: number): void => {
        if (stopped) return;
        stopped = true;
        upstream?.unsubscribe();
        void store.close().finally(() => subscriber.error(wrapError(op, batchId, error)));
      };

      const drain = async (): Promise<void> => {
        if (draining || stopped || !subscribed) return;
        draining = true;
        let batchId = lastBatchId;
        try {
          while (queue.length > 0 && !stopped) {
            const batch = queue.shift()!;
            batchId = batch.batchId;
            if (!verified) {
              // Every stateful operator upstream registered with this checkpoint, and every one the checkpoint has is there.
              const stray = infoOfBatch(batch).stateful.find((s) => s.query !== binding.context);
              if (stray !== undefined) {
                throw new CheckpointError(
                  `checkpoint: stateful operator ${stray.id} upstream of the checkpoint at ${store.location} did not register with it; got an Observable between them that is not an RxJS operator (no source link), which hides the pipeline. Build the pipeline from RxJS operators, or run it with startQuery.`,
                  store.location,
                );
              }
              store.verifyOperators();
              verified = true;
            }
            await store.writeOffsets({ batchId: batch.batchId, offsets: [], watermark, timestamp: scheduler.now() });
            if (stopped) break;
            subscriber.next(batch);
            // Delivered: commit it, even when the subscriber unsubscribed meanwhile.
            await store.commit(batch.batchId, { watermark: batch.watermark });
            watermark = batch.watermark;
          }
        } catch (error) {
          draining = false;
          if (stopped) void store.close();
          else fail(error, batchId);
          return;
        }
        draining = false;
        if (stopped) {
          void store.close();
          return;
        }
        if (upstreamEnd === undefined || queue.length > 0) return;
        stopped = true;
        const end = upstreamEnd;
        void store.close().then(
          () => (end.failed ? subscriber.error(end.error) : subscriber.complete()),
          (error: unknown) => subscriber.error(error),
        );
      };

      store.open().then(
        (opened) => {
          if (stopped) return;
          watermark = opened.watermark ?? opened.lastCommitted?.watermark ?? 0;
          try {
            onRecovery?.(opened);
          } catch (error) {
            fail(error, opened.lastCommittedBatchId);
            return;
          }
          binding.context = store.createContext(globalThis.crypto.randomUUID(), scheduler);
          // The restored state of the operators upstream is decoded now, before the first batch (as startQuery does before ready).
          if (!opened.fresh) prepareRestoredState(source, binding.context);
          const skipUpTo = opened.lastCommittedBatchId;
          const subscription = source.subscribe({
              next: (batch) => {
                if (stopped) return;
                if (batch.batchId <= lastBatchId) {
                  fail(new BatchSequenceError(op, lastBatchId, batch.batchId), batch.batchId);
                  return;
                }
                lastBatchId = batch.batchId;
                if (batch.batchId <= skipUpTo) return; // already committed: its effect is in the restored state
                queue.push(batch);
                void drain();
              },
              error: (error: unknown) => {
                if (stopped) return;
                upstreamEnd = { error, failed: true };
                void drain();
              },
              complete: () => {
                if (stopped) return;
                upstreamEnd = { failed: false };
                void drain();
              },
            });
          if (stopped) {
            subscription.unsubscribe();
            return;
          }
          upstream = subscription;
          subscribed = true;
          void drain();
        },
        (error: unknown) => fail(error, -1),
      );

      return () => {
        if (!stopped) {
          stopped = true;
          if (!draining) void store.close(); // otherwise the drain loop closes it after its write in flight
        }
        upstream?.unsubscribe();
      };
    });
    return stage.attach(output);
  };
}

import { inQueryContext } from '../../lib/internal/pipeline.js';
import fc from 'fast-check';
import { Subject, asyncScheduler } from 'rxjs';
import type { Batch } from '../../lib/batch/Batch.js';
import { canonicalJson } from '../../lib/checkpoint/StoreCheckpoint.js';
import { EMPTY_PLAN, withPlan } from '../helpers/plan.js';
import { type QueryContext, type StateCodec, type StateHandle, type StatefulOperatorSpec } from '../../lib/state/StateStore.js';
import { SCENARIOS, generateInput, type Row } from '../integration/recovery/restartScenarios.js';

/**
 * The law behind restart equivalence: what a checkpoint rebuilds from deltas
 * alone is the operator's whole state. For every stateful operator of the
 * restart matrix, after every batch, the entries got by applying each
 * batch's delta (the published changed keys, read with `codec.get`) to the
 * previous ones equal every entry of the published state (`codec.entries`,
 * what a snapshot holds) — so no part of the state (late-rows watermarks,
 * session bounds, dedup and join watermarks, timeouts) lives in snapshots only.
 */

interface Recorded {
  readonly id: string;
  readonly codec: StateCodec<unknown>;
  /** Entries rebuilt from the deltas so far, as a checkpoint writes them (JSON text). */
  readonly fromDeltas: Map<string, string>;
  mismatches: string[];
}

function canonicalEntries<S>(codec: StateCodec<S>, state: S): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of codec.entries(state)) out.set(key, canonicalJson(value));
  return out;
}

function recordingContext(recorded: Recorded[]): QueryContext {
  let n = 0;
  return {
    queryId: 'q',
    runId: 'r',
    scheduler: asyncScheduler,
    registerState<S>(spec: StatefulOperatorSpec<S>): StateHandle<S> {
      const id = spec.id;
      n++;
      const entry: Recorded = { id, codec: spec.codec as StateCodec<unknown>, fromDeltas: new Map(), mismatches: [] };
      recorded.push(entry);
      return {
        operatorId: id,
        restored: undefined,
        publish: (batchId, state, changedKeys) => {
          for (const key of changedKeys) {
            const value = spec.codec.get(state, key);
            if (value === undefined) entry.fromDeltas.delete(key);
            else entry.fromDeltas.set(key, JSON.stringify(value));
          }
          // Compared after a round trip through the codec, as recovery sees them (a default such as a
          // watermark of 0 need not be written).
          const full = canonicalEntries(spec.codec, state);
          const rebuilt = canonicalEntries(spec.codec, spec.codec.fromEntries([...entry.fromDeltas].map(([k, v]) => [k, JSON.parse(v) as unknown] as const)));
          const missing = [...full].filter(([k, v]) => rebuilt.get(k) !== v).map(([k, v]) => `${k}=${v} (from the deltas: ${rebuilt.get(k) ?? 'absent'})`);
          const stale = [...rebuilt.keys()].filter((k) => !full.has(k)).map((k) => `${k}=${rebuilt.get(k)!} is gone but still in the deltas`);
          for (const m of [...missing, ...stale]) entry.mismatches.push(`batch ${batchId}: ${m}`);
        },
      };
    },
  };
}

/** Runs a scenario's pipeline over `batches` the way the runtime does (watermark in = previous watermark out); returns each operator's delta mismatches. */
function deltaMismatches(index: number, batches: readonly (readonly Row[])[]): Record<string, string[]> {
  const s = SCENARIOS[index]!;
  const recorded: Recorded[] = [];
  const input = new Subject<Batch<Row>>();
  let clockMs = 0;
  const clock = { scheduler: { now: () => clockMs, schedule: asyncScheduler.schedule.bind(asyncScheduler) } as typeof asyncScheduler, set: (b: number) => void (clockMs = 1_000_000 + b * 1000) };
  let watermark = 0;
  let failure: unknown;
  s.pipeline(input.asObservable().pipe(inQueryContext(recordingContext(recorded))), clock).subscribe({
    next: (b) => void (watermark = b.watermark),
    error: (error: unknown) => void (failure = error),
  });
  batches.forEach((rows, batchId) => {
    clock.set(batchId);
    input.next({ batchId, rows, watermark });
  });
  if (failure !== undefined) throw failure;
  expect(recorded.length).toBeGreaterThan(0);
  return Object.fromEntries(recorded.filter((r) => r.mismatches.length > 0).map((r) => [r.id, r.mismatches]));
}

describe('checkpoint deltas', () => {
  SCENARIOS.forEach((s, index) => {
    it(`${s.name}: every delta chain rebuilds the whole published state`, () => {
      expect(deltaMismatches(index, s.batches)).toEqual({});
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
          expect(deltaMismatches(index, generateInput(seed, 14))).toEqual({});
        }),
        { numRuns: 25 },
      );
    });
  });
});

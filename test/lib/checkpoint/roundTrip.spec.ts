import fc from 'fast-check';
import { Map as ImMap } from 'immutable';
import { asyncScheduler } from 'rxjs';
import { MemoryCheckpointStore } from '../../../lib/checkpoint/MemoryCheckpointStore.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import { drive } from './drive.js';
import { countsCodec, type Row } from './fixtures.js';

const rowArb = fc.record({ k: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'x|y', 'é'), ts: fc.nat(1000), remove: fc.boolean() });

/** The counts an uninterrupted run ends with (the model). */
function model(inputs: readonly (readonly Row[])[]): ImMap<string, number> {
  let state = ImMap<string, number>();
  for (const rows of inputs) {
    for (const row of rows) {
      const next = (state.get(row.k) ?? 0) + (row.remove === true ? -1 : 1);
      state = next <= 0 ? state.delete(row.k) : state.set(row.k, next);
    }
  }
  return state;
}

async function restoredState(store: MemoryCheckpointStore): Promise<ImMap<string, number> | undefined> {
  const checkpoint = openCheckpoint(store);
  await checkpoint.open();
  const handle = checkpoint.createContext('check', asyncScheduler).registerState({ kind: 'countByKey', id: 'countByKey#0', descriptor: { by: 'k' }, codec: countsCodec });
  return handle.restored?.state;
}

describe('checkpoint round trip', () => {
  it('restores exactly the state and output of an uninterrupted run, whatever the restarts, crashes, snapshot interval, snapshot delta ratio and retention', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(rowArb, { maxLength: 6 }), { minLength: 1, maxLength: 14 }),
        fc.array(fc.record({ at: fc.nat(13), crash: fc.boolean() }), { maxLength: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom(0, 0.5, 2),
        async (inputs, stops, snapshotInterval, minBatchesToRetain, snapshotDeltaRatio) => {
          const options = { snapshotInterval, minBatchesToRetain, snapshotDeltaRatio };
          const whole = await drive(new MemoryCheckpointStore(), inputs, options);
          const store = new MemoryCheckpointStore();
          const output = new Map<number, unknown>();
          for (const stop of [...stops].sort((a, b) => a.at - b.at)) {
            const end = Math.min(stop.at, inputs.length - 1);
            const run = await drive(store, inputs.slice(0, end + 1), stop.crash ? { ...options, crashAfterOffsetsOf: end } : options);
            for (const [id, rows] of run.output) output.set(id, rows);
          }
          const last = await drive(store, inputs, options);
          for (const [id, rows] of last.output) output.set(id, rows);
          expect(output).toEqual(whole.output);
          const state = await restoredState(store);
          expect(state?.toJS()).toEqual(model(inputs).toJS());
        },
      ),
      { numRuns: 100 },
    );
  });
});

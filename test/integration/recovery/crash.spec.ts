import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crashRun, type CrashRunResult } from './crashHarness.js';

/** 21 child runs of 36 small batches: bounded by that work, however slow the machine; the limit only stops a hang. */
const NO_WALL_CLOCK_LIMIT = 3_600_000;

/**
 * Exactly once under SIGKILL: a child process runs file source → withWatermark
 * → dropDuplicates → windowTumbling (append) → file sink with a checkpoint.
 * It is killed at 20 points spread over its 36 batches — during batches, in
 * the middle of checkpoint file writes (offsets, deltas, snapshots, commits),
 * between the sink and the commit, and at random times — and restarted from
 * its checkpoint each time. The final output must equal that of an
 * uninterrupted run, byte for byte, and after every kill a plain reader of
 * the output directory must only see files identical to the final ones.
 */
describe('recovery under SIGKILL', () => {
  let work: string;
  let result: CrashRunResult;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'rss-crash-'));
    result = await crashRun({ workDir: work, kills: 20, files: 36, seed: 7 });
  }, NO_WALL_CLOCK_LIMIT);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('was killed at the planned points and restarted each time', () => {
    expect(result.killed + result.missed).toBe(20);
    // A kill planned early in a batch can miss on a fast machine (the run got past it); most must land.
    expect(result.killed).toBeGreaterThanOrEqual(10);
    expect(result.runs).toHaveLength(21);
  });

  it('writes exactly the output files of an uninterrupted run', () => {
    expect(result.expected.size).toBeGreaterThan(5);
    expect([...result.actual.keys()]).toEqual([...result.expected.keys()]);
    expect(result.actual).toEqual(result.expected);
  });

  it('records the same committed batches in the sink manifest', () => {
    expect(result.actualManifest).toEqual(result.expectedManifest);
  });

  it('never shows a plain reader a file that differs from the final one', () => {
    expect(result.inconsistentAfterKill).toEqual([]);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crashRun, type CrashRunResult } from './crashHarness.js';

/** 13 child runs of 16 small batches: bounded by that work, however slow the machine; the limit only stops a hang. */
const NO_WALL_CLOCK_LIMIT = 3_600_000;

/**
 * A checkpointed two-source query (two directories, one trigger plans both,
 * joined per device, then counted per window in append mode), SIGKILLed at
 * random hook points and instants and restarted each time, writes exactly the
 * output files of an uninterrupted run: the write-ahead log of each batch
 * holds both inputs' offsets, and recovery restores both.
 */
describe('a two-source query under SIGKILL', () => {
  let work: string;
  let result: CrashRunResult;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'rss-two-sources-'));
    result = await crashRun({ workDir: work, kills: 12, files: 16, seed: 11, twoSources: true });
  }, NO_WALL_CLOCK_LIMIT);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('was killed at the planned points and restarted each time', () => {
    expect(result.killed + result.missed).toBe(12);
    expect(result.killed).toBeGreaterThanOrEqual(8);
  });

  it('writes exactly the output files of an uninterrupted run', () => {
    expect(result.expected.size).toBeGreaterThan(3);
    expect(result.actual).toEqual(result.expected);
    expect(result.actualManifest).toEqual(result.expectedManifest);
  });

  it('never shows a plain reader a file that differs from the final one', () => {
    expect(result.inconsistentAfterKill).toEqual([]);
  });
});

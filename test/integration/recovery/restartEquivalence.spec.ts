import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleChild, gracefulTrials, killTrials, reference, summary, type TrialResult } from './restartMatrix.js';
import { SCENARIOS } from './restartScenarios.js';

/** Work-bounded: each test runs a fixed number of small queries; the limit only guards against a hang. */
const NO_WALL_CLOCK_LIMIT = 3_600_000;

/**
 * Restart equivalence (issue 11, point 1): for every stateful operator and a
 * few chains, a query stopped after any batch — by `stop()` or by SIGKILL at
 * a checkpoint or pipeline step — and restarted writes exactly the rows of an
 * uninterrupted run, with a snapshot every batch and every 10 batches.
 */
describe('restart equivalence', () => {
  let work: string;
  let child: string;
  const all: TrialResult[] = [];

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'rss-restart-'));
    child = bundleChild(join(work, 'child'));
  });

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
    const { trials, exact, inexact } = summary(all);
    process.stdout.write(`restart matrix: ${trials} trials, ${exact} exact, ${inexact} inexact\n`);
  });

  SCENARIOS.forEach((s, index) => {
    it(
      `${s.name}: a restart after any batch gives the uninterrupted output`,
      async () => {
        const dir = join(work, `s${index}`);
        const { input, expected } = await reference(s, dir);
        expect(expected.size).toBeGreaterThan(0);
        const results: TrialResult[] = [];
        for (const interval of [1, 10]) {
          results.push(...(await gracefulTrials(s, dir, input, expected, interval)));
          results.push(...(await killTrials(child, s, index, dir, input, expected, interval)));
        }
        all.push(...results);
        const { failures } = summary(results);
        expect(failures).toEqual([]);
        expect(results.filter((r) => r.kind === 'sigkill' && r.killed === true).length).toBeGreaterThanOrEqual(s.batches.length - 1);
        rmSync(dir, { recursive: true, force: true });
      },
      NO_WALL_CLOCK_LIMIT,
    );
  });
});

/**
 * Runs the restart-equivalence matrix of `test/integration/recovery/` and
 * prints its counts (trials, exact, inexact) and every inexact trial:
 *
 *   npx tsx scripts/restartMatrix.ts [scenario-name-substring]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleChild, gracefulTrials, killTrials, reference, summary, type TrialResult } from '../test/integration/recovery/restartMatrix.js';
import { SCENARIOS } from '../test/integration/recovery/restartScenarios.js';

const filter = process.argv[2];
const work = mkdtempSync(join(tmpdir(), 'rss-restart-matrix-'));
const child = bundleChild(join(work, 'child'));
const all: TrialResult[] = [];
try {
  for (const [index, s] of SCENARIOS.entries()) {
    if (filter !== undefined && !s.name.includes(filter)) continue;
    const dir = join(work, `s${index}`);
    const { input, expected } = await reference(s, dir);
    const results: TrialResult[] = [];
    for (const interval of [1, 10]) {
      results.push(...(await gracefulTrials(s, dir, input, expected, interval)));
      results.push(...(await killTrials(child, s, index, dir, input, expected, interval)));
    }
    const { trials, exact, inexact } = summary(results);
    const killed = results.filter((r) => r.killed === true).length;
    console.log(`${s.name}: ${trials} trials, ${exact} exact, ${inexact} inexact (${killed} SIGKILLed)`);
    all.push(...results);
  }
  const { trials, exact, inexact, failures } = summary(all);
  for (const f of failures) console.log(`  inexact: ${f}`);
  const byKind = (kind: string): string => {
    const part = summary(all.filter((r) => r.kind === kind));
    return `${part.trials} trials, ${part.exact} exact, ${part.inexact} inexact`;
  };
  console.log(`graceful: ${byKind('graceful')}; sigkill: ${byKind('sigkill')}`);
  console.log(`total: ${trials} trials, ${exact} exact, ${inexact} inexact`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

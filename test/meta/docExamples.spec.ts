import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { docExamples, tsdocExamples } from '../../scripts/docExamples.js';

const root = join(__dirname, '..', '..');

describe('documented examples', () => {
  it('are all copied into test/types/docs, where the type check compiles them (run `npx tsx scripts/docExamples.ts` after editing docs or a TSDoc example)', () => {
    const expected = new Map([...docExamples(root), ...tsdocExamples(root)]);
    const dir = join(root, 'test', 'types', 'docs');
    const actual = new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, content] of expected) expect(actual.get(name)).toBe(content);
    expect(expected.size).toBeGreaterThan(40);
    // Every operator's TSDoc example is among them.
    for (const op of readdirSync(join(root, 'operators')).filter((f) => f !== 'index.ts')) expect(expected.has(`tsdoc_operators_${op.replace(/\.ts$/, '')}_0.ts`)).toBe(true);
  });
});

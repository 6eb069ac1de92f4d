import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { docExamples } from '../../scripts/docExamples.js';

const root = join(__dirname, '..', '..');

describe('documented examples', () => {
  it('are all copied into test/types/docs, where the type check compiles them (run `npx tsx scripts/docExamples.ts` after editing docs)', () => {
    const expected = docExamples(root);
    const dir = join(root, 'test', 'types', 'docs');
    const actual = new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, content] of expected) expect(actual.get(name)).toBe(content);
    expect(expected.size).toBeGreaterThan(20);
  });
});

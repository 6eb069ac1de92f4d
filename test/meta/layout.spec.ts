import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const operators = readdirSync(join(root, 'operators'))
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
  .map((f) => f.replace(/\.ts$/, ''));

describe('layout', () => {
  it('has one public operator per file, named like its export', () => {
    for (const op of operators) {
      const text = readFileSync(join(root, 'operators', `${op}.ts`), 'utf8');
      expect(text).toMatch(new RegExp(`export function ${op}\\b`));
    }
  });

  it.each(operators)('has a spec for %s, and no hand-written reference page (the reference is generated from the TSDoc)', (op) => {
    expect(existsSync(join(root, 'test', 'operators', `${op}.spec.ts`))).toBe(true);
    expect(existsSync(join(root, 'docs', 'operators', `${op}.md`))).toBe(false);
  });

  it.each(operators)('documents %s with TSDoc carrying its Spark equivalent, a marble diagram and an example', (op) => {
    const text = readFileSync(join(root, 'operators', `${op}.ts`), 'utf8');
    const doc = text.slice(0, text.search(new RegExp(`export function ${op}\\b`)));
    expect(doc).toContain('@example');
    expect(doc).toContain('Spark');
    expect(doc).toMatch(/```text\n[\s\S]*?-[\s\S]*?```/);
    // The comment is the one right above the function, so that TypeDoc attaches it to it.
    expect(text).toMatch(new RegExp(`\\*/\\nexport function ${op}\\b`));
  });

  it.each(operators)('explains %s in a guide that links to its source', (op) => {
    const guides = readdirSync(join(root, 'docs', 'guides')).map((f) => readFileSync(join(root, 'docs', 'guides', f), 'utf8')).join('\n');
    expect(guides).toContain(`## ${op}\n\nReference: [\`operators/${op}.ts\`](../../operators/${op}.ts)`);
  });

  it('exports every operator from the package entry point', () => {
    const barrel = readFileSync(join(root, 'operators', 'index.ts'), 'utf8') + readFileSync(join(root, 'lib', 'index.ts'), 'utf8');
    for (const op of operators) expect(barrel).toMatch(new RegExp(`\\b${op}\\b`));
  });
});

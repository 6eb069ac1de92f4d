// The README's examples do what the README says: the first prints the batches
// its `// =>` comments show, and the testing examples pass. They run from the
// copies scripts/docExamples.ts makes (test/types/docs/README_*.ts, kept
// current by test/meta/docExamples.spec.ts), with the package imports pointed
// at the sources. (The `startQuery` example watches /data/monitor and is only
// compiled; test/integration/sinks/examples.spec.ts runs the same query as
// `npm start`.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';

const root = join(__dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => /from 'rxjs-structured-streaming(\/\w+)?'/.test(code));

/** What a block's trailing `// =>` comment lines say it prints, one entry per console.log call (continuation lines joined). */
function expectedOutput(code: string): string[] {
  const out: string[] = [];
  for (const line of code.split('\n')) {
    const printed = /^\/\/ => (.*)$/.exec(line);
    const continued = /^\/\/ {4,}(.*)$/.exec(line);
    if (printed !== null) out.push(printed[1]!);
    else if (continued !== null && out.length > 0) out[out.length - 1] += ` ${continued[1]!}`;
  }
  return out;
}

const squash = (text: string): string => text.replace(/\s+/g, ' ').replace(/\[ /g, '[').replace(/ \]/g, ']').replace(/\{ /g, '{').replace(/ \}/g, '}').trim();

describe('the README examples', () => {
  it('are the blocks the type check compiles (README_0 … README_3)', () => {
    expect(blocks).toHaveLength(4);
    const body = (code: string): string => code.replace(/^import .*$/gm, '').trim();
    for (const [i, code] of blocks.entries()) expect(readFileSync(join(root, 'test', 'types', 'docs', `README_${i}.ts`), 'utf8')).toContain(body(code));
  });

  it('the first one prints what its comments say', () => {
    const printed: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 5, breakLength: Infinity }))).join(' ')));
    try {
      jest.isolateModules(() => require('../types/docs/README_0'));
    } finally {
      log.mockRestore();
    }
    const expected = expectedOutput(blocks[0]!);
    expect(expected).toHaveLength(2);
    expect(printed.map(squash)).toEqual(expected.map(squash));
  });

  it.each([
    [2, 'streamTest'],
    [3, 'marble test'],
  ])('README_%i (the %s of "Testing your pipelines") passes', (i) => {
    expect(() => jest.isolateModules(() => require(`../types/docs/README_${i}`))).not.toThrow();
  });
});

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UNSUPPORTED } from '../../lib/query/unsupportedOperations.js';

const root = join(__dirname, '..', '..');

/**
 * Spark refusals with no counterpart here, and why. Every other entry of
 * UNSUPPORTED must be raised by the code and asserted by a test: that is what
 * the README's "refused here too" claim rests on (docs/guides/errors.md lists them).
 */
const NOT_RAISED: Readonly<Partial<Record<keyof typeof UNSUPPORTED, string>>> = {
  distinctAggregation: 'countDistinct is offered: exact distinct counts kept in state per group (Spark refuses count(distinct) and suggests approx_count_distinct)',
  unionStreamingAndBatch: 'every input of union is a stream of batches; there is no batch DataFrame to mix in',
  multipleWindows: 'each window operator takes exactly one window specification',
};

function files(dir: string, suffix: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path, suffix) : name.endsWith(suffix) ? [path] : [];
  });
}

/**
 * The part of a message a test is expected to assert: its longest literal
 * part (a function entry is called with a marker in place of its argument),
 * from the first letter, to the end of the first sentence, at most 40 characters.
 */
function distinctivePart(entry: string | ((arg: never) => string)): string {
  const text = typeof entry === 'function' ? entry('\u0000' as never) : entry;
  const longest = text.split('\u0000').reduce((a, b) => (b.length > a.length ? b : a), '');
  const fromLetter = longest.slice(longest.search(/[A-Za-z]/));
  const sentence = fromLetter.includes('. ') ? fromLetter.slice(0, fromLetter.indexOf('. ') + 1) : fromLetter;
  return sentence.slice(0, 40);
}

describe('refusals: every Spark refusal that can be written here is raised and tested', () => {
  const specs = files(join(root, 'test'), '.spec.ts').map((f) => readFileSync(f, 'utf8')).join('\n');
  const code = [...files(join(root, 'lib'), '.ts'), ...files(join(root, 'operators'), '.ts')].map((f) => readFileSync(f, 'utf8')).join('\n');
  const keys = Object.keys(UNSUPPORTED) as (keyof typeof UNSUPPORTED)[];

  it.each(keys.filter((k) => NOT_RAISED[k] === undefined))('%s is raised by the code and its message is asserted by a spec', (key) => {
    expect(code).toMatch(new RegExp(`UNSUPPORTED\\.${key}\\b`));
    expect(specs).toContain(distinctivePart(UNSUPPORTED[key]));
  });

  it.each(keys.filter((k) => NOT_RAISED[k] !== undefined))('%s has no counterpart (and is not raised)', (key) => {
    expect(code).not.toMatch(new RegExp(`UNSUPPORTED\\.${key}\\b`));
  });

  it('lists every refusal and every exception in docs/guides/errors.md', () => {
    const guide = readFileSync(join(root, 'docs', 'guides', 'errors.md'), 'utf8');
    for (const key of keys) expect(guide).toContain(distinctivePart(UNSUPPORTED[key]));
  });
});

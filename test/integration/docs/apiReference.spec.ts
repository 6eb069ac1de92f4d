// `npm run docs` (TypeDoc over the TSDoc) into a temporary directory: it
// succeeds, and every operator's page carries its marble diagram and its
// example as code blocks.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const operators = readdirSync(join(root, 'operators'))
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
  .map((f) => f.replace(/\.ts$/, ''));

/** The text of an HTML fragment without tags and with the common entities decoded. */
const textOf = (html: string): string =>
  html.replace(/<br\s*\/?>/g, '\n').replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

describe('the API reference generated from the TSDoc (npm run docs)', () => {
  let out: string;
  let log: string;

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'rss-api-'));
    const r = spawnSync('npm', ['run', '--silent', 'docs', '--', '--out', out], { cwd: root, encoding: 'utf8' });
    log = `${r.stdout}\n${r.stderr}`;
    if (r.status !== 0) throw new Error(`npm run docs exited with ${r.status}\n${log}`);
  }, 20 * 60_000);

  afterAll(() => {
    if (out !== undefined) rmSync(out, { recursive: true, force: true });
  });

  it('reports no error and no broken link', () => {
    expect(log).toContain('html generated at');
    // A link to a symbol that exists but is not exported renders as plain text: tolerated.
    // Anything else TypeDoc warns about (an unresolved link, a missing file) is a defect.
    const problems = log
      .split('\n')
      .filter((line) => /\[(error|warning)\]/.test(line))
      .filter((line) => !/which was resolved but is not included in the documentation/.test(line) && !/Found \d+ errors and \d+ warnings/.test(line));
    expect(problems).toEqual([]);
  });

  it('renders the testing entry as its own module, with the marble helpers', () => {
    expect(existsSync(join(out, 'modules', 'rxjs-structured-streaming_testing.html'))).toBe(true);
    const html = readFileSync(join(out, 'functions', 'rxjs-structured-streaming_testing.createTestScheduler.html'), 'utf8');
    expect(textOf(html)).toContain("createTestScheduler().run(({ cold, expectObservable }) => {");
  });

  it.each(operators)('renders %s with its marble diagram and its example as code blocks', (op) => {
    const page = join(out, 'functions', `rxjs-structured-streaming.${op}.html`);
    expect(existsSync(page)).toBe(true);
    const html = readFileSync(page, 'utf8');
    const blocks = [...html.matchAll(/<pre><code[^>]*>([\s\S]*?)<\/code>/g)].map((m) => textOf(m[1]!));
    const source = readFileSync(join(root, 'operators', `${op}.ts`), 'utf8');
    const marble = /```text\n([\s\S]*?)```/.exec(source)![1]!.split('\n')[0]!.replace(/^\s*\*\s?/, '').trim();
    expect(blocks.some((b) => b.includes(marble))).toBe(true);
    const example = /@example[\s\S]*?```ts\n([\s\S]*?)```/.exec(source)![1]!.split('\n').map((l) => l.replace(/^\s*\*\s?/, '')).find((l) => l.trim() !== '' && !l.startsWith('import'))!;
    expect(blocks.some((b) => b.includes(example.trim()))).toBe(true);
  });
});

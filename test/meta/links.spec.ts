import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

const root = join(__dirname, '..', '..');

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? markdownFiles(path) : name.endsWith('.md') ? [path] : [];
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const m of text.matchAll(/^#{1,6} +(.+)$/gm)) {
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of text.matchAll(/<a +(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
  return anchors;
}

/** Every relative link of a markdown file (outside code), as [target, anchor]. */
function relativeLinks(file: string): [string, string | undefined][] {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const links: [string, string | undefined][] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const href = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue; // http:, https:, mailto:
    const [path, anchor] = href.split('#') as [string, string | undefined];
    links.push([path, anchor]);
  }
  return links;
}

const files = [join(root, 'README.md'), ...markdownFiles(join(root, 'docs'))];

/** The dead relative links of a markdown file: missing files, and missing headings in linked (or the same) markdown files. */
function deadLinks(file: string): string[] {
  const dead: string[] = [];
  for (const [path, anchor] of relativeLinks(file)) {
    const target = path === '' ? file : join(dirname(file), decodeURIComponent(path));
    if (!existsSync(target)) {
      dead.push(`${path}${anchor === undefined ? '' : `#${anchor}`} (no such file)`);
      continue;
    }
    if (anchor !== undefined && anchor !== '' && target.endsWith('.md') && !anchorsOf(target).has(anchor)) dead.push(`${path}#${anchor} (no such heading)`);
  }
  return dead;
}

describe('documentation links', () => {
  it.each(files.map((f) => relative(root, f)))('%s has no dead relative link', (name) => {
    expect(deadLinks(join(root, name))).toEqual([]);
  });

  it('links every guide in docs/guides/ from README.md (the guides index)', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const unlinked = readdirSync(join(root, 'docs', 'guides'))
      .filter((f) => f.endsWith('.md'))
      .filter((f) => !readme.includes(`](docs/guides/${f}`));
    expect(unlinked).toEqual([]);
  });

  it('cites no file outside the repository (design notes, SEMANTICS.md)', () => {
    const cited = files.flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      return [...text.matchAll(/\.\.\/shared\/|SEMANTICS\.md|notes\/0\d\d/g)].map((m) => `${relative(root, f)}: ${m[0]}`);
    });
    expect(cited).toEqual([]);
  });

  it('finds dead files and dead anchors, and ignores external links and code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rss-links-'));
    try {
      writeFileSync(join(dir, 'other.md'), '# Other page\n\n## A `code` heading\n');
      writeFileSync(
        join(dir, 'page.md'),
        [
          '# Page',
          '[ok](other.md) [ok anchor](other.md#a-code-heading) [self](#page) [web](https://example.com/x.md)',
          '[gone](missing.md) [bad anchor](other.md#nope) `[in code](nowhere.md)`',
          '```md',
          '[in a block](nowhere.md)',
          '```',
        ].join('\n'),
      );
      expect(deadLinks(join(dir, 'page.md'))).toEqual(['missing.md (no such file)', 'other.md#nope (no such heading)']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Strips comments so that documentation may mention the forbidden calls. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

describe('sources', () => {
  const files = [...sourceFiles(join(root, 'lib')), ...sourceFiles(join(root, 'operators'))];

  it('never read the wall clock: time comes from an injected scheduler', () => {
    const offenders: string[] = [];
    for (const file of files) {
      const text = code(readFileSync(file, 'utf8'));
      const lines = text.split('\n');
      lines.forEach((line, i) => {
        if (/\bDate\.now\s*\(|\bnew Date\s*\(\s*\)|\bsetTimeout\s*\(|\bsetInterval\s*\(|\bperformance\.now\s*\(/.test(line)) {
          offenders.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`);
        }
      });
    }
    expect(offenders).toEqual([]);
  });

  it('keep Node built-ins out of the operators and the browser-safe core', () => {
    const nodeOnly = /^(lib\/(sources|sinks|query|checkpoint|kafka|ui|s3)\/|lib\/index\.ts$|operators\/checkpoint\.ts$)/;
    const offenders: string[] = [];
    for (const file of files) {
      const rel = relative(root, file).split('\\').join('/');
      if (nodeOnly.test(rel)) continue;
      const text = code(readFileSync(file, 'utf8'));
      if (/from\s+['"](node:|fs['"]|net['"]|path['"]|os['"]|crypto['"]|child_process['"]|stream['"]|buffer['"])/.test(text) || /\bprocess\.|\bBuffer\./.test(text)) {
        offenders.push(rel);
      }
    }
    expect(offenders).toEqual([]);
  });
});

/** Evaluates a numeric literal or a product of them as written in a test (`600_000`, `20 * 60_000`); NaN otherwise. */
function literalMs(text: string): number {
  const parts = text.split('*').map((p) => Number(p.trim().replace(/_/g, '')));
  return parts.every((n) => Number.isFinite(n)) ? parts.reduce((a, b) => a * b, 1) : Number.NaN;
}

describe('tests', () => {
  // jest.config.cjs: the one limit, a backstop against a hang; a loaded 2-core machine can be many times slower than an idle one.
  const backstopMs = (require(join(root, 'jest.config.cjs')) as { testTimeout: number }).testTimeout;
  const files = sourceFiles(join(root, 'test'));

  it('have a jest backstop of at least 10 minutes', () => {
    expect(backstopMs).toBeGreaterThanOrEqual(600_000);
  });

  it('set no time limit shorter than the backstop: a slow machine never fails a test that only needed more time', () => {
    const offenders: string[] = [];
    for (const file of files) {
      const text = code(readFileSync(file, 'utf8'));
      const constants = new Map<string, number>();
      for (const m of text.matchAll(/\bconst\s+([A-Z][A-Z0-9_]*)\s*=\s*([0-9_][0-9_\s*]*)\s*;/g)) constants.set(m[1]!, literalMs(m[2]!));
      const limits: Array<[string, string]> = [];
      // jest.setTimeout(n); a test or hook's own limit: `}, n);` closing it(...)/beforeAll(...); spawnSync/exec `timeout: n`.
      for (const m of text.matchAll(/jest\.setTimeout\(\s*([^)]+?)\s*\)/g)) limits.push([m[0], m[1]!]);
      for (const m of text.matchAll(/^\s*\}\s*,\s*([A-Z][A-Z0-9_]*|[0-9][0-9_]*(?:\s*\*\s*[0-9_]+)*)\s*,?\s*\)\s*;/gm)) limits.push([m[0], m[1]!]);
      for (const m of text.matchAll(/\btimeout:\s*([A-Z][A-Z0-9_]*|[0-9][0-9_]*(?:\s*\*\s*[0-9_]+)*)/g)) limits.push([m[0], m[1]!]);
      for (const [where, value] of limits) {
        const ms = constants.get(value) ?? literalMs(value);
        if (Number.isNaN(ms) || ms < backstopMs) offenders.push(`${relative(root, file)}: ${where.replace(/\s+/g, ' ')} (${Number.isNaN(ms) ? 'not a literal' : `${ms} ms`})`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

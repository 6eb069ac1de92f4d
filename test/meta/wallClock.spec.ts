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
    const nodeOnly = /^(lib\/(sources|sinks|query|checkpoint|kafka|ui)\/|lib\/index\.ts$|operators\/checkpoint\.ts$)/;
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

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** The module specifiers a file imports or re-exports (static and dynamic). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);
}

describe('the S3 store stays behind its own entry point', () => {
  const s3Dir = join(root, 'lib', 's3');
  const core = [...sources(join(root, 'lib')), ...sources(join(root, 'operators'))].filter((f) => !f.startsWith(s3Dir + '/'));

  it('no module of the core or the operators imports @aws-sdk or lib/s3', () => {
    const offenders = core.flatMap((file) => specifiers(file).filter((s) => s.startsWith('@aws-sdk/') || /(^|\/)s3(\/|\.js$|$)/.test(s)).map((s) => `${relative(root, file)} imports ${s}`));
    expect(offenders).toEqual([]);
  });

  it('is the package export ./s3, with @aws-sdk/client-s3 an optional peer dependency', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, { types: string; import: string }>;
      peerDependencies?: Record<string, string>;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
      dependencies?: Record<string, string>;
    };
    expect(pkg.exports['./s3']).toEqual({ types: './dist/lib/s3/index.d.ts', import: './dist/lib/s3/index.js' });
    expect(pkg.peerDependencies?.['@aws-sdk/client-s3']).toBeDefined();
    expect(pkg.peerDependenciesMeta?.['@aws-sdk/client-s3']?.optional).toBe(true);
    expect(pkg.dependencies?.['@aws-sdk/client-s3']).toBeUndefined();
  });
});

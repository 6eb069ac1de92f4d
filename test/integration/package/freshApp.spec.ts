// The package as a user gets it: `npm pack`, the tarball installed into a
// fresh app with strict TypeScript (dependencies from the local npm cache,
// else the registry), a pipeline and a user-written marble test compiled by
// the app's own tsc and run with node. Also checks what the tarball ships:
// every source map's sources are in it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const appTemplate = join(__dirname, 'app');
/** npm and tsc runs are bounded by their work, not by time: the jest timeout is only a backstop for a hung process. */
const BACKSTOP_MS = 20 * 60_000;

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], cwd: string): Run {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(command: string, args: readonly string[], cwd: string): string {
  const r = run(command, args, cwd);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const versionOf = (pkg: string): string => (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

describe('the packed package in a fresh strict TypeScript app', () => {
  let work: string;
  let app: string;
  let packed: string[];

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'rss-fresh-app-'));
    // What `npm pack` runs as prepack, done here first so that pack's --json output is only JSON.
    ok('npm', ['run', '--silent', 'build:clean'], root);
    const out = ok('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], root);
    const [info] = JSON.parse(out.slice(out.indexOf('['))) as [{ filename: string; files: { path: string }[] }];
    packed = info.files.map((f) => f.path);
    app = join(work, 'app');
    mkdirSync(app);
    for (const name of readdirSync(appTemplate)) copyFileSync(join(appTemplate, name), join(app, name));
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'fresh-app',
        private: true,
        type: 'module',
        dependencies: { 'rxjs-structured-streaming': `file:${join(work, info.filename)}` },
        devDependencies: { typescript: versionOf('typescript'), '@types/node': versionOf('@types/node') },
      }),
    );
    ok('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], app);
  }, BACKSTOP_MS);

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('ships the build, the sources its source maps point to, the guides, and no tests', () => {
    for (const f of ['package.json', 'README.md', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/testing/index.js', 'dist/operators/index.js', 'docs/guides/semantics.md']) expect(packed).toContain(f);
    expect(packed.filter((f) => f.startsWith('test/') || f.includes('.spec.'))).toEqual([]);
    const maps = packed.filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(100);
    const unresolved: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(root, map), 'utf8')) as { sources: string[] };
      for (const source of sources) {
        const target = posix.normalize(posix.join(posix.dirname(map), source));
        if (!packed.includes(target)) unresolved.push(`${map} -> ${target}`);
      }
    }
    expect(unresolved).toEqual([]);
  });

  it('compiles a pipeline, a marble test and the type checks of types.ts (fragments, type arguments, field aggregators, keyed state) with the app\'s strict tsc, against the packed types', () => {
    ok(join(app, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], app);
  });

  it('runs the pipeline: windowed counts, and a query with a source and a sink', () => {
    const out = ok('node', [join('dist', 'pipeline.js')], app);
    expect(JSON.parse(out)).toEqual({
      perPage: [
        [0, 2_000, []],
        [1, 20_000, ['10000-15000 cart 1 5', '10000-15000 home 2 7']],
      ],
      table: ['0 home 2'],
      lastBatch: 0,
    });
  });

  it('runs the user-written marble test: passing cases pass, a wrong expectation fails with a readable diff', () => {
    const out = ok('node', [join('dist', 'marble.test.js')], app);
    expect(out.trim().split('\n')).toEqual([
      'ok - windowed counts emit when the watermark passes the window end',
      'ok - update mode rows compare as a multiset',
      'ok - a wrong expectation fails with a readable diff',
      'ok - a reusable fragment typed by its first operator is marble-tested like any operator',
      "ok - rowOrder: 'ordered' compares rows in order, and says so when they differ",
    ]);
  });

  it('reports a query that fails while nobody awaits it: logged once with its name and ids, or to the handler of startQuery or of streams; its progress page serves itself on loopback with the error', () => {
    const r = run('node', [join('dist', 'failing.js')], app);
    expect(r.status).toBe(0);
    const [defaultLine, handled, page] = r.stdout.trim().split('\n');
    const id = /^default (\S+)$/.exec(defaultLine ?? '')?.[1];
    expect(id).toBeDefined();
    expect(r.stderr.match(/terminated with error/g)).toHaveLength(1);
    expect(r.stderr).toContain(`Query fresh-default [id = ${id!}, runId = `);
    expect(r.stderr).toContain('fresh-default: the sink is down');
    expect(JSON.parse(handled!)).toEqual([expect.stringMatching(/^own fresh-own .*fresh-own: the sink is down/), expect.stringMatching(/^manager fresh-manager .*fresh-manager: the sink is down/)]);
    expect(JSON.parse(page!)).toEqual({ url: true, externalUrls: 0, feedHasError: true });
  });

  it('rejects a misspelt field at compile time', () => {
    const r = run(join(app, 'node_modules', '.bin', 'tsc'), ['--noEmit', '--strict', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--types', 'node', 'misuse.ts'], app);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('"pgae"');
    expect(r.stdout).toContain('misuse.ts(4,');
  });
});


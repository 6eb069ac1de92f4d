import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';

const root = join(__dirname, '..', '..');
const NODE_BUILTIN = /^(node:|fs$|net$|path$|os$|crypto$|child_process$|stream$|buffer$|events$|util$|http$|https$|zlib$|tls$|dns$)/;

/** A windowed pipeline run inside the bundle: the script leaves its result in `globalThis.result`. */
const PIPELINE = `
  const { fromBatches, withWatermark, windowTumbling, count, sum, outputMode } = RSS;
  const out = [];
  fromBatches([
    [{ ts: '2018-03-02T10:02:33', action: 'open', n: 1 }, { ts: '2018-03-02T10:04:35', action: 'close', n: 2 }],
    [{ ts: '2018-03-02T10:03:50', action: 'open', n: 3 }],
    [{ ts: '2018-03-02T10:21:00', action: 'open', n: 4 }],
  ])
    .pipe(
      withWatermark('ts', '5 minutes'),
      windowTumbling({ eventTime: 'ts', size: '10 minutes', keyBy: 'action', aggregate: { count: count(), total: sum('n') } }),
      outputMode('append'),
    )
    .subscribe((b) => out.push([b.batchId, b.watermark, b.rows.map((r) => [new Date(r.window.start).toISOString(), r.action, r.count, r.total]).sort()]));
  globalThis.result = JSON.stringify(out);
`;
const EXPECTED = JSON.stringify([
  [0, Date.UTC(2018, 2, 2, 9, 59, 35), []],
  [1, Date.UTC(2018, 2, 2, 9, 59, 35), []],
  [2, Date.UTC(2018, 2, 2, 10, 16, 0), [['2018-03-02T10:00:00.000Z', 'close', 1, 2], ['2018-03-02T10:00:00.000Z', 'open', 2, 4]]],
]);

describe('the browser bundle of lib/browser.ts', () => {
  let bundle: string;
  let inputs: string[];

  beforeAll(async () => {
    const result = await build({
      entryPoints: [join(root, 'lib', 'browser.ts')],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'RSS',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    bundle = result.outputFiles[0]!.text;
    inputs = Object.keys(result.metafile.inputs);
  });

  it('contains no Node built-in module', () => {
    expect(inputs.filter((path) => NODE_BUILTIN.test(path))).toEqual([]);
    expect(bundle).not.toMatch(/require\(["'](node:|fs|net|child_process)["']\)/);
  });

  it('runs a windowed pipeline in a context without any Node global', () => {
    const sandbox: Record<string, unknown> = {};
    runInNewContext(`${bundle}\n${PIPELINE}`, sandbox);
    expect(sandbox['process']).toBeUndefined();
    expect(sandbox['result']).toBe(EXPECTED);
  });

  const chromium = '/usr/bin/chromium';
  (existsSync(chromium) ? it : it.skip)('runs the same pipeline in headless Chromium', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rss-browser-'));
    try {
      const page = join(dir, 'index.html');
      writeFileSync(
        page,
        `<!doctype html><html><body><pre id="out">pending</pre><script>${bundle.replace(/<\/script/g, '<\\/script')}</script><script>${PIPELINE}; document.getElementById('out').textContent = globalThis.result;</script></body></html>`,
      );
      const run = spawnSync(
        chromium,
        ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, 'profile')}`, '--dump-dom', `file://${page}`],
        { encoding: 'utf8', timeout: 600_000 },
      );
      const match = /<pre id="out">([^<]*)<\/pre>/.exec(run.stdout);
      expect(match?.[1]?.replace(/&quot;/g, '"')).toBe(EXPECTED);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

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
  const { fromBatches, withWatermark, union } = RSS;
  const out = [];
  const left = fromBatches([[{ ts: 1000, k: 'a' }], [{ ts: 21000, k: 'b' }]]).pipe(withWatermark('ts', '5 seconds'));
  const right = fromBatches([[{ ts: 2000, k: 'c' }], [{ ts: 30000, k: 'd' }]]).pipe(withWatermark('ts', '5 seconds'));
  left.pipe(union(right, { aligned: true })).subscribe((b) => out.push([b.batchId, b.rows.length, b.watermark]));
  globalThis.result = JSON.stringify(out);
`;
const EXPECTED = JSON.stringify([[0, 2, 0], [1, 2, 16000]]);

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
  }, 60_000);

  it('contains no Node built-in module', () => {
    expect(inputs.filter((path) => NODE_BUILTIN.test(path))).toEqual([]);
    expect(bundle).not.toMatch(/require\(["'](node:|fs|net|child_process)["']\)/);
  });

  it('runs a watermarked pipeline in a context without any Node global', () => {
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
        { encoding: 'utf8', timeout: 60_000 },
      );
      const match = /<pre id="out">([^<]*)<\/pre>/.exec(run.stdout);
      expect(match?.[1]?.replace(/&quot;/g, '"')).toBe(EXPECTED);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

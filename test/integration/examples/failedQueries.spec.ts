import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

/** A port of 127.0.0.1 that nobody listens on (bound once, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function runScript(script: string, env: Record<string, string>) {
  return spawnSync(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), script], { cwd: root, encoding: 'utf8', timeout: 600_000, env: { ...process.env, ...env } });
}

describe('a query whose source cannot connect, in a script run with runExample (as every example is)', () => {
  const script = join(__dirname, 'unreachableSocketQuery.ts');

  it('nobody awaits it: the handler logs it once with the query name and id, and the process exits 1', async () => {
    const port = await closedPort();
    const run = runScript(script, { RSS_PORT: String(port) });
    const id = /^started (\S+)$/m.exec(run.stdout)?.[1];
    expect(id).toBeDefined();
    expect(run.status).toBe(1);
    expect(run.stderr.match(/terminated with error/g)).toHaveLength(1);
    expect(run.stderr).toContain(`Query wordCount [id = ${id!}, runId = `);
    expect(run.stderr).toContain(`cannot connect to 127.0.0.1:${port}; got ECONNREFUSED`);
  });

  it('awaited: the wait rejects, the error is printed once and the process exits 1', async () => {
    const port = await closedPort();
    const run = runScript(script, { RSS_PORT: String(port), RSS_AWAIT: '1' });
    expect(run.status).toBe(1);
    expect(run.stderr.match(new RegExp(`cannot connect to 127\\.0\\.0\\.1:${port}; got ECONNREFUSED`, 'g'))).toHaveLength(1);
  });

  it('npm start (the device monitor demo) watching a directory that does not exist exits 1 with the source error', () => {
    const run = runScript(join(root, 'examples', 'deviceMonitor.ts'), { DEVICE_MONITOR_DIR: join(root, 'tmp', 'no-such-directory', 'monitor') });
    expect(run.stdout).toMatch(/^Progress page: http:\/\/127\.0\.0\.1:\d+\//m);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('no-such-directory/monitor does not exist; got ENOENT. Create it before starting the query');
  });

  it('every example runs its main through runExample', () => {
    const helpers = new Set(['fileDrop.ts', 'runExample.ts', 'deviceMonitorQuery.ts']);
    const examples = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts') && !helpers.has(f));
    expect(examples.length).toBeGreaterThanOrEqual(5);
    for (const file of examples) expect([file, /^runExample\(main\);$/m.test(readFileSync(join(root, 'examples', file), 'utf8'))]).toEqual([file, true]);
  });
});

'use strict';
// Starts mokapi (npm `go-mokapi`) as a Kafka-protocol broker reachable only on
// 127.0.0.1, for the integration tests (globalSetup) and the Kafka example.
//
// mokapi 0.52 has no listen-address setting: its Kafka broker, HTTP API and
// health/MCP endpoints all bind the wildcard address (`*:<port>`), whatever
// host the spec names. So that nothing listens on 0.0.0.0, mokapi runs in a
// private network namespace (`unshare -rn`, which holds only its own loopback
// interface), and the broker is brought out through a Unix socket:
//
//   client ──TCP 127.0.0.1:P──▶ proxy (this process) ──unix socket──▶
//        proxy (inside the namespace) ──TCP 127.0.0.1:P──▶ mokapi
//
// The port P is the same on both sides, so the address mokapi advertises in
// its metadata (127.0.0.1:P) is the one clients reach. Set
// RSS_MOKAPI_ISOLATION=none to run mokapi directly instead (it then listens on
// every interface; only for machines without user namespaces).
//
// Usage as a module:   const { startBroker } = require('./broker.cjs');
//                      const broker = await startBroker(); … await broker.stop();
// Usage as a command:  node test/integration/mokapi/broker.cjs
//                      (prints the broker address, runs until Ctrl-C)

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { renderSpec, defaultPool } = require('./spec.cjs');

const READY_TIMEOUT_MS = 30_000;

function mokapiBinary() {
  const pkg = `@go-mokapi/${process.platform}-${process.arch === 'arm64' ? 'arm64' : 'x64'}`;
  const bin = require(pkg);
  if (!fs.existsSync(bin)) throw new Error(`mokapi broker: binary not found at ${bin} (package ${pkg})`);
  return bin;
}

function mokapiArgs(workDir) {
  // The HTTP API port cannot be turned off; it is only reachable inside the
  // namespace (or on every interface with isolation off). Health and MCP
  // endpoints (port 8080 by default) are disabled.
  return [
    '--api-port=0', // replaced below
    '--api-dashboard=false',
    '--health-enabled=false',
    '--mcp-server-enabled=false',
    '--log-level=info',
    `--providers-file-directory=${path.join(workDir, 'spec')}`,
  ];
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`mokapi broker: nothing accepted connections on 127.0.0.1:${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

function pipeSockets(a, b) {
  a.pipe(b);
  b.pipe(a);
  const close = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close);
  b.on('error', close);
  a.on('close', close);
  b.on('close', close);
}

function freeLoopbackPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------
// inner: runs inside the network namespace. Starts mokapi and serves the
// Unix socket that the outer proxy connects to.

async function runInner(workDir, port) {
  const apiPort = port === 18080 ? 18081 : 18080; // the namespace is empty: any fixed port is free
  const log = fs.openSync(path.join(workDir, 'mokapi.log'), 'a');
  const args = mokapiArgs(workDir).map((a) => (a === '--api-port=0' ? `--api-port=${apiPort}` : a));
  const mokapi = spawn(mokapiBinary(), args, { stdio: ['ignore', log, log] });
  let stopping = false;
  const stop = (code) => {
    if (stopping) return;
    stopping = true;
    mokapi.kill('SIGTERM');
    setTimeout(() => process.exit(code), 200).unref();
  };
  mokapi.on('exit', (code) => {
    if (!stopping) {
      process.stderr.write(`mokapi broker: mokapi exited with code ${code}; see ${path.join(workDir, 'mokapi.log')}\n`);
      process.exit(1);
    }
  });
  process.stdin.on('end', () => stop(0));
  process.stdin.resume();
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));

  const socketPath = path.join(workDir, 'kafka.sock');
  const server = net.createServer((client) => pipeSockets(client, net.connect({ host: '127.0.0.1', port })));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  await waitForPort(port, READY_TIMEOUT_MS);
  process.stdout.write('ready\n');
}

// ---------------------------------------------------------------------------
// serve: the outer process. Owns the loopback listener and the namespace.

async function runServe(workDir) {
  const isolation = process.env.RSS_MOKAPI_ISOLATION === 'none' ? 'none' : 'netns';
  const config = JSON.parse(fs.readFileSync(path.join(workDir, 'broker.json'), 'utf8'));
  let child;
  let listener;
  let port;
  if (isolation === 'none') {
    port = await freeLoopbackPort();
  } else {
    listener = net.createServer((client) => pipeSockets(client, net.connect(path.join(workDir, 'kafka.sock'))));
    await new Promise((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(0, '127.0.0.1', resolve);
    });
    port = listener.address().port;
  }
  fs.mkdirSync(path.join(workDir, 'spec'), { recursive: true });
  fs.writeFileSync(path.join(workDir, 'spec', 'broker.yaml'), renderSpec({ port, topics: config.topics, rebalanceDelayMs: config.rebalanceDelayMs }));

  if (isolation === 'none') {
    const log = fs.openSync(path.join(workDir, 'mokapi.log'), 'a');
    const apiPort = await freeLoopbackPort();
    const args = mokapiArgs(workDir).map((a) => (a === '--api-port=0' ? `--api-port=${apiPort}` : a));
    child = spawn(mokapiBinary(), args, { stdio: ['ignore', log, log] });
  } else {
    const probe = spawnSync('unshare', ['-rn', 'true'], { stdio: 'ignore' });
    if (probe.error || probe.status !== 0) {
      throw new Error(
        'mokapi broker: cannot create a private network namespace (`unshare -rn` failed). mokapi binds every interface, so it is only ' +
          'started inside one. On a machine without unprivileged user namespaces set RSS_MOKAPI_ISOLATION=none (mokapi then listens on ' +
          'all interfaces) or point RSS_KAFKA_BROKER at a running Kafka broker.',
      );
    }
    child = spawn(
      'unshare',
      ['-rn', '--kill-child', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, __filename, 'inner', workDir, String(port)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
  }

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    if (listener) listener.close();
    if (child.stdin) child.stdin.end();
    child.kill('SIGTERM');
    setTimeout(() => process.exit(0), 300).unref();
  };
  child.on('exit', (code) => {
    if (!stopping) {
      process.stderr.write(`mokapi broker: broker process exited with code ${code}; see ${path.join(workDir, 'mokapi.log')}\n`);
      process.exit(1);
    }
  });
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  if (child.stdout) {
    await new Promise((resolve, reject) => {
      let buffered = '';
      const timer = setTimeout(() => reject(new Error(`mokapi broker: not ready within ${READY_TIMEOUT_MS} ms; see ${path.join(workDir, 'mokapi.log')}`)), READY_TIMEOUT_MS);
      child.stdout.on('data', (chunk) => {
        buffered += chunk.toString();
        if (buffered.includes('ready\n')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', () => reject(new Error(`mokapi broker: exited before it was ready; see ${path.join(workDir, 'mokapi.log')}`)));
    });
  }
  await waitForPort(port, READY_TIMEOUT_MS);
  process.stdout.write(`${JSON.stringify({ brokers: `127.0.0.1:${port}`, isolation })}\n`);
}

// ---------------------------------------------------------------------------
// Module API

/**
 * Starts the broker in a child process and resolves once it accepts
 * connections. `topics` defaults to the test pool (see spec.cjs).
 *
 * @param {{ topics?: { name: string, partitions: number }[], rebalanceDelayMs?: number, workDir?: string }} [options]
 * @returns {Promise<{ brokers: string, isolation: string, workDir: string, pid: number, topics: { name: string, partitions: number }[], stop: () => Promise<void> }>}
 */
async function startBroker(options = {}) {
  const topics = options.topics ?? defaultPool();
  const workDir = options.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'rss-mokapi-'));
  fs.writeFileSync(path.join(workDir, 'broker.json'), JSON.stringify({ topics, rebalanceDelayMs: options.rebalanceDelayMs ?? 600 }));
  const child = spawn(process.execPath, [__filename, 'serve', workDir], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk.toString();
  });
  const info = await new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk.toString();
      const newline = buffered.indexOf('\n');
      if (newline >= 0) resolve(JSON.parse(buffered.slice(0, newline)));
    });
    child.once('exit', (code) => reject(new Error(`mokapi broker failed to start (exit code ${code}): ${stderr.trim()}`)));
  });
  child.stdout.resume();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    brokers: info.brokers,
    isolation: info.isolation,
    workDir,
    pid: child.pid,
    topics,
    async stop() {
      child.stdin.end();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

module.exports = { startBroker };

if (require.main === module) {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'inner') {
    runInner(rest[0], Number(rest[1])).catch((error) => {
      process.stderr.write(`${error.stack}\n`);
      process.exit(1);
    });
  } else if (mode === 'serve') {
    runServe(rest[0]).catch((error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    });
  } else {
    startBroker().then(
      (broker) => {
        process.stdout.write(`Kafka broker (mokapi) on ${broker.brokers}; topics rss-p<partitions>-<nnn>; Ctrl-C stops it.\n`);
        const stop = () => broker.stop().then(() => process.exit(0));
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      },
      (error) => {
        process.stderr.write(`${error.message}\n`);
        process.exit(1);
      },
    );
  }
}

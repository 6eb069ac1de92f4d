// Makes sure Debian's `chromium` is there for the browser tests: if
// /usr/bin/chromium is missing and this runs as root on a system with
// apt-get (a fresh CI machine), installs it non-interactively
// (`apt-get update && apt-get install -y chromium`). Returns the executable's
// path, or why there is none (then the browser tests skip, saying why).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');

const CHROMIUM = '/usr/bin/chromium';

function run(command, args) {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 20 * 60_000,
  });
  if (result.status !== 0) {
    const tail = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-5).join('\n');
    throw new Error(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}): ${tail}`);
  }
}

/** @returns {{ path: string } | { missing: string }} */
function ensureChromium() {
  if (fs.existsSync(CHROMIUM)) return { path: CHROMIUM };
  if (process.platform !== 'linux') return { missing: `${CHROMIUM} is not installed and this is not Linux (${process.platform}); install Chromium to run the browser tests` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { missing: `${CHROMIUM} is not installed and the tests do not run as root, so they cannot apt-get install it; run: sudo apt-get install -y chromium` };
  if (spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) return { missing: `${CHROMIUM} is not installed and there is no apt-get to install it with` };
  try {
    process.stderr.write('Browser tests: installing Debian chromium (apt-get update && apt-get install -y chromium)…\n');
    run('apt-get', ['update']);
    run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium']);
  } catch (error) {
    return { missing: `installing chromium failed: ${error.message}` };
  }
  return fs.existsSync(CHROMIUM) ? { path: CHROMIUM } : { missing: `apt-get installed chromium but ${CHROMIUM} is still missing` };
}

module.exports = { ensureChromium, CHROMIUM };

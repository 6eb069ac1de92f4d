// Command-line flags shared by the parent (run.ts) and the child (worker.ts).
import { DEFAULT_WORKLOAD, type WorkloadOptions } from './workload.js';

/** Parses `--name value` / `--name=value` / `--flag` into a map (last one wins). */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`bench: unexpected argument ${JSON.stringify(arg)}; flags look like --n 1000000.`);
    const eq = arg.indexOf('=');
    if (eq >= 0) {
      flags.set(arg.slice(2, eq), arg.slice(eq + 1));
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      flags.set(arg.slice(2), next);
      i++;
    } else flags.set(arg.slice(2), 'true');
  }
  return flags;
}

/** Reads a count such as `5000000`, `5e6`, `5m`, `20M`, `10k`. */
export function parseCount(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)([kKmM]?)$/.exec(text.replace(/_/g, ''));
  if (m === null) throw new Error(`bench: --${flag} must be a count such as 1000000, 1e6, 1m or 10k; got ${JSON.stringify(text)}.`);
  const scale = m[2] === 'k' || m[2] === 'K' ? 1e3 : m[2] === 'm' || m[2] === 'M' ? 1e6 : 1;
  return Math.round(Number(m[1]) * scale);
}

function parseNumber(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`bench: --${flag} must be a number; got ${JSON.stringify(text)}.`);
  return value;
}

/** The workload flags and their meaning (for --help). */
export const WORKLOAD_FLAGS: readonly (readonly [string, string])[] = [
  ['n', `events (left side for the join) [${DEFAULT_WORKLOAD.n}]`],
  ['keys', `distinct keys [${DEFAULT_WORKLOAD.keys}]`],
  ['ooo', `fraction of events out of order [${DEFAULT_WORKLOAD.outOfOrder}]`],
  ['lateness', `max out-of-order distance, ms [${DEFAULT_WORKLOAD.latenessMs}]`],
  ['batch', `rows per batch [${DEFAULT_WORKLOAD.batchSize}]`],
  ['step', `mean event-time step between events, ms [${DEFAULT_WORKLOAD.stepMs}]`],
  ['dup', `fraction of events redelivered (exact duplicates) [${DEFAULT_WORKLOAD.dupFraction}]`],
  ['right-ratio', `join right stream size relative to the left [${DEFAULT_WORKLOAD.rightRatio}]`],
  ['seed', `PRNG seed [${DEFAULT_WORKLOAD.seed}]`],
];

/** Builds the workload from flags, defaults for the rest. */
export function workloadFrom(flags: ReadonlyMap<string, string>): WorkloadOptions {
  const get = (name: string): string | undefined => flags.get(name);
  const n = get('n');
  const keys = get('keys');
  const ooo = get('ooo');
  const lateness = get('lateness');
  const batch = get('batch');
  const step = get('step');
  const dup = get('dup');
  const rightRatio = get('right-ratio');
  const seed = get('seed');
  const options: WorkloadOptions = {
    n: n === undefined ? DEFAULT_WORKLOAD.n : parseCount('n', n),
    keys: keys === undefined ? DEFAULT_WORKLOAD.keys : parseCount('keys', keys),
    outOfOrder: ooo === undefined ? DEFAULT_WORKLOAD.outOfOrder : parseNumber('ooo', ooo),
    latenessMs: lateness === undefined ? DEFAULT_WORKLOAD.latenessMs : parseNumber('lateness', lateness),
    batchSize: batch === undefined ? DEFAULT_WORKLOAD.batchSize : parseCount('batch', batch),
    stepMs: step === undefined ? DEFAULT_WORKLOAD.stepMs : parseNumber('step', step),
    dupFraction: dup === undefined ? DEFAULT_WORKLOAD.dupFraction : parseNumber('dup', dup),
    rightRatio: rightRatio === undefined ? DEFAULT_WORKLOAD.rightRatio : parseNumber('right-ratio', rightRatio),
    seed: seed === undefined ? DEFAULT_WORKLOAD.seed : parseCount('seed', seed),
  };
  if (options.n < 1 || options.keys < 1 || options.batchSize < 1) throw new Error('bench: --n, --keys and --batch must be at least 1.');
  if (options.outOfOrder < 0 || options.outOfOrder > 1 || options.dupFraction < 0 || options.dupFraction >= 1) throw new Error('bench: --ooo must be in [0, 1] and --dup in [0, 1).');
  if (options.stepMs <= 0 || options.rightRatio <= 0 || options.rightRatio > 1 || options.latenessMs < 0) throw new Error('bench: --step must be > 0, --right-ratio in (0, 1], --lateness >= 0.');
  return options;
}

/** The workload as flags, to pass to a child. */
export function workloadToArgs(options: WorkloadOptions): string[] {
  return [
    '--n', String(options.n),
    '--keys', String(options.keys),
    '--ooo', String(options.outOfOrder),
    '--lateness', String(options.latenessMs),
    '--batch', String(options.batchSize),
    '--step', String(options.stepMs),
    '--dup', String(options.dupFraction),
    '--right-ratio', String(options.rightRatio),
    '--seed', String(options.seed),
  ];
}

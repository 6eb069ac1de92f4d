// Summarises a V8 CPU profile (`node --cpu-prof`): self time per function
// (name, file:line), the top entries, and total time per file.
//   npx tsx bench/profileSummary.ts <file.cpuprofile> [--top 25]
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseFlags } from './args.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** One line of the summary. */
export interface HotSpot {
  readonly name: string;
  readonly location: string;
  readonly selfMs: number;
  readonly share: number;
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const path = url.startsWith('file://') ? url.slice('file://'.length) : url;
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path.replace(/^.*node_modules\//, '') : rel;
}

/** Self time per function and per file. */
export function summarise(profile: CpuProfile): { total: number; functions: HotSpot[]; files: HotSpot[] } {
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let total = 0;
  const functions = new Map<string, { name: string; location: string; us: number }>();
  const files = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    total += us;
    const file = shortUrl(frame.url);
    const location = frame.url === '' ? file : `${file}:${frame.lineNumber + 1}`;
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    const k = `${name}@${location}`;
    const entry = functions.get(k) ?? { name, location, us: 0 };
    entry.us += us;
    functions.set(k, entry);
    files.set(file, (files.get(file) ?? 0) + us);
  }
  const toSpot = (name: string, location: string, us: number): HotSpot => ({ name, location, selfMs: us / 1000, share: total === 0 ? 0 : us / total });
  return {
    total: total / 1000,
    functions: [...functions.values()].sort((a, b) => b.us - a.us).map((f) => toSpot(f.name, f.location, f.us)),
    files: [...files.entries()].sort((a, b) => b[1] - a[1]).map(([file, us]) => toSpot(file, '', us)),
  };
}

function main(): void {
  const args = process.argv.slice(2);
  const firstFlag = args.findIndex((a) => a.startsWith('--'));
  const fileArgs = firstFlag < 0 ? args : args.slice(0, firstFlag);
  if (fileArgs.length === 0) throw new Error('usage: tsx bench/profileSummary.ts <file.cpuprofile>… [--top 25]');
  const top = Number(parseFlags(firstFlag < 0 ? [] : args.slice(firstFlag)).get('top') ?? '25');
  const pct = (x: number): string => `${(x * 100).toFixed(1).padStart(5)}%`;
  for (const file of fileArgs) {
    const { total, functions, files } = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    // tsx's loader thread writes a profile too; it holds almost nothing.
    if (total < 50) continue;
    console.log(`${file}: ${total.toFixed(0)} ms sampled`);
    console.log('self time by function:');
    for (const f of functions.slice(0, top)) console.log(`  ${pct(f.share)} ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.name}  ${f.location}`);
    console.log('self time by file:');
    for (const f of files.slice(0, Math.min(top, 15))) console.log(`  ${pct(f.share)} ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.name}`);
  }
}

if (process.argv[1] !== undefined && /profileSummary\.[tj]s$/.test(process.argv[1])) main();

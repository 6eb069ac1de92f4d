// Summarises a V8 CPU profile (`node --cpu-prof`): self time per function
// (name, file:line), the top entries, and total time per file.
//   npx tsx bench/profileSummary.ts <file.cpuprofile> [--top 25]
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './args.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber: number };
  readonly children?: readonly number[];
  /** Samples per source line (1-based lines of the generated script). */
  readonly positionTicks?: readonly { readonly line: number; readonly ticks: number }[];
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

function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path.replace(/^.*node_modules\//, '') : rel;
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  return shortPath(url.startsWith('file://') ? fileURLToPath(url) : url);
}

const maps = new Map<string, SourceMap | null>();

/** The source map next to a bundled script (`<file>.map`), if any. */
function sourceMapOf(url: string): SourceMap | undefined {
  if (!url.startsWith('file://')) return undefined;
  let map = maps.get(url);
  if (map === undefined) {
    const file = `${fileURLToPath(url)}.map`;
    map = existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]) : null;
    maps.set(url, map);
  }
  return map ?? undefined;
}

const scriptLines = new Map<string, readonly string[]>();

/**
 * The first non-blank column of a generated line: a source-map lookup at
 * column 0 of an indented line would return the previous line's last mapping
 * (possibly another function or file of the bundle).
 */
function firstColumn(url: string, line0: number): number {
  if (!url.startsWith('file://')) return 0;
  let lines = scriptLines.get(url);
  if (lines === undefined) {
    const file = fileURLToPath(url);
    lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
    scriptLines.set(url, lines);
  }
  const text = lines[line0];
  if (text === undefined) return 0;
  const col = text.search(/\S/);
  return col < 0 ? 0 : col;
}

/** `file:line` in the original sources for a 0-based generated position (through the bundle's source map when there is one). */
function originalLocation(url: string, line0: number, column0: number): string {
  const map = sourceMapOf(url);
  if (map !== undefined) {
    const entry = map.findEntry(line0, column0) as { originalSource?: string; originalLine?: number };
    if (entry.originalSource !== undefined && entry.originalLine !== undefined) {
      const src = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : resolve(dirname(fileURLToPath(url)), entry.originalSource);
      return `${shortPath(src)}:${entry.originalLine + 1}`;
    }
  }
  return `${shortUrl(url)}:${line0 + 1}`;
}

/** Self time per function and per file. */
export function summarise(profile: CpuProfile): { total: number; functions: HotSpot[]; files: HotSpot[]; lines: HotSpot[] } {
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const selfUs = new Map<number, number>();
  let sampleCount = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
    sampleCount++;
  }
  let total = 0;
  const functions = new Map<string, { name: string; location: string; us: number }>();
  const files = new Map<string, number>();
  const lines = new Map<string, { name: string; location: string; ticks: number }>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const frame = node.callFrame;
    total += us;
    const location = frame.url === '' ? '(native)' : originalLocation(frame.url, frame.lineNumber, frame.columnNumber);
    const file = location.replace(/:\d+$/, '');
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    const k = `${name}@${location}`;
    const entry = functions.get(k) ?? { name, location, us: 0 };
    entry.us += us;
    functions.set(k, entry);
    files.set(file, (files.get(file) ?? 0) + us);
    for (const tick of node.positionTicks ?? []) {
      // Ticks in code V8 inlined from another script carry that script's line numbers, which
      // cannot be resolved here: a line outside the function's own file is reported as inlined.
      const mapped = originalLocation(frame.url, tick.line - 1, firstColumn(frame.url, tick.line - 1));
      const at = mapped.replace(/:\d+$/, '') === file ? mapped : `${location} (inlined callee)`;
      const line = lines.get(at) ?? { name, location: at, ticks: 0 };
      line.ticks += tick.ticks;
      lines.set(at, line);
    }
  }
  const usPerTick = sampleCount === 0 ? 0 : total / sampleCount;
  const toSpot = (name: string, location: string, us: number): HotSpot => ({ name, location, selfMs: us / 1000, share: total === 0 ? 0 : us / total });
  return {
    total: total / 1000,
    functions: [...functions.values()].sort((a, b) => b.us - a.us).map((f) => toSpot(f.name, f.location, f.us)),
    files: [...files.entries()].sort((a, b) => b[1] - a[1]).map(([file, us]) => toSpot(file, '', us)),
    lines: [...lines.values()].sort((a, b) => b.ticks - a.ticks).map((l) => toSpot(l.name, l.location, l.ticks * usPerTick)),
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
    const { total, functions, files, lines } = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    // tsx's loader thread writes a profile too; it holds almost nothing.
    if (total < 50) continue;
    console.log(`${file}: ${total.toFixed(0)} ms sampled`);
    console.log('self time by function:');
    for (const f of functions.slice(0, top)) console.log(`  ${pct(f.share)} ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.name}  ${f.location}`);
    console.log('self time by source line:');
    for (const l of lines.slice(0, top)) console.log(`  ${pct(l.share)} ${l.selfMs.toFixed(0).padStart(7)} ms  ${l.location}  (${l.name})`);
    console.log('self time by file:');
    for (const f of files.slice(0, Math.min(top, 15))) console.log(`  ${pct(f.share)} ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.name}`);
  }
}

if (process.argv[1] !== undefined && /profileSummary\.[tj]s$/.test(process.argv[1])) main();

import { Worker } from 'node:worker_threads';
import type { WritePhase } from './atomicWrite.js';
import type { SnapshotBuilder } from './CheckpointStore.js';
import { STATE_COLUMN_FUNCTIONS } from './stateColumns.js';

/** What the worker is told to do. */
interface BuildRequest {
  readonly id: number;
  readonly operatorId: string;
  readonly stateDir: string;
  readonly version: number;
}

/** What the worker reports. */
type WorkerMessage =
  | { readonly type: 'phase'; readonly id: number; readonly phase: WritePhase; readonly path: string }
  | { readonly type: 'done'; readonly id: number; readonly bytes: number }
  | { readonly type: 'error'; readonly id: number; readonly name: string; readonly message: string; readonly path?: string; readonly code?: string };

/** What the worker's main function gets (it cannot import anything: its source text is all it has). */
interface WorkerEnvironment {
  readonly port: { on(event: 'message', listener: (message: BuildRequest) => void): void; postMessage(message: WorkerMessage): void };
  readonly fs: typeof import('node:fs');
  readonly join: (...parts: string[]) => string;
  readonly dirname: (path: string) => string;
  readonly basename: (path: string) => string;
  readonly crc: (data: Uint8Array, previous: number) => number;
  readonly root: string;
  readonly fsync: boolean;
  readonly pid: number;
  readonly steps: typeof STATE_COLUMN_FUNCTIONS.snapshotSteps;
}

/**
 * The worker thread's main function: builds each requested snapshot with
 * `snapshotSteps` (reading the state files synchronously), writes it
 * atomically (temporary file, fsync, rename, directory fsync) and keeps it
 * as the base of the operator's next snapshot. Runs from its source text, so
 * it uses nothing but `env`.
 */
function snapshotWorkerMain(env: WorkerEnvironment): void {
  const { port, fs, join, dirname, basename, crc, root, fsync, pid, steps } = env;
  const cache = new Map<string, Parameters<typeof steps>[3]>();
  let sequence = 0;
  const read = (relative: string): Uint8Array | undefined => {
    try {
      return fs.readFileSync(join(root, ...relative.split('/')));
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return undefined;
      throw error;
    }
  };
  const write = (id: number, relative: string, bytes: Uint8Array): void => {
    const file = join(root, ...relative.split('/'));
    const dir = dirname(file);
    fs.mkdirSync(dir, { recursive: true });
    sequence++;
    const temporary = join(dir, `.${basename(file)}.${pid}-w${sequence}.tmp`);
    const fd = fs.openSync(temporary, 'w');
    try {
      port.postMessage({ type: 'phase', id, phase: 'open', path: relative });
      let offset = 0;
      let first = true;
      while (offset < bytes.length) {
        offset += fs.writeSync(fd, bytes, offset, Math.min(bytes.length - offset, 1 << 22));
        if (first) {
          first = false;
          port.postMessage({ type: 'phase', id, phase: 'partial', path: relative });
        }
      }
      if (fsync) fs.fsyncSync(fd);
    } catch (error) {
      fs.closeSync(fd);
      fs.rmSync(temporary, { force: true });
      throw error;
    }
    fs.closeSync(fd);
    port.postMessage({ type: 'phase', id, phase: 'synced', path: relative });
    fs.renameSync(temporary, file);
    port.postMessage({ type: 'phase', id, phase: 'renamed', path: relative });
    if (fsync) {
      const dirFd = fs.openSync(dir, 'r');
      try {
        fs.fsyncSync(dirFd);
      } finally {
        fs.closeSync(dirFd);
      }
    }
  };
  port.on('message', (request) => {
    try {
      const run = steps(request.operatorId, request.stateDir, request.version, cache.get(request.stateDir), crc);
      let step = run.next();
      while (!step.done) step = run.next(read(step.value));
      write(request.id, `${request.stateDir}/${request.version}.snapshot`, step.value.framed);
      cache.set(request.stateDir, step.value.cached);
      port.postMessage({ type: 'done', id: request.id, bytes: step.value.framed.length });
    } catch (error) {
      const e = error as { name?: string; message?: string; path?: string; code?: string };
      port.postMessage({ type: 'error', id: request.id, name: String(e.name ?? 'Error'), message: String(e.message ?? error), ...(e.path === undefined ? {} : { path: String(e.path) }), ...(e.code === undefined ? {} : { code: String(e.code) }) });
    }
  });
}

/** The worker's source: the state-file functions, then its main function called with its environment. */
function workerSource(): string {
  const functions = Object.values(STATE_COLUMN_FUNCTIONS).map((fn) => fn.toString());
  return [
    "'use strict';",
    // Transpilers that keep function names (esbuild's keepNames, as tsx runs it) call a `__name` helper inside function bodies.
    "const __name = (target, value) => Object.defineProperty(target, 'name', { value, configurable: true });",
    "const { parentPort, workerData } = require('node:worker_threads');",
    "const fs = require('node:fs');",
    "const path = require('node:path');",
    "const zlib = require('node:zlib');",
    ...functions,
    `(${snapshotWorkerMain.toString()})({ port: parentPort, fs, join: path.join, dirname: path.dirname, basename: path.basename, crc: (data, previous) => zlib.crc32(data, previous), root: workerData.root, fsync: workerData.fsync, pid: process.pid, steps: ${STATE_COLUMN_FUNCTIONS.snapshotSteps.name} });`,
  ].join('\n');
}

let source: string | undefined;

/** Options of {@link WorkerSnapshotBuilder}. */
export interface WorkerSnapshotBuilderOptions {
  /** The checkpoint directory (absolute). */
  readonly root: string;
  readonly fsync: boolean;
  /** Called (asynchronously, when the worker reports it) at each step of a snapshot file write. */
  readonly onWritePhase?: (phase: WritePhase, path: string) => void;
}

interface Pending {
  resolve(bytes: number): void;
  reject(error: unknown): void;
}

/**
 * A {@link SnapshotBuilder} that builds and writes snapshots in a worker
 * thread: the main thread only sends which operator and version, so a
 * snapshot of any size never pauses the batches. The worker is started on
 * the first snapshot and does not keep the process alive.
 */
export class WorkerSnapshotBuilder implements SnapshotBuilder {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(private readonly options: WorkerSnapshotBuilderOptions) {}

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    source ??= workerSource();
    const worker = new Worker(source, { eval: true, workerData: { root: this.options.root, fsync: this.options.fsync } });
    worker.unref();
    worker.on('message', (message: WorkerMessage) => this.onMessage(message));
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new Error(`the snapshot worker thread exited (code ${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private onMessage(message: WorkerMessage): void {
    if (message.type === 'phase') {
      this.options.onWritePhase?.(message.phase, message.path);
      return;
    }
    const pending = this.pending.get(message.id);
    if (pending === undefined) return;
    this.pending.delete(message.id);
    if (message.type === 'done') {
      pending.resolve(message.bytes);
      return;
    }
    const error = new Error(message.message) as Error & { path?: string; code?: string };
    error.name = message.name;
    if (message.path !== undefined) error.path = message.path;
    if (message.code !== undefined) error.code = message.code;
    pending.reject(error);
  }

  private failAll(error: unknown): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(error);
  }

  build(operatorId: string, stateDir: string, version: number): Promise<number> {
    if (this.closed) return Promise.reject(new Error('the snapshot builder is closed'));
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: BuildRequest = { id, operatorId, stateDir, version };
      worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new Error('the snapshot builder is closed'));
    if (worker !== undefined) await worker.terminate();
  }
}

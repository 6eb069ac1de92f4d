import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * The steps of an atomic write, reported to `AtomicWriteOptions.onPhase` (the `onWritePhase` option of checkpoints):
 * `open` (the temporary file exists, empty), `partial` (its first chunk is
 * written), `synced` (all of it is written and fsynced), `renamed` (it is in
 * place under its final name; the directory is not yet fsynced).
 */
export type WritePhase = 'open' | 'partial' | 'synced' | 'renamed';

/** Options for {@link atomicWrite}. */
export interface AtomicWriteOptions {
  /** Called synchronously at each step (crash tests use it to kill the process at an exact point). */
  readonly onPhase?: (phase: WritePhase, path: string) => void;
  /** fsync the file and its directory. @defaultValue `true` */
  readonly fsync?: boolean;
}

let sequence = 0;

/** The temporary name a write to `path` uses: hidden (leading `.`) and ending in `.tmp`. */
export function temporaryName(path: string): string {
  sequence = (sequence + 1) % Number.MAX_SAFE_INTEGER;
  return join(dirname(path), `.${basename(path)}.${process.pid}-${sequence}.tmp`);
}

/** `true` for a name {@link temporaryName} gives. */
export function isTemporaryName(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

/** fsyncs a directory, so that the names created or renamed in it survive a crash. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `chunks` to `path` so that the file is either wholly there or not
 * changed: write a temporary file in the same directory, fsync it, rename it
 * over `path`, fsync the directory. The directory must exist. Resolves to the
 * number of bytes written. On an error the temporary file is removed.
 */
export async function atomicWrite(path: string, chunks: AsyncIterable<Uint8Array>, options: AtomicWriteOptions = {}): Promise<number> {
  const { onPhase, fsync = true } = options;
  const dir = dirname(path);
  const temporary = temporaryName(path);
  const handle = await open(temporary, 'w');
  let size = 0;
  try {
    onPhase?.('open', path);
    let first = true;
    for await (const chunk of chunks) {
      let offset = 0;
      while (offset < chunk.length) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
        offset += bytesWritten;
      }
      size += chunk.length;
      if (first) {
        first = false;
        onPhase?.('partial', path);
      }
    }
    if (fsync) await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  onPhase?.('synced', path);
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  onPhase?.('renamed', path);
  if (fsync) await fsyncDirectory(dir);
  return size;
}

/**
 * Creates `dir` and its missing parents; when something was created, fsyncs
 * the parents so that the new directory entries are durable too.
 */
export async function makeDirectory(dir: string, fsync = true): Promise<void> {
  const created = await mkdir(dir, { recursive: true });
  if (created === undefined || !fsync) return;
  let current = dir;
  const stop = dirname(created);
  while (true) {
    const parent = dirname(current);
    await fsyncDirectory(parent);
    if (parent === stop || parent === current) break;
    current = parent;
  }
}

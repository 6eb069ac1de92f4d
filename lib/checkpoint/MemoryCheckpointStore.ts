import type { CheckpointStore } from './CheckpointStore.js';

/**
 * A {@link CheckpointStore} in memory: for tests and browsers. Files are kept
 * as the exact bytes a file store would write, so a test can truncate or
 * corrupt them through {@link MemoryCheckpointStore.files}. Keep the store and
 * open a new checkpoint on it to simulate a restart.
 *
 * @example
 * ```ts
 * const store = new MemoryCheckpointStore('test');
 * fromBatches([[1], [2]]).pipe(checkpoint(store)).subscribe();
 * ```
 */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly location: string;
  /** Every file, by path. */
  readonly files = new Map<string, Uint8Array>();

  constructor(location = 'memory') {
    this.location = location;
  }

  read(path: string): Promise<Uint8Array | undefined> {
    const bytes = this.files.get(path);
    return Promise.resolve(bytes === undefined ? undefined : bytes.slice());
  }

  async write(path: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of chunks) {
      parts.push(chunk);
      size += chunk.length;
    }
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    this.files.set(path, bytes);
    return size;
  }

  list(dir: string): Promise<string[]> {
    const prefix = dir === '' ? '' : `${dir}/`;
    const names = new Set<string>();
    for (const path of this.files.keys()) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf('/');
      names.add(slash < 0 ? rest : rest.slice(0, slash));
    }
    return Promise.resolve([...names].sort());
  }

  remove(path: string): Promise<void> {
    this.files.delete(path);
    return Promise.resolve();
  }

  removeTemporaryFiles(): Promise<void> {
    return Promise.resolve();
  }
}

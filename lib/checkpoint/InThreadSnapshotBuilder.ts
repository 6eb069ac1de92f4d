import type { ChecksumFn } from './checksum.js';
import type { CheckpointStore, SnapshotBuilder } from './CheckpointStore.js';
import { snapshotSteps, type CachedSnapshot } from './stateColumns.js';

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/**
 * A {@link SnapshotBuilder} that works on the calling thread through the
 * store's `read` and `write`: for stores without a builder of their own
 * (in memory, in a browser). Keeps the last snapshot of each operator in
 * memory as the base of its next one.
 */
export class InThreadSnapshotBuilder implements SnapshotBuilder {
  private readonly cache = new Map<string, CachedSnapshot>();
  private closed = false;

  constructor(
    private readonly store: CheckpointStore,
    private readonly checksum: ChecksumFn,
  ) {}

  async build(operatorId: string, stateDir: string, version: number): Promise<number> {
    if (this.closed) throw new Error('the snapshot builder is closed');
    const steps = snapshotSteps(operatorId, stateDir, version, this.cache.get(stateDir), this.checksum);
    let step = steps.next();
    while (!step.done) step = steps.next(await this.store.read(step.value));
    const bytes = await this.store.write(`${stateDir}/${version}.snapshot`, once(step.value.framed));
    this.cache.set(stateDir, step.value.cached);
    return bytes;
  }

  close(): Promise<void> {
    this.closed = true;
    this.cache.clear();
    return Promise.resolve();
  }
}

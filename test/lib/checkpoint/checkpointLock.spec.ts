import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireCheckpointLock, LOCK_FILE } from '../../../lib/checkpoint/checkpointLock.js';
import { openCheckpoint } from '../../../lib/checkpoint/openCheckpoint.js';
import { CheckpointLockedError } from '../../../lib/errors/index.js';

/** The pid of a process that has exited (and was reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('checkpoint lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rss-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a lock file naming this process, and deletes it on release', async () => {
    const lock = await acquireCheckpointLock(dir);
    const body = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { pid: number; host: string };
    expect(body).toMatchObject({ pid: process.pid, host: hostname() });
    expect(lock.holder).toMatchObject({ pid: process.pid, host: hostname() });
    expect(Number.isNaN(Date.parse(lock.holder.startedAt))).toBe(false);
    await lock.release();
    await lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a second holder at once with a typed error naming the holder', async () => {
    const first = await acquireCheckpointLock(dir);
    const error = await acquireCheckpointLock(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CheckpointLockedError);
    const locked = error as CheckpointLockedError;
    expect(locked.holder).toEqual(first.holder);
    expect(locked.retriable).toBe(false);
    expect(locked.path).toBe(join(dir, LOCK_FILE));
    expect(locked.message).toBe(
      `checkpoint: ${dir} is in use by another query of this process since ${first.holder.startedAt}; got a second query on the same checkpoint. Stop that query first: one query writes to a checkpoint at a time.`,
    );
    await first.release();
    const again = await acquireCheckpointLock(dir);
    await again.release();
  });

  it('takes over the lock of a process that died', async () => {
    const pid = deadPid();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), token: 'dead' }));
    const lock = await acquireCheckpointLock(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('takes over a lock whose pid now belongs to another process (a reused pid)', async () => {
    // The parent of this process is alive, but did not start when the lock says its holder did.
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, host: hostname(), token: 'old', processStart: '1' }));
    if (!existsSync(`/proc/${process.ppid}/stat`)) {
      // Without /proc a reused pid cannot be told from its holder: a live pid keeps the lock.
      await expect(acquireCheckpointLock(dir)).rejects.toBeInstanceOf(CheckpointLockedError);
      return;
    }
    const lock = await acquireCheckpointLock(dir);
    expect(lock.holder.pid).toBe(process.pid);
    await lock.release();
  });

  it('takes over a lock with this pid that this process does not hold (left by an earlier process with the same pid)', async () => {
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, host: hostname(), token: 'earlier' }));
    const lock = await acquireCheckpointLock(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).not.toMatchObject({ token: 'earlier' });
    await lock.release();
  });

  it('refuses a lock held from another host, and says that it cannot check it', async () => {
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 4242, host: 'elsewhere.example', token: 't' }));
    const error = (await acquireCheckpointLock(dir).catch((e: unknown) => e)) as CheckpointLockedError;
    expect(error).toBeInstanceOf(CheckpointLockedError);
    expect(error.holder).toMatchObject({ pid: 4242, host: 'elsewhere.example' });
    expect(error.message).toContain(`is in use by process 4242 on host elsewhere.example since `);
    expect(error.message).toContain(`A holder on another host cannot be checked from here; if it is gone for sure, delete ${join(dir, LOCK_FILE)}.`);
  });

  it('lets exactly one of many contenders take over a dead lock', async () => {
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: hostname(), token: 'dead' }));
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => acquireCheckpointLock(dir).then((lock) => lock, (e: unknown) => e)));
    const won = outcomes.filter((o) => !(o instanceof Error));
    expect(won).toHaveLength(1);
    expect(outcomes.filter((o) => o instanceof CheckpointLockedError)).toHaveLength(7);
    await (won[0] as { release(): Promise<void> }).release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('is taken by open() and released by close() of a directory checkpoint', async () => {
    const first = openCheckpoint(dir, { fsync: false });
    await first.open();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
    const second = openCheckpoint(dir, { fsync: false });
    await expect(second.open()).rejects.toBeInstanceOf(CheckpointLockedError);
    await first.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const third = openCheckpoint(dir, { fsync: false });
    await third.open();
    await third.close();
  });

  it('is released when open() fails', async () => {
    const first = openCheckpoint(dir, { fsync: false });
    await first.open();
    await first.close();
    writeFileSync(join(dir, 'metadata'), 'torn');
    await expect(openCheckpoint(dir, { fsync: false }).open()).rejects.toThrow(/metadata/);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
});

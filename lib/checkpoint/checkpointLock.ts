import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CheckpointIOError, CheckpointLockedError, type CheckpointLockHolder } from '../errors/CheckpointError.js';

/** The lock file's name in a checkpoint directory. */
export const LOCK_FILE = 'lock';

/** The body of `<checkpoint>/lock` (JSON). */
interface LockBody {
  readonly pid: number;
  readonly host: string;
  /** Unique per acquisition: tells this holder's lock from a later one. */
  readonly token: string;
  /** Field 22 of `/proc/<pid>/stat` (the process's start in clock ticks since boot), where there is a `/proc`: tells a reused pid from the holder. */
  readonly processStart?: string;
}

/** A lock held by this process on one checkpoint directory. */
export interface CheckpointLock {
  /** The lock file. */
  readonly path: string;
  readonly holder: CheckpointLockHolder;
  /** Deletes the lock file if it is still this holder's; idempotent. */
  release(): Promise<void>;
}

/** Lock files held by this process: path → token (a lock with this process's pid is live only if it is here). */
const heldHere = new Map<string, string>();

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

/** State and start time of process `pid` from `/proc/<pid>/stat`; `undefined` without `/proc` or without that process. */
async function procStat(pid: number): Promise<{ state: string; start: string } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const start = fields[19]; // field 22 of the file
    return state === undefined || start === undefined ? undefined : { state, start };
  } catch {
    return undefined;
  }
}

async function readLock(path: string): Promise<{ body: LockBody | undefined; text: string; startedAt: string } | undefined> {
  let text: string;
  let mtime: Date;
  try {
    text = await readFile(path, 'utf8');
    mtime = (await stat(path)).mtime;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw new CheckpointIOError(`checkpoint: cannot read the lock file ${path}; got ${errorCode(error) ?? String(error)}. Check the checkpoint location's permissions.`, path, error);
  }
  let body: LockBody | undefined;
  try {
    const value = JSON.parse(text) as Partial<LockBody>;
    if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.token === 'string') body = value as LockBody;
  } catch {
    body = undefined;
  }
  return { body, text, startedAt: mtime.toISOString() };
}

/**
 * Whether the holder of a lock may still be running. A holder on another host
 * cannot be checked and counts as live. On this host: this process holds it
 * only if it is in {@link heldHere}; another pid is live if the process exists,
 * is not a zombie and (where `/proc` tells) started when the holder did.
 */
async function holderMayBeLive(path: string, body: LockBody): Promise<boolean> {
  if (body.host !== hostname()) return true;
  if (body.pid === process.pid) return heldHere.get(path) === body.token;
  const proc = await procStat(body.pid);
  if (proc !== undefined) return proc.state !== 'Z' && proc.state !== 'X' && (body.processStart === undefined || proc.start === body.processStart);
  try {
    process.kill(body.pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

function lockedError(directory: string, path: string, body: LockBody, startedAt: string): CheckpointLockedError {
  const here = body.host === hostname();
  const what = here && body.pid === process.pid ? 'another query of this process' : `process ${body.pid} on host ${body.host}`;
  const hint = here
    ? 'Stop that query first: one query writes to a checkpoint at a time.'
    : `Stop that query first: one query writes to a checkpoint at a time. A holder on another host cannot be checked from here; if it is gone for sure, delete ${path}.`;
  return new CheckpointLockedError(`checkpoint: ${directory} is in use by ${what} since ${startedAt}; got a second query on the same checkpoint. ${hint}`, path, {
    pid: body.pid,
    host: body.host,
    startedAt,
  });
}

async function writeTemporary(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const MAX_ATTEMPTS = 1000;

/**
 * Takes the lock of a checkpoint directory: `<directory>/lock`, holding this
 * process's pid, host and a unique token, created atomically (written to a
 * temporary file, then hard-linked to `lock`, which fails if it exists). A
 * lock whose holder is dead (see {@link holderMayBeLive}) is taken over: it is
 * renamed away atomically (so that of several processes taking it over at once
 * only one moves it), checked to be the dead holder's, and deleted; a live
 * holder's lock moved by mistake is put back.
 *
 * Multi-host limit: liveness is checked by pid on the same host only. A lock
 * held from another host (a shared file system) is always refused; if that
 * holder is gone, the lock file must be deleted by hand.
 *
 * @throws {CheckpointLockedError} when a live process (or another query of this process) holds it.
 * @throws {CheckpointIOError} when the file system fails.
 */
export async function acquireCheckpointLock(directory: string): Promise<CheckpointLock> {
  const path = join(directory, LOCK_FILE);
  const token = randomUUID();
  const proc = await procStat(process.pid);
  const body: LockBody = { pid: process.pid, host: hostname(), token, ...(proc === undefined ? {} : { processStart: proc.start }) };
  const text = `${JSON.stringify(body)}\n`;
  // Hidden and ending in `.tmp`: a leftover of a crash is removed when the checkpoint opens.
  const temporary = join(directory, `.lock-${process.pid}-${token}.tmp`);
  const io = (what: string, error: unknown): CheckpointIOError =>
    new CheckpointIOError(`checkpoint: cannot ${what} ${path}; got ${errorCode(error) ?? String(error)}. Check the checkpoint location's permissions and free space.`, path, error);
  try {
    await mkdir(directory, { recursive: true });
  } catch (error) {
    throw io('create the directory of', error);
  }
  try {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        await writeTemporary(temporary, text);
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw io('write a temporary file for', error);
      }
      try {
        await link(temporary, path);
        heldHere.set(path, token);
        const startedAt = (await stat(path)).mtime.toISOString();
        return { path, holder: { pid: body.pid, host: body.host, startedAt }, release: () => release(path, token) };
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT') continue; // the temporary file was cleaned away meanwhile: write it again
        if (code !== 'EEXIST') throw io('create', error);
      }
      const existing = await readLock(path);
      if (existing === undefined) continue; // released meanwhile
      // A lock file is only ever created whole (by link), so one that does not parse was not written by a holder.
      if (existing.body !== undefined && (await holderMayBeLive(path, existing.body))) throw lockedError(directory, path, existing.body, existing.startedAt);
      // Only the holder of `lock.takeover` (created by link, like the lock) may delete a stale lock, and it
      // deletes it only if it is still the one read above; the lock is then taken by link as usual, so of
      // several processes taking a dead lock over at once exactly one gets it.
      const guard = join(directory, `${LOCK_FILE}.takeover`);
      try {
        await link(temporary, guard);
        heldHere.set(guard, token);
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT') continue;
        if (code !== 'EEXIST') throw io('take over', error);
        const other = await readLock(guard);
        if (other?.body !== undefined && !(await holderMayBeLive(guard, other.body))) await unlink(guard).catch(() => undefined);
        continue;
      }
      try {
        const current = await readLock(path);
        if (current !== undefined && current.text === existing.text) await unlink(path).catch(() => undefined);
      } finally {
        heldHere.delete(guard);
        await unlink(guard).catch(() => undefined);
      }
    }
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  throw new CheckpointIOError(`checkpoint: cannot take the lock ${path}; got ${MAX_ATTEMPTS} attempts that raced with other processes. Start one query at a time on a checkpoint.`, path, undefined);
}

async function release(path: string, token: string): Promise<void> {
  if (heldHere.get(path) !== token) return;
  heldHere.delete(path);
  const current = await readLock(path).catch(() => undefined);
  if (current?.body?.token !== token) return; // not ours any more (deleted or taken over by hand)
  await unlink(path).catch((error: unknown) => {
    if (errorCode(error) !== 'ENOENT') throw error;
  });
}

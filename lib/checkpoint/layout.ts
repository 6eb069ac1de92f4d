/**
 * Where things live inside a checkpoint, in the spirit of Spark's checkpoint
 * directory:
 *
 * ```text
 * metadata                          the query id (written once)
 * offsets/<N>                       write-ahead entry of batch N (before it runs)
 * commits/<N>                       batch N finished by the sink (after it ran)
 * state/<operatorId>/<V>.delta      keys of an operator changed in version V
 * state/<operatorId>/<V>.snapshot   every key of an operator at version V
 * sources/<i>/<L>                   source i's own log entry L (e.g. the files a directory source planned)
 * ```
 *
 * A state version is the id of the batch that produced it. Paths use `/` in
 * every store; operator ids are URI-encoded into one path segment.
 */

export const METADATA_PATH = 'metadata';
export const OFFSETS_DIR = 'offsets';
export const COMMITS_DIR = 'commits';
export const STATE_DIR = 'state';
export const SOURCES_DIR = 'sources';

/** The directory of source number `index`'s own metadata log. */
export function sourceLogDir(index: number): string {
  return `${SOURCES_DIR}/${index}`;
}

/** The two kinds of state file. */
export type StateFileKind = 'delta' | 'snapshot';

export function offsetsPath(batchId: number): string {
  return `${OFFSETS_DIR}/${batchId}`;
}

export function commitPath(batchId: number): string {
  return `${COMMITS_DIR}/${batchId}`;
}

/** The directory segment of an operator id (`windowTumbling#1` → `windowTumbling%231`). */
export function operatorDirName(operatorId: string): string {
  return encodeURIComponent(operatorId);
}

/** The operator id a state directory name stands for. */
export function operatorIdOfDir(dirName: string): string {
  return decodeURIComponent(dirName);
}

export function stateDir(operatorId: string): string {
  return `${STATE_DIR}/${operatorDirName(operatorId)}`;
}

export function statePath(operatorId: string, version: number, kind: StateFileKind): string {
  return `${stateDir(operatorId)}/${version}.${kind}`;
}

/** The batch id of an `offsets/` or `commits/` file name; `undefined` for anything else. */
export function parseBatchFileName(name: string): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(name)) return undefined;
  const n = Number(name);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The version and kind of a state file name; `undefined` for anything else. */
export function parseStateFileName(name: string): { readonly version: number; readonly kind: StateFileKind } | undefined {
  const match = /^(0|[1-9][0-9]*)\.(delta|snapshot)$/.exec(name);
  if (match === null) return undefined;
  const version = Number(match[1]);
  if (!Number.isSafeInteger(version)) return undefined;
  return { version, kind: match[2] as StateFileKind };
}

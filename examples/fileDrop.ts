// Shared by the directory-source examples: how a file is dropped into the
// watched directory, and how a list of files is fed to a running query one by
// one. (Not an example on its own.)
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StreamingQuery } from '../lib/query/StreamingQuery.js';

/**
 * Writes `lines` as a JSON-lines file `fileName` into `dir`, under a temporary
 * name first and then renamed into place: the directory source only reads
 * complete files.
 */
export function dropJsonLines(dir: string, fileName: string, lines: readonly string[]): void {
  const tmp = join(dir, `.${fileName}.tmp`);
  writeFileSync(tmp, `${lines.join('\n')}\n`);
  renameSync(tmp, join(dir, fileName));
}

/** Drops each `[name, lines]` file into `dir` as `<name>.json`, waiting after each until the query has processed it. */
export async function feedFiles(query: Pick<StreamingQuery, 'processAllAvailable'>, dir: string, files: readonly (readonly [string, readonly string[]])[]): Promise<void> {
  for (const [name, lines] of files) {
    dropJsonLines(dir, `${name}.json`, lines);
    await query.processAllAvailable();
  }
}

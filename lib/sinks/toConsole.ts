import { InvalidOptionError, describeValue } from '../errors/index.js';
import { formatTable, columnsOf, type StructFormat } from './formatTable.js';
import type { Sink } from './Sink.js';

/** Options for {@link toConsole}. */
export interface ToConsoleOptions {
  /** Rows printed per batch. @defaultValue `20` */
  readonly numRows?: number;
  /** Cut cells to 20 characters (or this many) and right-align them; `false` prints cells whole, left-aligned. @defaultValue `true` */
  readonly truncate?: boolean | number;
  /** Struct cells as `[a, b]` (Spark 2.x, as in the notes) or `{a, b}` (Spark 3.x). @defaultValue `'spark2'` */
  readonly structFormat?: StructFormat;
  /** The columns, in order, when rows may be empty or vary. @defaultValue the rows' fields, in order of first appearance (an empty batch reuses the last batch's columns) */
  readonly columns?: readonly string[];
  /** Where the text goes. @defaultValue `process.stdout.write` */
  readonly write?: (text: string) => void;
}

const RULE = '-------------------------------------------';

/**
 * Prints each batch the way Spark's console sink does: a `Batch: N` header
 * between two rules, then the batch's rows as a boxed table, then a blank line.
 *
 * Spark: `writeStream.format("console").option("numRows", …).option("truncate", …)`.
 *
 * ```text
 * batches  --0------1------|
 * console  --T0-----T1-----|    Tn = "Batch: n" header + table of batch n's rows
 * ```
 *
 * Supports every output mode (append, update, complete) and continuous
 * processing (one table per epoch). Not fault tolerant: a replayed batch is
 * printed again.
 *
 * @example
 * ```ts
 * const sink = toConsole({ truncate: false });
 * await sink.addBatch(0, [{ action: 'open', id: 'phone1' }]);
 * // => -------------------------------------------
 * // => Batch: 0
 * // => -------------------------------------------
 * // => +------+------+
 * // => |action|id    |
 * // => +------+------+
 * // => |open  |phone1|
 * // => +------+------+
 * // =>
 * ```
 *
 * @throws {InvalidOptionError} `toConsole: numRows must be a positive integer; got …`
 * @throws {InvalidOptionError} `toConsole: truncate must be a boolean or a non-negative integer; got …`
 */
export function toConsole<R>(options: ToConsoleOptions = {}): Sink<R> {
  const { numRows = 20, truncate = true, structFormat = 'spark2' } = options;
  if (!Number.isSafeInteger(numRows) || numRows < 1) {
    throw new InvalidOptionError(`toConsole: numRows must be a positive integer; got ${describeValue(numRows)}. Use e.g. 20.`, 'numRows', numRows, 'a positive integer');
  }
  if (typeof truncate !== 'boolean' && !(Number.isSafeInteger(truncate) && truncate >= 0)) {
    throw new InvalidOptionError(`toConsole: truncate must be a boolean or a non-negative integer; got ${describeValue(truncate)}. Use true (20 characters), false, or a width.`, 'truncate', truncate, 'a boolean or a non-negative integer');
  }
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  let lastColumns: readonly string[] = options.columns ?? [];
  const epochRows = new Map<number, R[]>();

  const print = (batchId: number, rows: readonly R[]): void => {
    let columns = options.columns;
    if (columns === undefined) {
      columns = rows.length > 0 ? columnsOf(rows) : lastColumns;
      lastColumns = columns;
    }
    write(`${RULE}\nBatch: ${batchId}\n${RULE}\n${formatTable(rows, { numRows, truncate, structFormat, columns })}\n`);
  };

  return {
    description: `ConsoleSink[numRows=${numRows}, truncate=${String(truncate)}]`,
    supportedModes: ['append', 'update', 'complete'],
    idempotent: false,
    async addBatch(batchId, rows) {
      print(batchId, rows);
    },
    async addRows(epochId, rows) {
      let buffer = epochRows.get(epochId);
      if (buffer === undefined) epochRows.set(epochId, (buffer = []));
      for (const row of rows) buffer.push(row);
    },
    async commitEpoch(epochId) {
      const rows = epochRows.get(epochId) ?? [];
      epochRows.delete(epochId);
      print(epochId, rows);
    },
  };
}

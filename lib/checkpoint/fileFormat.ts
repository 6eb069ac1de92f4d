import { CheckpointCorruptError, CheckpointError } from '../errors/CheckpointError.js';
import { checksumHex, type ChecksumFn } from './checksum.js';

/**
 * The frame every checkpoint file is written in:
 *
 * ```text
 * rss-checkpoint 1 <type>                 format name, format version, file type
 * <body>                                  JSON (one value, or one value per line)
 * #end crc32=<8 hex> bytes=<n>            CRC-32 and length of everything above this line
 * ```
 *
 * A file is only accepted when the end line is present and complete, the
 * length matches and the checksum matches: a torn, truncated or bit-flipped
 * file is detected before any of its body is used.
 */
export const FORMAT_NAME = 'rss-checkpoint';
/** The checkpoint format version of the JSON files (metadata, offsets, commits, source logs; state files of older releases). */
export const FORMAT_VERSION = 1;
/** The format version of the columnar state files (`stateColumns.ts`); version 1 state files are still read. */
export const STATE_FORMAT_VERSION = 2;

/** What a checkpoint file holds. */
export type CheckpointFileType = 'metadata' | 'offsets' | 'commit' | 'delta' | 'snapshot' | 'source';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const NEWLINE = 0x0a;
/** Body text gathered before it is encoded and handed to the store (fewer, larger writes). */
const WRITE_CHUNK_CHARS = 1 << 20;
const END_LINE = /^#end crc32=([0-9a-f]{8}) bytes=(0|[1-9][0-9]*)$/;

/**
 * Frames `body` (strings, concatenated as they are; a final newline is added
 * when missing) into the bytes of a checkpoint file.
 */
export async function* frameFile(type: CheckpointFileType, body: Iterable<string> | AsyncIterable<string>, checksum: ChecksumFn): AsyncGenerator<Uint8Array> {
  let crc = 0;
  let length = 0;
  let endsWithNewline = true;
  const emit = (text: string): Uint8Array => {
    const bytes = encoder.encode(text);
    crc = checksum(bytes, crc);
    length += bytes.length;
    return bytes;
  };
  let pending: string[] = [`${FORMAT_NAME} ${FORMAT_VERSION} ${type}\n`];
  let pendingLength = pending[0]!.length;
  for await (const text of body) {
    if (text.length === 0) continue;
    endsWithNewline = text.charCodeAt(text.length - 1) === NEWLINE;
    pending.push(text);
    pendingLength += text.length;
    if (pendingLength >= WRITE_CHUNK_CHARS) {
      yield emit(pending.join(''));
      pending = [];
      pendingLength = 0;
    }
  }
  if (!endsWithNewline) pending.push('\n');
  if (pending.length > 0) yield emit(pending.join(''));
  yield encoder.encode(`#end crc32=${checksumHex(crc)} bytes=${length}\n`);
}

/** Frames a single JSON value. */
export function frameJson(type: CheckpointFileType, value: unknown, checksum: ChecksumFn): AsyncGenerator<Uint8Array> {
  return frameFile(type, [`${JSON.stringify(value)}\n`], checksum);
}

function corrupt(path: string, what: string, expected?: string, actual?: string): CheckpointCorruptError {
  return new CheckpointCorruptError(
    `checkpoint: file ${path} is corrupt; got ${what}. It is torn, truncated or damaged and was not used; restore it from a backup or start the query with a new checkpoint location.`,
    path,
    expected,
    actual,
  );
}

/** Where a checked file's body is, and the format version its header names. */
export interface CheckedFrame {
  readonly version: number;
  /** The body: `bytes[bodyStart..bodyEnd)` (after the header line, before the end line). */
  readonly bodyStart: number;
  readonly bodyEnd: number;
}

/**
 * Checks a checkpoint file's frame (end line, length, checksum, header) and
 * says where its body is. `versions` are the format versions accepted for
 * this file type.
 *
 * @throws {CheckpointCorruptError} when the end line is missing or malformed, the length or checksum does not match, the header is not a checkpoint header, or the type is not `type`.
 * @throws {CheckpointError} when the file was written by a format version not in `versions`.
 */
export function checkFrame(bytes: Uint8Array, path: string, type: CheckpointFileType, checksum: ChecksumFn, versions: readonly number[] = [FORMAT_VERSION]): CheckedFrame {
  const size = bytes.length;
  if (size === 0) throw corrupt(path, 'an empty file');
  if (bytes[size - 1] !== NEWLINE) throw corrupt(path, 'no end line (the file is truncated)');
  const endStart = bytes.lastIndexOf(NEWLINE, size - 2) + 1;
  let endLine: string;
  try {
    endLine = decoder.decode(bytes.subarray(endStart, size - 1));
  } catch {
    throw corrupt(path, 'an unreadable end line (the file is truncated)');
  }
  const match = END_LINE.exec(endLine);
  if (match === null) throw corrupt(path, `no end line (the file is truncated); last line ${JSON.stringify(endLine.slice(0, 60))}`);
  const expected = match[1]!;
  const declared = Number(match[2]);
  if (declared !== endStart) throw corrupt(path, `${endStart} bytes before the end line where it records ${declared}`);
  const content = bytes.subarray(0, endStart);
  const actual = checksumHex(checksum(content, 0));
  if (actual !== expected) throw corrupt(path, `checksum crc32=${actual} where the file records crc32=${expected}`, expected, actual);
  const headerEnd = content.indexOf(NEWLINE);
  let headerText: string;
  try {
    headerText = decoder.decode(content.subarray(0, headerEnd < 0 ? 0 : headerEnd));
  } catch {
    throw corrupt(path, 'invalid UTF-8 text');
  }
  const header = headerText.split(' ');
  if (headerEnd < 0 || header.length !== 3 || header[0] !== FORMAT_NAME) throw corrupt(path, `the header ${JSON.stringify(headerText.slice(0, 60))}`);
  const version = Number(header[1]);
  if (!versions.includes(version) || String(version) !== header[1]) {
    const reads = versions.length === 1 ? `version ${versions[0]}` : `versions ${versions.join(' and ')}`;
    throw new CheckpointError(
      `checkpoint: file ${path} has format version ${header[1]}; got a checkpoint this version of rxjs-structured-streaming cannot read (it reads ${reads}). Use the library version that wrote it, or a new checkpoint location.`,
      path,
    );
  }
  if (header[2] !== type) throw corrupt(path, `a ${header[2]} file where a ${type} file belongs`);
  return { version, bodyStart: headerEnd + 1, bodyEnd: endStart };
}

/**
 * Checks a checkpoint file's frame and returns its body as text (without the
 * header and end lines). Nothing of a file that fails a check is returned.
 *
 * @throws {CheckpointCorruptError} when the end line is missing or malformed, the length or checksum does not match, the header is not a checkpoint header, the type is not `type`, or the body is not UTF-8.
 * @throws {CheckpointError} when the file was written by another format version.
 */
export function unframeFile(bytes: Uint8Array, path: string, type: CheckpointFileType, checksum: ChecksumFn): string {
  const frame = checkFrame(bytes, path, type, checksum);
  return decodeBody(bytes, frame, path);
}

/** The body of a checked frame as UTF-8 text. */
export function decodeBody(bytes: Uint8Array, frame: CheckedFrame, path: string): string {
  try {
    return decoder.decode(bytes.subarray(frame.bodyStart, frame.bodyEnd));
  } catch {
    throw corrupt(path, 'invalid UTF-8 text');
  }
}

/** Parses the body of a single-JSON-value file. */
export function parseJsonBody(body: string, path: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw corrupt(path, 'a body that is not valid JSON');
  }
}

/** Throws the standard corrupt-file error for a body whose content is not what it should be. */
export function corruptContent(path: string, what: string): CheckpointCorruptError {
  return corrupt(path, what);
}

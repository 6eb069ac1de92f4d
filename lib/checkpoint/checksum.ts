/**
 * CRC-32 (IEEE 802.3, the polynomial zlib and PNG use) of checkpoint file
 * contents. Pure JavaScript so that the in-memory store works in browsers; the
 * file store plugs in Node's native `zlib.crc32`, which gives the same values.
 */

/** Continues a CRC-32 over `data`, starting from `previous` (0 for a new checksum). */
export type ChecksumFn = (data: Uint8Array, previous: number) => number;

let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  if (table !== undefined) return table;
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  table = t;
  return t;
}

/** CRC-32 of `data`, continuing from `previous`. */
export const crc32: ChecksumFn = (data, previous) => {
  const t = crcTable();
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};

/** A checksum as the 8 lowercase hex digits written in checkpoint files. */
export function checksumHex(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

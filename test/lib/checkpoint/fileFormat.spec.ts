import { crc32 as nativeCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { checksumHex, crc32 } from '../../../lib/checkpoint/checksum.js';
import { frameFile, frameJson, unframeFile } from '../../../lib/checkpoint/fileFormat.js';
import { CheckpointCorruptError, CheckpointError } from '../../../lib/errors/index.js';

async function bytesOf(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: number[] = [];
  for await (const chunk of chunks) parts.push(...chunk);
  return Uint8Array.from(parts);
}

const encode = (s: string) => new TextEncoder().encode(s);

describe('checksum', () => {
  it('computes the same CRC-32 as zlib, also when continued over chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), (a, b) => {
        expect(crc32(a, 0)).toBe(nativeCrc32(a));
        expect(crc32(b, crc32(a, 0))).toBe(nativeCrc32(Buffer.concat([a, b])));
      }),
      { numRuns: 100 },
    );
    expect(checksumHex(crc32(encode('hello'), 0))).toBe('3610a686');
  });
});

describe('checkpoint file frame', () => {
  it('writes a header with format and type, the body, and an end line with checksum and length', async () => {
    const bytes = await bytesOf(frameJson('offsets', { batchId: 3 }, crc32));
    const text = new TextDecoder().decode(bytes);
    expect(text).toBe(`rss-checkpoint 1 offsets\n{"batchId":3}\n#end crc32=${checksumHex(crc32(encode('rss-checkpoint 1 offsets\n{"batchId":3}\n'), 0))} bytes=39\n`);
    expect(unframeFile(bytes, 'ck/offsets/3', 'offsets', crc32)).toBe('{"batchId":3}\n');
  });

  it('round-trips any body, adding a final newline when missing', () => {
    return fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: 'binary' }), { maxLength: 5 }), async (parts) => {
        const bytes = await bytesOf(frameFile('delta', parts, crc32));
        const body = parts.join('');
        expect(unframeFile(bytes, 'p', 'delta', crc32)).toBe(body.length === 0 || body.endsWith('\n') ? body : `${body}\n`);
      }),
      { numRuns: 100 },
    );
  });

  it('detects every truncation', async () => {
    const bytes = await bytesOf(frameFile('delta', ['{"operator":"x"}\n', '["a",1]\n["b"]\n'], crc32));
    for (let length = 0; length < bytes.length; length++) {
      expect(() => unframeFile(bytes.subarray(0, length), 'ck/state/x/1.delta', 'delta', crc32)).toThrow(CheckpointCorruptError);
    }
    expect(() => unframeFile(bytes.subarray(0, bytes.length - 1), 'ck/state/x/1.delta', 'delta', crc32)).toThrow(
      'checkpoint: file ck/state/x/1.delta is corrupt; got no end line (the file is truncated). It is torn, truncated or damaged and was not used; restore it from a backup or start the query with a new checkpoint location.',
    );
  });

  it('detects every single-byte change and never returns a different body', async () => {
    const bytes = await bytesOf(frameJson('commit', { batchId: 12, operators: {} }, crc32));
    expect(unframeFile(bytes, 'p', 'commit', crc32)).toBe('{"batchId":12,"operators":{}}\n');
    for (let i = 0; i < bytes.length; i++) {
      for (const flip of [0x01, 0x20, 0x80]) {
        const damaged = bytes.slice();
        damaged[i] = damaged[i]! ^ flip;
        let result: string | undefined;
        try {
          result = unframeFile(damaged, 'p', 'commit', crc32);
        } catch (error) {
          expect(error).toBeInstanceOf(CheckpointError);
        }
        expect(result).toBeUndefined();
      }
    }
  });

  it('reports the checksums of a damaged body', async () => {
    const bytes = await bytesOf(frameJson('commit', { batchId: 1 }, crc32));
    const damaged = bytes.slice();
    damaged[30] = 0x39; // '1' -> '9' in the body
    let caught: unknown;
    try {
      unframeFile(damaged, 'ck/commits/1', 'commit', crc32);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CheckpointCorruptError);
    const error = caught as CheckpointCorruptError;
    expect(error.path).toBe('ck/commits/1');
    expect(error.expectedChecksum).toMatch(/^[0-9a-f]{8}$/);
    expect(error.actualChecksum).toMatch(/^[0-9a-f]{8}$/);
    expect(error.message).toBe(`checkpoint: file ck/commits/1 is corrupt; got checksum crc32=${error.actualChecksum} where the file records crc32=${error.expectedChecksum}. It is torn, truncated or damaged and was not used; restore it from a backup or start the query with a new checkpoint location.`);
  });

  it('rejects a file of another type or format version', async () => {
    const offsets = await bytesOf(frameJson('offsets', {}, crc32));
    expect(() => unframeFile(offsets, 'ck/commits/0', 'commit', crc32)).toThrow('checkpoint: file ck/commits/0 is corrupt; got a offsets file where a commit file belongs.');
    const text = 'rss-checkpoint 2 commit\n{}\n';
    const v2 = encode(`${text}#end crc32=${checksumHex(crc32(encode(text), 0))} bytes=${encode(text).length}\n`);
    let caught: unknown;
    try {
      unframeFile(v2, 'ck/commits/0', 'commit', crc32);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CheckpointError);
    expect(caught).not.toBeInstanceOf(CheckpointCorruptError);
    expect((caught as Error).message).toBe(
      'checkpoint: file ck/commits/0 has format version 2; got a checkpoint this version of rxjs-structured-streaming cannot read (it reads version 1). Use the library version that wrote it, or a new checkpoint location.',
    );
  });

  it('rejects an empty file and a file with a forged end line', () => {
    expect(() => unframeFile(new Uint8Array(0), 'p', 'commit', crc32)).toThrow('checkpoint: file p is corrupt; got an empty file.');
    expect(() => unframeFile(encode('rss-checkpoint 1 commit\n{}\n#end crc32=00000000 bytes=99\n'), 'p', 'commit', crc32)).toThrow(
      'checkpoint: file p is corrupt; got 27 bytes before the end line where it records 99.',
    );
  });
});

import { MalformedKafkaRecord, decodeKafkaBytes } from '../../../lib/kafka/KafkaSource.js';

// The wire keeps "no bytes" (null, a tombstone) apart from "zero bytes"; so does each value format.
// (mokapi, the integration broker, returns a produced zero-byte value as null, so this rule is pinned here.)
describe('decodeKafkaBytes: empty and null values follow the format', () => {
  it("binary: zero bytes are an empty Buffer, null stays null", () => {
    expect(decodeKafkaBytes('binary', Buffer.alloc(0))).toEqual(Buffer.alloc(0));
    expect(decodeKafkaBytes('binary', null)).toBeNull();
  });

  it("string: zero bytes are '', null stays null", () => {
    expect(decodeKafkaBytes('string', Buffer.alloc(0))).toBe('');
    expect(decodeKafkaBytes('string', null)).toBeNull();
  });

  it('json: zero bytes are malformed (no JSON text), with a reason that says so; null stays null', () => {
    expect(() => decodeKafkaBytes('json', Buffer.alloc(0))).toThrow(MalformedKafkaRecord);
    expect(() => decodeKafkaBytes('json', Buffer.alloc(0))).toThrow("empty value (zero bytes), which is not JSON; a null value would be a tombstone. Use valueFormat 'string' or 'binary' to read empty values");
    expect(decodeKafkaBytes('json', null)).toBeNull();
    expect(decodeKafkaBytes('json', Buffer.from('{"a":1}'))).toEqual({ a: 1 });
  });
});

import { InvalidOptionError } from '../../../lib/errors/index.js';
import { MalformedKafkaRecord, decodeKafkaBytes } from '../../../lib/kafka/KafkaSource.js';
import { fromKafka } from '../../../lib/sources/fromKafka.js';
import { compileSchema } from '../../../lib/sources/parseRecords.js';

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

describe('decodeKafkaBytes with a valueSchema (from_json(value, schema))', () => {
  const schema = compileSchema('fromKafka', { id: 'string', amount: 'integer', price: 'double', time: { type: 'timestamp', format: 'dd-MM-yyyy-HH-mm' }, ['__proto__']: 'string' });

  it('converts each column to its type: numeric text to numbers, a formatted time to a Date, missing columns null, other fields left out', () => {
    const row = decodeKafkaBytes('json', Buffer.from('{"id":7,"amount":"10","price":"2.5","time":"20-04-2020-10-10","extra":true}'), schema) as Record<string, unknown>;
    expect(row).toEqual({ id: '7', amount: 10, price: 2.5, time: new Date(Date.UTC(2020, 3, 20, 10, 10)), ['__proto__']: null });
    expect(Object.keys(row)).toEqual(['id', 'amount', 'price', 'time', '__proto__']);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
  });

  it('keeps a __proto__ field as an ordinary column', () => {
    const row = decodeKafkaBytes('json', Buffer.from('{"__proto__":"x"}'), schema) as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe('x');
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
  });

  it('a value that does not fit its column, or is not an object, is malformed, naming the column and value', () => {
    expect(() => decodeKafkaBytes('json', Buffer.from('{"amount":"ten"}'), schema)).toThrow(new MalformedKafkaRecord('column amount is not an integer: "ten"'));
    expect(() => decodeKafkaBytes('json', Buffer.from('{"time":"2020-04-20"}'), schema)).toThrow('column time is not a timestamp (dd-MM-yyyy-HH-mm): "2020-04-20"');
    expect(() => decodeKafkaBytes('json', Buffer.from('[1]'), schema)).toThrow('not a JSON object: [1]');
  });

  it('a null value (a tombstone) stays null', () => {
    expect(decodeKafkaBytes('json', null, schema)).toBeNull();
  });

  it('fromKafka refuses a valueSchema with a valueFormat other than json, and a schema that is not one', () => {
    expect(() => fromKafka({ brokers: ['127.0.0.1:9092'], topic: 't', valueFormat: 'string', valueSchema: { id: 'string' } } as never)).toThrow(
      "fromKafka: valueFormat must be 'json' with a valueSchema; got \"string\". A valueSchema converts JSON values (from_json); leave valueFormat out or pass 'json'.",
    );
    expect(() => fromKafka({ brokers: ['127.0.0.1:9092'], topic: 't', valueSchema: { id: 'varchar' } } as never)).toThrow(InvalidOptionError);
  });
});

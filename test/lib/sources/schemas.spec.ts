import { compileSchema, convertValue, inferCsvSchema, parseRecords } from '../../../lib/sources/parseRecords.js';
import { InvalidOptionError } from '../../../lib/errors/index.js';

describe('schema conversions (Spark types)', () => {
  it('integer is 32-bit, long is exact or malformed, double text is cast as Spark casts a string', () => {
    expect(convertValue('2147483647', 'integer')).toBe(2147483647);
    expect(convertValue('2147483648', 'integer')).toBeUndefined();
    expect(convertValue('2147483648', 'long')).toBe(2147483648);
    expect(convertValue('9007199254740993', 'long')).toBeUndefined();
    expect(convertValue(' 1e3 ', 'double')).toBe(1000);
    expect(convertValue('NaN', 'double')).toBeNaN();
    expect(convertValue('-Inf', 'double')).toBe(-Infinity);
    expect(convertValue('ten', 'double')).toBeUndefined();
    expect(convertValue('', 'double')).toBeNull();
    expect(convertValue('', 'string')).toBe('');
    expect(convertValue(7, 'string')).toBe('7');
  });

  it('timestamp from epoch ms (number or text), ISO-8601, or a date-fns format; beyond the Date range is malformed', () => {
    expect(convertValue(1520000000000, 'timestamp')).toEqual(new Date(1520000000000));
    expect(convertValue('1520000000000', 'timestamp')).toEqual(new Date(1520000000000));
    expect(convertValue('2018-03-02 10:15', 'timestamp')).toEqual(new Date(Date.UTC(2018, 2, 2, 10, 15)));
    expect(convertValue(9e15, 'timestamp')).toBeUndefined();
    const schema = compileSchema('op', { at: { type: 'timestamp', format: 'dd-MM-yyyy-HH-mm' } });
    expect(schema.convert[0]!('02-03-2018-10-15')).toEqual(new Date(Date.UTC(2018, 2, 2, 10, 15)));
    expect(schema.convert[0]!('2018-03-02')).toBeUndefined();
    expect(() => compileSchema('op', { at: { type: 'timestamp', format: 'yyyy-jj' } })).toThrow(InvalidOptionError);
    expect(() => compileSchema('op', { at: 'date' })).toThrow(/^op: schema must map column names to/);
  });

  it('keeps __proto__ and constructor as ordinary columns in CSV and JSON', () => {
    const [csv] = parseRecords('__proto__,constructor\n{"a":1},x\n', { format: 'csv', header: true });
    const row = (csv as { row: Record<string, unknown> }).row;
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.keys(row)).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe('{"a":1}');
    const [json] = parseRecords('{"__proto__":{"polluted":true},"n":"1"}\n', { format: 'json', schema: { ['__proto__']: 'string', n: 'integer' } });
    const jrow = (json as { row: Record<string, unknown> }).row;
    expect(Object.getPrototypeOf(jrow)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(jrow, '__proto__')?.value).toBe('{"polluted":true}');
    expect(jrow.n).toBe(1);
    // a schema without the column: JSON's __proto__ key is not read from the prototype chain
    const [other] = parseRecords('{"n":"1"}\n', { format: 'json', schema: { ['__proto__']: 'string', n: 'integer' } });
    expect(Object.getOwnPropertyDescriptor((other as { row: object }).row, '__proto__')?.value).toBeNull();
  });

  it('gives a malformed record its PERMISSIVE form: values that fit, nulls, and the corrupt-record column', () => {
    expect(parseRecords('a,x\n', { format: 'csv', schema: { id: 'string', n: 'integer', _corrupt_record: 'string' } })).toEqual([
      { malformed: { line: 1, text: 'a,x', reason: 'column n is not an integer: "x"', column: 'n' }, row: { id: 'a', n: null, _corrupt_record: 'a,x' } },
    ]);
    expect(parseRecords('{"id":\n', { format: 'json', schema: { id: 'string' } })).toEqual([
      { malformed: { line: 1, text: '{"id":', reason: expect.stringMatching(/^invalid JSON/) as unknown as string }, row: { id: null } },
    ]);
  });

  it('infers CSV column types as Spark (narrowest type that fits every value, widening numbers, else string)', () => {
    const rows = [{ a: '1', b: '1', c: 'x', d: '2020-01-01T00:00:00', e: 'TRUE', f: null, g: '3000000000' }, { a: '2', b: '2.5', c: '1', d: '2020-01-02', e: 'false', f: null, g: '1' }];
    expect(inferCsvSchema(rows, ['a', 'b', 'c', 'd', 'e', 'f', 'g'])).toEqual({ a: 'integer', b: 'double', c: 'string', d: 'timestamp', e: 'boolean', f: 'string', g: 'long' });
  });

  it('infers integer text beyond 2^53 as string, never as a double that would change the value', () => {
    const rows = [{ id: '9007199254740993', n: '9007199254740991' }, { id: '1', n: '2' }];
    expect(inferCsvSchema(rows, ['id', 'n'])).toEqual({ id: 'string', n: 'long' });
  });
});

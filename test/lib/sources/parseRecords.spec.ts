import { convertValue, parseCsv, parseRecords } from '../../../lib/sources/parseRecords.js';

describe('parseRecords', () => {
  it('parses JSON lines, skipping blank lines, reporting bad lines with their number (PERMISSIVE form without a schema: the text in the corrupt-record column)', () => {
    expect(parseRecords('{"a":1}\n\n[1]\n{"a":\n', { format: 'json' })).toEqual([
      { row: { a: 1 } },
      { malformed: { line: 3, text: '[1]', reason: 'not a JSON object' }, row: { _corrupt_record: '[1]' } },
      { malformed: { line: 4, text: '{"a":', reason: expect.stringMatching(/^invalid JSON/) }, row: { _corrupt_record: '{"a":' } },
    ]);
  });

  it('applies a schema: exactly its columns, converted, missing ones null', () => {
    expect(parseRecords('{"id":"p1","n":"7","ts":"2018-03-02T10:02:33","extra":1}\n', { format: 'json', schema: { id: 'string', n: 'integer', ts: 'timestamp', ok: 'boolean' } })).toEqual([
      { row: { id: 'p1', n: 7, ts: new Date('2018-03-02T10:02:33Z'), ok: null } },
    ]);
  });

  it('parses CSV with quotes, escaped quotes and line breaks inside quotes; names columns _c0… without a header', () => {
    expect(parseCsv('a,"b, c","d ""e"""\n"multi\nline",x,y\n').map((r) => [r.line, r.fields])).toEqual([
      [1, ['a', 'b, c', 'd "e"']],
      [2, ['multi\nline', 'x', 'y']],
    ]);
    expect(parseRecords('1,2\n', { format: 'csv' })).toEqual([{ row: { _c0: '1', _c1: '2' } }]);
    expect(parseRecords('x,"open\n', { format: 'csv' })).toEqual([{ malformed: { line: 1, text: 'x,"open', reason: 'unterminated quoted field' }, row: { _corrupt_record: 'x,"open' } }]);
    expect(parseRecords('a,b\n1\n', { format: 'csv', header: true, columnNameOfCorruptRecord: 'bad' })).toEqual([{ malformed: { line: 2, text: '1', reason: 'expected 2 columns, got 1' }, row: { a: '1', bad: '1' } }]);
  });

  it('tells a quoted empty string ("") from an empty cell, as Spark does: "" is an empty string for string columns, an empty cell is null; both are null for other types', () => {
    expect(parseCsv('a,"",,""\n').map((r) => [r.fields, r.quotedEmpty])).toEqual([[['a', '', '', ''], [1, 3]]]);
    expect(parseRecords('a,"",\n', { format: 'csv' })).toEqual([{ row: { _c0: 'a', _c1: '', _c2: null } }]);
    expect(parseRecords('"",""\n,\n', { format: 'csv', schema: { s: 'string', n: 'integer' } })).toEqual([{ row: { s: '', n: null } }, { row: { s: null, n: null } }]);
    // A line holding only "" is a record with one empty string, not a blank line.
    expect(parseRecords('""\n\n', { format: 'csv' })).toEqual([{ row: { _c0: '' } }]);
  });

  it('converts values or says it cannot', () => {
    expect(convertValue('12', 'long')).toBe(12);
    expect(convertValue('1.5', 'double')).toBe(1.5);
    expect(convertValue('TRUE', 'boolean')).toBe(true);
    expect(convertValue('soon', 'timestamp')).toBeUndefined();
    expect(convertValue('1.5', 'integer')).toBeUndefined();
  });
});

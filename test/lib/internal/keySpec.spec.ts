import { decodeStableKey, encodeStableKey, keyPart, resolveKeySpec, stableKeyOf } from '../../../lib/internal/keySpec.js';
import { InvalidOptionError } from '../../../lib/errors/index.js';

describe('keySpec', () => {
  it('keeps a single numeric or string field as is and tags everything else', () => {
    expect(stableKeyOf(5)).toBe(5);
    expect(stableKeyOf(-0)).toBe(0);
    expect(stableKeyOf('x')).toBe('x');
    expect(stableKeyOf(new Date(3))).toBe('\u0000D3');
    expect(stableKeyOf({ b: 1, a: [1, '2'] })).toBe('\u0000{"a":[1,"2"],"b":1}');
    expect(stableKeyOf(null)).toBe(stableKeyOf(undefined)); // one SQL null
  });

  it('encodes multi-field keys without ambiguity', () => {
    const k = resolveKeySpec<Record<string, unknown>>('op', ['a', 'b'], 'keys', false);
    expect(k.keyOf({ a: 'x,"y"', b: 'z' })).not.toBe(k.keyOf({ a: 'x', b: 'y","z' }));
    expect(k.keyOf({ a: 1, b: 2 })).toBe('1,2');
    expect(k.valueOf({ a: 1, b: 2, c: 3 })).toEqual({ a: 1, b: 2 });
    expect(keyPart(true)).toBe('true');
    expect(keyPart(10n)).toBe('10n');
  });

  it('builds whole-row keys independent of field order', () => {
    const k = resolveKeySpec<Record<string, unknown>>('op', undefined, 'keys', true);
    expect(k.keyOf({ a: 1, b: 2 })).toBe(k.keyOf({ b: 2, a: 1 }));
    // null, undefined and a missing field are one SQL null (issue 10, "keys are SQL values").
    expect(k.keyOf({ a: 1 })).toBe(k.keyOf({ a: 1, b: undefined }));
    expect(k.keyOf({ a: 1 })).toBe(k.keyOf({ b: null, a: 1 }));
    expect(k.keyOf({ a: 1, b: 0 })).not.toBe(k.keyOf({ a: 1 }));
    expect(k.keyOf({})).toBe(k.keyOf({ a: null }));
    expect(k.fields).toEqual([]);
  });

  it('never gives a string the key of a null, a Date or an object', () => {
    for (const [tagged, other] of [['\u0000null', null], ['\u0000D3', new Date(3)], ['\u0000{"a":1}', { a: 1 }]] as const) {
      expect(stableKeyOf(tagged)).not.toBe(stableKeyOf(other));
    }
    expect(stableKeyOf('\u0000x')).toBe(stableKeyOf('\u0000x'));
    expect(stableKeyOf('a\u0000')).toBe('a\u0000'); // only a leading U+0000 is tagged
  });

  it('quotes whole-row field names holding the separators, so different rows never share a key', () => {
    const k = resolveKeySpec<Record<string, unknown>>('op', undefined, 'keys', true);
    expect(k.keyOf({ a: '1', b: 2 })).not.toBe(k.keyOf({ 'a:"1",b': 2 }));
    expect(k.keyOf({ 'x,y': 1 })).not.toBe(k.keyOf({ x: undefined, y: 1 }));
    expect(k.keyOf({ a: 1, b: 2 })).toBe('\u0001a:1,b:2'); // plain names are written as they are (keys in existing checkpoints stay valid)
  });

  it('round-trips checkpoint keys', () => {
    for (const key of [0, -3.5, 'n1', 's', '']) expect(decodeStableKey(encodeStableKey(key))).toBe(key);
    expect(decodeStableKey('@watermark')).toBeUndefined();
  });

  it('rejects bad specs, and a missing one unless the whole row is allowed', () => {
    expect(() => resolveKeySpec('op', undefined, 'keyBy', false)).toThrow('op: keyBy must be a field name, a non-empty list of field names or a function of the row; got undefined.');
    expect(() => resolveKeySpec('op', [] as never, 'keys', true)).toThrow(InvalidOptionError);
  });
});

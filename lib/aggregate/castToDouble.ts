/**
 * Casts text to a double the way Spark casts a string to `DOUBLE` outside
 * ANSI mode (`Cast.castToDouble`: Java's `Double.parseDouble` on the string,
 * then Spark's special literals):
 *
 * - leading and trailing whitespace and control characters are ignored
 *   (Java trims every character up to U+0020);
 * - decimal notation with an optional sign, fraction and exponent
 *   (`10`, `-1.5`, `.5`, `5.`, `1e3`, `2.5E-2`), optionally ending in one of
 *   Java's type suffixes `d`, `D`, `f`, `F` (`10d`);
 * - Java's hexadecimal floating literals (`0x1.8p1` is 3);
 * - `NaN`, `Infinity`, `+Infinity`, `-Infinity` (Java), and, case-insensitive,
 *   `nan`, `inf`, `+inf`, `infinity`, `+infinity`, `-inf`, `-infinity` (Spark);
 * - anything else (`''`, `'abc'`, `'1,000'`, `'10 kg'`, `'0x10'`) is `null`.
 *
 * Numbers too large for a double become `±Infinity`, as in Java.
 */
export function castToDouble(text: string): number | null {
  const s = javaTrim(text);
  if (s.length === 0) return null;
  if (DECIMAL.test(s)) {
    const last = s.charCodeAt(s.length - 1);
    // d D f F
    return Number(last === 100 || last === 68 || last === 102 || last === 70 ? s.slice(0, -1) : s);
  }
  const hex = HEX.exec(s);
  if (hex !== null) return hexDouble(hex);
  switch (s) {
    case 'NaN':
      return Number.NaN;
    case 'Infinity':
    case '+Infinity':
      return Number.POSITIVE_INFINITY;
    case '-Infinity':
      return Number.NEGATIVE_INFINITY;
  }
  switch (s.toLowerCase()) {
    case 'nan':
      return Number.NaN;
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Number.POSITIVE_INFINITY;
    case '-inf':
    case '-infinity':
      return Number.NEGATIVE_INFINITY;
    default:
      return null;
  }
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?$/;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)[pP]([+-]?\d+)[dDfF]?$/;

function javaTrim(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) <= 32) start++;
  while (end > start && text.charCodeAt(end - 1) <= 32) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

function hexDouble(m: RegExpExecArray): number | null {
  const [, sign, whole = '', fraction = '', exponent = '0'] = m;
  if (whole.length === 0 && fraction.length === 0) return null;
  let mantissa = 0;
  for (const ch of whole + fraction) mantissa = mantissa * 16 + Number.parseInt(ch, 16);
  const value = mantissa * 2 ** (Number(exponent) - 4 * fraction.length);
  return sign === '-' ? -value : value;
}

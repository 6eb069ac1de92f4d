import { InvalidOptionError } from '../../../lib/errors/index.js';
import { formatCell, formatTable, formatTimestamp } from '../../../lib/sinks/formatTable.js';
import { toConsole } from '../../../lib/sinks/toConsole.js';

const MIN = 60_000;
const T0 = Date.UTC(2018, 2, 2, 10, 0, 0);
const at = (text: string): Date => new Date(`${text.replace(' ', 'T')}Z`);

function capture(options: Parameters<typeof toConsole>[0] = {}): { sink: ReturnType<typeof toConsole>; out: () => string } {
  let text = '';
  const sink = toConsole({ ...options, write: (t) => (text += t) });
  return { sink, out: () => text };
}

describe('toConsole', () => {
  it('prints notes/000 section 3 batch 0 (complete mode, truncate false) exactly as Spark', async () => {
    const { sink, out } = capture({ truncate: false });
    await sink.addBatch(0, [
      { window: { start: T0, end: T0 + 10 * MIN }, action: 'close', count: 1 },
      { window: { start: T0, end: T0 + 10 * MIN }, action: 'open', count: 3 },
    ]);
    expect(out()).toBe(
      [
        '-------------------------------------------',
        'Batch: 0',
        '-------------------------------------------',
        '+------------------------------------------+------+-----+',
        '|window                                    |action|count|',
        '+------------------------------------------+------+-----+',
        '|[2018-03-02 10:00:00, 2018-03-02 10:10:00]|close |1    |',
        '|[2018-03-02 10:00:00, 2018-03-02 10:10:00]|open  |3    |',
        '+------------------------------------------+------+-----+',
        '',
        '',
      ].join('\n'),
    );
  });

  it('prints notes/000 section 4 (select and filter, append, truncate false)', async () => {
    const { sink, out } = capture({ truncate: false });
    await sink.addBatch(0, [
      { action: 'open', id: 'phone1' },
      { action: 'open', id: 'phone2' },
      { action: 'open', id: 'phone3' },
    ]);
    await sink.addBatch(1, [{ action: 'open', id: 'phone4' }]);
    expect(out()).toBe(
      `-------------------------------------------
Batch: 0
-------------------------------------------
+------+------+
|action|id    |
+------+------+
|open  |phone1|
|open  |phone2|
|open  |phone3|
+------+------+

-------------------------------------------
Batch: 1
-------------------------------------------
+------+------+
|action|id    |
+------+------+
|open  |phone4|
+------+------+

`,
    );
  });

  it('prints timestamps as Spark does (notes/000 section 4, the whole row)', async () => {
    const { sink, out } = capture({ truncate: false });
    await sink.addBatch(0, [
      { id: 'phone1', action: 'open', ts: at('2018-03-02 10:02:33') },
      { id: 'phone1', action: 'close', ts: at('2018-03-02 10:04:35') },
    ]);
    expect(out()).toContain(`+------+------+-------------------+
|id    |action|ts                 |
+------+------+-------------------+
|phone1|open  |2018-03-02 10:02:33|
|phone1|close |2018-03-02 10:04:35|
+------+------+-------------------+
`);
  });

  it('right-aligns cells by default (truncate true), as notes/000 section 7 shows', async () => {
    const { sink, out } = capture();
    await sink.addBatch(0, [
      { id: 'phone3', action: 'close', ts: at('2018-03-02 04:07:35') },
      { id: 'phone4', action: 'open', ts: at('2018-03-02 05:07:50') },
    ]);
    expect(out()).toContain(`+------+------+-------------------+
|    id|action|                 ts|
+------+------+-------------------+
|phone3| close|2018-03-02 04:07:35|
|phone4|  open|2018-03-02 05:07:50|
+------+------+-------------------+
`);
  });

  it('cuts long cells to 20 characters when truncating (notes/000 section 7, continuous rate source)', async () => {
    const { sink, out } = capture();
    await sink.addBatch(1, [
      { timestamp: at('2020-03-08 00:24:01.234'), value: 0 },
      { timestamp: at('2020-03-08 00:24:01.734'), value: 1 },
    ]);
    expect(out()).toContain(`+--------------------+-----+
|           timestamp|value|
+--------------------+-----+
|2020-03-08 00:24:...|    0|
|2020-03-08 00:24:...|    1|
+--------------------+-----+
`);
  });

  it('prints an empty batch with the last known columns, or an empty box', async () => {
    const { sink, out } = capture();
    await sink.addBatch(0, []);
    await sink.addBatch(1, [{ action: 'open', count: 1 }]);
    await sink.addBatch(2, []);
    expect(out()).toBe(
      `-------------------------------------------
Batch: 0
-------------------------------------------
++
||
++
++

-------------------------------------------
Batch: 1
-------------------------------------------
+------+-----+
|action|count|
+------+-----+
|  open|    1|
+------+-----+

-------------------------------------------
Batch: 2
-------------------------------------------
+------+-----+
|action|count|
+------+-----+
+------+-----+

`,
    );
  });

  it('shows at most numRows rows with the footer Spark prints', async () => {
    const { sink, out } = capture({ numRows: 2 });
    await sink.addBatch(0, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(out()).toContain('|  1|\n|  2|\n+---+\nonly showing top 2 rows\n\n');
  });

  it('prints continuous epochs once committed', async () => {
    const { sink, out } = capture();
    await sink.addRows!(4, [{ value: 0 }]);
    await sink.addRows!(4, [{ value: 1 }]);
    expect(out()).toBe('');
    await sink.commitEpoch!(4);
    expect(out()).toContain('Batch: 4');
    expect(out()).toContain('|    0|\n|    1|');
  });

  describe('formatting', () => {
    it('formats cells like Spark 2.x (structs in brackets) or 3.x (braces)', () => {
      expect(formatCell(null)).toBe('null');
      expect(formatCell({ start: T0, end: T0 + MIN })).toBe('[2018-03-02 10:00:00, 2018-03-02 10:01:00]');
      expect(formatCell({ start: T0, end: T0 + MIN }, 'spark3')).toBe('{2018-03-02 10:00:00, 2018-03-02 10:01:00}');
      expect(formatCell(['a', 1, null])).toBe('[a, 1, null]');
      expect(formatCell({ id: 'phone1', health: 'good' })).toBe('[phone1, good]');
      expect(formatTimestamp(T0 + 1500)).toBe('2018-03-02 10:00:01.5');
    });
    it('keeps columns at least 3 wide and counts wide characters twice', () => {
      expect(formatTable([{ a: 'x' }], { truncate: false })).toBe('+---+\n|a  |\n+---+\n|x  |\n+---+\n');
      expect(formatTable([{ w: '日本' }])).toBe('+----+\n|   w|\n+----+\n|日本|\n+----+\n');
    });
  });

  describe('misconfiguration', () => {
    it('rejects a bad numRows or truncate', () => {
      expect(() => toConsole({ numRows: 0 })).toThrow(InvalidOptionError);
      expect(() => toConsole({ numRows: 0 })).toThrow('toConsole: numRows must be a positive integer; got 0. Use e.g. 20.');
      expect(() => toConsole({ truncate: -1 })).toThrow('toConsole: truncate must be a boolean or a non-negative integer; got -1. Use true (20 characters), false, or a width.');
    });
  });
});

describe('formatTable and columns named like Object members', () => {
  it('shows __proto__, constructor and toString as ordinary columns: null where a row lacks one, never the inherited member', () => {
    const rows = [JSON.parse('{"__proto__":"x","constructor":"c","toString":"t"}') as Record<string, unknown>, { n: 1 }];
    expect(formatTable(rows, { truncate: false })).toBe(
      ['+---------+-----------+--------+----+', '|__proto__|constructor|toString|n   |', '+---------+-----------+--------+----+', '|x        |c          |t       |null|', '|null     |null       |null    |1   |', '+---------+-----------+--------+----+', ''].join('\n'),
    );
  });
});

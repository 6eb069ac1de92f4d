import { JoinTimeIndex } from '../../../lib/join/JoinTimeIndex.js';

describe('JoinTimeIndex', () => {
  it('drains the keys filed at or below a watermark, oldest first, and keeps the rest', () => {
    const index = new JoinTimeIndex<string>();
    const times = [50, 10, 30, 10, 70, 20, 60, 40];
    times.forEach((t, i) => index.add(t, `k${i}`));
    expect(index.size).toBe(8);
    expect(index.drainDue(30).sort()).toEqual(['k1', 'k2', 'k3', 'k5']);
    expect(index.drainDue(30)).toEqual([]);
    expect(index.drainDue(65)).toEqual(['k7', 'k0', 'k6']);
    index.add(5, 'late');
    expect(index.drainDue(100)).toEqual(['late', 'k4']);
    expect(index.size).toBe(0);
  });

  it('orders many random times like a sort', () => {
    const index = new JoinTimeIndex<number | string>();
    let seed = 7;
    const times: number[] = [];
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      times.push(seed % 500);
      index.add(times[i]!, i);
    }
    const drained = index.drainDue(Number.POSITIVE_INFINITY) as number[];
    expect(drained.map((i) => times[i]!)).toEqual([...times].sort((a, b) => a - b));
    index.add(1, 'x');
    index.clear();
    expect(index.drainDue(10)).toEqual([]);
  });
});

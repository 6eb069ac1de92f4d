import { MinHeap } from '../../../lib/internal/MinHeap.js';

describe('MinHeap', () => {
  it('pops items by ascending time and reports the smallest time', () => {
    const heap = new MinHeap<string>();
    expect(heap.peekTime()).toBe(Number.POSITIVE_INFINITY);
    [40, 10, 30, 20].forEach((t) => heap.add(t, `t${t}`));
    expect(heap.size).toBe(4);
    expect(heap.peekTime()).toBe(10);
    expect([heap.pop(), heap.pop()]).toEqual(['t10', 't20']);
    heap.add(5, 't5');
    expect([heap.pop(), heap.pop(), heap.pop()]).toEqual(['t5', 't30', 't40']);
    expect(heap.size).toBe(0);
  });

  it('orders many random times like a sort and forgets everything on clear', () => {
    const heap = new MinHeap<number>();
    let seed = 11;
    const times: number[] = [];
    for (let i = 0; i < 1000; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      times.push(seed % 300);
      heap.add(times[i]!, i);
    }
    const popped: number[] = [];
    while (heap.size > 0) popped.push(times[heap.pop()]!);
    expect(popped).toEqual([...times].sort((a, b) => a - b));
    heap.add(1, 1);
    heap.clear();
    expect(heap.size).toBe(0);
    expect(heap.peekTime()).toBe(Number.POSITIVE_INFINITY);
  });
});

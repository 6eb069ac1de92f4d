import { mergeSessionLists, sessionsFromSortedEvents, type Session } from '../../../lib/window/session.js';

const add = (a: number, b: number) => a + b;
const s = (start: number, end: number, acc = 1): Session<number> => ({ start, end, acc });

describe('mergeSessionLists', () => {
  it('merges overlapping sessions and lets a new event bridge two sessions (SWS complete mode)', () => {
    expect(mergeSessionLists([s(25, 35), s(40, 50)], [s(30, 40)], add)).toEqual([s(25, 50, 3)]);
  });

  it('merges sessions that only touch (next.start <= current.end)', () => {
    expect(mergeSessionLists([s(10, 20)], [s(20, 30)], add)).toEqual([s(10, 30, 2)]);
  });

  it('keeps separate sessions apart and untouched sessions as the same objects', () => {
    const a = [s(10, 20), s(50, 60)];
    const out = mergeSessionLists(a, [s(21, 31)], add);
    expect(out).toEqual([s(10, 20), s(21, 31), s(50, 60)]);
    expect(out[0]).toBe(a[0]);
    expect(out[2]).toBe(a[1]);
  });

  it('takes the larger end when a contained session merges', () => {
    expect(mergeSessionLists([s(10, 40)], [s(15, 20)], add)).toEqual([s(10, 40, 2)]);
  });

  it('does not modify its inputs', () => {
    const a = Object.freeze([Object.freeze(s(10, 20))]);
    const b = Object.freeze([Object.freeze(s(15, 25))]);
    expect(mergeSessionLists(a, b, add)).toEqual([s(10, 25, 2)]);
  });
});

describe('sessionsFromSortedEvents', () => {
  it('groups sorted events whose sessions overlap or touch', () => {
    const times = [10, 15, 25, 40];
    const ends = times.map((t) => t + 10);
    const out = sessionsFromSortedEvents(times, ends, ['a', 'b', 'c', 'd'], () => [] as string[], (acc, row) => (acc.push(row), acc));
    expect(out).toEqual([
      { start: 10, end: 35, acc: ['a', 'b', 'c'] },
      { start: 40, end: 50, acc: ['d'] },
    ]);
  });

  it('handles per-row gaps (an earlier event with a longer gap covers later ones)', () => {
    const out = sessionsFromSortedEvents([0, 5, 30], [40, 10, 35], [1, 1, 1], () => 0, (a, r) => a + r);
    expect(out).toEqual([{ start: 0, end: 40, acc: 3 }]);
  });
});

import { createTestScheduler as create } from '../../lib/testing/marbles.js';

/** A TestScheduler asserting with jest's `toEqual`. */
export function createTestScheduler() {
  return create((actual, expected) => expect(actual).toEqual(expected));
}
export { batch, at } from '../../lib/testing/marbles.js';

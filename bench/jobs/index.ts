// The benchmark jobs, in table order.
import type { Job } from './common.js';
import { dedup } from './dedup.js';
import { join } from './join.js';
import { session } from './session.js';
import { sliding } from './sliding.js';
import { tumbling } from './tumbling.js';

export const JOBS: readonly Job[] = [tumbling, sliding, session, dedup, join];

/** The job named `name`, or `undefined`. */
export function jobNamed(name: string): Job | undefined {
  return JOBS.find((j) => j.name === name);
}

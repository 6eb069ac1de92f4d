import type { LateRows, LateRowsHandler } from '../types.js';

/** Hands a batch's late rows to the user's side output, if there is one and there are rows. */
export function emitLateRows<T>(handler: LateRowsHandler<T> | undefined, late: LateRows<T>): void {
  if (handler === undefined || late.rows.length === 0) return;
  if (typeof handler === 'function') handler(late);
  else handler.next(late);
}

import { isObservable, of, type Observable } from 'rxjs';
import { InvalidOptionError, describeValue } from '../errors/index.js';
import { isStaticRows, type StaticRows } from './staticJoin.js';

/**
 * A static table for a stream-static join whose contents may be replaced:
 * each emission of `tables$` is the whole table (an array or an Immutable
 * collection) and replaces the previous one. Made by {@link staticTable}.
 */
export interface StaticTable<R> {
  readonly kind: 'staticTable';
  /** The table versions, each one whole. */
  readonly tables$: Observable<StaticRows<R>>;
}

/**
 * Marks a stream of whole tables (reference data that is refreshed) as the
 * static side of a `streamJoin`, so that it is not mistaken for a stream of
 * batches. Each emission replaces the table; every batch of the stream is
 * joined with the latest table. Batches that arrive before the first table
 * wait for it.
 *
 * @example
 * ```ts
 * declare const events$: Observable<Batch<{ id: string; ts: number }>>;
 * const devices$ = new BehaviorSubject<readonly { id: string; owner: string }[]>([{ id: 'phone1', owner: 'ann' }]);
 * events$.pipe(streamJoin(staticTable(devices$), { on: 'id' }));
 * devices$.next([{ id: 'phone1', owner: 'bob' }]); // later batches join with the new table
 * ```
 *
 * @param tables An Observable of whole tables, or one fixed table.
 * @throws {InvalidOptionError} `staticTable: tables must be an Observable of tables, an array or an Immutable collection; got <value>.`
 */
export function staticTable<R>(tables: Observable<StaticRows<R>> | StaticRows<R>): StaticTable<R> {
  if (isObservable(tables)) return { kind: 'staticTable', tables$: tables };
  if (isStaticRows(tables)) return { kind: 'staticTable', tables$: of(tables) };
  throw new InvalidOptionError(
    `staticTable: tables must be an Observable of tables, an array or an Immutable collection; got ${describeValue(tables)}.`,
    'tables',
    tables,
    'an Observable of tables, an array or an Immutable collection',
  );
}

/** `true` for a value made by {@link staticTable}. */
export function isStaticTable(value: unknown): value is StaticTable<unknown> {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'staticTable' && isObservable((value as { tables$?: unknown }).tables$);
}

/**
 * Compile-time checks for reusable pipeline fragments and keyed state
 * (compiled by `npm run typecheck`, never run): a fragment built with RxJS
 * `pipe(...)` takes its row type from the first operator's type argument, a
 * pipeline applied to `fromBatches`/a `Source` takes it from there, and the
 * key a `[flat]mapGroupsWithState` function receives follows `keyBy`.
 */
import { expectTypeOf } from 'expect-type';
import { pipe, type Observable } from 'rxjs';
import {
  assignWindows, count, dropDuplicates, dropDuplicatesWithinWatermark, flatMapGroupsWithState, fromBatches, groupAggregate, mapGroupsWithState, max, outputMode,
  startQuery, toMemory, windowSession, windowSliding, windowTumbling, withWatermark,
  type Batch, type GroupState, type Source, type WindowBounds,
} from '../../lib/index.js';
import { batch, createTestScheduler } from '../../lib/testing/index.js';

type Row = { ts: number; page: string; n: number };
declare const rows$: Observable<Batch<Row>>;

// A fragment's row type comes from the first operator's type argument; keyBy, eventTime and field aggregators are checked against it.
const perPage = pipe(
  withWatermark<Row>('ts', '10 seconds'),
  windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'page', aggregate: { views: count() } }),
  outputMode('append'),
);
expectTypeOf(perPage).parameter(0).toEqualTypeOf<Observable<Batch<Row>>>();
rows$.pipe(perPage).subscribe((b) => expectTypeOf(b.rows[0]!).toEqualTypeOf<{ window: WindowBounds; page: string; views: number }>());

const deduped = pipe(dropDuplicates<Row>('page'), withWatermark('ts', '1 second'), windowSliding({ eventTime: 'ts', size: 10, slide: 5, keyBy: 'page', aggregate: { c: count() } }), outputMode('update'));
rows$.pipe(deduped).subscribe((b) => expectTypeOf(b.rows[0]!).toEqualTypeOf<{ window: WindowBounds; page: string; c: number }>());

const windowed = pipe(assignWindows<Row>({ eventTime: 'ts', size: 10 }), groupAggregate({ keyBy: ['page', 'window'], aggregate: { c: count() } }), outputMode('complete'));
rows$.pipe(windowed).subscribe((b) => expectTypeOf(b.rows[0]!).toEqualTypeOf<{ page: string; window: WindowBounds; c: number }>());

const sessions = pipe(withWatermark<Row>('ts', '10 seconds'), dropDuplicatesWithinWatermark(['page']), windowSession({ eventTime: 'ts', gap: 10, keyBy: 'page', aggregate: { c: count() } }), outputMode('append'));
rows$.pipe(sessions).subscribe((b) => expectTypeOf(b.rows[0]!.page).toEqualTypeOf<string>());

// @ts-expect-error 'pgae' is not a field of Row
pipe(withWatermark<Row>('ts', '10 seconds'), windowTumbling({ eventTime: 'ts', size: 5, keyBy: 'pgae', aggregate: { c: count() } }));
// @ts-expect-error a fragment over Row does not accept batches of another row type
fromBatches([[{ ts: 1 }]]).pipe(perPage);
// Without a type argument nothing gives the row type: the rows are `unknown`, any field name is accepted and typed
// `unknown`, and the fragment applies to any source (typeArguments.types.ts pins the details).
const untyped = pipe(withWatermark('ts', '10 seconds'), windowTumbling({ eventTime: 'ts', size: 5, keyBy: 'page', aggregate: { c: count() } }), outputMode('append'));
rows$.pipe(untyped).subscribe((b) => expectTypeOf(b.rows[0]!).toEqualTypeOf<{ window: WindowBounds; page: unknown; c: number }>());

// Applied to fromBatches or a Source, the operators need no type argument.
fromBatches<Row>([])
  .pipe(withWatermark('ts', '10 seconds'), windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'page', aggregate: { views: count() } }), outputMode('update'))
  .subscribe((b) => expectTypeOf(b.rows[0]!).toEqualTypeOf<{ window: WindowBounds; page: string; views: number }>());
declare const source: Source<Row>;
startQuery({
  source,
  sink: toMemory<{ window: WindowBounds; page: string; views: number }>('views'),
  pipeline: (batches$) => batches$.pipe(withWatermark('ts', '10 seconds'), windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'page', aggregate: { views: count() } }), outputMode('append')),
});
startQuery({
  source,
  sink: toMemory('bad'),
  // @ts-expect-error 'pgae' is not a field of the source's rows
  pipeline: (batches$) => batches$.pipe(groupAggregate({ keyBy: 'pgae', aggregate: { c: count() } }), outputMode('update')),
});

// mapGroupsWithState: the key follows keyBy.
rows$.pipe(
  mapGroupsWithState({ keyBy: 'page' }, (page, rows, state: GroupState<number>) => {
    expectTypeOf(page).toEqualTypeOf<string>();
    expectTypeOf(rows).toEqualTypeOf<readonly Row[]>();
    state.update(rows.length);
    return { page, seen: state.get() };
  }),
).subscribe((b) => expectTypeOf(b.rows[0]!).toEqualTypeOf<{ page: string; seen: number }>());
rows$.pipe(mapGroupsWithState({ keyBy: 'n' }, (n) => expectTypeOf(n).toEqualTypeOf<number>()));
rows$.pipe(mapGroupsWithState({ keyBy: ['page', 'n'] }, (key) => expectTypeOf(key).toEqualTypeOf<{ page: string; n: number }>()));
rows$.pipe(mapGroupsWithState({ keyBy: (r) => r.page.length > 3 }, (key) => expectTypeOf(key).toEqualTypeOf<boolean>()));
const counter = pipe(withWatermark<Row>('ts', '1 minute'), mapGroupsWithState({ keyBy: 'page', timeout: 'eventTime' }, (page, rows, state: GroupState<number>) => ({ page, c: rows.length + (state.getOption() ?? 0) })));
rows$.pipe(counter).subscribe((b) => expectTypeOf(b.rows[0]!).toEqualTypeOf<{ page: string; c: number }>());
// @ts-expect-error the key of keyBy 'page' is a string, not a number
rows$.pipe(mapGroupsWithState({ keyBy: 'page' }, (page: number) => page));
// @ts-expect-error 'pgae' is not a field of Row
rows$.pipe(mapGroupsWithState({ keyBy: 'pgae' }, (page) => page));
rows$.pipe(
  flatMapGroupsWithState({ keyBy: ['page'], outputMode: 'append' }, function* (key, rows: readonly Row[]) {
    expectTypeOf(key).toEqualTypeOf<{ page: string }>();
    yield { page: key.page, c: rows.length };
  }),
).subscribe((b) => expectTypeOf(b.rows[0]!).toEqualTypeOf<{ page: string; c: number }>());
// @ts-expect-error the key of keyBy 'n' is a number
rows$.pipe(flatMapGroupsWithState({ keyBy: 'n', outputMode: 'update' }, (n: string) => [n]));
// Explicit type arguments never make the key unknown: <Row>() keeps it inferred from keyBy, <Row, S, R> alone is refused.
mapGroupsWithState<Row>()({ keyBy: 'page' }, (key) => {
  expectTypeOf(key).toEqualTypeOf<string>();
  return 1;
});
// @ts-expect-error mapGroupsWithState<Row, S, R>(options, fn) would lose the key type
mapGroupsWithState<Row, number, number>({ keyBy: 'page' }, () => 1);

// The testing entry: options or a framework assertion; expected values are plain batches.
createTestScheduler();
createTestScheduler({ rowOrder: 'ordered' });
createTestScheduler((actual, expected) => {
  expectTypeOf(actual).toEqualTypeOf<unknown>();
  expectTypeOf(expected).toEqualTypeOf<unknown>();
});
// @ts-expect-error rowOrder is 'any' or 'ordered'
createTestScheduler({ rowOrder: 'sorted' });
expectTypeOf(batch(0, [{ page: 'a' }], 5)).toEqualTypeOf<Batch<{ page: string }>>();
rows$.pipe(groupAggregate({ keyBy: 'page', aggregate: { top: max('n') } }));

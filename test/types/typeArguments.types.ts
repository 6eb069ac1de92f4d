/**
 * Compile-time checks that a type argument never erases a type (compiled by
 * `npm run typecheck`, never run). TypeScript infers no type argument once one
 * is given, so `windowTumbling<Row>(options)` could not type the key and the
 * aggregates from the options: it is refused with an error that names the
 * form that keeps them, `windowTumbling<Row>()(options)`. The same holds for
 * the other aggregation operators, `[flat]mapGroupsWithState<Row, S, R>` and
 * the built-in aggregators that read a field (`max<Row>('price')`).
 */
import { expectTypeOf } from 'expect-type';
import { pipe, type Observable, type OperatorFunction } from 'rxjs';
import {
  assignWindows, avg, collectList, collectSet, count, countDistinct, first, flatMapGroupsWithState, fromBatches, groupAggregate, last, mapGroupsWithState, max, min, outputMode, sum,
  streamJoin, windowSession, windowSliding, windowTumbling, withWatermark,
  type Aggregator, type Batch, type GroupState, type JoinRow, type JoinableBatch, type ResultBatch, type WindowBounds, type WithWindow,
} from '../../lib/index.js';

type Ev = { ts: number; user: string; amount: number; price?: number | null; flag: boolean; at: Date };
declare const events$: Observable<Batch<Ev>>;
declare const other$: Observable<Batch<{ id: string }>>;

// ---------------------------------------------------------------------------
// The aggregation operators: <Row>() fixes the row type and keeps the key and aggregate types.

const tumbling = windowTumbling<Ev>()({
  eventTime: 'ts',
  size: '1 minute',
  keyBy: 'user',
  aggregate: { n: count(), total: sum('amount'), hi: max('amount'), lo: min('price'), f: first('flag'), l: last('at'), xs: collectList('amount'), us: collectSet('user') },
});
expectTypeOf(tumbling).toEqualTypeOf<
  OperatorFunction<Batch<Ev>, ResultBatch<{ window: WindowBounds; user: string; n: number; total: number | null; hi: number | null; lo: number | null; f: boolean | null; l: Date | null; xs: number[]; us: string[] }, 'window'>>
>();
expectTypeOf(windowTumbling<Ev>()({ eventTime: 'ts', size: 10, aggregate: { n: count() } })).toEqualTypeOf<OperatorFunction<Batch<Ev>, ResultBatch<{ window: WindowBounds; n: number }, 'window'>>>();

expectTypeOf(windowSliding<Ev>()({ eventTime: 'ts', size: 10, slide: 5, keyBy: ['user', 'flag'], aggregate: { mean: avg('amount') } })).toEqualTypeOf<
  OperatorFunction<Batch<Ev>, ResultBatch<{ window: WindowBounds; user: string; flag: boolean; mean: number | null }, 'window'>>
>();
expectTypeOf(windowSession<Ev>()({ eventTime: 'ts', gap: '30 seconds', keyBy: (r) => r.user.toLowerCase(), aggregate: { users: countDistinct('user') } })).toEqualTypeOf<
  OperatorFunction<Batch<Ev>, ResultBatch<{ window: WindowBounds; key: string; users: number }, 'session'>>
>();
expectTypeOf(groupAggregate<Ev>()({ keyBy: 'user', aggregate: { hi: max('amount') } })).toEqualTypeOf<OperatorFunction<Batch<Ev>, ResultBatch<{ user: string; hi: number | null }, 'group'>>>();
expectTypeOf(groupAggregate<Ev>()({ aggregate: { n: count() } })).toEqualTypeOf<OperatorFunction<Batch<Ev>, ResultBatch<{ n: number }, 'group'>>>();

// A fragment that starts with the aggregation.
const perUser = pipe(groupAggregate<Ev>()({ keyBy: 'user', aggregate: { n: count(), total: sum('amount') } }), outputMode('complete'));
expectTypeOf(perUser).parameter(0).toEqualTypeOf<Observable<Batch<Ev>>>();
events$.pipe(perUser).subscribe((b) => expectTypeOf(b.rows[0]!).toEqualTypeOf<{ user: string; n: number; total: number | null }>());
// @ts-expect-error the fragment is over Ev rows
other$.pipe(perUser);

// <Row>() still checks the options against the row type.
// @ts-expect-error 'usr' is not a field of Ev
windowTumbling<Ev>()({ eventTime: 'ts', size: 10, keyBy: 'usr', aggregate: { n: count() } });
// @ts-expect-error 'tz' is not a field of Ev
windowSliding<Ev>()({ eventTime: 'tz', size: 10, slide: 5, aggregate: { n: count() } });
// @ts-expect-error 'amout' is not a field of Ev
groupAggregate<Ev>()({ keyBy: 'user', aggregate: { hi: max('amout') } });
// @ts-expect-error sum of a string field
windowSession<Ev>()({ eventTime: 'ts', gap: 10, keyBy: 'user', aggregate: { total: sum('user') } });
// @ts-expect-error avg of a boolean field
windowTumbling<Ev>()({ eventTime: 'ts', size: 10, aggregate: { mean: avg('flag') } });

// <Row>(options) is refused: it would type every aggregate field unknown.
// @ts-expect-error windowTumbling<Row>(options) would lose the key and aggregate types
windowTumbling<Ev>({ eventTime: 'ts', size: 10, keyBy: 'user', aggregate: { n: count() } });
// @ts-expect-error windowSliding<Row>(options) would lose the key and aggregate types
windowSliding<Ev>({ eventTime: 'ts', size: 10, slide: 5, aggregate: { n: count() } });
// @ts-expect-error windowSession<Row>(options) would lose the key and aggregate types
windowSession<Ev>({ eventTime: 'ts', gap: 10, keyBy: 'user', aggregate: { n: count() } });
// @ts-expect-error groupAggregate<Row>(options) would lose the key and aggregate types
groupAggregate<Ev>({ keyBy: 'user', aggregate: { n: count() } });

// Every type argument given: precise as well.
const spec = { n: count<Ev>(), hi: max<Ev, 'amount'>('amount') };
expectTypeOf(windowTumbling<Ev, 'user', typeof spec>({ eventTime: 'ts', size: 10, keyBy: 'user', aggregate: spec })).toEqualTypeOf<
  OperatorFunction<Batch<Ev>, ResultBatch<{ window: WindowBounds; user: string; n: number; hi: number | null }, 'window'>>
>();
expectTypeOf(groupAggregate<Ev, typeof spec>({ aggregate: spec })).toEqualTypeOf<OperatorFunction<Batch<Ev>, ResultBatch<{ n: number; hi: number | null }, 'group'>>>();

// Without type arguments, in a pipe over a typed source: precise.
events$.pipe(windowTumbling({ eventTime: 'ts', size: 10, keyBy: 'user', aggregate: { us: collectSet('user'), l: last('price') } }), outputMode('update')).subscribe((b) => {
  expectTypeOf(b.rows[0]!).toEqualTypeOf<{ window: WindowBounds; user: string; us: string[]; l: number | null }>();
});

// assignWindows: its only other type argument is the column name, which defaults to 'window'.
expectTypeOf(assignWindows<Ev>({ eventTime: 'ts', size: 10 })).toEqualTypeOf<OperatorFunction<Batch<Ev>, Batch<WithWindow<Ev, 'window'>>>>();
expectTypeOf(assignWindows<Ev, 'bucket'>({ eventTime: 'ts', size: 10, as: 'bucket' })).toEqualTypeOf<OperatorFunction<Batch<Ev>, Batch<WithWindow<Ev, 'bucket'>>>>();
// assignWindows<Row>() keeps the column name generic, inferred from `as`.
expectTypeOf(assignWindows<Ev>()({ eventTime: 'ts', size: 10, as: 'bucket' })).toEqualTypeOf<OperatorFunction<Batch<Ev>, Batch<WithWindow<Ev, 'bucket'>>>>();
expectTypeOf(assignWindows<Ev>()({ eventTime: 'ts', size: 10 })).toEqualTypeOf<OperatorFunction<Batch<Ev>, Batch<WithWindow<Ev, 'window'>>>>();
const bucketed = pipe(assignWindows<Ev>()({ eventTime: 'ts', size: 10, as: 'bucket' }), groupAggregate({ keyBy: ['bucket', 'user'], aggregate: { n: count() } }), outputMode('complete'));
events$.pipe(bucketed).subscribe((b) => expectTypeOf(b.rows[0]!).toEqualTypeOf<{ bucket: WindowBounds; user: string; n: number }>());
// @ts-expect-error 'tz' is not a field of Ev
assignWindows<Ev>()({ eventTime: 'tz', size: 10 });
// @ts-expect-error assignWindows<Row>(options) with a column other than 'window' is refused: write assignWindows<Row>()(options)
assignWindows<Ev>({ eventTime: 'ts', size: 10, as: 'bucket' });

// ---------------------------------------------------------------------------
// Built-in aggregators that read a field carry its type (null and undefined taken out of the value type).

events$.pipe(
  groupAggregate({
    keyBy: 'user',
    aggregate: { a: min('at'), b: max('price'), c: first('user'), d: last('flag'), e: collectList('price'), f: collectSet('flag'), g: max((r) => r.amount > 10), h: collectList((r) => r.user.length) },
  }),
  outputMode('complete'),
).subscribe((b) => {
  expectTypeOf(b.rows[0]!).toEqualTypeOf<{ user: string; a: Date | null; b: number | null; c: string | null; d: boolean | null; e: number[]; f: boolean[]; g: boolean | null; h: number[] }>();
});
// Outside an operator: every type argument, or a function with an annotated row.
expectTypeOf(max<Ev, 'amount'>('amount')).toEqualTypeOf<Aggregator<Ev, unknown, number | null>>();
expectTypeOf(first<Ev, 'price'>('price').result).returns.toEqualTypeOf<number | null>();
expectTypeOf(collectList<Ev, 'user'>('user')).toEqualTypeOf<Aggregator<Ev, string[], string[]>>();
expectTypeOf(min((r: Ev) => r.at)).toEqualTypeOf<Aggregator<Ev, unknown, Date | null>>();
expectTypeOf(last((r: Ev) => r.price).result).returns.toEqualTypeOf<number | null>();
expectTypeOf(last((r: Ev) => r.price).add).parameter(1).toEqualTypeOf<Ev>();
expectTypeOf(collectSet((r: Ev) => r.user)).toEqualTypeOf<Aggregator<Ev, Map<unknown, string>, string[]>>(); // values by their canonical stand-in (compared by value)
// A record row type loses nothing: the field's type is the record's value type.
expectTypeOf(max<Record<string, number>>('x')).toEqualTypeOf<Aggregator<Record<string, number>, unknown, number | null>>();
expectTypeOf(collectList<Record<string, string | null>>('x')).toEqualTypeOf<Aggregator<Record<string, string | null>, string[], string[]>>();
// Without a row type the value type is unknown.
expectTypeOf(max('amount')).toEqualTypeOf<Aggregator<unknown, unknown, unknown>>();
// Only the row type argument: refused (the result would be unknown).
// @ts-expect-error max<Row>(field) would lose the field's type
max<Ev>('amount');
// @ts-expect-error min<Row>(field) would lose the field's type
min<Ev>('at');
// @ts-expect-error first<Row>(field) would lose the field's type
first<Ev>('user');
// @ts-expect-error last<Row>(field) would lose the field's type
last<Ev>('user');
// @ts-expect-error collectList<Row>(field) would lose the field's type
collectList<Ev>('user');
// @ts-expect-error collectSet<Row>(field) would lose the field's type
collectSet<Ev>('user');
// sum, avg and count have one result type, so their row type argument loses nothing; sum and avg still refuse text and booleans.
expectTypeOf(sum<Ev>('amount')).toEqualTypeOf<Aggregator<Ev, number | null, number | null>>();
expectTypeOf(avg<Ev>('price')).toEqualTypeOf<Aggregator<Ev, [number, number], number | null>>();
// @ts-expect-error sum of a string field
sum<Ev>('user');
// @ts-expect-error avg of a boolean field
avg<Ev>('flag');
// @ts-expect-error sum of a Date field
sum<Ev>('at');
// @ts-expect-error avg of a function returning a boolean
avg((r: Ev) => r.flag);
// @ts-expect-error sum of a string field, in a window
events$.pipe(windowTumbling({ eventTime: 'ts', size: 10, aggregate: { total: sum('user') } }));
// @ts-expect-error avg of a boolean field, in a session window
events$.pipe(windowSession({ eventTime: 'ts', gap: 10, keyBy: 'user', aggregate: { mean: avg('flag') } }));

// ---------------------------------------------------------------------------
// [flat]mapGroupsWithState: the key follows keyBy with <Row>() as without type arguments.

const running = mapGroupsWithState<Ev>()({ keyBy: 'user' }, (user, rows, state: GroupState<number>) => {
  expectTypeOf(user).toEqualTypeOf<string>();
  expectTypeOf(rows).toEqualTypeOf<readonly Ev[]>();
  state.update((state.getOption() ?? 0) + rows.length);
  return { user, n: state.get() };
});
expectTypeOf(running).toEqualTypeOf<OperatorFunction<Batch<Ev>, Batch<{ user: string; n: number }>>>();
mapGroupsWithState<Ev>()({ keyBy: ['user', 'flag'] }, (key) => expectTypeOf(key).toEqualTypeOf<{ user: string; flag: boolean }>());
mapGroupsWithState<Ev>()({ keyBy: (r) => r.at.getUTCDay() }, (key) => expectTypeOf(key).toEqualTypeOf<number>());
flatMapGroupsWithState<Ev>()({ keyBy: 'amount', outputMode: 'append' }, (amount, rows) => {
  expectTypeOf(amount).toEqualTypeOf<number>();
  return rows.map((r) => r.user);
});
// @ts-expect-error the key of keyBy 'user' is a string
mapGroupsWithState<Ev>()({ keyBy: 'user' }, (user: number) => user);
// @ts-expect-error 'usr' is not a field of Ev
flatMapGroupsWithState<Ev>()({ keyBy: 'usr', outputMode: 'update' }, () => []);
// Every type argument given, the key among them: checked.
mapGroupsWithState<Ev, number, string, 'user'>({ keyBy: 'user' }, (user) => user);
// @ts-expect-error mapGroupsWithState<Row, S, R>(options, fn) would lose the key type keyBy gives
mapGroupsWithState<Ev, number, string>({ keyBy: 'user' }, () => 'x');
// @ts-expect-error flatMapGroupsWithState<Row, S, R>(options, fn) would lose the key type keyBy gives
flatMapGroupsWithState<Ev, number, string>({ keyBy: 'user', outputMode: 'append' }, () => ['x']);
// A fragment may also take its row type from fn's annotated rows.
const fromRows = pipe(mapGroupsWithState({ keyBy: 'user' }, (user, rows: readonly Ev[]) => ({ user, n: rows.length })));
expectTypeOf(fromRows).toEqualTypeOf<OperatorFunction<Batch<Ev>, Batch<{ user: string; n: number }>>>();

// ---------------------------------------------------------------------------
// Fragments without any row type: as good as TypeScript allows. Field names cannot give the row type
// (TypeScript would infer { ts: any }), so the rows are unknown: any field name is accepted, what it
// reads is typed unknown, and the fragment applies to batches of any row type. Give the first
// operator a row type argument (withWatermark<Row>(…), dropDuplicates<Row>(…), windowTumbling<Row>()(…))
// to have the field names checked and typed.

expectTypeOf(withWatermark('ts', '10 seconds')).toEqualTypeOf<OperatorFunction<Batch<unknown>, Batch<unknown>>>();
const untyped = pipe(
  withWatermark('ts', '10 seconds'),
  windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'page', aggregate: { views: count(), top: max('n'), total: sum('n') } }),
  outputMode('append'),
);
events$.pipe(untyped).subscribe((b) => expectTypeOf(b.rows[0]!).toEqualTypeOf<{ window: WindowBounds; page: unknown; views: number; top: unknown; total: number | null }>());
other$.pipe(untyped);
fromBatches([[{ anything: 1 }]]).pipe(untyped);
const untypedKeys = pipe(withWatermark('ts', 0), groupAggregate({ keyBy: ['page', 'user'], aggregate: { n: count() } }), outputMode('complete'));
events$.pipe(untypedKeys).subscribe((b) => expectTypeOf(b.rows[0]!).toEqualTypeOf<{ page: unknown; user: unknown; n: number }>());
const untypedFnKey = pipe(groupAggregate({ keyBy: () => ({ day: 1 }), aggregate: { n: count() } }), outputMode('complete'));
events$.pipe(untypedFnKey).subscribe((b) => expectTypeOf(b.rows[0]!).toEqualTypeOf<{ day: number; n: number }>());
// With a row type argument on the first operator the same fragment is checked and typed.
const typed = pipe(withWatermark<Ev>('ts', '10 seconds'), windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'user', aggregate: { top: max('amount') } }), outputMode('append'));
events$.pipe(typed).subscribe((b) => expectTypeOf(b.rows[0]!).toEqualTypeOf<{ window: WindowBounds; user: string; top: number | null }>());
// @ts-expect-error 'page' is not a field of Ev
pipe(withWatermark<Ev>('ts', '10 seconds'), windowTumbling({ eventTime: 'ts', size: 5, keyBy: 'page', aggregate: { n: count() } }));
// Over a typed source, field names are still checked (the row type comes from the source, never from a field name).
// @ts-expect-error 'tz' is not a field of Ev
events$.pipe(withWatermark('tz', '10 seconds'));
// @ts-expect-error 'tz' is not a field of Ev
events$.pipe(withWatermark({ field: 'tz', unit: 'seconds' }, '10 seconds'));

// A nested key (a join's `left.k`) gives a result column named by its last part, typed from the nested field.
{
  type L = { k: string; ts: number };
  type J = { readonly left: L; readonly right: L | null };
  const joined$ = null as unknown as Observable<Batch<J>>;
  const nested$ = joined$.pipe(groupAggregate({ keyBy: 'left.k', aggregate: { n: count() } }));
  type NestedRow = typeof nested$ extends Observable<ResultBatch<infer R>> ? R : never;
  expectTypeOf<NestedRow>().toEqualTypeOf<{ k: string; n: number }>();
  const row: NestedRow = { k: 'a', n: 1 };
  void row;
  // @ts-expect-error the column is `k`, not `left.k`
  const wrong: NestedRow = { 'left.k': 'a', n: 1 };
  void wrong;
}

// ---------------------------------------------------------------------------
// streamJoin: <Left>() (or <Left, Right>()) fixes the row types and keeps the join type and select's row type.
{
  type Imp = { ts: number; user: string; ad: string };
  const imps$ = null as unknown as Observable<Batch<Imp>>;
  expectTypeOf(streamJoin<Ev>()(imps$, { on: 'user', type: 'leftOuter', select: (e, i) => ({ user: e.user, ad: i?.ad ?? null }) })).toEqualTypeOf<
    OperatorFunction<JoinableBatch<Ev>, Batch<{ user: string; ad: string | null }>>
  >();
  expectTypeOf(streamJoin<Ev, Imp>()(imps$, { on: 'user', type: 'fullOuter' })).toEqualTypeOf<OperatorFunction<JoinableBatch<Ev>, Batch<JoinRow<'fullOuter', Ev, Imp>>>>();
  expectTypeOf(streamJoin<Ev>()(imps$, { on: 'user' })).toEqualTypeOf<OperatorFunction<JoinableBatch<Ev>, Batch<{ readonly left: Ev; readonly right: Imp }>>>();
  // Stream-static: the right rows come from the table.
  expectTypeOf(streamJoin<Ev>()([{ user: 'u', tier: 1 }], { on: 'user', type: 'leftSemi' })).toEqualTypeOf<OperatorFunction<Batch<Ev>, Batch<Ev>>>();
  // A fragment that starts with the join.
  const enriched = pipe(streamJoin<Ev>()(imps$, { on: 'user', select: (e, i) => ({ user: e.user, amount: e.amount, ad: i.ad }) }), groupAggregate({ keyBy: 'ad', aggregate: { total: sum('amount') } }), outputMode('update'));
  events$.pipe(enriched).subscribe((b) => expectTypeOf(b.rows[0]!).toEqualTypeOf<{ ad: string; total: number | null }>());
  // @ts-expect-error the fragment is over Ev rows
  other$.pipe(enriched);
  // @ts-expect-error 'usr' is not a key of both sides
  streamJoin<Ev>()(imps$, { on: 'usr' });
  // @ts-expect-error streamJoin<Left, Right>() bounds the right rows: Imp has no `amount`
  streamJoin<Ev, { amount: number }>()(imps$, { on: 'user' });
  // @ts-expect-error stream-static joins have no right outer form
  streamJoin<Ev>()([{ user: 'u' }], { on: 'user', type: 'rightOuter' });
  // @ts-expect-error streamJoin<Left>(other, options) would lose the right row, join type and output row types
  streamJoin<Ev>(imps$, { on: 'user' });
  // Without type arguments, in a pipe over a typed source or after a typed first operator: precise.
  events$.pipe(streamJoin(imps$, { on: 'user', type: 'leftOuter', select: (e, i) => ({ user: e.user, ad: i?.ad }) })).subscribe((b) => expectTypeOf(b.rows[0]!).toEqualTypeOf<{ user: string; ad: string | undefined }>());
  const joined = pipe(withWatermark<Ev>('ts', '1 minute'), streamJoin(imps$, { on: 'user' }));
  expectTypeOf(joined).toEqualTypeOf<OperatorFunction<Batch<Ev>, Batch<{ readonly left: Ev; readonly right: Imp }>>>();
}

// Compile-only: what a user's editor sees. Each `Is<…>` line fails to compile
// unless the two types are the same; each @ts-expect-error line must be an error.
import { pipe, type Observable } from 'rxjs';
import {
  assignWindows, collectList, collectSet, count, first, groupAggregate, last, mapGroupsWithState, max, min, outputMode, streamJoin, sum,
  windowTumbling, withWatermark,
  type Batch, type GroupState, type WindowBounds,
} from 'rxjs-structured-streaming';

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const is = <A, B>(..._: Same<A, B> extends true ? [] : [never]): void => undefined;
type RowOf<O> = O extends (source: Observable<Batch<infer _In>>) => Observable<Batch<infer R>> ? R : never;

type Click = { ts: number; page: string; user: string; ms: number; at: Date };
declare const clicks$: Observable<Batch<Click>>;
type Impression = { ts: number; page: string; ad: string };
declare const impressions$: Observable<Batch<Impression>>;

// A reusable fragment takes its row type from its first operator; keyBy and the field aggregators are typed from it.
const perPage = pipe(
  withWatermark<Click>('ts', '10 seconds'),
  windowTumbling({
    eventTime: 'ts',
    size: '5 seconds',
    keyBy: 'page',
    aggregate: { views: count(), total: sum('ms'), slowest: max('ms'), fastest: min('ms'), firstUser: first('user'), lastAt: last('at'), all: collectList('ms'), users: collectSet('user') },
  }),
  outputMode('append'),
);
is<RowOf<typeof perPage>, { window: WindowBounds; page: string; views: number; total: number | null; slowest: number | null; fastest: number | null; firstUser: string | null; lastAt: Date | null; all: number[]; users: string[] }>();
clicks$.pipe(perPage);
// @ts-expect-error the fragment is over Click rows
impressions$.pipe(perPage);
// @ts-expect-error 'pgae' is not a field of Click
pipe(withWatermark<Click>('ts', '10 seconds'), windowTumbling({ eventTime: 'ts', size: 5, keyBy: 'pgae', aggregate: { n: count() } }));

// An explicit row type argument never erases the aggregate types: op<Row>()(options).
const explicit = pipe(windowTumbling<Click>()({ eventTime: 'ts', size: '1 minute', keyBy: ['page', 'user'], aggregate: { n: count(), hi: max('ms') } }), outputMode('update'));
is<RowOf<typeof explicit>, { window: WindowBounds; page: string; user: string; n: number; hi: number | null }>();
const grouped = pipe(groupAggregate<Click>()({ keyBy: 'user', aggregate: { pages: collectSet('page') } }), outputMode('complete'));
is<RowOf<typeof grouped>, { user: string; pages: string[] }>();
// @ts-expect-error windowTumbling<Row>(options) is refused (it would type the aggregates unknown): write windowTumbling<Row>()(options)
windowTumbling<Click>({ eventTime: 'ts', size: 5, aggregate: { n: count() } });
// @ts-expect-error max<Row>(field) is refused (it would type the result unknown)
max<Click>('ms');
// @ts-expect-error sum of a text field
clicks$.pipe(groupAggregate({ aggregate: { s: sum('page') } }));

// mapGroupsWithState: the key follows keyBy.
clicks$.pipe(
  mapGroupsWithState({ keyBy: 'page' }, (page, rows, state: GroupState<number>) => {
    is<typeof page, string>();
    state.update((state.getOption() ?? 0) + rows.length);
    return { page, n: state.get() };
  }),
);
clicks$.pipe(mapGroupsWithState({ keyBy: ['page', 'ms'] }, (key) => is<typeof key, { page: string; ms: number }>()));
// @ts-expect-error the key of keyBy 'page' is a string
clicks$.pipe(mapGroupsWithState({ keyBy: 'page' }, (page: number) => page));

// Joins and window columns: the curried forms keep what the options say.
const joined = pipe(streamJoin<Click>()(impressions$, { on: 'page', type: 'leftOuter', select: (c, i) => ({ page: c.page, ad: i?.ad ?? null }) }));
is<RowOf<typeof joined>, { page: string; ad: string | null }>();
const bucketed = pipe(assignWindows<Click>()({ eventTime: 'ts', size: 10, as: 'bucket' }), groupAggregate({ keyBy: ['bucket', 'page'], aggregate: { n: count() } }), outputMode('complete'));
is<RowOf<typeof bucketed>, { bucket: WindowBounds; page: string; n: number }>();

/**
 * Compile-time checks for windows, aggregations and output modes (compiled by
 * `npm run typecheck`, never run). Each `@ts-expect-error` proves that a
 * shape Spark rejects does not compile.
 */
import { expectTypeOf } from 'expect-type';
import type { Observable } from 'rxjs';
import {
  assignWindows, count, fromBatches, groupAggregate, limit, orderBy, outputMode, streamJoin, sum, windowSession, windowSliding, windowTumbling, withWatermark,
  type Batch, type ResultBatch, type WindowBounds,
} from '../../lib/index.js';

type Ev = { ts: number; user: string; amount: number };
declare const events$: Observable<Batch<Ev>>;

// Row types follow keyBy and aggregate.
const perUser$ = events$.pipe(
  withWatermark('ts', '10 seconds'),
  windowTumbling({ eventTime: 'ts', size: '1 minute', keyBy: 'user', aggregate: { n: count(), total: sum('amount') } }),
  outputMode('append'),
);
perUser$.subscribe((b) => {
  expectTypeOf(b.rows[0]!).toEqualTypeOf<{ window: WindowBounds; user: string; n: number; total: number | null }>();
  expectTypeOf(b.outputMode).toEqualTypeOf<'append'>();
});

const multi$ = events$.pipe(windowSliding({ eventTime: 'ts', size: 10, slide: 5, keyBy: ['user', 'amount'], aggregate: { n: count() } }), outputMode('update'));
multi$.subscribe((b) => {
  expectTypeOf(b.rows[0]!).toEqualTypeOf<{ window: WindowBounds; user: string; amount: number; n: number }>();
});

events$.pipe(groupAggregate({ keyBy: (r) => ({ name: r.user.toLowerCase() }), aggregate: { n: count() } }), outputMode('complete')).subscribe((b) => {
  expectTypeOf(b.rows[0]!).toEqualTypeOf<{ name: string; n: number }>();
});
events$.pipe(groupAggregate({ keyBy: (r) => r.amount > 10, aggregate: { n: count() } }), outputMode('complete')).subscribe((b) => {
  expectTypeOf(b.rows[0]!).toEqualTypeOf<{ key: boolean; n: number }>();
});
events$.pipe(groupAggregate({ aggregate: { n: count() } }), outputMode('complete')).subscribe((b) => {
  expectTypeOf(b.rows[0]!).toEqualTypeOf<{ n: number }>();
});

// An aggregation emits ResultBatch; assignWindows adds the window column.
expectTypeOf(events$.pipe(windowSession({ eventTime: 'ts', gap: '30 seconds', keyBy: 'user', aggregate: { n: count() } }))).toMatchTypeOf<Observable<ResultBatch<{ window: WindowBounds; user: string; n: number }, 'session'>>>();
events$.pipe(assignWindows({ eventTime: 'ts', size: '1 minute', as: 'w' })).subscribe((b) => {
  expectTypeOf(b.rows[0]!.w).toEqualTypeOf<WindowBounds>();
  expectTypeOf(b.rows[0]!.user).toEqualTypeOf<string>();
});

// Field names of built-ins are checked against the row type.
// @ts-expect-error 'amout' is not a field of Ev
events$.pipe(windowTumbling({ eventTime: 'ts', size: 10, aggregate: { total: sum('amout') } }));
// @ts-expect-error 'tz' is not a field of Ev
events$.pipe(windowTumbling({ eventTime: 'tz', size: 10, aggregate: { n: count() } }));

// Complete (or any) output mode needs an aggregation.
// @ts-expect-error a plain batch stream is not a ResultBatch stream
events$.pipe(outputMode('complete'));
// @ts-expect-error a plain batch stream is not a ResultBatch stream
fromBatches([[{ ts: 1 }]]).pipe(withWatermark('ts', 0), outputMode('update'));

// Update mode is not supported for session windows.
// @ts-expect-error a session ResultBatch is not accepted by outputMode('update')
events$.pipe(windowSession({ eventTime: 'ts', gap: 10, keyBy: 'user', aggregate: { n: count() } }), outputMode('update'));
events$.pipe(windowSession({ eventTime: 'ts', gap: 10, keyBy: 'user', aggregate: { n: count() } }), outputMode('append'));

// Sorting only after a complete-mode aggregation.
events$.pipe(groupAggregate({ keyBy: 'user', aggregate: { n: count() } }), outputMode('complete'), orderBy({ by: 'n', desc: true }), limit(3));
// @ts-expect-error sorting a plain stream
events$.pipe(orderBy('ts'));
// @ts-expect-error sorting an update-mode result
events$.pipe(groupAggregate({ keyBy: 'user', aggregate: { n: count() } }), outputMode('update'), orderBy('n'));
// @ts-expect-error sorting by a field the rows do not have
events$.pipe(groupAggregate({ keyBy: 'user', aggregate: { n: count() } }), outputMode('complete'), orderBy('amount'));

// Limits are not supported in update mode.
events$.pipe(limit(5));
// @ts-expect-error limit after update mode
events$.pipe(groupAggregate({ keyBy: 'user', aggregate: { n: count() } }), outputMode('update'), limit(5));

// Stream-stream joins take append-mode inputs only (Spark: "Join between two streaming DataFrames/Datasets is not supported in Update output mode").
const counts$ = events$.pipe(groupAggregate({ keyBy: 'user', aggregate: { n: count() } }));
events$.pipe(streamJoin(events$, { on: 'user' }));
counts$.pipe(outputMode('append'), streamJoin(events$, { on: 'user' }));
// @ts-expect-error an update-mode result as the left input of a stream-stream join
counts$.pipe(outputMode('update'), streamJoin(events$, { on: 'user' }));
// @ts-expect-error a complete-mode result as the right input of a stream-stream join
events$.pipe(streamJoin(counts$.pipe(outputMode('complete')), { on: 'user' }));

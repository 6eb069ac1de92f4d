/**
 * The pipeline model (lib/internal/pipeline.ts, docs/guides/pipeline-model.md):
 * information that travels between operators — watermarked columns through
 * joins and projections, Spark's refusals of whole pipeline shapes, the output
 * mode set in one place — across foreign RxJS operators.
 *
 * The join → aggregation cases reproduce Spark's MultiStatefulOperatorsSuite
 * with its data and expected rows. Each `MultiAddData` there is one
 * micro-batch of both inputs (aligned here); Spark's trailing no-data batch is
 * folded into the batch that moved the watermark.
 */
import { Observable, Subject, asyncScheduler, delay, filter, map, observeOn, of, share, subscribeOn, tap } from 'rxjs';
import type { Batch } from '../../lib/batch/Batch.js';
import { fromBatches } from '../../lib/batch/fromBatches.js';
import { count } from '../../lib/aggregate/count.js';
import { InvalidOptionError, UnsupportedOperationError } from '../../lib/errors/index.js';
import type { GroupState } from '../../lib/groupState/GroupState.js';
import { flatMapGroupsWithState } from '../../operators/flatMapGroupsWithState.js';
import { groupAggregate } from '../../operators/groupAggregate.js';
import { mapGroupsWithState } from '../../operators/mapGroupsWithState.js';
import { mapRows } from '../../operators/mapRows.js';
import { outputMode } from '../../operators/outputMode.js';
import { streamJoin } from '../../operators/streamJoin.js';
import { windowTumbling } from '../../operators/windowTumbling.js';
import { withWatermark } from '../../operators/withWatermark.js';
import { dropDuplicates } from '../../operators/dropDuplicates.js';

const S = 1000;
const utc = (hms: string): number => Date.parse(`2023-01-01T${hms}Z`);

/** Runs a pipeline synchronously; returns the rows of each output batch, or throws its error. */
function rowsOf<R>(output: Observable<Batch<R>>): R[][] {
  const out: R[][] = [];
  let failure: unknown;
  output.subscribe({ next: (b) => out.push([...b.rows]), error: (e: unknown) => (failure = e) });
  if (failure !== undefined) throw failure;
  return out;
}

/** The error a pipeline fails with (on subscribe or at its first batch), and how many batches it emitted before. */
function refusal(output: () => Observable<unknown>): { error: Error; batches: number } {
  let error: unknown;
  let batches = 0;
  try {
    output().subscribe({ next: () => batches++, error: (e: unknown) => (error = e) });
  } catch (thrown) {
    error = thrown;
  }
  if (!(error instanceof Error)) throw new Error('expected a refusal, got none');
  return { error, batches };
}

describe('pipeline model: MultiStatefulOperatorsSuite, join -> window agg in append mode', () => {
  type L = { value1: number; eventTime1: number };
  type R = { value2: number; eventTime2: number };
  const left = (...vs: number[]): L[] => vs.map((v) => ({ value1: v, eventTime1: v * S }));
  const right = (...vs: number[]): R[] => vs.map((v) => ({ value2: v, eventTime2: v * S }));
  const inputs = () => ({
    left$: fromBatches([left(1, 2, 3, 4), left(5)]).pipe(withWatermark<L>('eventTime1', 0)),
    right$: fromBatches([right(1, 2, 3, 4), right(5)]).pipe(withWatermark<R>('eventTime2', 0)),
  });
  const expected = [[], [{ window: { start: 0, end: 5 * S }, count: 4 }]];

  it('inner join on eventTime1 = eventTime2, the window on left.eventTime1 of the { left, right } rows', () => {
    const { left$, right$ } = inputs();
    const out = rowsOf(
      left$.pipe(
        streamJoin(right$, { on: { left: 'eventTime1', right: 'eventTime2' }, aligned: true }),
        windowTumbling({ eventTime: 'left.eventTime1', size: '5 seconds', aggregate: { count: count() } }),
        outputMode('append'),
      ),
    );
    expect(out).toEqual(expected);
  });

  it('the same after a select that keeps eventTime1, after flattening with mapRows, and after a spreading RxJS map', () => {
    const viaSelect = inputs();
    expect(
      rowsOf(
        viaSelect.left$.pipe(
          streamJoin(viaSelect.right$, { on: { left: 'eventTime1', right: 'eventTime2' }, aligned: true, select: (l: L, r: R) => ({ eventTime1: l.eventTime1, value2: r.value2 }) }),
          windowTumbling({ eventTime: 'eventTime1', size: '5 seconds', aggregate: { count: count() } }),
          outputMode('append'),
        ),
      ),
    ).toEqual(expected);
    const viaMapRows = inputs();
    expect(
      rowsOf(
        viaMapRows.left$.pipe(
          streamJoin(viaMapRows.right$, { on: { left: 'eventTime1', right: 'eventTime2' }, aligned: true }),
          mapRows((row) => ({ ...row.left, ...row.right })),
          windowTumbling({ eventTime: 'eventTime1', size: '5 seconds', aggregate: { count: count() } }),
          outputMode('append'),
        ),
      ),
    ).toEqual(expected);
    const viaRxMap = inputs();
    expect(
      rowsOf(
        viaRxMap.left$.pipe(
          streamJoin(viaRxMap.right$, { on: { left: 'eventTime1', right: 'eventTime2' }, aligned: true }),
          map((b) => ({ ...b, rows: b.rows.map((row) => ({ ...row.left, ...row.right })) })),
          tap(() => undefined),
          windowTumbling({ eventTime: 'eventTime2', size: '5 seconds', aggregate: { count: count() } }),
          outputMode('append'),
        ),
      ),
    ).toEqual(expected);
  });

  it('a renamed event time is no longer watermarked: append mode is refused with Spark wording', () => {
    const { left$, right$ } = inputs();
    const { error, batches } = refusal(() =>
      left$.pipe(
        streamJoin(right$, { on: { left: 'eventTime1', right: 'eventTime2' }, aligned: true }),
        mapRows((row) => ({ t: row.left.eventTime1 })),
        windowTumbling({ eventTime: 't', size: '5 seconds', aggregate: { count: count() } }),
        outputMode('append'),
      ),
    );
    expect(batches).toBe(0);
    expect(error.message).toBe('outputMode: Append output mode not supported when there are streaming aggregations on streaming DataFrames/DataSets without watermark');
  });

  it('stream-stream time interval left outer join -> aggregation, append mode', () => {
    type S1 = { id1: string; timestamp1: number };
    type S2 = { id2: string; timestamp2: number };
    const s1 = fromBatches<S1>([
      [{ id1: '1', timestamp1: utc('01:00:10') }, { id1: '2', timestamp1: utc('01:00:30') }],
      [{ id1: '5', timestamp1: utc('01:15:00') }],
      [{ id1: '5', timestamp1: utc('02:16:00') }],
    ]).pipe(withWatermark<S1>('timestamp1', 0));
    const s2 = fromBatches<S2>([[{ id2: '1', timestamp2: utc('01:00:20') }], [{ id2: '6', timestamp2: utc('01:15:00') }], [{ id2: '6', timestamp2: utc('02:16:00') }]]).pipe(withWatermark<S2>('timestamp2', 0));
    const out = rowsOf(
      s1.pipe(
        streamJoin(s2, { on: { left: 'id1', right: 'id2' }, type: 'leftOuter', aligned: true, timeRange: { leftTime: 'timestamp1', rightTime: 'timestamp2', lower: '-1 hour', upper: '1 hour' } }),
        windowTumbling({ eventTime: 'left.timestamp1', size: '10 minutes', aggregate: { cnt: count() } }),
        outputMode('append'),
      ),
    );
    expect(out).toEqual([[], [], [{ window: { start: utc('01:00:00'), end: utc('01:10:00') }, cnt: 2 }]]);
  });

  it('stream-stream time interval right outer join -> aggregation, append mode (the same, mirrored)', () => {
    type S1 = { id1: string; timestamp1: number };
    type S2 = { id2: string; timestamp2: number };
    const s1 = fromBatches<S1>([[{ id1: '1', timestamp1: utc('01:00:20') }], [{ id1: '6', timestamp1: utc('01:15:00') }], [{ id1: '6', timestamp1: utc('02:16:00') }]]).pipe(withWatermark<S1>('timestamp1', 0));
    const s2 = fromBatches<S2>([
      [{ id2: '1', timestamp2: utc('01:00:10') }, { id2: '2', timestamp2: utc('01:00:30') }],
      [{ id2: '5', timestamp2: utc('01:15:00') }],
      [{ id2: '5', timestamp2: utc('02:16:00') }],
    ]).pipe(withWatermark<S2>('timestamp2', 0));
    const out = rowsOf(
      s1.pipe(
        streamJoin(s2, { on: { left: 'id1', right: 'id2' }, type: 'rightOuter', aligned: true, timeRange: { leftTime: 'timestamp1', rightTime: 'timestamp2', lower: '-1 hour', upper: '1 hour' } }),
        windowTumbling({ eventTime: 'right.timestamp2', size: '10 minutes', aggregate: { cnt: count() } }),
        outputMode('append'),
      ),
    );
    expect(out).toEqual([[], [], [{ window: { start: utc('01:00:00'), end: utc('01:10:00') }, cnt: 2 }]]);
  });

  it('join with range join on non-time intervals -> window agg, append mode, shouldn\'t fail', () => {
    type A = { value1: number; eventTime1: number; v1: number };
    type B = { start2: number; end2: number; eventTime2Start: number };
    const a = fromBatches<A>([[1, 2, 3, 4].map((v) => ({ value1: v, eventTime1: v * S, v1: v * S })), []]).pipe(withWatermark<A>('eventTime1', 0));
    const b = fromBatches<B>([[], [[1, 2], [2, 3], [3, 4], [4, 5]].map(([s, e]) => ({ start2: s! * S, end2: e! * S, eventTime2Start: s! * S }))]).pipe(withWatermark<B>('eventTime2Start', 0));
    const out = rowsOf(
      a.pipe(
        streamJoin(b, { on: { left: 'eventTime1', right: 'start2' }, aligned: true, where: (l: A, r: B) => l.v1 >= r.start2 && l.v1 < r.end2 }),
        windowTumbling({ eventTime: 'left.eventTime1', size: '5 seconds', aggregate: { count: count() } }),
        outputMode('append'),
      ),
    );
    expect(out).toEqual([[], []]); // CheckNewAnswer(): the window [0, 5) is still open
  });
});

describe('pipeline model: refusals Spark makes, with its wording', () => {
  type Ev = { k: string; ts: number };
  const ev = (k: string, ts: number): Ev => ({ k, ts });
  const watermarked = () => fromBatches([[ev('a', 1 * S)]]).pipe(withWatermark<Ev>('ts', 0));
  const joined = () => watermarked().pipe(streamJoin(watermarked(), { on: 'k', aligned: true, timeRange: { leftTime: 'ts', rightTime: 'ts', lower: 0, upper: '10 seconds' } }));

  it('update or complete output mode on a stream-stream join, directly or through a downstream aggregation', () => {
    expect(refusal(() => joined().pipe(outputMode('update') as never)).error.message).toBe(
      'outputMode: Join between two streaming DataFrames/Datasets is not supported in Update output mode, only in Append output mode',
    );
    expect(refusal(() => joined().pipe(groupAggregate({ keyBy: 'left.k', aggregate: { n: count() } }), outputMode('complete'))).error.message).toBe(
      'outputMode: Join between two streaming DataFrames/Datasets is not supported in Complete output mode, only in Append output mode',
    );
  });

  it('an aggregation downstream of an update-mode flatMapGroupsWithState', () => {
    const fn = (_k: string, rows: readonly Ev[], _s: GroupState<number>) => rows;
    const { error } = refusal(() => watermarked().pipe(flatMapGroupsWithState({ keyBy: 'k', outputMode: 'update' }, fn), groupAggregate({ keyBy: 'k', aggregate: { n: count() } })));
    expect(error).toBeInstanceOf(UnsupportedOperationError);
    expect(error.message).toBe('groupAggregate: flatMapGroupsWithState in update mode is not supported with aggregation on a streaming DataFrame/Dataset');
  });

  it('an update-mode flatMapGroupsWithState after an aggregation, also when no watermark is upstream', () => {
    type Counted = { k: string; n: number };
    const fn = (_k: string, rows: readonly Counted[], _s: GroupState<number>) => rows;
    const { error } = refusal(() => fromBatches<Ev>([[ev('a', 1)]]).pipe(groupAggregate({ keyBy: 'k', aggregate: { n: count() } }), outputMode('update'), flatMapGroupsWithState<Counted, number, Counted, 'k'>({ keyBy: 'k', outputMode: 'update' }, fn)));
    expect(error.message).toBe('flatMapGroupsWithState: flatMapGroupsWithState in update mode is not supported with aggregation on a streaming DataFrame/Dataset');
  });

  it('two mapGroupsWithState in one pipeline', () => {
    const fn = (_k: string, _rows: readonly Ev[], _s: GroupState<number>) => ({ k: 'x', ts: 0 });
    const { error } = refusal(() => fromBatches([[ev('a', 1)]]).pipe(mapGroupsWithState<Ev, number, Ev, 'k'>({ keyBy: 'k' }, fn), mapGroupsWithState<Ev, number, Ev, 'k'>({ keyBy: 'k' }, fn)));
    expect(error.message).toBe(
      'mapGroupsWithState: Multiple flatMapGroupsWithStates are not supported when they are not all in append mode or the output mode is not append on a streaming DataFrames/Datasets',
    );
  });

  it('a stateful operator that sees more than one event-time column after a join', () => {
    const flat = () => joined().pipe(mapRows((r) => ({ k: r.left.k, ts: r.left.ts, ts2: r.right.ts })));
    const keyedByBoth = refusal(() => joined().pipe(groupAggregate({ keyBy: ['left.ts', 'right.ts'], aggregate: { n: count() } })));
    expect(keyedByBoth.error.message).toBe('groupAggregate: More than one event time columns are available. Please ensure there is at most one event time column per stream. event time columns: left.ts, right.ts');
    const dedup = refusal(() => joined().pipe(dropDuplicates(['left.ts', 'right.ts'] as never)));
    expect(dedup.error.message).toMatch(/^dropDuplicates: More than one event time columns are available/);
    // One watermarked column in the key is fine.
    expect(rowsOf(flat().pipe(dropDuplicates(['k', 'ts'])))).toHaveLength(1);
  });

  it('accepts a full outer join where only one side gets a state watermark (checkForStreamStreamJoinWatermark)', () => {
    const out = rowsOf(watermarked().pipe(streamJoin(watermarked(), { on: 'k', type: 'fullOuter', aligned: true, timeRange: { leftTime: 'ts', rightTime: 'ts', lower: 0 } })));
    expect(out).toEqual([[{ left: ev('a', 1 * S), right: ev('a', 1 * S) }]]);
  });
});

describe('pipeline model: information survives foreign RxJS operators', () => {
  type Ev = { k: string; ts: number };
  const batches: Ev[][] = [[{ k: 'a', ts: 1 * S }], [{ k: 'a', ts: 2 * S }, { k: 'b', ts: 9 * S }], [{ k: 'a', ts: 30 * S }]];
  const pipeline = (between: (o: Observable<Batch<Ev>>) => Observable<Batch<Ev>>) =>
    fromBatches(batches).pipe(withWatermark<Ev>('ts', '1 second'), between, dropDuplicates<Ev>(['k', 'ts']), windowTumbling({ eventTime: 'ts', size: '5 seconds', keyBy: 'k', aggregate: { n: count() } }), outputMode('append'));
  const plain = rowsOf(pipeline((o) => o));

  it.each<[string, (o: Observable<Batch<Ev>>) => Observable<Batch<Ev>>]>([
    ['map that spreads the batch', (o) => o.pipe(map((b) => ({ ...b })))],
    ['filter', (o) => o.pipe(filter(() => true))],
    ['tap', (o) => o.pipe(tap(() => undefined))],
    ['share', (o) => o.pipe(share())],
  ])('%s between stateful operators changes nothing', (_name, between) => {
    expect(rowsOf(pipeline(between))).toEqual(plain);
    expect(plain.flat()).toEqual([{ window: { start: 0, end: 5 * S }, k: 'a', n: 2 }, { window: { start: 5 * S, end: 10 * S }, k: 'b', n: 1 }]);
  });

  it.each<[string, (o: Observable<Batch<Ev>>) => Observable<Batch<Ev>>]>([
    ['delay', (o) => o.pipe(delay(1))],
    ['subscribeOn + observeOn', (o) => o.pipe(subscribeOn(asyncScheduler), observeOn(asyncScheduler))],
  ])('asynchronous %s changes nothing', async (_name, between) => {
    const out: unknown[][] = [];
    await new Promise<void>((resolve, reject) => pipeline(between).subscribe({ next: (b) => out.push([...b.rows]), error: reject, complete: resolve }));
    expect(out).toEqual(plain);
  });
});

describe('pipeline model: the output mode in one place', () => {
  type Ev = { ts: number };
  it('a second outputMode asking another mode of the same aggregation is refused when the pipeline is built', () => {
    const agg = fromBatches<Ev>([[{ ts: 1 }]]).pipe(withWatermark<Ev>('ts', 0), windowTumbling({ eventTime: 'ts', size: '5 seconds', aggregate: { n: count() } }), share());
    agg.pipe(outputMode('append'));
    expect(() => agg.pipe(outputMode('update'))).toThrow(InvalidOptionError);
  });

  it('ResultBatch parts read later, by tap before outputMode or after toArray, give the rows of their batch or a documented refusal', () => {
    const input = new Subject<Batch<Ev>>();
    const seen: unknown[][] = [];
    const results: Batch<unknown>[] = [];
    input
      .pipe(
        withWatermark<Ev>('ts', 0),
        windowTumbling({ eventTime: 'ts', size: '5 seconds', aggregate: { n: count() } }),
        tap((b) => seen.push([...b.updated])),
        outputMode('update'),
      )
      .subscribe((b) => results.push(b));
    input.next({ batchId: 0, rows: [{ ts: 1 * S }], watermark: 0 });
    input.next({ batchId: 1, rows: [{ ts: 2 * S }], watermark: 0 });
    expect(seen).toEqual([[{ window: { start: 0, end: 5 * S }, n: 1 }], [{ window: { start: 0, end: 5 * S }, n: 2 }]]);
    expect(results.map((b) => b.rows)).toEqual(seen);
    // A result batch kept and read after later batches ran is refused with a message that says what to do.
    const kept: { updated(): unknown; table(): unknown }[] = [];
    const again = new Subject<Batch<Ev>>();
    again.pipe(withWatermark<Ev>('ts', 0), windowTumbling({ eventTime: 'ts', size: '5 seconds', aggregate: { n: count() } })).subscribe((b) => kept.push({ updated: () => b.updated, table: () => b.table.toArray() }));
    again.next({ batchId: 0, rows: [{ ts: 1 * S }], watermark: 0 });
    again.next({ batchId: 1, rows: [{ ts: 2 * S }], watermark: 0 });
    expect(kept[1]!.table()).toEqual([{ window: { start: 0, end: 5 * S }, n: 2 }]); // the latest batch reads fine
    expect(() => kept[0]!.updated()).toThrow(UnsupportedOperationError);
    expect(() => kept[0]!.updated()).toThrow(/ResultBatch\.updated was read after a later batch was processed.*Read updated while the batch is emitted/);
    expect(() => kept[0]!.table()).toThrow(/ResultBatch\.table was read after a later batch was processed.*map\(\(b\) => b\.table\.toArray\(\)\)/);
  });
});

void of;

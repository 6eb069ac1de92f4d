/**
 * Compile-time checks for Spark's types in aggregates (compiled by
 * `npm run typecheck`, never run).
 */
import { expectTypeOf } from 'expect-type';
import { pipe, type Observable } from 'rxjs';
import {
  avg, collectList, collectSet, count, first, fromDirectory, fromKafka, groupAggregate, last, max, min, outputMode, startQuery, sum, toMemory, windowTumbling, withWatermark,
  type Batch, type CsvTextRow, type DirectoryOffset, type KafkaRow, type KafkaSource, type NumericString, type Source, type WindowBounds,
} from '../../lib/index.js';
import { dropDuplicates, dropDuplicatesWithinWatermark, streamJoin } from '../../operators/index.js';

type Ev = { ts: number; user: string; amount: number; price?: number | null; flag: boolean; text: NumericString; at: Date; extra: unknown };
declare const events$: Observable<Batch<Ev>>;

// sum/avg take numbers, numeric text by declaration, and unknown-typed fields …
events$.pipe(groupAggregate({ keyBy: 'user', aggregate: { a: sum('amount'), b: avg('price'), c: sum('text'), d: avg('extra'), e: sum((r) => r.amount * 2) } }));
// … but not a field typed string or boolean
// @ts-expect-error sum of a string field
events$.pipe(groupAggregate({ keyBy: 'user', aggregate: { total: sum('user') } }));
// @ts-expect-error avg of a boolean field
events$.pipe(groupAggregate({ keyBy: 'user', aggregate: { mean: avg('flag') } }));
// @ts-expect-error sum of a Date field
events$.pipe(groupAggregate({ keyBy: 'user', aggregate: { total: sum('at') } }));
// @ts-expect-error a function returning a string
events$.pipe(groupAggregate({ keyBy: 'user', aggregate: { total: sum((r) => r.user) } }));
// @ts-expect-error an unknown option value
sum('amount', { onInvalidValue: 'skip' });

// min, max, first, last, collectList, collectSet by field name carry the field's type.
events$.pipe(
  withWatermark('ts', '10 seconds'),
  windowTumbling({
    eventTime: 'ts',
    size: '1 minute',
    keyBy: 'user',
    aggregate: { lo: min('amount'), hi: max('user'), p: max('price'), f: first('flag'), l: last('at'), xs: collectList('amount'), us: collectSet('user'), fn: min((r) => r.amount > 1), n: count() },
  }),
  outputMode('append'),
).subscribe((b) => {
  expectTypeOf(b.rows[0]!).toEqualTypeOf<{
    window: WindowBounds; user: string; lo: number | null; hi: string | null; p: number | null; f: boolean | null; l: Date | null; xs: number[]; us: string[]; fn: boolean | null; n: number;
  }>();
});

// A reusable fragment takes its row type from its first operator; the aggregation infers the rest.
const fragment = pipe(
  withWatermark<Ev>('ts', '10 seconds'),
  windowTumbling({ eventTime: 'ts', size: 10, keyBy: 'user', aggregate: { hi: max('amount'), total: sum('amount') } }),
  outputMode('append'),
);
fragment(events$).subscribe((b) => {
  expectTypeOf(b.rows[0]!).toEqualTypeOf<{ window: WindowBounds; user: string; hi: number | null; total: number | null }>();
});

// Event-time specs with a unit or a format name a field of the row.
events$.pipe(withWatermark({ field: 'ts', unit: 'seconds' }, '10 seconds'));
events$.pipe(withWatermark({ field: 'user', format: 'dd-MM-yyyy-HH-mm' }, '10 seconds'));
// @ts-expect-error not a field
events$.pipe(withWatermark({ field: 'tz', unit: 'seconds' }, '10 seconds'));
// @ts-expect-error not a unit
events$.pipe(withWatermark({ field: 'ts', unit: 'minutes' }, '10 seconds'));

// Rows typed from a source's schema: no row type written twice.
const typed = fromDirectory('/data', { format: 'csv', header: true, schema: { id: 'string', amount: 'double', n: 'integer', ok: 'boolean', at: { type: 'timestamp', format: 'dd-MM-yyyy-HH-mm' } } });
expectTypeOf(typed).toEqualTypeOf<Source<{ id: string | null; amount: number | null; n: number | null; ok: boolean | null; at: Date | null }, DirectoryOffset>>();
startQuery({
  source: typed,
  pipeline: (rows$) => rows$.pipe(withWatermark('at', '10 minutes'), windowTumbling({ eventTime: 'at', size: '5 minutes', keyBy: 'id', aggregate: { total: sum('amount'), hi: max('n') } }), outputMode('append')),
  sink: toMemory<{ window: WindowBounds; id: string | null; total: number | null; hi: number | null }>('t'),
});
startQuery({
  source: typed,
  // @ts-expect-error id is a string column: sum refuses it
  pipeline: (rows$) => rows$.pipe(groupAggregate({ keyBy: 'n', aggregate: { total: sum('id') } }), outputMode('complete')),
  sink: toMemory('t2'),
});
// CSV without a schema: text cells that sum/avg may cast.
const text = fromDirectory('/data', { format: 'csv', header: true });
expectTypeOf(text).toEqualTypeOf<Source<CsvTextRow, DirectoryOffset>>();
startQuery({ source: text, pipeline: (rows$) => rows$.pipe(groupAggregate({ keyBy: 'id', aggregate: { total: sum('amount'), mean: avg('amount') } }), outputMode('complete')), sink: toMemory('t3') });
expectTypeOf(fromDirectory('/data', { format: 'text' })).toEqualTypeOf<Source<{ value: string }, DirectoryOffset>>();
// @ts-expect-error not a column type
fromDirectory('/data', { schema: { id: 'varchar' } });
// @ts-expect-error not a reader mode
fromDirectory('/data', { mode: 'LENIENT' });

// A Kafka source's JSON values typed from its valueSchema (from_json), and left untyped without one.
const trades = fromKafka({ brokers: ['127.0.0.1:9092'], topic: 't', valueSchema: { id: 'string', amount: 'integer', time: { type: 'timestamp', format: 'dd-MM-yyyy-HH-mm' } } });
expectTypeOf(trades).toEqualTypeOf<KafkaSource<KafkaRow<Buffer, { id: string | null; amount: number | null; time: Date | null }>>>();
expectTypeOf(fromKafka({ brokers: ['127.0.0.1:9092'], topic: 't', keyFormat: 'string', valueFormat: 'json', valueSchema: { n: 'double' } })).toEqualTypeOf<KafkaSource<KafkaRow<string, { n: number | null }>>>();
expectTypeOf(fromKafka({ brokers: ['127.0.0.1:9092'], topic: 't', valueFormat: 'json' })).toEqualTypeOf<KafkaSource<KafkaRow<Buffer, unknown>>>();
// @ts-expect-error a valueSchema converts JSON values only
fromKafka({ brokers: ['127.0.0.1:9092'], topic: 't', valueFormat: 'string', valueSchema: { n: 'double' } });
// @ts-expect-error not a column type
fromKafka({ brokers: ['127.0.0.1:9092'], topic: 't', valueSchema: { n: 'float' } });

// Column checks can be turned off for sparse data on deduplication and joins too; the option is a boolean.
events$.pipe(dropDuplicates(['user', 'ts'], { checkColumns: false }));
events$.pipe(withWatermark('ts', '1 minute'), dropDuplicatesWithinWatermark('user', { checkColumns: false }));
events$.pipe(streamJoin(events$, { on: 'user', checkColumns: false }));
events$.pipe(streamJoin([{ user: 'u', team: 't' }], { on: 'user', checkColumns: false }));
// @ts-expect-error checkColumns is a boolean
events$.pipe(dropDuplicates(['user'], { checkColumns: 'no' }));

// Sources whose columns are fixed publish them, so that a pipeline naming a
// column that is not there fails when the query starts (Spark's analysis),
// not with wrong numbers later.
import { count } from '../../../lib/aggregate/count.js';
import { sum } from '../../../lib/aggregate/sum.js';
import { ColumnNotFoundError } from '../../../lib/errors/index.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { StreamingQueryManager } from '../../../lib/query/StreamingQueryManager.js';
import { toMemory } from '../../../lib/sinks/toMemory.js';
import { fromDirectory } from '../../../lib/sources/fromDirectory.js';
import { fromKafka } from '../../../lib/sources/fromKafka.js';
import { fromSocket } from '../../../lib/sources/fromSocket.js';
import { rateSource } from '../../../lib/sources/rateSource.js';
import { resolveColumns } from '../../../lib/internal/knownColumns.js';
import { dropDuplicates } from '../../../operators/dropDuplicates.js';
import { groupAggregate } from '../../../operators/groupAggregate.js';
import { outputMode } from '../../../operators/outputMode.js';
import { withWatermark } from '../../../operators/withWatermark.js';

const manager = new StreamingQueryManager();
const start = (source: unknown, pipeline: unknown) => () => startQuery({ source: source as never, pipeline: pipeline as never, sink: toMemory('source-columns'), manager });

describe('sources with fixed columns publish them', () => {
  it('rateSource: timestamp and value', () => {
    const source = rateSource({ rowsPerSecond: 1 });
    expect(source.columns).toEqual(['timestamp', 'value']);
    expect(start(source, (r$: never) => (r$ as any).pipe(withWatermark('timestamp', '1 second'), groupAggregate({ keyBy: 'vaule', aggregate: { n: count() } }), outputMode('complete')))).toThrow(
      new ColumnNotFoundError('groupAggregate', 'keyBy', 'vaule', ['timestamp', 'value']),
    );
    expect(start(source, (r$: never) => (r$ as any).pipe(withWatermark('ts', '1 second')))).toThrow("withWatermark: cannot resolve 'ts' given input columns: [timestamp, value] (eventTime).");
  });

  it('fromSocket: value, and timestamp with includeTimestamp', () => {
    expect(fromSocket({ host: '127.0.0.1', port: 1 }).columns).toEqual(['value']);
    expect(fromSocket({ host: '127.0.0.1', port: 1, includeTimestamp: true }).columns).toEqual(['value', 'timestamp']);
    expect(start(fromSocket({ host: '127.0.0.1', port: 1 }), (r$: never) => (r$ as any).pipe(dropDuplicates('line')))).toThrow("dropDuplicates: cannot resolve 'line' given input columns: [value] (keys).");
  });

  it("fromDirectory with format 'text': value", () => {
    expect(fromDirectory('/nonexistent', { format: 'text' }).columns).toEqual(['value']);
  });

  it("fromKafka: Spark's Kafka columns, and with a valueSchema the value's fields, so value.amont fails at start", () => {
    const plain = fromKafka({ brokers: ['127.0.0.1:1'], topic: 't', valueFormat: 'json' });
    expect(plain.columns).toEqual(['key', 'value', 'topic', 'partition', 'offset', 'timestamp', 'headers']);
    // Without a schema the value's fields are not known: value.<anything> resolves, a top-level typo does not.
    // (keyBy is resolved before the aggregates: the error names the aggregate's column, so value.id resolved.)
    expect(start(plain, (r$: never) => (r$ as any).pipe(groupAggregate({ keyBy: 'value.id', aggregate: { n: sum('offsett') } }), outputMode('complete')))).toThrow(
      "groupAggregate: cannot resolve 'offsett' given input columns: [key, value, topic, partition, offset, timestamp, headers] (aggregate.n).",
    );
    const typed = fromKafka({ brokers: ['127.0.0.1:1'], topic: 't', valueSchema: { id: 'string', amount: 'integer' } });
    expect(typed.columns).toEqual(['key', 'value', 'topic', 'partition', 'offset', 'timestamp', 'headers', 'value.id', 'value.amount']);
    expect(start(typed, (r$: never) => (r$ as any).pipe(groupAggregate({ keyBy: 'value.id', aggregate: { total: sum('value.amont') } }), outputMode('complete')))).toThrow(
      "groupAggregate: cannot resolve 'value.amont' given input columns: [key, value, topic, partition, offset, timestamp, headers, value.id, value.amount] (aggregate.total).",
    );
  });

  afterAll(() => expect(manager.active).toHaveLength(0));
});

describe('resolveColumns and dotted names', () => {
  it('resolves a.b when listed, or when a is a column whose fields are not listed', () => {
    expect(() => resolveColumns('op', [{ option: 'keyBy', column: 'value.id' }], ['value'])).not.toThrow();
    expect(() => resolveColumns('op', [{ option: 'keyBy', column: 'value.id' }], ['value', 'value.id'])).not.toThrow();
    expect(() => resolveColumns('op', [{ option: 'keyBy', column: 'value.di' }], ['value', 'value.id'])).toThrow(ColumnNotFoundError);
    expect(() => resolveColumns('op', [{ option: 'keyBy', column: 'valeu.id' }], ['value'])).toThrow(ColumnNotFoundError);
    expect(() => resolveColumns('op', [{ option: 'keyBy', column: 'value.' }], ['value'])).toThrow(ColumnNotFoundError);
  });
});

// Profit per 5-minute window from a Kafka topic (a "continuous profit
// generator"): trades arrive as JSON records; buys count as profit, sells as
// loss; the query sums profit per tumbling 5-minute event-time window and
// prints the whole result table (complete mode) after every batch.
//
// PySpark original:
//   input_df = spark.readStream.format("kafka").option("kafka.bootstrap.servers", "localhost:9092")
//       .option("subscribe", "spark-stream-05").option("startingOffsets", "earliest").load()
//   ... from_json(col("value").cast("string"), schema) ... to_timestamp(col('time'), 'dd-MM-yyyy-HH-mm')
//   agg_df = transformed_df.groupby(window('eventtime', '5 minute')).agg(sum('profit').alias('profit'))
//   agg_df.writeStream.format("console").option("checkpointLocation", "checkpoint").outputMode("complete").start()
//
// Run:  npx tsx examples/kafkaProfit.ts
//   With no broker given, it starts mokapi (npm go-mokapi) as a Kafka broker on
//   127.0.0.1 for the demo (see test/integration/mokapi/broker.cjs) and stops it
//   at the end. To use your own broker instead:
//   RSS_KAFKA_BROKER=localhost:9092 RSS_KAFKA_TOPIC=spark-stream-05 npx tsx examples/kafkaProfit.ts
//   (the topic must exist; the example appends the notes' trades to it and reads
//   it from the earliest offset, so use an empty topic to see the notes' tables).
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { sum } from '../lib/aggregate/sum.js';
import { startQuery } from '../lib/query/startQuery.js';
import { toConsole } from '../lib/sinks/toConsole.js';
import { fromKafka } from '../lib/sources/fromKafka.js';
import { filterRows } from '../operators/filterRows.js';
import { mapRows } from '../operators/mapRows.js';
import { outputMode } from '../operators/outputMode.js';
import { windowTumbling } from '../operators/windowTumbling.js';
import { runExample } from './runExample.js';

/**
 * The notes' StructType(id string, type string, amount integer, time string) with to_timestamp(time, 'dd-MM-yyyy-HH-mm'):
 * fromKafka converts each JSON value to it (from_json) and types the rows from it; no row type is written by hand.
 */
const TRADE = { id: 'string', type: 'string', amount: 'integer', time: { type: 'timestamp', format: 'dd-MM-yyyy-HH-mm' } } as const;

/** The records the notes push with kafka-console-producer, one step at a time. */
const STEPS = [
  [{ id: 'apple', amount: 10, type: 'buy', time: '20-04-2020-10-10' }],
  [{ id: 'shell', amount: 18, type: 'buy', time: '20-04-2020-10-12' }],
  [{ id: 'apple', amount: 5, type: 'sell', time: '20-04-2020-10-22' }],
  [{ id: 'asus', amount: 5, type: 'buy', time: '20-04-2020-10-14' }], // late, but no watermark: it still counts
];

/** Buys count as profit, sells as loss; a missing amount is no profit (null), as Spark's -1 * null. */
function profitOf(type: string | null, amount: number | null): number | null {
  if (amount === null) return null;
  return type === 'sell' ? -amount : amount;
}

interface Broker {
  readonly brokers: string;
  stop(): Promise<void>;
}

async function broker(topic: string): Promise<Broker> {
  const given = process.env.RSS_KAFKA_BROKER;
  if (given !== undefined && given !== '') return { brokers: given, stop: async () => undefined };
  const require = createRequire(import.meta.url);
  const { startBroker } = require('../test/integration/mokapi/broker.cjs') as {
    startBroker(options: { topics: { name: string; partitions: number }[] }): Promise<Broker>;
  };
  const started = await startBroker({ topics: [{ name: topic, partitions: 1 }] });
  console.log(`(started mokapi as a Kafka broker on ${started.brokers})`);
  return started;
}

async function main(): Promise<void> {
  const topic = process.env.RSS_KAFKA_TOPIC ?? 'spark-stream-05';
  const kafkaBroker = await broker(topic);
  const checkpointLocation = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-profit-checkpoint-'));
  const producer = new Kafka({ brokers: [kafkaBroker.brokers], clientId: 'kafka-profit-producer', logLevel: logLevel.NOTHING }).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    const query = startQuery({
      source: fromKafka({ brokers: [kafkaBroker.brokers], topic, startingOffsets: 'earliest', valueSchema: TRADE }),
      pipeline: (records$) =>
        records$.pipe(
          filterRows((record) => record.value !== null), // a tombstone carries no trade
          // select("value_json.*") + withColumn('profit', when(type == 'sell', -amount).otherwise(amount))
          mapRows(({ value }) => ({ ...value, profit: profitOf(value?.type ?? null, value?.amount ?? null) })),
          // The time column is already a timestamp (the schema's format, UTC): no parser to write.
          windowTumbling({ eventTime: 'time', size: '5 minutes', aggregate: { profit: sum('profit') } }),
          outputMode('complete'),
        ),
      sink: toConsole({ truncate: false }),
      checkpointLocation,
    });
    await query.ready;
    for (const step of STEPS) {
      await producer.send({ topic, messages: step.map((trade) => ({ value: JSON.stringify(trade) })) });
      await query.processAllAvailable();
    }
    await query.stop();
  } finally {
    await producer.disconnect();
    await kafkaBroker.stop();
    fs.rmSync(checkpointLocation, { recursive: true, force: true });
  }
}

runExample(main);

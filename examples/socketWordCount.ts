// Socket word count in complete mode, with a small line producer
// in the same process instead of `nc -lk 9994`: a TCP server on 127.0.0.1
// sends a few lines; the query counts words over everything it received and
// prints the whole result table after every batch.
//
// PySpark original:
//   lines = spark.readStream.format("socket").option("host", "localhost").option("port", 9994).load()
//   words = lines.select(explode(split(lines.value, " ")).alias("word"))
//   wordCounts = words.groupBy("word").count()
//   query = wordCounts.writeStream.outputMode("complete").format("console").start()
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { map } from 'rxjs';
import { count } from '../lib/aggregate/count.js';
import type { Batch } from '../lib/batch/Batch.js';
import { startQuery } from '../lib/query/startQuery.js';
import { toConsole } from '../lib/sinks/toConsole.js';
import { fromSocket, type SocketLine } from '../lib/sources/fromSocket.js';
import { groupAggregate } from '../operators/groupAggregate.js';
import { outputMode } from '../operators/outputMode.js';
import { runExample } from './runExample.js';

const LINES = ['the cat sat on the mat', 'the dog sat', 'a cat and a dog'];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** explode(split(value, " ")): one { word } row per word of each line. */
const splitWords = map((batch: Batch<SocketLine>): Batch<{ word: string }> => {
  const words: { word: string }[] = [];
  for (const line of batch.rows) for (const word of line.value.split(' ')) if (word !== '') words.push({ word });
  return { ...batch, rows: words };
});

async function main(): Promise<void> {
  // The line producer (what `nc -lk` does in the notes).
  let client: Socket | undefined;
  let onConnection!: () => void;
  const connected = new Promise<void>((resolve) => (onConnection = resolve));
  const server = createServer((socket) => {
    client = socket;
    onConnection();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const query = startQuery({
    source: fromSocket({ host: '127.0.0.1', port }),
    pipeline: (lines$) => lines$.pipe(splitWords, groupAggregate({ keyBy: 'word', aggregate: { count: count() } }), outputMode('complete')),
    sink: toConsole(),
  });
  try {
    // Connected, unless the query failed first (then awaitTermination rejects with its error).
    await Promise.race([connected, query.awaitTermination()]);
    for (const line of LINES) {
      client!.write(`${line}\n`);
      await sleep(150);
      await query.processAllAvailable();
    }
    await query.stop();
  } finally {
    client?.destroy();
    server.close();
  }
}

runExample(main);

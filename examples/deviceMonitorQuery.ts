// Shared by `npm start` (deviceMonitor.ts) and the progress page's browser
// test: the device monitor query (its PySpark original is in
// docs/guides/pyspark-mapping.md) and the files it reads. (Not an example on its own.)
import { count } from '../lib/aggregate/count.js';
import { startQuery, type StartQueryOptions } from '../lib/query/startQuery.js';
import type { StreamingQuery } from '../lib/query/StreamingQuery.js';
import type { Sink } from '../lib/sinks/Sink.js';
import { toConsole } from '../lib/sinks/toConsole.js';
import { fromDirectory } from '../lib/sources/fromDirectory.js';
import { outputMode } from '../operators/outputMode.js';
import { windowTumbling } from '../operators/windowTumbling.js';
import { withWatermark } from '../operators/withWatermark.js';

export interface DeviceEvent {
  readonly id: string;
  readonly action: string;
  readonly ts: Date;
}

// The files of the notes: f1 and f2 (sections 3 and 5), f3 (section 7).
export const FILES: readonly (readonly string[])[] = [
  [
    '{"id":"phone1","action":"open","ts":"2018-03-02T10:02:33"}',
    '{"id":"phone2","action":"open","ts":"2018-03-02T10:03:35"}',
    '{"id":"phone3","action":"open","ts":"2018-03-02T10:03:50"}',
    '{"id":"phone1","action":"close","ts":"2018-03-02T10:04:35"}',
  ],
  ['{"id":"phone3","action":"close","ts":"2018-03-02T10:07:35"}', '{"id":"phone4","action":"open","ts":"2018-03-02T10:07:50"}'],
  ['{"id":"phone2","action":"close","ts":"2018-03-02T10:04:50"}', '{"id":"phone5","action":"open","ts":"2018-03-02T10:10:50"}'],
];

/**
 * Starts the device monitor on `dir`: JSON files of device events, a
 * 10-minute watermark on `ts`, events counted per 10-minute window and
 * action, the whole result table printed (complete mode) by the console sink
 * unless another sink is given.
 */
export function startDeviceMonitor(dir: string, options: Pick<StartQueryOptions<DeviceEvent, unknown>, 'manager' | 'onQueryError'> & { readonly sink?: Sink<unknown> } = {}): StreamingQuery {
  const { sink = toConsole({ truncate: false }), ...rest } = options;
  return startQuery({
    name: 'deviceMonitor',
    source: fromDirectory<DeviceEvent>(dir, { format: 'json', schema: { id: 'string', action: 'string', ts: 'timestamp' } }),
    pipeline: (events$) =>
      events$.pipe(
        withWatermark('ts', '10 minutes'),
        windowTumbling({ eventTime: 'ts', size: '10 minutes', keyBy: 'action', aggregate: { count: count() } }),
        outputMode('complete'),
      ),
    sink,
    ...rest,
  });
}

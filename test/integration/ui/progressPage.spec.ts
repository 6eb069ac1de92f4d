import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { StreamingQueryManager } from '../../../lib/query/StreamingQueryManager.js';
import type { StreamingQuery } from '../../../lib/query/StreamingQuery.js';
import { toMemory, dropMemoryTable } from '../../../lib/sinks/toMemory.js';
import { serveProgress, type ProgressServer } from '../../../lib/ui/serveProgress.js';
import { Subject } from 'rxjs';
import { startQuery } from '../../../lib/query/startQuery.js';
import { fromObservable } from '../../../lib/sources/fromObservable.js';
import { forEachBatch } from '../../../lib/sinks/forEachBatch.js';
import { count } from '../../../lib/aggregate/count.js';
import { outputMode } from '../../../operators/outputMode.js';
import { windowTumbling } from '../../../operators/windowTumbling.js';
import { withWatermark } from '../../../operators/withWatermark.js';
import { dropJsonLines } from '../../../examples/fileDrop.js';
import { FILES, startDeviceMonitor } from '../../../examples/deviceMonitorQuery.js';

// The launch flags that work on a Debian machine without a display or network.
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const executable = process.env.RSS_CHROMIUM;
const missing = process.env.RSS_CHROMIUM_MISSING ?? (executable === undefined ? 'the integration setup (test/integration/globalSetup.cjs) did not run' : undefined);
const browserIt = missing === undefined ? it : it.skip;
if (missing !== undefined) console.warn(`Skipping the progress page browser test: ${missing}`);

interface ChartMarks {
  readonly chart: string;
  readonly points: number;
  readonly lastBatch: string;
  readonly circles: number;
  readonly rects: number;
}

/** What each chart of the query's card says about the data it drew. */
function chartMarks(page: Page): Promise<ChartMarks[]> {
  return page.$$eval('section.query figure.chart', (figures) =>
    figures.map((f) => ({
      chart: (f as HTMLElement).dataset['chart'] ?? '',
      points: Number((f as HTMLElement).dataset['points']),
      lastBatch: (f as HTMLElement).dataset['lastBatch'] ?? '',
      circles: f.querySelectorAll('svg circle').length,
      rects: f.querySelectorAll('svg rect').length,
    })),
  );
}

describe('the progress page in headless Chromium', () => {
  let dir: string;
  let manager: StreamingQueryManager;
  let query: StreamingQuery | undefined;
  let failing: StreamingQuery | undefined;
  let appending: StreamingQuery | undefined;
  let server: ProgressServer | undefined;
  let context: BrowserContext | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rss-progress-page-'));
    manager = new StreamingQueryManager();
  });
  afterEach(async () => {
    await context?.close();
    await query?.stop();
    await failing?.stop();
    await appending?.stop();
    await server?.close();
    dropMemoryTable('progressPageTest');
    dropMemoryTable('progressPageAppend');
    // The screenshot stays under the temp dir when RSS_KEEP_SCREENSHOT is set, for a look at it.
    if (process.env.RSS_KEEP_SCREENSHOT === undefined) rmSync(dir, { recursive: true, force: true });
  });

  browserIt(
    'follows the device monitor batch by batch over its event stream, then shows it stopped; saves a screenshot',
    async () => {
      const monitor = join(dir, 'monitor');
      mkdirSync(monitor);
      query = startDeviceMonitor(monitor, { manager, sink: toMemory('progressPageTest') });
      server = await serveProgress(manager);
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

      context = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: executable!, headless: true, args: FLAGS, viewport: { width: 1360, height: 1000 } });
      const page = context.pages()[0] ?? (await context.newPage());
      const requested: string[] = [];
      const pageErrors: string[] = [];
      page.on('request', (r) => requested.push(r.url()));
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(server.url);
      // The stream is open and the snapshot drew the query's (empty) card.
      await page.waitForSelector(`body[data-connection="open"] section.query[data-query-id="${query.id}"]`);

      const seen: ChartMarks[][] = [];
      for (const [i, lines] of FILES.entries()) {
        dropJsonLines(monitor, `f${i + 1}.json`, lines);
        await query.processAllAvailable();
        // Bounded by events: the page redraws when batch i's progress event arrives.
        await page.waitForFunction((batchId) => document.querySelector<HTMLElement>('figure[data-chart="rates"]')?.dataset['lastBatch'] === String(batchId), i);
        seen.push(await chartMarks(page));
      }
      expect(seen.map((marks) => marks.map((m) => [m.chart, m.points, m.lastBatch]))).toEqual(
        [1, 2, 3].map((n) => ['rates', 'durations', 'state', 'watermark', 'late'].map((chart) => [chart, n, String(n - 1)])),
      );
      // The charts themselves grew: two rate lines of n dots, and one state line (windowTumbling#1) of n dots.
      expect(seen.map((marks) => marks.find((m) => m.chart === 'rates')!.circles)).toEqual([2, 4, 6]);
      expect(seen.map((marks) => marks.find((m) => m.chart === 'state')!.circles)).toEqual([1, 2, 3]);
      expect(seen[2]!.find((m) => m.chart === 'durations')!.rects).toBeGreaterThanOrEqual(3);

      const card = page.locator(`section.query[data-query-id="${query.id}"]`);
      expect(await card.locator('h2').textContent()).toBe('deviceMonitor');
      expect(await card.locator('.badge').textContent()).toBe('active');
      expect(await card.locator('figure[data-chart="state"] .legend').textContent()).toContain('windowTumbling#1');
      // Watermark after batch 2: 10:10:50 - 10 minutes; the lag behind the max event time is the delay.
      expect(await card.locator('dl.stats').textContent()).toContain('2018-03-02 10:00:50Z');
      expect(await page.locator('figure[data-chart="watermark"]').getAttribute('data-lag-ms')).toBe(String(10 * 60_000));

      // A row behind the watermark (09:00, watermark 10:00:50) still counts in complete mode (Spark drops no late row there):
      // a fourth group, ([09:00, 09:10), open), next to the three of batches 0-2.
      dropJsonLines(monitor, 'f4.json', ['{"id":"phone9","action":"open","ts":"2018-03-02T09:00:00"}']);
      await query.processAllAvailable();
      await page.waitForFunction(() => document.querySelector<HTMLElement>('figure[data-chart="late"]')?.dataset['lastBatch'] === '3');
      const statsOf = (q: StreamingQuery): Promise<(string | null | undefined)[][]> =>
        page.locator(`section.query[data-query-id="${q.id}"] dl.stats .stat`).evaluateAll((nodes) => nodes.map((n) => [n.querySelector('dt')?.textContent, n.querySelector('dd')?.textContent]));
      expect(await statsOf(query)).toEqual(expect.arrayContaining([['state rows', '4'], ['late rows dropped', '0']]));

      // In append mode the same kind of row is dropped: a second query of the manager shows it on its late chart and in its stats.
      const events = new Subject<{ ts: number }>();
      appending = startQuery({
        name: 'appendCounts',
        manager,
        source: fromObservable(events),
        pipeline: (batches$) => batches$.pipe(withWatermark('ts', 0), windowTumbling({ eventTime: 'ts', size: 1_000, aggregate: { n: count() } }), outputMode('append')),
        sink: toMemory('progressPageAppend'),
      });
      events.next({ ts: 10_000 });
      await appending.processAllAvailable();
      events.next({ ts: 5_000 });
      await appending.processAllAvailable();
      await page.waitForFunction((id) => document.querySelector<HTMLElement>(`section.query[data-query-id="${id}"] figure[data-chart="late"]`)?.dataset['lastBatch'] === '1', appending.id);
      expect(await statsOf(appending)).toContainEqual(['late rows dropped', '1']);
      expect(await page.locator(`section.query[data-query-id="${appending.id}"] figure[data-chart="late"] svg rect`).count()).toBeGreaterThanOrEqual(1);

      // A second query of the manager fails: its card says so and shows the last error.
      const input = new Subject<{ n: number }>();
      failing = startQuery({
        name: 'failingSink',
        manager,
        source: fromObservable(input),
        sink: forEachBatch(() => {
          throw new Error('the sink is down');
        }),
        onQueryError: () => undefined,
      });
      input.next({ n: 1 });
      await failing.awaitTermination().catch(() => undefined);
      const failedCard = page.locator(`section.query[data-query-id="${failing.id}"]`);
      await page.waitForFunction((id) => document.querySelector<HTMLElement>(`section.query[data-query-id="${id}"]`)?.dataset['state'] === 'failed', failing.id);
      expect(await failedCard.locator('.error h3').textContent()).toBe('Last error');
      expect(await failedCard.locator('.error p').textContent()).toContain('the sink is down');
      expect(await failedCard.locator('.status .message').textContent()).toMatch(/^Terminated with exception: .*the sink is down/);

      const screenshot = join(dir, 'progress-page.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      expect(readFileSync(screenshot).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      if (process.env.RSS_KEEP_SCREENSHOT !== undefined) console.log(`progress page screenshot: ${screenshot}`);

      await query.stop();
      await page.waitForFunction((id) => document.querySelector<HTMLElement>(`section.query[data-query-id="${id}"]`)?.dataset['state'] === 'stopped', query.id);
      expect(await card.locator('.status .message').textContent()).toBe('Stopped');

      // Everything came from the progress server: no CDN, no other host.
      expect(requested.filter((url) => !url.startsWith(server!.url))).toEqual([]);
      expect(pageErrors).toEqual([]);
      expect(existsSync(screenshot)).toBe(true);
    },
    // No limit of its own: jest's backstop (jest.config.cjs) only stops a hang; a loaded machine starts Chromium slowly.
  );
});

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

/** Runs an example script with tsx and returns what it printed. */
function run(example: string, env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'examples', example)], { cwd: root, encoding: 'utf8', timeout: 600_000, env });
  if (result.status !== 0) throw new Error(`${example} exited with ${String(result.status)}: ${result.stderr}`);
  return result.stdout;
}

describe('examples (run end to end, printing through the console sink)', () => {
  it('deviceMonitor (npm start) prints the windowed counts of notes/000 §3 and a progress line per batch', () => {
    const out = run('deviceMonitor.ts');
    expect(out).toContain(
      [
        '-------------------------------------------',
        'Batch: 2',
        '-------------------------------------------',
        '+------------------------------------------+------+-----+',
        '|window                                    |action|count|',
        '+------------------------------------------+------+-----+',
      ].join('\n'),
    );
    expect(out).toContain('|[2018-03-02 10:00:00, 2018-03-02 10:10:00]|close |3    |');
    expect(out).toContain('|[2018-03-02 10:10:00, 2018-03-02 10:20:00]|open  |1    |');
    expect(out.match(/^progress: batch \d+:/gm)).toHaveLength(3);
    expect(out).toMatch(/^Progress page: http:\/\/127\.0\.0\.1:\d+\/ \(while the demo runs; npm start -- --serve keeps it going\)$/m);
    expect(out).toContain('status after stop: {"message":"Stopped","isDataAvailable":false,"isTriggerActive":false}');
  });

  it('socketWordCount counts words in complete mode', () => {
    const out = run('socketWordCount.ts');
    expect(out).toContain('Batch: 2');
    expect(out).toContain('| the|    3|');
    expect(out).toContain('| dog|    2|');
  });

  it('deviceJoin joins monitor and health events as in notes/000 §5', () => {
    const out = run('deviceJoin.ts');
    expect(out).toContain('|phone3|close |2018-03-02 10:07:35|good  |2018-03-02 10:03:50|');
    expect(out).toContain('|phone4|open  |2018-03-02 10:07:50|good  |2018-03-02 10:12:33|');
  });

  it('kafkaProfit sums profit per 5-minute window in complete mode, on a mokapi broker it starts itself', () => {
    // As the README runs it: no RSS_KAFKA_BROKER, so the example starts (and stops) its own broker on 127.0.0.1.
    const { RSS_KAFKA_BROKER: _broker, RSS_KAFKA_TOPIC_POOL: _pool, ...env } = process.env;
    const out = run('kafkaProfit.ts', env);
    const batch3 = out.slice(out.indexOf('Batch: 3'));
    expect(batch3).toContain('|[2020-04-20 10:10:00, 2020-04-20 10:15:00]|33    |');
    expect(batch3).toContain('|[2020-04-20 10:20:00, 2020-04-20 10:25:00]|-5    |');
  });

  it('dedupWatermark drops the duplicate of notes/000 §9', () => {
    const out = run('dedupWatermark.ts');
    expect(out).toContain('|close |1    |\n|open  |1    |');
  });
});

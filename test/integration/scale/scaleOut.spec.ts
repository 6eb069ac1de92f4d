// Scale-out of a per-partition query over several processes on loopback: the
// test broker, child processes running test/integration/scale/taskWorker.ts,
// and one shared checkpoint directory. Each scenario kills, restarts, adds or
// pauses processes while a keyed windowed count runs over a 4-partition topic,
// then compares the committed output of every task with what one process
// computes from the same records: zero lost, duplicated or wrong windows.
//
// Every wait is for work (each partition's committed end offset reaching the
// topic's end, or a task event); the limits only turn a hang into a failure.
//
// Broker limits (mokapi) and how the test lives with them:
// - group membership: in a probe with bare kafkajs consumers, a member joining
//   an existing group was given every partition while the old member kept
//   them too; and a member stopped with SIGSTOP is never expired while its
//   connection stays open (see the zombie scenario). Fencing keeps overlapping
//   ownership correct (the later claim wins, the other process drops the task
//   until its group generation changes), so no scenario asserts an even
//   spread; the scenarios assert output, not who ran what.
// - the admin's OffsetFetch for a group with live members fails with
//   UNKNOWN_MEMBER_ID, so tasks start at startingOffsets (the default), not at
//   the group's offsets.
// - concurrent fetches on one connection: each process serializes its tasks'
//   reads (KafkaProcessAccess); two processes use two connections, which the
//   scenarios need and did not corrupt in our runs.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultPartitionOfKey } from '../../../lib/kafka/partitionTasks.js';
import { readCommittedJson } from '../../../lib/sinks/toFiles.js';
import { claimTopic, closeTestKafka, kafkaBroker, produce, testKafka, waitFor } from '../kafka/kafkaTestKit.js';

afterAll(closeTestKafka);

const KEYS = Array.from({ length: 24 }, (_, i) => `k${i}`);
const WINDOW_MS = 5000;
const FLUSH_TS = 10_000_000;
const SESSION_TIMEOUT = 6000;
const root = path.resolve(__dirname, '../../..');
const workerPath = path.join(__dirname, 'taskWorker.ts');

interface WorkerLine {
  readonly pid: number;
  readonly event: string;
  readonly task?: string;
  readonly epoch?: number;
  readonly end?: Record<string, Record<string, number>>;
  readonly error?: string;
}

class Worker {
  readonly lines: WorkerLine[] = [];
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr = '';
  constructor(cfg: object, onLine: (line: WorkerLine) => void) {
    // Node itself with tsx's loader, so that the signals (SIGKILL, SIGSTOP) reach the worker: through the `tsx` CLI they
    // hit a wrapper process and the real worker would live on, orphaned.
    this.proc = spawn(process.execPath, ['--import', 'tsx', workerPath, JSON.stringify(cfg)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    this.proc.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let i: number;
      while ((i = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, i);
        buffered = buffered.slice(i + 1);
        try {
          const line = JSON.parse(text) as WorkerLine;
          this.lines.push(line);
          onLine(line);
        } catch {
          this.stderr += `${text}\n`;
        }
      }
    });
    this.proc.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
  }
  has(event: string): boolean {
    return this.lines.some((l) => l.event === event);
  }
  count(event: string): number {
    return this.lines.filter((l) => l.event === event).length;
  }
}

interface Cluster {
  readonly topic: string;
  readonly output: string;
  start(overrides?: { readonly groupId?: string }): Worker;
  /** Every partition's committed end offset has reached the topic's end. */
  caughtUp(): Promise<void>;
  /** Committed end offset per partition, the highest any process reported. */
  readonly ends: Map<number, number>;
  readonly workers: Worker[];
}

const live: Worker[] = [];
afterEach(async () => {
  for (const w of live.splice(0)) {
    if (w.proc.exitCode === null && w.proc.signalCode === null) {
      w.proc.kill('SIGCONT');
      w.proc.kill('SIGKILL');
      await w.exited;
    }
  }
});

async function cluster(): Promise<Cluster> {
  const topic = await claimTopic(4);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rss-scale-'));
  const output = path.join(dir, 'out');
  const cfg = { brokers: kafkaBroker(), topic, groupId: `g-${topic}`, checkpointLocation: path.join(dir, 'checkpoint'), output, sessionTimeout: SESSION_TIMEOUT, maxOffsetsPerTrigger: 7 };
  const ends = new Map<number, number>();
  const workers: Worker[] = [];
  const onLine = (line: WorkerLine): void => {
    if (line.event !== 'batch' || line.end === undefined) return;
    for (const [p, offset] of Object.entries(line.end[topic] ?? {})) ends.set(Number(p), Math.max(ends.get(Number(p)) ?? 0, offset));
  };
  return {
    topic,
    output,
    ends,
    workers,
    start(overrides = {}) {
      const w = new Worker({ ...cfg, ...overrides }, onLine);
      live.push(w);
      workers.push(w);
      return w;
    },
    async caughtUp() {
      const admin = testKafka().admin();
      await admin.connect();
      const highs = (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, high: Number(o.high) }));
      await admin.disconnect();
      await waitFor(
        `every partition of ${topic} committed up to ${JSON.stringify(highs)} (now ${JSON.stringify([...ends])}); workers: ${workers.map((w) => w.stderr.slice(-400)).join(' | ')}`,
        () => highs.every(({ partition, high }) => (ends.get(partition) ?? 0) >= high),
      );
    },
  };
}

/** Rounds `[from, until)`: one record per key per round, event time `round * 1000`, keyed (the default partitioner places it). */
async function produceRounds(topic: string, from: number, until: number): Promise<void> {
  for (let r = from; r < until; r++) await produce(topic, KEYS.map((k) => ({ partition: undefined as unknown as number, key: k, value: JSON.stringify({ ts: r * 1000 }) })));
}

/** Rounds `[from, until)` for the keys of the given partitions only. */
async function produceRoundsFor(topic: string, partitions: readonly number[], from: number, until: number): Promise<void> {
  const keys = KEYS.filter((k) => partitions.includes(defaultPartitionOfKey(topic, Buffer.from(k), 4)));
  for (let r = from; r < until; r++) await produce(topic, keys.map((k) => ({ partition: undefined as unknown as number, key: k, value: JSON.stringify({ ts: r * 1000 }) })));
}

/** The far-future record for the keys of the given partitions only. */
async function produceFlushFor(topic: string, partitions: readonly number[]): Promise<void> {
  const keys = KEYS.filter((k) => partitions.includes(defaultPartitionOfKey(topic, Buffer.from(k), 4)));
  await produce(topic, keys.map((k) => ({ partition: undefined as unknown as number, key: k, value: JSON.stringify({ ts: FLUSH_TS }) })));
}

/** A record per key far in the future: moves every task's watermark past every window of the rounds. */
async function produceFlush(topic: string): Promise<void> {
  await produce(topic, KEYS.map((k) => ({ partition: undefined as unknown as number, key: k, value: JSON.stringify({ ts: FLUSH_TS }) })));
}

interface WindowRow {
  readonly window: { readonly start: number; readonly end: number };
  readonly k: string;
  readonly n: number;
}

/**
 * What one process computes for `rounds` rounds and a flush (the single-process
 * run's output: append mode emits every window once, when the watermark passes
 * its end; rows arrive in event-time order per partition, so none is late).
 */
function expectedWindows(rounds: number): Map<string, number> {
  const expected = new Map<string, number>();
  for (const k of KEYS) for (let w = 0; w * WINDOW_MS < rounds * 1000; w++) expected.set(`${k}@${w * WINDOW_MS}`, Math.min(5, rounds - w * 5));
  return expected;
}

async function compare(output: string, rounds: number): Promise<{ lost: number; duplicated: number; wrong: number; windows: number }> {
  const expected = expectedWindows(rounds);
  const seen = new Map<string, number>();
  let wrong = 0;
  let windows = 0;
  for (const task of fs.existsSync(output) ? fs.readdirSync(output) : []) {
    for (const row of await readCommittedJson<WindowRow>(path.join(output, task))) {
      windows++;
      const id = `${row.k}@${row.window.start}`;
      seen.set(id, (seen.get(id) ?? 0) + 1);
      if (expected.get(id) !== row.n) wrong++;
    }
  }
  let lost = 0;
  let duplicated = 0;
  for (const id of expected.keys()) if (!seen.has(id)) lost++;
  for (const n of seen.values()) if (n > 1) duplicated += n - 1;
  return { lost, duplicated, wrong, windows };
}

async function stopAll(c: Cluster): Promise<void> {
  for (const w of c.workers) {
    if (w.proc.exitCode === null && w.proc.signalCode === null) {
      w.proc.kill('SIGCONT');
      w.proc.kill('SIGTERM');
    }
  }
  await Promise.all(c.workers.map((w) => w.exited));
  for (const w of c.workers) expect(w.lines.filter((l) => l.event === 'error')).toEqual([]);
}

describe("startQuery({ tasks: 'perPartition' }) across processes", () => {
  it('the test keys cover every partition (else a task would have no state to move)', () => {
    const used = new Set(KEYS.map((k) => defaultPartitionOfKey('t', Buffer.from(k), 4)));
    expect([...used].sort()).toEqual([0, 1, 2, 3]);
  });

  it('kill one of two processes mid-window (SIGKILL, possibly mid-batch), then restart it: output equals one process', async () => {
    const c = await cluster();
    const a = c.start();
    const b = c.start();
    await waitFor('both processes ready', () => a.has('ready') && b.has('ready'));
    await produceRounds(c.topic, 0, 12); // windows [0,5s) and [5s,10s) close; [10s,15s) stays open
    await waitFor('process B committed a batch', () => b.count('batch') > 0 || a.count('batch') > 8);
    b.proc.kill('SIGKILL');
    await b.exited;
    await produceRounds(c.topic, 12, 20);
    await c.caughtUp(); // A took B's partitions after the session timeout, restoring their state
    const b2 = c.start();
    await waitFor('restarted process ready', () => b2.has('ready'));
    await produceRounds(c.topic, 20, 25);
    await produceFlush(c.topic);
    await c.caughtUp();
    await stopAll(c);
    const result = await compare(c.output, 25);
    console.log(`kill/restart: ${JSON.stringify(result)}; fenced tasks: ${c.workers.map((w) => w.count('fenced')).join('/')}`);
    expect(result).toEqual({ lost: 0, duplicated: 0, wrong: 0, windows: KEYS.length * 5 });
  });

  it('scales 1 -> 2 -> 1 with no manual step: output equals one process', async () => {
    const c = await cluster();
    const a = c.start();
    await waitFor('first process ready', () => a.has('ready'));
    await produceRounds(c.topic, 0, 8);
    await c.caughtUp();
    const b = c.start();
    await waitFor('second process ready and running tasks', () => b.has('ready') && b.has('started'));
    await produceRounds(c.topic, 8, 16);
    await c.caughtUp();
    b.proc.kill('SIGTERM'); // a clean stop: leaves the group, its tasks move back
    await b.exited;
    await produceRounds(c.topic, 16, 20);
    await produceFlush(c.topic);
    await c.caughtUp();
    await stopAll(c);
    const result = await compare(c.output, 20);
    console.log(`scale 1->2->1: ${JSON.stringify(result)}; tasks started per process: ${c.workers.map((w) => w.count('started')).join('/')}, fenced: ${c.workers.map((w) => w.count('fenced')).join('/')}`);
    expect(result).toEqual({ lost: 0, duplicated: 0, wrong: 0, windows: KEYS.length * 4 });
  });

  it('a zombie (SIGSTOP past the session timeout, then SIGCONT) is fenced: it commits nothing more, output equals one process', async () => {
    const c = await cluster();
    const a = c.start();
    await waitFor('first process ready', () => a.has('ready'));
    await produceRounds(c.topic, 0, 8);
    await c.caughtUp();
    a.proc.kill('SIGSTOP');
    // Work-around: mokapi does not expire a member that stopped heartbeating while its connection stays
    // open (measured: the stopped process kept its partitions for the whole 300 s limit), so the group
    // never moves the tasks. The new owner joins its own group instead, which gives it every partition,
    // as a real broker's group would after the session timeout. Fencing does not depend on the group.
    const b = c.start({ groupId: `g-${c.topic}-takeover` });
    await waitFor('the new process runs every task', () => new Set(b.lines.filter((l) => l.event === 'started').map((l) => l.task)).size === 4);
    await produceRounds(c.topic, 8, 16);
    await c.caughtUp();
    const batchesBefore = a.count('batch');
    a.proc.kill('SIGCONT');
    await produceRounds(c.topic, 16, 20);
    await produceFlush(c.topic);
    await waitFor('the zombie drops a task it lost', () => a.count('fenced') > 0);
    await c.caughtUp();
    await stopAll(c);
    const result = await compare(c.output, 20);
    console.log(`zombie: ${JSON.stringify(result)}; zombie fenced ${a.count('fenced')} task(s), committed ${a.count('batch') - batchesBefore} batch(es) after SIGCONT`);
    expect(result).toEqual({ lost: 0, duplicated: 0, wrong: 0, windows: KEYS.length * 4 });
  });

  it('one lagging partition holds back only its own task: its backlog is not late for the others (per-task watermarks)', async () => {
    const c = await cluster();
    const a = c.start();
    const b = c.start();
    await waitFor('both processes ready', () => a.has('ready') && b.has('ready'));
    await produceRoundsFor(c.topic, [0, 1, 2], 0, 20); // partition 3 gets nothing yet
    await produceFlushFor(c.topic, [0, 1, 2]);
    await c.caughtUp();
    await produceRoundsFor(c.topic, [3], 0, 20); // the lagging partition's backlog, far behind the others' event time
    await produceFlushFor(c.topic, [3]);
    await c.caughtUp();
    await stopAll(c);
    const result = await compare(c.output, 20);
    console.log(`lagging partition: ${JSON.stringify(result)}`);
    expect(result).toEqual({ lost: 0, duplicated: 0, wrong: 0, windows: KEYS.length * 4 });
  });
});

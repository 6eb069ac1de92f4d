// Scale-out of a per-partition query over several processes on loopback: the
// test broker, child processes running test/integration/scale/taskWorker.ts,
// and one shared checkpoint directory. Each scenario kills, restarts, adds or
// pauses processes while a keyed windowed count runs over a 4-partition topic:
// kill one of two mid-window and restart it; scale 1 -> 2 -> 4 -> 2 -> 1; kill
// during a batch (after the sink wrote it, and after it was planned but not
// written); toKafka as the sink, killed inside a write and moved; a zombie; a
// lagging partition. Each compares the committed output with the single-process
// run (a real run of the same pipeline without tasks, in the newer scenarios)
// or with the windows computed by hand: zero lost, duplicated or wrong windows.
//
// Every wait is for work (each partition's committed end offset reaching the
// topic's end, or a worker's event); a worker that fails ends the wait at once.
//
// Broker limits (mokapi 0.52) and how the test lives with them:
// - group membership: in a probe with bare kafkajs consumers, a member joining
//   an existing group was given every partition while the old member kept
//   them too; and a member stopped with SIGSTOP is never expired while its
//   connection stays open (see the zombie scenario). Fencing keeps overlapping
//   ownership correct (the later claim wins, the other process drops the task
//   until its group generation changes), so no scenario asserts an even
//   spread; the scenarios assert output, not who ran what.
// - no LeaveGroup: a cleanly stopped member leaves at its session timeout; two
//   members expiring at once left the group in CompletingRebalance for good,
//   so the scale-down stops one process at a time.
// - OffsetFetch is answered only on a connection that joined the group, so the
//   admin's committed-offset lookup fails with UNKNOWN_MEMBER_ID
//   (brokerLimits.spec.ts); tasks start at startingOffsets (the default).
// - concurrent fetches: each process serializes its tasks' reads
//   (KafkaProcessAccess), but several worker processes fetch at once, and
//   once in a CI run mokapi answered one of them with a reply that read past
//   its own end (`RangeError: Attempt to access memory outside buffer
//   bounds`, failing the zombie scenario). Work-around in the library, not
//   the test: KafkaLog asks a fetch again when its reply cannot be decoded
//   (a fetch is an idempotent read; at most 4 more times, then a typed
//   KafkaUndecodableReplyError), tested without a broker in
//   test/lib/kafka/kafkaClientAccess.spec.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultPartitionOfKey } from '../../../lib/kafka/partitionTasks.js';
import { queryTag, readCommittedJson } from '../../../lib/sinks/toFiles.js';
import { claimTopic, closeTestKafka, kafkaBroker, produce, readTopic, testKafka, waitFor } from '../kafka/kafkaTestKit.js';

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
  readonly batchId?: number;
  readonly at?: string;
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
  kill(signal: NodeJS.Signals): void {
    if (signal !== 'SIGSTOP' && signal !== 'SIGCONT') this.stopping = true;
    this.proc.kill(signal);
  }
  /** Why the worker failed (an error line, or an exit nobody asked for), `undefined` while it is fine. */
  get failure(): string | undefined {
    const error = this.lines.find((l) => l.event === 'error');
    if (error !== undefined) return `worker ${this.proc.pid} failed: ${error.error ?? ''}; stderr: ${this.stderr.slice(-1500)}`;
    if (!this.stopping && (this.proc.exitCode !== null || this.proc.signalCode !== null)) return `worker ${this.proc.pid} exited (${this.proc.exitCode ?? this.proc.signalCode}); stderr: ${this.stderr.slice(-1500)}`;
    return undefined;
  }
  /** Set by the test before it stops the worker itself (a signal), so that the exit is not a failure. */
  stopping = false;
  has(event: string): boolean {
    return this.lines.some((l) => l.event === event);
  }
  count(event: string): number {
    return this.lines.filter((l) => l.event === event).length;
  }
}

/** What a scenario may change in a worker's configuration (see taskWorker.ts). */
interface WorkerOverrides {
  readonly groupId?: string;
  readonly hang?: { readonly nth: number; readonly at: 'beforeWrite' | 'afterWrite'; readonly minWindowStart?: number };
}

interface Cluster {
  readonly topic: string;
  readonly output: string;
  readonly checkpointLocation: string;
  start(overrides?: WorkerOverrides): Worker;
  /**
   * The single-process run: the same pipeline as one ordinary query (no
   * tasks, Spark's global watermark) over everything the topic holds now, in
   * a process of its own with its own group, checkpoint and output. Its
   * windows (`key@start` -> count).
   */
  singleProcessRun(): Promise<Map<string, number>>;
  /** Every partition's committed end offset has reached the topic's end. */
  caughtUp(): Promise<void>;
  /** Waits for `condition`; fails at once when a worker failed (rather than waiting for jest's limit). */
  until(what: string, condition: () => boolean): Promise<void>;
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

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function cluster(options: { readonly outputTopic?: string } = {}): Promise<Cluster> {
  const topic = await claimTopic(4);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rss-scale-'));
  dirs.push(dir);
  const output = path.join(dir, 'out');
  const checkpointLocation = path.join(dir, 'checkpoint');
  const cfg = { brokers: kafkaBroker(), topic, groupId: `g-${topic}`, checkpointLocation, output, sessionTimeout: SESSION_TIMEOUT, maxOffsetsPerTrigger: 7, ...options };
  const ends = new Map<number, number>();
  const workers: Worker[] = [];
  const onLine = (line: WorkerLine): void => {
    if (line.event !== 'batch' || line.end === undefined) return;
    for (const [p, offset] of Object.entries(line.end[topic] ?? {})) ends.set(Number(p), Math.max(ends.get(Number(p)) ?? 0, offset));
  };
  const until = async (what: string, condition: () => boolean): Promise<void> => {
    await waitFor(what, () => {
      const failed = workers.map((w) => w.failure).filter((f) => f !== undefined);
      if (failed.length > 0) throw new Error(`while waiting for ${what}: ${failed.join(' | ')}`);
      return condition();
    });
  };
  return {
    topic,
    output,
    checkpointLocation,
    ends,
    workers,
    async singleProcessRun() {
      const out = path.join(dir, 'single-out');
      const single = new Worker(
        { brokers: kafkaBroker(), topic, groupId: `g-${topic}-single`, checkpointLocation: path.join(dir, 'single-checkpoint'), output: out, sessionTimeout: SESSION_TIMEOUT, mode: 'single' },
        () => undefined,
      );
      live.push(single);
      const code = await single.exited;
      if (code !== 0) throw new Error(`the single-process run exited with ${code}: ${single.stderr.slice(-2000)} ${JSON.stringify(single.lines)}`);
      const windows = new Map<string, number>();
      for (const row of await readCommittedJson<WindowRow>(path.join(out, 'single'))) {
        const id = `${row.k}@${row.window.start}`;
        if (windows.has(id)) throw new Error(`the single-process run wrote window ${id} twice`);
        windows.set(id, row.n);
      }
      return windows;
    },
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
      await until(`every partition of ${topic} committed up to ${JSON.stringify(highs)} (now ${JSON.stringify([...ends])})`, () =>
        highs.every(({ partition, high }) => (ends.get(partition) ?? 0) >= high),
      );
    },
    until,
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

/** Every row the tasks committed to their `toFiles` directories (`<output>/<task id>`). */
async function filesOutput(output: string): Promise<WindowRow[]> {
  const rows: WindowRow[] = [];
  for (const task of fs.existsSync(output) ? fs.readdirSync(output) : []) rows.push(...(await readCommittedJson<WindowRow>(path.join(output, task))));
  return rows;
}

/** Lost, duplicated and wrong windows of `rows` against the expected windows (`key@start` -> count). */
async function compare(rows: readonly WindowRow[], expected: ReadonlyMap<string, number>): Promise<{ lost: number; duplicated: number; wrong: number; windows: number }> {
  const seen = new Map<string, number>();
  let wrong = 0;
  for (const row of rows) {
    const id = `${row.k}@${row.window.start}`;
    seen.set(id, (seen.get(id) ?? 0) + 1);
    if (expected.get(id) !== row.n) wrong++;
  }
  let lost = 0;
  let duplicated = 0;
  for (const id of expected.keys()) if (!seen.has(id)) lost++;
  for (const n of seen.values()) if (n > 1) duplicated += n - 1;
  return { lost, duplicated, wrong, windows: rows.length };
}

/**
 * The batch a worker was killed in is committed now (`commits/N` in the task's
 * checkpoint): the killed worker never wrote it, so a later owner finished the
 * batch. (Not the later owner's progress lines: a batch the sink already held
 * was not always reported as a progress line in our runs.)
 */
function committedByLaterOwner(c: Cluster, hung: WorkerLine): boolean {
  return fs.existsSync(path.join(c.checkpointLocation, 'tasks', hung.task!, 'commits', String(hung.batchId)));
}

/** The query id a task's checkpoint keeps (`tasks/<id>/metadata`): the same for every owner of the task. */
function taskQueryId(c: Cluster, task: string): string {
  const text = fs.readFileSync(path.join(c.checkpointLocation, 'tasks', task, 'metadata'), 'utf8');
  return (JSON.parse(text.split('\n')[1]!) as { id: string }).id;
}

/**
 * `toFiles` per task: each task's directory holds one manifest directory,
 * named after the task's query id, part files named after it only, and rows
 * of its own partition's keys only. Counts what is not so.
 */
function taskFileLayout(c: Cluster): { tasks: number; parts: number; misplaced: number } {
  let misplaced = 0;
  let parts = 0;
  const tasks = fs.readdirSync(c.output);
  for (const task of tasks) {
    const tag = queryTag(taskQueryId(c, task));
    const partition = Number(task.slice(c.topic.length + 1));
    const dir = path.join(c.output, task);
    const manifests = fs.readdirSync(path.join(dir, '_spark_metadata'));
    if (manifests.length !== 1 || manifests[0] !== tag) misplaced++;
    for (const file of fs.readdirSync(dir).filter((f) => f.startsWith('part-'))) {
      parts++;
      if (!file.endsWith(`-${tag}.json`)) misplaced++;
      for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
        if (line === '') continue;
        const row = JSON.parse(line) as WindowRow;
        if (defaultPartitionOfKey(c.topic, Buffer.from(row.k), 4) !== partition) misplaced++;
      }
    }
  }
  return { tasks: tasks.length, parts, misplaced };
}

async function stopAll(c: Cluster): Promise<void> {
  for (const w of c.workers) {
    if (w.proc.exitCode === null && w.proc.signalCode === null) {
      w.kill('SIGCONT');
      w.kill('SIGTERM');
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
    await c.until('both processes ready', () => a.has('ready') && b.has('ready'));
    await produceRounds(c.topic, 0, 12); // windows [0,5s) and [5s,10s) close; [10s,15s) stays open
    await c.until('process B committed a batch', () => b.count('batch') > 0 || a.count('batch') > 8);
    b.kill('SIGKILL');
    await b.exited;
    await produceRounds(c.topic, 12, 20);
    await c.caughtUp(); // A took B's partitions after the session timeout, restoring their state
    const b2 = c.start();
    await c.until('restarted process ready', () => b2.has('ready'));
    await produceRounds(c.topic, 20, 25);
    await produceFlush(c.topic);
    await c.caughtUp();
    await stopAll(c);
    const result = await compare(await filesOutput(c.output), expectedWindows(25));
    console.log(`kill/restart: ${JSON.stringify(result)}; fenced tasks: ${c.workers.map((w) => w.count('fenced')).join('/')}`);
    expect(result).toEqual({ lost: 0, duplicated: 0, wrong: 0, windows: KEYS.length * 5 });
  });

  it('scales 1 -> 2 -> 4 -> 2 -> 1 with no manual step: output equals the single-process run', async () => {
    const c = await cluster();
    const a = c.start();
    await c.until('first process ready', () => a.has('ready'));
    await produceRounds(c.topic, 0, 4);
    await c.caughtUp();
    const b = c.start(); // 1 -> 2
    await c.until('second process ready and running tasks', () => b.has('ready') && b.has('started'));
    await produceRounds(c.topic, 4, 8);
    await c.caughtUp();
    const more = [c.start(), c.start()]; // 2 -> 4
    await c.until('third and fourth processes ready', () => more.every((w) => w.has('ready')));
    await produceRounds(c.topic, 8, 12);
    await c.caughtUp();
    // 4 -> 2, one process at a time (clean stops: their tasks finish the batch in flight and move back). Work-around:
    // mokapi has no LeaveGroup, so a stopped member leaves at its session timeout; when two expire at once, mokapi's
    // group stayed in CompletingRebalance for good in our runs (no assignment reached the survivors).
    more[1]!.kill('SIGTERM');
    await more[1]!.exited;
    await produceRounds(c.topic, 12, 14);
    await c.caughtUp();
    more[0]!.kill('SIGTERM');
    await more[0]!.exited;
    await produceRounds(c.topic, 14, 16);
    await c.caughtUp();
    b.kill('SIGTERM'); // 2 -> 1
    await b.exited;
    await produceRounds(c.topic, 16, 20);
    await produceFlush(c.topic);
    await c.caughtUp();
    await stopAll(c);
    const reference = await c.singleProcessRun();
    expect(reference).toEqual(expectedWindows(20)); // the single-process run is exact itself
    const result = await compare(await filesOutput(c.output), reference);
    const layout = taskFileLayout(c);
    console.log(
      `scale 1->2->4->2->1: ${JSON.stringify(result)}; tasks started per process: ${c.workers.map((w) => w.count('started')).join('/')}, ` +
        `revoked: ${c.workers.map((w) => w.count('revoked')).join('/')}, fenced: ${c.workers.map((w) => w.count('fenced')).join('/')}; per-task files: ${JSON.stringify(layout)}`,
    );
    expect(result).toEqual({ lost: 0, duplicated: 0, wrong: 0, windows: KEYS.length * 4 });
    expect(layout.misplaced).toBe(0);
  });

  it('kill during a batch (SIGKILL after the sink wrote it, then after it was planned but not written), restart on the same store: exact', async () => {
    const c = await cluster();
    // B stops inside its second sink write with rows, after the write and before commits/N.
    const b = c.start({ hang: { nth: 2, at: 'afterWrite' } });
    await c.until('process B ready', () => b.has('ready'));
    await produceRounds(c.topic, 0, 8); // window [0,5s) closes in every task
    await c.until('B inside a batch, written but not committed', () => b.has('hang'));
    const first = b.lines.find((l) => l.event === 'hang')!;
    b.kill('SIGKILL');
    await b.exited;
    // B2 on the same store takes the tasks back (re-running B's batch) and stops inside a batch no process ran
    // before (it writes window [5s,10s), of rounds produced after B died), planned but not given to the sink.
    const b2 = c.start({ hang: { nth: 1, at: 'beforeWrite', minWindowStart: WINDOW_MS } });
    await c.until('B2 ready', () => b2.has('ready'));
    await produceRounds(c.topic, 8, 16);
    await c.until('B2 inside a batch, planned but not written', () => b2.has('hang'));
    const second = b2.lines.find((l) => l.event === 'hang')!;
    b2.kill('SIGKILL');
    await b2.exited;
    const b3 = c.start();
    const a = c.start();
    await c.until('B3 and A ready', () => b3.has('ready') && a.has('ready'));
    await produceRounds(c.topic, 16, 20);
    await produceFlush(c.topic);
    await c.caughtUp();
    await stopAll(c);
    const rerun = (hung: WorkerLine): boolean => committedByLaterOwner(c, hung);
    const reference = await c.singleProcessRun();
    expect(reference).toEqual(expectedWindows(20)); // the single-process run is exact itself
    const result = await compare(await filesOutput(c.output), reference);
    console.log(
      `kill during a batch: ${JSON.stringify(result)}; killed in ${first.task} batch ${first.batchId} (${first.at}, re-run: ${rerun(first)}) and ${second.task} batch ${second.batchId} (${second.at}, re-run: ${rerun(second)})`,
    );
    expect(result).toEqual({ lost: 0, duplicated: 0, wrong: 0, windows: KEYS.length * 4 });
    expect([rerun(first), rerun(second)]).toEqual([true, true]);
    expect(taskFileLayout(c).misplaced).toBe(0);
  });

  it('toKafka as the sink, per task (writer id per task): killed inside a write, restarted and moved, the output topic holds exactly the single-process rows', async () => {
    const outputTopic = await claimTopic(4);
    const c = await cluster({ outputTopic });
    const a = c.start({ hang: { nth: 2, at: 'afterWrite' } });
    await c.until('process A ready', () => a.has('ready'));
    await produceRounds(c.topic, 0, 12);
    await c.until('A inside a batch, written to the topic but not committed', () => a.has('hang'));
    const hung = a.lines.find((l) => l.event === 'hang')!;
    a.kill('SIGKILL');
    await a.exited;
    const b = c.start();
    const d = c.start();
    await c.until('B and D ready', () => b.has('ready') && d.has('ready'));
    await produceRounds(c.topic, 12, 16);
    await c.caughtUp();
    d.kill('SIGTERM'); // D's tasks move to B
    await d.exited;
    await produceRounds(c.topic, 16, 20);
    await produceFlush(c.topic);
    await c.caughtUp();
    await stopAll(c);
    const records = await readTopic(outputTopic);
    const rows = records.map((r) => JSON.parse(r.value!.toString('utf8')) as WindowRow);
    // One writer id per task, the same whoever ran it: the task's query id.
    const writers = new Map<string, Set<string>>();
    for (const r of records) {
      const writer = r.headers.find((h) => h.key === 'rss.writer')?.value?.toString('utf8') ?? '';
      const key = r.key!.toString('utf8');
      const task = `${c.topic}-${defaultPartitionOfKey(c.topic, Buffer.from(key), 4)}`;
      let set = writers.get(task);
      if (set === undefined) writers.set(task, (set = new Set()));
      set.add(writer);
    }
    const expectedWriters = new Map([0, 1, 2, 3].map((p) => [`${c.topic}-${p}`, new Set([taskQueryId(c, `${c.topic}-${p}`)])]));
    const reference = await c.singleProcessRun();
    expect(reference).toEqual(expectedWindows(20)); // the single-process run is exact itself
    const result = await compare(rows, reference);
    const rerun = committedByLaterOwner(c, hung);
    console.log(
      `toKafka per task: ${JSON.stringify(result)}; ${records.length} records for ${reference.size} single-process rows; killed in ${hung.task} batch ${hung.batchId} ` +
        `(${hung.at}, re-run: ${rerun}); tasks started per process: ${c.workers.map((w) => w.count('started')).join('/')}; writers per task: ${JSON.stringify([...writers].map(([t, w]) => [t, [...w]]))}`,
    );
    expect(result).toEqual({ lost: 0, duplicated: 0, wrong: 0, windows: KEYS.length * 4 });
    expect(records.length).toBe(reference.size); // not a record written twice, not only no window twice
    expect(rerun).toBe(true);
    expect(writers).toEqual(expectedWriters);
  });

  it('a zombie (SIGSTOP past the session timeout, then SIGCONT) is fenced: it commits nothing more, output equals one process', async () => {
    const c = await cluster();
    const a = c.start();
    await c.until('first process ready', () => a.has('ready'));
    await produceRounds(c.topic, 0, 8);
    await c.caughtUp();
    a.kill('SIGSTOP');
    // Work-around: mokapi does not expire a member that stopped heartbeating while its connection stays
    // open (measured: the stopped process kept its partitions for the whole 300 s limit), so the group
    // never moves the tasks. The new owner joins its own group instead, which gives it every partition,
    // as a real broker's group would after the session timeout. Fencing does not depend on the group.
    const b = c.start({ groupId: `g-${c.topic}-takeover` });
    await c.until('the new process runs every task', () => new Set(b.lines.filter((l) => l.event === 'started').map((l) => l.task)).size === 4);
    await produceRounds(c.topic, 8, 16);
    await c.caughtUp();
    const batchesBefore = a.count('batch');
    a.kill('SIGCONT');
    await produceRounds(c.topic, 16, 20);
    await produceFlush(c.topic);
    await c.until('the zombie drops a task it lost', () => a.count('fenced') > 0);
    await c.caughtUp();
    await stopAll(c);
    const result = await compare(await filesOutput(c.output), expectedWindows(20));
    console.log(`zombie: ${JSON.stringify(result)}; zombie fenced ${a.count('fenced')} task(s), committed ${a.count('batch') - batchesBefore} batch(es) after SIGCONT`);
    expect(result).toEqual({ lost: 0, duplicated: 0, wrong: 0, windows: KEYS.length * 4 });
  });

  it('one lagging partition holds back only its own task: its backlog is not late for the others (per-task watermarks)', async () => {
    const c = await cluster();
    const a = c.start();
    const b = c.start();
    await c.until('both processes ready', () => a.has('ready') && b.has('ready'));
    await produceRoundsFor(c.topic, [0, 1, 2], 0, 20); // partition 3 gets nothing yet
    await produceFlushFor(c.topic, [0, 1, 2]);
    await c.caughtUp();
    await produceRoundsFor(c.topic, [3], 0, 20); // the lagging partition's backlog, far behind the others' event time
    await produceFlushFor(c.topic, [3]);
    await c.caughtUp();
    await stopAll(c);
    const result = await compare(await filesOutput(c.output), expectedWindows(20));
    console.log(`lagging partition: ${JSON.stringify(result)}`);
    expect(result).toEqual({ lost: 0, duplicated: 0, wrong: 0, windows: KEYS.length * 4 });
  });
});

import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { InvalidOptionError, SourceError } from '../../../lib/errors/index.js';
import { startQuery } from '../../../lib/query/startQuery.js';
import { StreamingQueryManager } from '../../../lib/query/StreamingQueryManager.js';
import { dropMemoryTable, memoryTable, toMemory } from '../../../lib/sinks/toMemory.js';
import { fromSocket } from '../../../lib/sources/fromSocket.js';

let server: Server;
let port: number;
let clients: Socket[];
let manager: StreamingQueryManager;

beforeEach(async () => {
  clients = [];
  manager = new StreamingQueryManager();
  server = createServer((socket) => clients.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterEach(async () => {
  for (const q of manager.active) await q.stop();
  for (const c of clients) c.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  dropMemoryTable('lines');
});

/** Waits (by turns of the event loop, not by a clock) until the server has accepted the source's connection. */
const waitForClient = async (): Promise<Socket> => {
  while (clients.length === 0) await new Promise((r) => setImmediate(r));
  return clients[0]!;
};

/** Runs the query's triggers until the memory table holds `n` rows: bounded by the data sent, not by a clock. */
const processUntilRows = async (query: { processAllAvailable(): Promise<void> }, n: number): Promise<void> => {
  while (memoryTable('lines').length < n) {
    await new Promise((r) => setImmediate(r));
    await query.processAllAvailable();
  }
};

describe('fromSocket (a TCP server on 127.0.0.1)', () => {
  it('turns the lines a server sends into rows, a line split across packets included', async () => {
    const query = startQuery({ source: fromSocket({ host: '127.0.0.1', port }), sink: toMemory('lines'), manager });
    await query.ready;
    const client = await waitForClient();
    client.write('the cat\r\nthe d');
    client.write('og\n');
    await processUntilRows(query, 2);
    client.write('sat\n');
    await processUntilRows(query, 3);
    expect(memoryTable('lines')).toEqual([{ value: 'the cat' }, { value: 'the dog' }, { value: 'sat' }]);
    expect(query.lastProgress?.sources[0]).toMatchObject({ description: `TextSocketSource[host: 127.0.0.1, port: ${port}]`, endOffset: 3 });
  });

  it('adds the arrival time with includeTimestamp', async () => {
    const query = startQuery({ source: fromSocket({ host: '127.0.0.1', port, includeTimestamp: true }), sink: toMemory('lines'), manager });
    await query.ready;
    (await waitForClient()).write('x\n');
    await processUntilRows(query, 1);
    const [row] = memoryTable<{ value: string; timestamp: Date }>('lines');
    expect(row?.value).toBe('x');
    expect(row?.timestamp).toBeInstanceOf(Date);
  });

  it('fails with a SourceError when nothing listens (after retrying)', async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const closedPort = port;
    const query = startQuery({ source: fromSocket({ host: '127.0.0.1', port: closedPort }), sink: toMemory('lines'), manager, retry: { retries: 1, initialRetryTimeMs: 1 } });
    await expect(query.ready).rejects.toBeInstanceOf(SourceError);
    expect(query.exception?.message).toMatch(new RegExp(`^TextSocketSource\\[host: 127.0.0.1, port: ${closedPort}\\]: cannot connect to 127.0.0.1:${closedPort}; got ECONNREFUSED`));
  });

  describe('misconfiguration', () => {
    it('rejects a bad host or port', () => {
      expect(() => fromSocket({ host: '', port: 1 })).toThrow('fromSocket: host must be a non-empty string; got "".');
      expect(() => fromSocket({ host: 'localhost', port: 70000 })).toThrow(InvalidOptionError);
      expect(() => fromSocket({ host: 'localhost', port: 70000 })).toThrow('fromSocket: port must be an integer from 1 to 65535; got 70000.');
    });
  });
});

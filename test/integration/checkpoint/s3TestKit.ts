import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { S3Client } from '@aws-sdk/client-s3';

/** A running s3rver child process on 127.0.0.1 (see s3Server.cjs). */
export interface S3TestServer {
  readonly port: number;
  readonly endpoint: string;
  /** A client of this server (path-style, dummy credentials, no SDK retries so that failures show at once). */
  client(endpoint?: string): S3Client;
  stop(): Promise<void>;
}

/** Starts s3rver in a child process with the given buckets, in a fresh temporary directory; resolves once it listens. */
export async function startS3Server(buckets: readonly string[]): Promise<S3TestServer> {
  const directory = mkdtempSync(join(tmpdir(), 'rss-s3rver-'));
  const child: ChildProcess = spawn(process.execPath, ['--openssl-legacy-provider', join(__dirname, 's3Server.cjs'), directory, ...buckets], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code} before listening: ${stderr}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: S3Client[] = [];
  return {
    port,
    endpoint,
    client(at = endpoint) {
      const client = new S3Client({
        region: 'us-east-1',
        endpoint: at,
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        maxAttempts: 1,
      });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) client.destroy();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * A test-only HTTP proxy in front of s3rver that adds what s3rver lacks:
 * `PutObject` with `If-None-Match: *` answers 412 PreconditionFailed when the
 * key exists (checked with a HEAD on s3rver, one request per key at a time, so
 * two conditional writes of one key cannot both pass). Everything else is
 * passed through unchanged. It lets the fenced S3 path run against real HTTP
 * answers; it is not a claim that s3rver fences.
 */
export async function startConditionalProxy(
  target: number,
  options: {
    /** GET answers for paths containing this are cut after half their body (the connection is dropped), as a network failure mid-read would. */
    readonly cutBodiesOf?: string;
  } = {},
): Promise<{ readonly endpoint: string; readonly conditionalPuts: () => number; stop(): Promise<void> }> {
  const locks = new Map<string, Promise<void>>();
  let conditionalPuts = 0;
  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> =>
    new Promise((resolve) => {
      // Headers go on unchanged (they are signed); s3rver ignores If-None-Match on PUT.
      const upstream = request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        const cut = options.cutBodiesOf;
        if (req.method === 'GET' && answer.statusCode === 200 && cut !== undefined && (req.url ?? '').includes(cut)) {
          const parts: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => parts.push(chunk));
          answer.on('end', () => {
            const whole = Buffer.concat(parts);
            res.write(whole.subarray(0, Math.floor(whole.length / 2)), () => res.socket?.destroy());
            resolve();
          });
          return;
        }
        answer.pipe(res);
        answer.on('end', resolve);
      });
      upstream.on('error', (error) => {
        res.writeHead(502).end(String(error));
        resolve();
      });
      upstream.end(body);
    });
  const exists = (path: string): Promise<boolean> =>
    new Promise((resolve, reject) => {
      const head = request({ host: '127.0.0.1', port: target, method: 'HEAD', path }, (answer) => {
        answer.resume();
        resolve(answer.statusCode === 200);
      });
      head.on('error', reject);
      head.end();
    });
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      if (req.method !== 'PUT' || req.headers['if-none-match'] !== '*') {
        void forward(req, body, res);
        return;
      }
      conditionalPuts++;
      const path = (req.url ?? '/').split('?')[0]!;
      const previous = locks.get(path) ?? Promise.resolve();
      const turn = previous.then(async () => {
        if (await exists(path)) {
          res.writeHead(412, { 'content-type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>');
          return;
        }
        await forward(req, body, res);
      });
      locks.set(path, turn.catch(() => undefined));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    conditionalPuts: () => conditionalPuts,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

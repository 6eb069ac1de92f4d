// An S3-compatible server (s3rver, from npm) on 127.0.0.1 for the S3 checkpoint
// store's specs, in its own process: `node --openssl-legacy-provider s3Server.cjs <dir> <bucket>…`.
// The flag is needed because s3rver encrypts ListObjectsV2 continuation tokens
// with DES, which OpenSSL 3 only has in its legacy provider (without it, every
// paginated listing fails with HTTP 500). The server picks a free port and
// prints `{"port":N}` on one line once it listens; it stops on SIGTERM or
// when its standard input closes (the spec's process died).
const S3rver = require('s3rver');

const [directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});

server.run().then(
  (address) => process.stdout.write(`${JSON.stringify({ port: address.port })}\n`),
  (error) => {
    process.stderr.write(`s3rver did not start: ${error && error.stack ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);

const stop = () => server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();

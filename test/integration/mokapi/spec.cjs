'use strict';
// Renders the AsyncAPI 3 document that makes mokapi a Kafka broker for the
// integration tests: one server on 127.0.0.1:<port> and a pool of topics.
//
// Why a pool: mokapi serves the topics declared in its spec. It also accepts
// CreateTopics, but a topic created that way has no operations in the spec
// and mokapi 0.52 crashes its OffsetFetch handler on it (nil dereference in
// validateConsumer), which breaks consumer groups. So every topic a test may
// use is declared up front, and tests claim one each (see topics.cjs).

/** Topic names and partition counts of the default pool. */
function defaultPool() {
  const topics = [];
  for (const partitions of [1, 2, 3, 4]) {
    for (let i = 0; i < 40; i++) topics.push({ name: `rss-p${partitions}-${String(i).padStart(3, '0')}`, partitions });
  }
  return topics;
}

/**
 * @param {{ port: number, topics: { name: string, partitions: number }[], rebalanceDelayMs?: number }} options
 * @returns {string} YAML
 */
function renderSpec({ port, topics, rebalanceDelayMs = 600 }) {
  const lines = [
    'asyncapi: 3.0.0',
    'info:',
    '  title: rss-test-cluster',
    '  version: "1.0"',
    // Values are opaque bytes; without this mokapi parses every value as JSON.
    'defaultContentType: application/octet-stream',
    'servers:',
    '  broker:',
    `    host: 127.0.0.1:${port}`,
    '    protocol: kafka',
    '    bindings:',
    '      kafka:',
    // mokapi waits this long for more members before finishing any rebalance
    // (default 3000 ms). It must stay well above the consumers' heartbeat
    // interval so that existing members rejoin within it.
    `        group.initial.rebalance.delay.ms: ${rebalanceDelayMs}`,
    'channels:',
  ];
  for (const { name, partitions } of topics) {
    if (!/^[a-zA-Z0-9._-]+$/.test(name)) throw new Error(`mokapi spec: bad topic name ${JSON.stringify(name)}`);
    lines.push(
      `  ${name}:`,
      `    address: ${name}`,
      '    bindings:',
      '      kafka:',
      `        partitions: ${partitions}`,
      '    messages:',
      '      record:',
      '        contentType: application/octet-stream',
      '        payload: {}',
    );
  }
  return `${lines.join('\n')}\n`;
}

module.exports = { renderSpec, defaultPool };

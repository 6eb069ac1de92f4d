// Starts the Kafka-protocol broker the Kafka integration tests run against:
// mokapi (npm `go-mokapi`) on a free port of 127.0.0.1, inside a private
// network namespace (see test/integration/mokapi/broker.cjs). Tests find it in
// RSS_KAFKA_BROKER and claim topics from the pool named by RSS_KAFKA_TOPIC_POOL.
// If RSS_KAFKA_BROKER is already set, that broker is used and nothing starts.
// Also makes sure chromium is installed for the browser tests (RSS_CHROMIUM,
// or RSS_CHROMIUM_MISSING with the reason; see browser/chromium.cjs).
const fs = require('node:fs');
const path = require('node:path');

module.exports = async () => {
  // The browser tests (test/integration/ui) need Debian's chromium: installed here when missing.
  if (!process.env.RSS_CHROMIUM && !process.env.RSS_CHROMIUM_MISSING) {
    const chromium = require('./browser/chromium.cjs').ensureChromium();
    if ('path' in chromium) process.env.RSS_CHROMIUM = chromium.path;
    else process.env.RSS_CHROMIUM_MISSING = chromium.missing;
  }
  if (process.env.RSS_KAFKA_BROKER) return;
  const { startBroker } = require('./mokapi/broker.cjs');
  const broker = await startBroker();
  fs.mkdirSync(path.join(broker.workDir, 'claims'), { recursive: true });
  globalThis.__RSS_KAFKA_BROKER__ = broker;
  process.env.RSS_KAFKA_BROKER = broker.brokers;
  process.env.RSS_KAFKA_TOPIC_POOL = path.join(broker.workDir, 'broker.json');
};

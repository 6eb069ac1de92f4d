// Stops the broker globalSetup started (if it started one) and removes its files.
const fs = require('node:fs');

module.exports = async () => {
  const broker = globalThis.__RSS_KAFKA_BROKER__;
  if (broker === undefined) return;
  globalThis.__RSS_KAFKA_BROKER__ = undefined;
  await broker.stop();
  fs.rmSync(broker.workDir, { recursive: true, force: true });
};

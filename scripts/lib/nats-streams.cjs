// Deletes the JetStream streams of one subject prefix (a test run's, a benchmark's): their files
// would otherwise stay on the NATS server's disk after the run's database is dropped.
// CommonJS so that the scripts (ESM) and the tests (TypeScript compiled to CommonJS) share it.
const { connect } = require('nats');
const { natsPassword } = require('./nats-users.cjs');

/** The stream-name form of a prefix: every stream of the prefix starts with it. */
function streamPrefix(prefix) {
  return `${prefix}_`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

async function deleteStreams(natsUrl, prefix) {
  // A service user: JetStream's API is open to services only (deploy/nats/nats-server.conf).
  const nc = await connect({
    servers: natsUrl,
    user: 'consent',
    pass: natsPassword('consent'),
    inboxPrefix: '_INBOX_consent',
  });
  try {
    const jsm = await nc.jetstreamManager();
    const start = streamPrefix(prefix);
    const names = [];
    for await (const info of jsm.streams.list()) {
      if (info.config.name.startsWith(start)) names.push(info.config.name);
    }
    for (const name of names) await jsm.streams.delete(name);
    return names.length;
  } finally {
    await nc.close();
  }
}

module.exports = { deleteStreams, streamPrefix };

// npm run reset-dev -- --yes: starts the development stack over. Drops the database of
// DATABASE_URL (default the `dsg` one npm start uses) and deletes the JetStream streams of its
// subject prefix (NATS_SUBJECT_PREFIX, default dsg). Both go together: the register publishes its
// tree heads to JetStream, and a register whose database lacks a published head refuses to
// append (REGISTER.LOG_BEHIND), as it must after a real rollback. Loopback servers only, never
// with NODE_ENV=production. The next npm start migrates and seeds again.
import { createRequire } from 'node:module';
import { DEFAULT_DATABASE_URL, DEFAULT_NATS_URL, dropDatabase } from './lib/infra.mjs';

const require = createRequire(import.meta.url);
const { deleteStreams } = require('./lib/nats-streams.cjs');

const databaseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
const natsUrl = process.env.NATS_URL || DEFAULT_NATS_URL;
const prefix = process.env.NATS_SUBJECT_PREFIX || 'dsg';
const loopback = (url) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);

if (!process.argv.includes('--yes')) {
  console.error(
    `reset-dev drops the database ${new URL(databaseUrl).pathname.slice(1)} and the NATS streams of prefix ${prefix}: run it with --yes`,
  );
  process.exit(2);
}
if (
  process.env.NODE_ENV === 'production' ||
  !loopback(databaseUrl) ||
  !loopback(natsUrl.split(',')[0])
) {
  console.error('reset-dev works on loopback development servers only, never in production');
  process.exit(2);
}
await dropDatabase(databaseUrl);
const streams = await deleteStreams(natsUrl, prefix);
console.log(
  `dropped the database ${new URL(databaseUrl).pathname.slice(1)} and ${streams} stream(s) of prefix ${prefix}; npm start builds them again`,
);

// Brings up private PostgreSQL and NATS through the same helper `npm start` and `npm test` use,
// on the ports given, proves each answers (JetStream included), stops them, and prints a report.
import { connect } from 'nats';
import net from 'node:net';
import pg from 'pg';
import { ensureInfrastructure } from '../../scripts/lib/infra.mjs';
import { natsPassword } from '../../scripts/lib/nats-users.cjs';

const [pgPort, natsPort, dataRoot] = process.argv.slice(2);
const databaseUrl = `postgres://postgres@127.0.0.1:${pgPort}/dsg_probe`;
const natsUrl = `nats://127.0.0.1:${natsPort}`;
const closed = (port) =>
  new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: Number(port) });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });

const report = {};
const stop = await ensureInfrastructure({ databaseUrl, natsUrl, dataRoot, log: () => {} });
try {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  report.database = (await client.query('SELECT current_database() AS db')).rows[0].db;
  await client.end();
  const nc = await connect({
    servers: natsUrl,
    user: 'gateway',
    pass: natsPassword('gateway'),
    inboxPrefix: '_INBOX_gateway',
  });
  report.jetstream = (await (await nc.jetstreamManager()).getAccountInfo()).limits !== undefined;
  await nc.close();
} finally {
  await stop();
}
report.pgStopped = await closed(pgPort);
report.natsStopped = await closed(natsPort);
process.stdout.write(JSON.stringify(report));

// The reference holder as a process: `npm start` runs it beside the services, so purges run end
// to end in the demo stack. It books a few demo appointments the first time, declares what it
// holds, takes its purge commands and correction tasks, and answers the consent service as the
// spa's client system (verification matches, contact addresses) until SIGTERM / SIGINT.
import { DsgClient } from '@dsg/contracts';
import { Pool } from 'pg';
import { BookingHolder } from './booking-holder';
import { loadHolderConfig } from './holder.config';

const DEMO = ['demo-ana', 'demo-ben', 'demo-kid'];

async function main(): Promise<void> {
  const config = loadHolderConfig();
  const { subjectPrefix } = config;
  const pool = new Pool({ connectionString: config.databaseUrl, max: 4 });
  const client = await DsgClient.connect({
    caller: 'booking',
    password: config.natsPassword,
    natsUrl: config.natsUrl,
    subjectPrefix,
    name: 'reference-holder',
  });
  const holder = new BookingHolder({ client, pool, subjectPrefix });
  await holder.init();
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM reference_holder.appointments');
  if ((rows[0] as { n: number }).n === 0) {
    await holder.book([
      {
        clientId: DEMO[0],
        startsAt: '2018-03-01T17:00:00Z',
        name: 'Ana Demo',
        phone: '555-0100',
        email: 'ana@example.test',
        notes: 'filler consultation',
      },
      {
        clientId: DEMO[1],
        startsAt: '2026-10-02T18:30:00Z',
        name: 'Ben Demo',
        phone: '555-0101',
        email: 'ben@example.test',
      },
      {
        clientId: DEMO[2],
        startsAt: '2026-09-15T16:00:00Z',
        name: 'Kid Demo',
        phone: '555-0102',
        dateOfBirth: '2016-05-01',
      },
    ]);
  }
  await holder.start();
  holder.serveClientSystem();
  await holder.takeCorrections();
  await holder.declare(DEMO);
  process.stdout.write(
    JSON.stringify({ level: 'info', context: 'ReferenceHolder', msg: 'booking holder ready' }) +
      '\n',
  );
  // Ctrl-C reaches it twice (the terminal's SIGINT, then npm start's SIGTERM): stop once.
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await holder.stop();
      await client.close();
      await pool.end();
      process.exit(0);
    })());
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((err: Error) => {
  process.stderr.write(
    JSON.stringify({ level: 'error', context: 'ReferenceHolder', msg: err.message }),
  );
  process.exit(1);
});

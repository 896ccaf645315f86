import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './support/service-process';

/**
 * `npm start` and `npm test` on a machine where PostgreSQL and NATS are installed but not
 * running: private instances are started on the configured ports, and stopped afterwards.
 * Runs on free ports, never touching the shared servers.
 */
describe('private PostgreSQL and NATS when none is running', () => {
  it('starts both (JetStream on), creates the database, and stops them', async () => {
    const dataRoot = mkdtempSync(join(tmpdir(), 'dsg-infra-'));
    chmodSync(dataRoot, 0o755);
    try {
      const [pgPort, natsPort] = [await freePort(), await freePort()];
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [join(__dirname, 'support', 'infra-probe.mjs'), String(pgPort), String(natsPort), dataRoot],
        { timeout: 90_000 },
      );
      expect(JSON.parse(stdout)).toEqual({
        database: 'dsg_probe',
        jetstream: true,
        pgStopped: true,
        natsStopped: true,
      });
    } finally {
      rmSync(dataRoot, { recursive: true, force: true });
    }
  }, 120_000);
});

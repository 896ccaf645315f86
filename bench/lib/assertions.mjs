// Gateway assertions for the people a scenario acts as (an auditor exporting, an operator
// sweeping), signed with the gateway's key from the run's database, as the gateway would.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Signs assertions until close(); `sign(subject, roles, audience, seconds)`. */
export async function gatewaySigner(stack) {
  const platform = require('../../dist/libs/platform/src/index.js');
  const { DataSource } = require('typeorm');
  const gatewayDb = new DataSource({ type: 'postgres', url: stack.databaseUrl, poolSize: 1 });
  await gatewayDb.initialize();
  const ring = new platform.KeyRing(
    gatewayDb,
    'gateway',
    'gateway',
    platform.DEVELOPMENT_SIGNING_KEY_SECRET,
  );
  await ring.reload();
  return {
    sign: (subject, roles, audience, seconds = 3600) =>
      platform.signAssertion(ring, { subject, roles }, audience, seconds),
    close: () => gatewayDb.destroy(),
  };
}

import { join } from 'node:path';

/** Mirrors scripts/lib/nats-users.mjs for the tests (TypeScript cannot import it directly). */
export const NATS_CONFIG = join(__dirname, '..', '..', 'deploy', 'nats', 'nats-server.conf');
export const NATS_USERS = [
  'consent',
  'disclosure-register',
  'retention',
  'gateway',
  'ops',
  'booking',
  'crm',
  'billing',
];
const variable = (user: string) => `DSG_NATS_PASSWORD_${user.toUpperCase().replace(/-/g, '_')}`;
export const natsPassword = (user: string): string =>
  process.env[variable(user)] || `dsg-dev-${user}`;
export const natsPasswordEnv = (): Record<string, string> =>
  Object.fromEntries(NATS_USERS.map((user) => [variable(user), natsPassword(user)]));

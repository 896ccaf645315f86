// The NATS users of deploy/nats/nats-server.conf and their passwords: from the environment
// (DSG_NATS_PASSWORD_<USER>), or a development default so a private server starts out of the box.
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
export const NATS_CONFIG = new URL('../../deploy/nats/nats-server.conf', import.meta.url).pathname;

export const passwordVariable = (user) =>
  `DSG_NATS_PASSWORD_${user.toUpperCase().replace(/-/g, '_')}`;

export function natsPassword(user, env = process.env) {
  return env[passwordVariable(user)] || `dsg-dev-${user}`;
}

/** The environment nats-server needs to read the configuration. */
export function natsPasswordEnv(env = process.env) {
  return Object.fromEntries(
    NATS_USERS.map((user) => [passwordVariable(user), natsPassword(user, env)]),
  );
}

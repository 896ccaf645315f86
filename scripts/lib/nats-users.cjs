// The NATS users of deploy/nats/nats-server.conf and their passwords: from the environment
// (DSG_NATS_PASSWORD_<USER>), or a development default so a private server starts out of the box.
// CommonJS so that the scripts (ESM) and the tests (TypeScript compiled to CommonJS) share it.
const { join } = require('node:path');

const NATS_USERS = [
  'consent',
  'disclosure-register',
  'retention',
  'gateway',
  'ops',
  'booking',
  'crm',
  'billing',
];
const NATS_CONFIG = join(__dirname, '..', '..', 'deploy', 'nats', 'nats-server.conf');

const passwordVariable = (user) => `DSG_NATS_PASSWORD_${user.toUpperCase().replace(/-/g, '_')}`;

function natsPassword(user, env = process.env) {
  return env[passwordVariable(user)] || `dsg-dev-${user}`;
}

/** The environment nats-server needs to read the configuration. */
function natsPasswordEnv(env = process.env) {
  return Object.fromEntries(
    NATS_USERS.map((user) => [passwordVariable(user), natsPassword(user, env)]),
  );
}

module.exports = { NATS_USERS, NATS_CONFIG, passwordVariable, natsPassword, natsPasswordEnv };

/** The NATS users and passwords of scripts/lib/nats-users.cjs, typed for the tests. */
const users = require('../../scripts/lib/nats-users.cjs') as {
  NATS_CONFIG: string;
  natsPassword(user: string): string;
  natsPasswordEnv(): Record<string, string>;
};

export const { NATS_CONFIG, natsPassword, natsPasswordEnv } = users;

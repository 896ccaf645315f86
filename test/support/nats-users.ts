import { inboxPrefixFor } from '@dsg/contracts';
import { connect, type ConnectionOptions } from 'nats';

/** The NATS users and passwords of scripts/lib/nats-users.cjs, typed for the tests. */
const users = require('../../scripts/lib/nats-users.cjs') as {
  NATS_CONFIG: string;
  natsPassword(user: string): string;
  natsPasswordEnv(): Record<string, string>;
};

export const { NATS_CONFIG, natsPassword, natsPasswordEnv } = users;

/** Deletes the JetStream streams of a subject prefix (scripts/lib/nats-streams.cjs). */
export const { deleteStreams } = require('../../scripts/lib/nats-streams.cjs') as {
  deleteStreams(natsUrl: string, prefix: string): Promise<number>;
};

/** A raw NATS connection as one of the configured users, with its own inbox prefix. */
export function connectAs(servers: string, user: string, options: Partial<ConnectionOptions> = {}) {
  return connect({
    servers,
    user,
    pass: natsPassword(user),
    inboxPrefix: inboxPrefixFor(user),
    ...options,
  });
}

import { ConfigError } from '@dsg/platform';

export interface HolderConfig {
  databaseUrl: string;
  natsUrl: string;
  subjectPrefix: string;
  /** The booking system's NATS password (none on a server without authorization). */
  natsPassword?: string;
}

const PREFIX = /^[a-z][a-z0-9_-]{0,31}$/;

/** The reference holder's variables, as npm start sets them for it; checked once at start. */
export function loadHolderConfig(env: NodeJS.ProcessEnv = process.env): HolderConfig {
  const subjectPrefix = env.NATS_SUBJECT_PREFIX || 'dsg';
  if (!PREFIX.test(subjectPrefix)) {
    throw new ConfigError([
      {
        variable: 'NATS_SUBJECT_PREFIX',
        problems: ['must be 1-32 characters of a-z, 0-9, _ or -, starting with a letter'],
      },
    ]);
  }
  return {
    databaseUrl: env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/dsg',
    natsUrl: env.NATS_URL || 'nats://127.0.0.1:4222',
    subjectPrefix,
    ...(env.NATS_PASSWORD ? { natsPassword: env.NATS_PASSWORD } : {}),
  };
}

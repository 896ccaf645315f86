import { DsgClient } from '@dsg/contracts';
import { e2eEnv } from './e2e-env';
import { natsPassword } from './nats-users';

/** The typed client as one of the configured NATS users, on this run's bus and prefix. */
export function connectClient(caller: string): Promise<DsgClient> {
  const env = e2eEnv();
  return DsgClient.connect({
    caller,
    password: natsPassword(caller),
    natsUrl: env.natsUrl,
    subjectPrefix: env.subjectPrefix,
  });
}

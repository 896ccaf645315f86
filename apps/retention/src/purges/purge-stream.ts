import {
  HOLDING_SYSTEMS,
  purgeConsumerName,
  purgeStreamName,
  qualifySubject,
  purgeSubject,
} from '@dsg/contracts';
import { ensureWorkQueue } from '@dsg/platform';
import type { JetStreamManager } from 'nats';

/** A command not taken within this long is dropped by JetStream (the item is issued again anyway). */
const MAX_AGE_MS = 30 * 24 * 3600 * 1000;
/** A holder has this long to acknowledge a command's message before JetStream delivers it again. */
export const COMMAND_ACK_WAIT_MS = 60_000;

/**
 * The purge commands' stream, `<PREFIX>_RETENTION_PURGES`: a work queue on
 * `<prefix>.retention.purges.<system>`, and a durable pull consumer per holding system
 * (`purges-<system>`), which the system's NATS user may pull from and acknowledge on, and nothing
 * else. Created (or brought up to date) by every retention replica at boot.
 */
export function ensurePurgeStream(
  jsm: JetStreamManager,
  prefix: string,
  replicas: number,
): Promise<string> {
  return ensureWorkQueue(jsm, {
    name: purgeStreamName(prefix),
    subjects: [qualifySubject(prefix, 'retention.purges.>')],
    replicas,
    maxAgeMs: MAX_AGE_MS,
    ackWaitMs: COMMAND_ACK_WAIT_MS,
    consumers: HOLDING_SYSTEMS.map((system) => ({
      durable: purgeConsumerName(system),
      filterSubject: qualifySubject(prefix, purgeSubject(system)),
    })),
  });
}

import {
  HOLDING_SYSTEMS,
  purgeConsumerName,
  purgeStreamName,
  qualifySubject,
  purgeSubject,
} from '@dsg/contracts';
import { ensureStream, isNotFound } from '@dsg/platform';
import { AckPolicy, DeliverPolicy, type JetStreamManager, nanos, NatsError } from 'nats';

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
export async function ensurePurgeStream(
  jsm: JetStreamManager,
  prefix: string,
  replicas: number,
): Promise<string> {
  const name = await ensureStream(jsm, {
    name: purgeStreamName(prefix),
    subjects: [qualifySubject(prefix, 'retention.purges.>')],
    replicas,
    workQueue: true,
    maxAgeMs: MAX_AGE_MS,
  });
  for (const system of HOLDING_SYSTEMS) {
    const durable = purgeConsumerName(system);
    try {
      await jsm.consumers.info(name, durable);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await jsm.consumers.add(name, {
          durable_name: durable,
          filter_subject: qualifySubject(prefix, purgeSubject(system)),
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ack_wait: nanos(COMMAND_ACK_WAIT_MS),
          max_ack_pending: 64,
        });
      } catch (addErr) {
        if (!(addErr instanceof NatsError && /already/i.test(addErr.message))) throw addErr;
      }
    }
  }
  return name;
}

import {
  eventStreamName,
  eventStreamSubjects,
  qualifySubject,
  type ServiceName,
  SPA_EVENTS_STREAM_SUBJECTS,
  spaEventsStreamName,
} from '@dsg/contracts';
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamManager,
  nanos,
  NatsError,
  RetentionPolicy,
  StorageType,
} from 'nats';

export interface StreamSpec {
  subjectPrefix: string;
  source: ServiceName;
  replicas: number;
}

/** How long JetStream remembers a Nats-Msg-Id to drop a re-published duplicate. */
const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

/**
 * Creates the source service's event stream, or brings an existing one to the wanted subjects and
 * replica count. Safe to run from every replica at every boot.
 */
export async function ensureEventStream(jsm: JetStreamManager, spec: StreamSpec): Promise<string> {
  return ensureStream(jsm, {
    name: eventStreamName(spec.subjectPrefix, spec.source),
    subjects: [qualifySubject(spec.subjectPrefix, eventStreamSubjects(spec.source))],
    replicas: spec.replicas,
  });
}

/** The stream of the spa systems' own events, which the consent service keeps (any consumer may create it). */
export function ensureSpaEventsStream(
  jsm: JetStreamManager,
  prefix: string,
  replicas: number,
): Promise<string> {
  return ensureStream(jsm, {
    name: spaEventsStreamName(prefix),
    subjects: [qualifySubject(prefix, SPA_EVENTS_STREAM_SUBJECTS)],
    replicas,
  });
}

/**
 * Any durable stream of events in the envelope (the spa systems' too), created or brought up to
 * date. `workQueue`: each message is removed once acknowledged (purge commands), and kept at most
 * `maxAgeMs`.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  {
    name,
    subjects,
    replicas,
    workQueue = false,
    maxAgeMs,
  }: { name: string; subjects: string[]; replicas: number; workQueue?: boolean; maxAgeMs?: number },
): Promise<string> {
  const spec = { replicas };
  try {
    const info = await jsm.streams.info(name);
    const sameSubjects = JSON.stringify(info.config.subjects) === JSON.stringify(subjects);
    if (!sameSubjects || info.config.num_replicas !== spec.replicas) {
      await jsm.streams.update(name, { ...info.config, subjects, num_replicas: spec.replicas });
    }
  } catch (err) {
    if (!isNotFound(err)) throw err;
    try {
      await jsm.streams.add({
        name,
        subjects,
        storage: StorageType.File,
        retention: workQueue ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
        num_replicas: spec.replicas,
        duplicate_window: nanos(DUPLICATE_WINDOW_MS),
        ...(maxAgeMs ? { max_age: nanos(maxAgeMs) } : {}),
      });
    } catch (addErr) {
      // Another replica created it between our info and add.
      if (!(addErr instanceof NatsError && /already in use/i.test(addErr.message))) throw addErr;
    }
  }
  return name;
}

/**
 * A work queue of commands to parties (purge commands, correction tasks): the stream, and a
 * durable pull consumer per party on its own subject, which the party's NATS user may pull from
 * and acknowledge on, and nothing else. Created (or brought up to date) at every boot.
 */
export async function ensureWorkQueue(
  jsm: JetStreamManager,
  spec: {
    name: string;
    subjects: string[];
    replicas: number;
    maxAgeMs: number;
    ackWaitMs: number;
    consumers: { durable: string; filterSubject: string }[];
  },
): Promise<string> {
  const name = await ensureStream(jsm, { ...spec, workQueue: true });
  for (const { durable, filterSubject } of spec.consumers) {
    try {
      await jsm.consumers.info(name, durable);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await jsm.consumers.add(name, {
          durable_name: durable,
          filter_subject: filterSubject,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ack_wait: nanos(spec.ackWaitMs),
          max_ack_pending: 64,
        });
      } catch (addErr) {
        if (!(addErr instanceof NatsError && /already/i.test(addErr.message))) throw addErr;
      }
    }
  }
  return name;
}

export function isNotFound(err: unknown): boolean {
  return (
    err instanceof NatsError &&
    (err.api_error?.err_code === 10059 || err.api_error?.err_code === 10014 || err.code === '404')
  );
}

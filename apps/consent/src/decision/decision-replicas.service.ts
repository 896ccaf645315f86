import {
  type Logger,
  NatsConnectionHolder,
  PLATFORM_CONFIG,
  PLATFORM_LOGGER,
  type PlatformConfig,
  SystemService,
} from '@dsg/platform';
import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Msg, Subscription } from 'nats';
import { DataSource, type EntityManager } from 'typeorm';
import { CONSENT_CONFIG, type ConsentConfig } from '../config/consent.config';
import { SubjectFactsCache } from './subject-facts.cache';

/** Lease time kept back from the local deadline, for clock-rate differences and scheduling. */
const LEASE_MARGIN_MS = 500;
/** Changes are polled back this far; a replica that could not poll for half of it reloads. */
const CHANGE_WINDOW_MS = 60_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Keeps every replica's in-memory consent state (SubjectFactsCache) exact, so that no decision
 * made from state older than an acknowledged change is served after it (issue 4, HIP-2):
 *
 * 1. Each replica registers in consent.decision_replicas with a lease it renews; it answers from
 *    memory only while its lease is valid by its own clock (which runs out before the database's).
 * 2. A write records the subjects it changed in consent.decision_changes in its own transaction
 *    and, after commit and before it is acknowledged, invalidates them here and asks every other
 *    leased replica over NATS to do the same, waiting for each to confirm.
 * 3. A replica that does not confirm in time is fenced (it can no longer renew) and the writer
 *    waits until its lease has run out; the fenced replica drops its memory and reloads.
 * 4. Every replica polls decision_changes, so a change whose writer died after commit (and so was
 *    never acknowledged) still reaches every memory within a renewal period.
 */
@Injectable()
export class DecisionReplicas implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private replicaId?: string;
  private subscription?: Subscription;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly seen = new Map<string, number>();
  private lastPoll = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: NatsConnectionHolder,
    private readonly cache: SubjectFactsCache,
    system: SystemService,
    @Inject(PLATFORM_CONFIG) private readonly platform: PlatformConfig,
    @Inject(CONSENT_CONFIG) private readonly config: ConsentConfig,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {
    system.addReadinessCheck('decision-cache', () => {
      const { state, leased } = this.cache.status;
      if (state !== 'warm') return Promise.reject(new Error(`consent state ${state}`));
      if (!leased) return Promise.reject(new Error('no lease: deciding from the database'));
      return Promise.resolve();
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.register();
    this.schedule();
    void this.load();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // From here on every decision reads PostgreSQL; then writers stop waiting for this replica.
    this.cache.setLeaseDeadline(0);
    this.cache.drop();
    if (this.replicaId) {
      await this.dataSource
        .query('DELETE FROM consent.decision_replicas WHERE replica_id = $1', [this.replicaId])
        .catch((err: unknown) => this.logger.warn({ err }, 'replica row not removed'));
    }
  }

  /**
   * Runs a write that changes what decisions read: `touch` names the subjects it changes. The
   * change is recorded in the same transaction, and once committed every replica is told before
   * this resolves, that is, before the caller can acknowledge the write.
   */
  async transaction<T>(
    work: (manager: EntityManager, touch: (clientId: string) => void) => Promise<T>,
  ): Promise<T> {
    const touched = new Set<string>();
    let seq: string | undefined;
    const result = await this.dataSource.transaction(async (manager) => {
      const value = await work(manager, (clientId) => touched.add(clientId));
      if (touched.size > 0) {
        const [row] = (await manager.query(
          'INSERT INTO consent.decision_changes (client_ids) VALUES ($1) RETURNING seq::text AS seq',
          [[...touched]],
        )) as { seq: string }[];
        seq = row.seq;
      }
      return value;
    });
    if (seq) await this.announce([...touched], seq);
    return result;
  }

  /**
   * For a write inside someone else's transaction (an event consumer's): records the change and
   * returns what to run after the commit, before the event is acknowledged.
   */
  async recordIn(manager: EntityManager, clientIds: string[]): Promise<() => Promise<void>> {
    const ids = [...new Set(clientIds)];
    const [row] = (await manager.query(
      'INSERT INTO consent.decision_changes (client_ids) VALUES ($1) RETURNING seq::text AS seq',
      [ids],
    )) as { seq: string }[];
    return () => this.announce(ids, row.seq);
  }

  /**
   * After a write has committed and before it is acknowledged: every replica has forgotten the
   * old state of these subjects when this resolves.
   */
  private async announce(clientIds: string[], seq: string): Promise<void> {
    this.cache.invalidate(clientIds);
    this.seen.set(seq, performance.now());
    const others = (await this.dataSource.query(
      `SELECT replica_id FROM consent.decision_replicas
        WHERE NOT fenced AND lease_until > now() AND replica_id <> $1`,
      [this.replicaId ?? '00000000-0000-0000-0000-000000000000'],
    )) as { replica_id: string }[];
    if (others.length === 0) return;
    const nc = await this.nats.connect();
    const data = encoder.encode(JSON.stringify({ clientIds, seq }));
    const confirmed = await Promise.all(
      others.map((r) =>
        nc
          .request(this.subject(r.replica_id), data, { timeout: this.config.decisionAckTimeoutMs })
          .then((msg) => (JSON.parse(decoder.decode(msg.data)) as { ok?: boolean }).ok === true)
          .catch(() => false),
      ),
    );
    const silent = others.filter((_, i) => !confirmed[i]).map((r) => r.replica_id);
    if (silent.length === 0) return;
    const [rows] = (await this.dataSource.query(
      `UPDATE consent.decision_replicas SET fenced = true WHERE replica_id = ANY($1)
       RETURNING greatest(0, ceil(extract(epoch FROM lease_until - now()) * 1000))::int AS wait_ms`,
      [silent],
    )) as [{ wait_ms: number }[], number];
    const waitMs = Math.max(0, ...rows.map((r) => r.wait_ms));
    this.logger.warn(
      { context: 'Decision', replicas: silent.length, waitMs },
      'a replica did not confirm a change: fenced, waiting out its lease',
    );
    await new Promise((resolve) => setTimeout(resolve, waitMs + LEASE_MARGIN_MS));
  }

  private subject(replicaId: string): string {
    return `${this.platform.nats.subjectPrefix}.consent.replicas.${replicaId}`;
  }

  private async register(): Promise<void> {
    const replicaId = randomUUID();
    const nc = await this.nats.connect();
    // Listening before the row exists: no writer can find this replica before it can answer.
    this.subscription = nc.subscribe(this.subject(replicaId), {
      callback: (err, msg) => {
        if (!err) this.onInvalidation(msg);
      },
    });
    await nc.flush();
    const started = performance.now();
    await this.dataSource.query(
      `INSERT INTO consent.decision_replicas (replica_id, instance, lease_until)
       VALUES ($1, $2, now() + $3 * interval '1 millisecond')`,
      [replicaId, this.platform.instanceId, this.config.decisionLeaseMs],
    );
    this.replicaId = replicaId;
    this.lastPoll = performance.now();
    this.cache.setLeaseDeadline(started + this.config.decisionLeaseMs - LEASE_MARGIN_MS);
  }

  private onInvalidation(msg: Msg): void {
    try {
      const { clientIds, seq } = JSON.parse(decoder.decode(msg.data)) as {
        clientIds: unknown;
        seq: unknown;
      };
      if (!Array.isArray(clientIds) || !clientIds.every((id) => typeof id === 'string')) {
        throw new Error('malformed invalidation');
      }
      this.cache.invalidate(clientIds as string[]);
      if (typeof seq === 'string') this.seen.set(seq, performance.now());
      msg.respond(encoder.encode('{"ok":true}'));
    } catch {
      msg.respond(encoder.encode('{"ok":false}'));
    }
  }

  private async load(): Promise<void> {
    try {
      await this.cache.loadAll();
    } catch (err) {
      this.logger.error({ err }, 'consent state load failed; deciding from the database');
      if (!this.stopped) setTimeout(() => void this.load(), 2000).unref();
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule());
    }, this.config.decisionLeaseMs / 4);
    this.timer.unref();
  }

  /** Renews the lease, then applies changes other writers recorded. */
  private async tick(): Promise<void> {
    if (this.stopped || !this.replicaId) return;
    try {
      const started = performance.now();
      const renewed = (await this.dataSource.query(
        `UPDATE consent.decision_replicas SET lease_until = now() + $2 * interval '1 millisecond'
          WHERE replica_id = $1 AND NOT fenced RETURNING 1`,
        [this.replicaId, this.config.decisionLeaseMs],
      )) as [unknown[], number];
      if (this.stopped) return;
      if (renewed[0].length === 0 || started - this.lastPoll > CHANGE_WINDOW_MS / 2) {
        await this.rejoin();
        return;
      }
      await this.poll();
      this.cache.setLeaseDeadline(started + this.config.decisionLeaseMs - LEASE_MARGIN_MS);
    } catch (err) {
      // The lease runs out on its own; decisions read PostgreSQL until a renewal succeeds.
      this.logger.warn({ err }, 'decision lease renewal failed');
    }
  }

  /** Fenced, or out of touch too long: forget everything and start again as a new replica. */
  private async rejoin(): Promise<void> {
    this.logger.warn({ context: 'Decision' }, 'replica fenced or stale: reloading consent state');
    this.cache.setLeaseDeadline(0);
    this.cache.drop();
    const old = this.replicaId;
    this.subscription?.unsubscribe();
    await this.dataSource.query('DELETE FROM consent.decision_replicas WHERE replica_id = $1', [
      old,
    ]);
    await this.register();
    void this.load();
  }

  private async poll(): Promise<void> {
    const polledAt = performance.now();
    const rows = (await this.dataSource.query(
      `SELECT seq::text AS seq, client_ids FROM consent.decision_changes
        WHERE changed_at > now() - $1 * interval '1 millisecond'`,
      [CHANGE_WINDOW_MS],
    )) as { seq: string; client_ids: string[] }[];
    const unseen = rows.filter((r) => !this.seen.has(r.seq));
    if (unseen.length) this.cache.invalidate(unseen.flatMap((r) => r.client_ids));
    for (const r of unseen) this.seen.set(r.seq, polledAt);
    for (const [seq, at] of this.seen)
      if (polledAt - at > CHANGE_WINDOW_MS * 2) this.seen.delete(seq);
    this.lastPoll = polledAt;
    if (Math.random() < 0.01) {
      await this.dataSource.query(
        `DELETE FROM consent.decision_changes WHERE changed_at < now() - interval '1 day';
         DELETE FROM consent.decision_replicas WHERE lease_until < now() - interval '1 hour'`,
      );
    }
  }
}

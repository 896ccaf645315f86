import {
  DsgError,
  ErrorCodes,
  type ListPolicyVersionsReply,
  NotificationRequestedEvent,
  PolicyPublishedEvent,
  type PolicyVersionReply,
  type PolicyVersionSummary,
} from '@dsg/contracts';
import { type Logger, Outbox, PLATFORM_LOGGER } from '@dsg/platform';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { CONSENT_CONFIG, type ConsentConfig } from '../config/consent.config';
import { NoticesService } from '../notices/notices.service';
import { loadPolicyBundle } from './policy-bundle';

const CURRENT_TTL_MS = 5000;

const COLUMNS = `version, policy_id, to_char(effective_date, 'YYYY-MM-DD') AS effective_date, material,
  content_hash, bundle, published_at`;

interface VersionRow {
  version: string;
  policy_id: string;
  effective_date: string;
  material: boolean;
  content_hash: string;
  bundle: Record<string, unknown>;
  published_at: Date;
}

/**
 * The consent service is the authority on the policy. At boot it validates the bundle in the
 * repository and publishes it as a new immutable version (with a `consent.policy.published`
 * event, in the same transaction), unless that version is already stored with the same content.
 * A version stored with different content stops the service: a change needs a new version.
 */
@Injectable()
export class PolicyService implements OnModuleInit {
  private current?: { version: string | undefined; readAt: number };
  private reading?: Promise<string | undefined>;
  private readonly versionCache = new Map<string, VersionRow>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly notices: NoticesService,
    @Inject(CONSENT_CONFIG) private readonly config: ConsentConfig,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    const { bundle, contentHash } = loadPolicyBundle(
      readFileSync(this.config.policyBundlePath, 'utf8'),
    );
    const { version, id, effectiveDate, material } = bundle.policy;
    await this.dataSource.transaction(async (manager) => {
      // One publisher at a time across replicas.
      await manager.query("SELECT pg_advisory_xact_lock(hashtext('dsg-consent-policy'))");
      const [existing] = (await manager.query(
        'SELECT content_hash FROM consent.policy_versions WHERE version = $1',
        [version],
      )) as { content_hash: string }[];
      if (existing) {
        if (existing.content_hash !== contentHash) {
          throw new Error(
            `policy version ${version} is already published with other content; give the change a new version`,
          );
        }
        return;
      }
      await manager.query(
        `INSERT INTO consent.policy_versions (version, policy_id, effective_date, material, content_hash, bundle)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [version, id, effectiveDate, material, contentHash, JSON.parse(JSON.stringify(bundle))],
      );
      await this.outbox.append(manager, PolicyPublishedEvent, {
        policyId: id,
        version,
        effectiveDate,
        material,
        contentHash,
      });
      // POL-6: a material change is told to every active client, each notice a task of its own.
      const tasks = material
        ? ((await manager.query(
            `INSERT INTO consent.notification_tasks (id, client_id, kind, policy_version)
             SELECT gen_random_uuid(), client_id, 'policy-change', $1 FROM consent.subjects WHERE status = 'active'
             RETURNING id, client_id`,
            [version],
          )) as { id: string; client_id: string }[])
        : [];
      for (const task of tasks) {
        await this.outbox.append(manager, NotificationRequestedEvent, {
          taskId: task.id,
          clientId: task.client_id,
          kind: 'policy-change',
          policyVersion: version,
        });
      }
      // POL-6: each task's notice, delivered by the notification mechanism to the client's
      // address (resolved at delivery); the key is the one migration 1766900000000 gave earlier
      // tasks' notices.
      await this.notices.enqueue(
        manager,
        tasks.map((task) => ({
          type: 'policy-change',
          audience: 'subject',
          rule: 'POL-6',
          ref: version,
          clientId: task.client_id,
          channel: 'email',
          subject: `Our privacy policy has changed (version ${version})`,
          body: `Our privacy policy changes materially with version ${version}, in effect from ${effectiveDate}. You can read the new policy at any time; ask us if you have questions.`,
          dedupKey: `policy-change:${task.client_id}:${version}`,
        })),
      );
      this.logger.info(
        { context: 'Policy', version, material, notifications: tasks.length },
        'policy version published',
      );
      this.current = undefined;
    });
  }

  /** The version asked for, or the one in effect now (latest effective date not in the future). */
  async get(version?: string): Promise<PolicyVersionReply> {
    const current = await this.currentVersion();
    const wanted = version ?? current;
    const row = wanted ? await this.versionRow(wanted) : undefined;
    if (!row) {
      throw new DsgError(
        ErrorCodes.NOT_FOUND,
        version ? `No policy version ${version}` : 'No policy version is in effect yet',
      );
    }
    return {
      ...summary(row),
      policyId: row.policy_id,
      current: row.version === current,
      bundle: row.bundle,
    };
  }

  /**
   * The version in effect, without waiting (the decision's hot path): when the last reading is
   * older than CURRENT_TTL_MS it is still answered while one refresh runs in the background, so
   * a busy replica never queues its decisions behind that query. Undefined before the first read.
   */
  peekCurrent(): { version: string; bundle: Record<string, unknown> } | undefined {
    const current = this.current;
    if (!current?.version) return undefined;
    if (Date.now() - current.readAt >= CURRENT_TTL_MS)
      void this.currentVersion().catch(() => undefined);
    const row = this.versionCache.get(current.version);
    return row ? { version: row.version, bundle: row.bundle } : undefined;
  }

  async versions(): Promise<ListPolicyVersionsReply> {
    const rows = (await this.dataSource.query(
      `SELECT ${COLUMNS} FROM consent.policy_versions ORDER BY effective_date DESC, published_at DESC`,
    )) as VersionRow[];
    return { current: (await this.currentVersion()) ?? '', versions: rows.map(summary) };
  }

  /**
   * Which version is in effect changes only when one is published or an effective date arrives:
   * it is re-read at most every CURRENT_TTL_MS. Versions themselves never change, so each is read
   * once (the decision path reads the policy on every check).
   */
  private async currentVersion(): Promise<string | undefined> {
    if (this.current && Date.now() - this.current.readAt < CURRENT_TTL_MS)
      return this.current.version;
    // One reading at a time, however many callers find the last one old.
    this.reading ??= this.readCurrentVersion().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async readCurrentVersion(): Promise<string | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT version FROM consent.policy_versions WHERE effective_date <= current_date
        ORDER BY effective_date DESC, published_at DESC LIMIT 1`,
    )) as { version: string }[];
    if (row) await this.versionRow(row.version);
    this.current = { version: row?.version, readAt: Date.now() };
    return row?.version;
  }

  private async versionRow(version: string): Promise<VersionRow | undefined> {
    const cached = this.versionCache.get(version);
    if (cached) return cached;
    const [row] = (await this.dataSource.query(
      `SELECT ${COLUMNS} FROM consent.policy_versions WHERE version = $1`,
      [version],
    )) as VersionRow[];
    if (row) this.versionCache.set(version, row);
    return row;
  }
}

function summary(row: VersionRow): PolicyVersionSummary {
  return {
    version: row.version,
    effectiveDate: row.effective_date,
    material: row.material,
    contentHash: row.content_hash,
    publishedAt: row.published_at.toISOString(),
  };
}

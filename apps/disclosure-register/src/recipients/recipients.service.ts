import {
  DsgError,
  ErrorCodes,
  type ListRecipientsReply,
  type RecipientReply,
  UpsertRecipientRequest,
} from '@dsg/contracts';
import { type Logger, PLATFORM_LOGGER, toFieldErrors } from '@dsg/platform';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { readFileSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { parse } from 'yaml';
import { REGISTER_CONFIG, type RegisterConfig } from '../config/register.config';

interface RecipientRow {
  recipient_id: string;
  version: number;
  name: string;
  kind: string;
  legal_role: RecipientReply['legalRole'];
  address: RecipientReply['address'];
  baa: RecipientReply['baa'] | null;
  allowances: RecipientReply['allowances'];
  active: boolean;
  /** Where it takes notices of opt-outs and deletions (CCP-2, CCP-4). */
  notice_contact: RecipientReply['noticeContact'] | null;
  reason: string;
  changed_by: string;
  /** A Date from a row, a string from JSON. */
  changed_at: Date | string;
}

/** How long a recipient's kind is taken from memory before asking consent (see kindHint). */
const KIND_HINT_TTL_MS = 5000;

const CURRENT = `SELECT DISTINCT ON (recipient_id) * FROM disclosure_register.recipient_versions
                  ORDER BY recipient_id, version DESC`;

/**
 * Who data goes to. Every change is a new version (the old ones stay, so an accounting names the
 * recipient as it was when the disclosure was made). The spa's recipients are seeded at boot
 * from the repository's seed file, once: afterwards only new versions change them.
 */
@Injectable()
export class RecipientsService implements OnModuleInit {
  private readonly kinds = new Map<string, { kind: string | undefined; at: number }>();
  /**
   * The current versions last read under the log's lock (null: no such recipient), for an
   * optimistic append, whose statement checks they are still current (append_in_turn).
   */
  private readonly lastRead = new Map<string, RecipientReply | null>();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(REGISTER_CONFIG) private readonly config: RegisterConfig,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    const seed = parse(readFileSync(this.config.recipientsSeedPath, 'utf8')) as {
      recipients?: unknown[];
    };
    let created = 0;
    for (const raw of seed.recipients ?? []) {
      const request = plainToInstance(UpsertRecipientRequest, {
        active: true,
        reason: 'seeded from the privacy policy',
        ...(raw as object),
      });
      const errors = validateSync(request, { whitelist: true, forbidNonWhitelisted: true });
      if (errors.length) {
        throw new Error(
          `recipients seed: ${toFieldErrors(errors)
            .map((e) => e.field)
            .join(', ')} invalid`,
        );
      }
      const [row] = (await this.dataSource.query(
        `INSERT INTO disclosure_register.recipient_versions
           (recipient_id, version, name, kind, legal_role, address, baa, allowances, active, reason,
            notice_contact, changed_by)
         VALUES ($1, 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'seed')
         ON CONFLICT (recipient_id, version) DO NOTHING RETURNING 1`,
        this.values(request),
      )) as unknown[];
      if (row) created++;
    }
    if (created) this.logger.info({ context: 'Recipients', created }, 'recipients seeded');
  }

  async upsert(request: UpsertRecipientRequest, caller: string): Promise<RecipientReply> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `recipient:${request.recipientId}`,
      ]);
      await manager.query(
        `INSERT INTO disclosure_register.recipient_versions
           (recipient_id, version, name, kind, legal_role, address, baa, allowances, active, reason,
            notice_contact, changed_by)
         SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11
           FROM disclosure_register.recipient_versions WHERE recipient_id = $1`,
        [...this.values(request), caller],
      );
    });
    this.kinds.delete(request.recipientId);
    this.lastRead.delete(request.recipientId);
    return this.get(request.recipientId);
  }

  /** The current version, or the one asked for. */
  async get(recipientId: string, version?: number): Promise<RecipientReply> {
    const [row] = (await this.dataSource.query(
      version
        ? 'SELECT * FROM disclosure_register.recipient_versions WHERE recipient_id = $1 AND version = $2'
        : 'SELECT * FROM disclosure_register.recipient_versions WHERE recipient_id = $1 ORDER BY version DESC LIMIT 1',
      version ? [recipientId, version] : [recipientId],
    )) as RecipientRow[];
    if (!row) throw new DsgError(ErrorCodes.NOT_FOUND, 'No such recipient or version');
    return toReply(row);
  }

  /** The current version, or undefined (a disclosure to an unknown recipient is denied, POL-2). */
  async current(recipientId: string): Promise<RecipientReply | undefined> {
    return this.get(recipientId).catch(() => undefined);
  }

  /**
   * An expression: the current versions of the recipients whose ids are the text[] parameter
   * `param`, as one JSON array, for a statement that reads more than this (a disclosure batch
   * reads them under the log's lock, so it sees every change committed before it). The rows are
   * turned into replies by `fromJsonRows`.
   */
  static currentInJson(param: string): string {
    return `(SELECT coalesce(json_agg(r), '[]') FROM (
              SELECT DISTINCT ON (recipient_id) * FROM disclosure_register.recipient_versions
               WHERE recipient_id = ANY(${param}) ORDER BY recipient_id, version DESC) r)`;
  }

  static fromJsonRows(rows: unknown[]): Map<string, RecipientReply> {
    return new Map((rows as RecipientRow[]).map((r) => [r.recipient_id, toReply(r)]));
  }

  /** Remembers the current versions of `ids` as read (`current`, from currentInJson). */
  remember(ids: Iterable<string>, current: Map<string, RecipientReply>): void {
    for (const id of ids) this.lastRead.set(id, current.get(id) ?? null);
  }

  /** The versions last read of every one of `ids`, or undefined if one was never read. */
  lastReadOf(ids: Iterable<string>): Map<string, RecipientReply> | undefined {
    const found = new Map<string, RecipientReply>();
    for (const id of ids) {
      const held = this.lastRead.get(id);
      if (held === undefined) return undefined;
      if (held) found.set(id, held);
    }
    return found;
  }

  /** Forgets every version read: an optimistic append found one changed. */
  forget(): void {
    this.lastRead.clear();
  }

  /**
   * A recipient's kind as of a few seconds ago, for asking consent before the batch reads the
   * recipient itself; the batch refuses a decision whose kind turned out to differ.
   */
  async kindHint(recipientId: string): Promise<string | undefined> {
    const held = this.kinds.get(recipientId);
    if (held && performance.now() - held.at < KIND_HINT_TTL_MS) return held.kind;
    const kind = (await this.current(recipientId))?.kind;
    this.kinds.set(recipientId, { kind, at: performance.now() });
    return kind;
  }

  async list(): Promise<ListRecipientsReply> {
    const rows = (await this.dataSource.query(CURRENT)) as RecipientRow[];
    return { recipients: rows.map(toReply) };
  }

  private values(r: UpsertRecipientRequest): unknown[] {
    return [
      r.recipientId,
      r.name,
      r.kind,
      r.legalRole,
      r.address,
      r.baa ?? null,
      JSON.stringify(r.allowances),
      r.active,
      r.reason,
      r.noticeContact ? JSON.stringify(r.noticeContact) : null,
    ];
  }
}

function toReply(row: RecipientRow): RecipientReply {
  return {
    recipientId: row.recipient_id,
    version: row.version,
    name: row.name,
    kind: row.kind,
    legalRole: row.legal_role,
    address: row.address,
    ...(row.baa ? { baa: row.baa } : {}),
    allowances: row.allowances,
    active: row.active,
    ...(row.notice_contact ? { noticeContact: row.notice_contact } : {}),
    reason: row.reason,
    changedBy: row.changed_by,
    changedAt: new Date(row.changed_at).toISOString(),
  };
}

import {
  DsgError,
  ErrorCodes,
  type ListRestrictionsReply,
  type RequestRestrictionRequest,
  type RestrictionReply,
  ValidationFailedError,
} from '@dsg/contracts';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DecisionReplicas } from '../decision/decision-replicas.service';

interface RestrictionRow {
  id: string;
  client_id: string;
  kind: RestrictionReply['kind'];
  recipient_kinds: string[];
  purposes: string[];
  categories: string[];
  channel: string | null;
  agreed: boolean;
  ended_at: Date | null;
  ended_by: string | null;
}

/**
 * HIP-7. A disclosure restriction binds once the spa agrees to it. A restriction of disclosures
 * to a health plan for a service paid in full out of pocket must be agreed (it is recorded as
 * agreed, whatever the request says) and only the subject can end it. A confidential channel is
 * honoured without asking why: no reason is taken.
 */
@Injectable()
export class RestrictionsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly replicas: DecisionReplicas,
  ) {}

  async request(request: RequestRestrictionRequest, caller: string): Promise<RestrictionReply> {
    if (request.kind === 'confidential-channel' && !request.channel) {
      throw new ValidationFailedError([
        {
          field: 'channel',
          constraint: 'HIP-7',
          message: 'a confidential channel names how to reach the subject',
        },
      ]);
    }
    const [subject] = (await this.dataSource.query(
      'SELECT 1 FROM consent.subjects WHERE client_id = $1',
      [request.clientId],
    )) as unknown[];
    if (!subject) throw new DsgError(ErrorCodes.NOT_FOUND, 'No such subject');
    // Mandatory ones (self-pay to a health plan, confidential channels) bind without the spa's say.
    const agreed = request.kind === 'disclosure' ? request.agreed === true : true;
    const id = randomUUID();
    await this.replicas.transaction(async (manager, touch) => {
      touch(request.clientId);
      await manager.query(
        `INSERT INTO consent.restrictions (id, client_id, kind, recipient_kinds, purposes, categories, channel, agreed, requested_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          id,
          request.clientId,
          request.kind,
          request.recipientKinds ?? [],
          request.purposes ?? [],
          request.categories ?? [],
          request.channel ?? null,
          agreed,
          caller,
        ],
      );
    });
    return this.get(id);
  }

  async end(
    restrictionId: string,
    endedBy: 'subject' | 'spa',
    caller: string,
  ): Promise<RestrictionReply> {
    const current = await this.get(restrictionId);
    if (current.kind === 'self-pay-health-plan' && endedBy === 'spa') {
      throw new DsgError(
        ErrorCodes.FORBIDDEN,
        'A self-pay restriction towards health plans can be ended only by the subject (HIP-7)',
      );
    }
    await this.replicas.transaction(async (manager, touch) => {
      touch(current.clientId);
      await manager.query(
        `INSERT INTO consent.restriction_ends (restriction_id, ended_by, recorded_by) VALUES ($1, $2, $3)
         ON CONFLICT (restriction_id) DO NOTHING`,
        [restrictionId, endedBy, caller],
      );
    });
    return this.get(restrictionId);
  }

  async list(clientId: string): Promise<ListRestrictionsReply> {
    const rows = (await this.dataSource.query(
      `${SELECT} WHERE r.client_id = $1 ORDER BY r.requested_at`,
      [clientId],
    )) as RestrictionRow[];
    return { restrictions: rows.map(toReply) };
  }

  private async get(restrictionId: string): Promise<RestrictionReply> {
    const [row] = (await this.dataSource.query(`${SELECT} WHERE r.id = $1`, [
      restrictionId,
    ])) as RestrictionRow[];
    if (!row) throw new DsgError(ErrorCodes.NOT_FOUND, 'No such restriction');
    return toReply(row);
  }
}

const SELECT = `SELECT r.id, r.client_id, r.kind, r.recipient_kinds, r.purposes, r.categories, r.channel, r.agreed,
                       e.ended_at, e.ended_by
                  FROM consent.restrictions r LEFT JOIN consent.restriction_ends e ON e.restriction_id = r.id`;

function toReply(row: RestrictionRow): RestrictionReply {
  return {
    restrictionId: row.id,
    clientId: row.client_id,
    kind: row.kind,
    recipientKinds: row.recipient_kinds,
    purposes: row.purposes,
    categories: row.categories,
    ...(row.channel ? { channel: row.channel } : {}),
    binding: row.agreed && row.ended_at === null,
    ...(row.ended_at
      ? { endedAt: row.ended_at.toISOString(), endedBy: row.ended_by ?? undefined }
      : {}),
  };
}

import {
  type ConsentEvent,
  ConsentChangedEvent,
  type ConsentHistoryReply,
  type ConsentStateReply,
  DsgError,
  ErrorCodes,
  type RecordConsentRequest,
  type RedactLedgerReply,
  ValidationFailedError,
  canonicalJson,
  categoryPaths,
  type CategoryTree,
} from '@dsg/contracts';
import { type Logger, Outbox, PLATFORM_LOGGER } from '@dsg/platform';
import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { DecisionReplicas } from '../decision/decision-replicas.service';

interface LedgerRow {
  event_id: string;
  client_id: string;
  kind: ConsentEvent['kind'];
  scope_type: ConsentEvent['scopeType'];
  scope: string;
  method: ConsentEvent['method'];
  actor: ConsentEvent['actor'];
  policy_version: string;
  evidence: Record<string, unknown> | null;
  occurred_at: Date;
  recorded_at: Date;
  redacted_at: Date | null;
  parental_verification: ConsentEvent['parentalVerification'] | null;
  request_hash?: string;
}

/**
 * The consent ledger: every grant, withdrawal, opt-out and opt-in, appended with its method,
 * actor, the policy version shown and its evidence, never changed (the runtime role cannot UPDATE
 * or DELETE it). The current state is derived (consent.consent_state). A change and its
 * `consent.changed` event commit together. A retried request with the same Idempotency-Key
 * returns the entry it made; the same key with another request is refused.
 */
@Injectable()
export class LedgerService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly replicas: DecisionReplicas,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  async record(
    request: RecordConsentRequest,
    caller: string,
    idempotencyKey?: string,
  ): Promise<ConsentEvent> {
    const requestHash = createHash('sha256').update(canonicalJson(request)).digest('hex');
    return this.replicas.transaction(async (manager, touch) => {
      // A replay is announced again too: its first attempt may have died before telling replicas.
      touch(request.clientId);
      if (idempotencyKey) {
        const replay = await this.replay(manager, caller, idempotencyKey, requestHash);
        if (replay) return replay;
      }
      await this.checkReferences(manager, request);
      if (
        request.parentalVerification &&
        (request.actor !== 'guardian' || !['grant', 'opt-in'].includes(request.kind))
      ) {
        throw new ValidationFailedError([
          {
            field: 'parentalVerification',
            constraint: 'KID-1',
            message: "a parent's verification belongs to a guardian's grant or opt-in",
          },
        ]);
      }
      const eventId = randomUUID();
      const occurredAt = request.occurredAt ?? new Date().toISOString();
      const [row] = (await manager.query(
        `INSERT INTO consent.ledger (event_id, client_id, kind, scope_type, scope, method, actor, actor_ref,
                                     policy_version, evidence, occurred_at, recorded_by, idempotency_key, request_hash,
                                     parental_verification)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         RETURNING *`,
        [
          eventId,
          request.clientId,
          request.kind,
          request.scopeType,
          request.scope,
          request.method,
          request.actor,
          request.actorRef ?? null,
          request.policyVersion,
          request.evidence ?? null,
          occurredAt,
          caller,
          idempotencyKey ?? null,
          idempotencyKey ? requestHash : null,
          request.parentalVerification ?? null,
        ],
      )) as LedgerRow[];
      await this.outbox.append(manager, ConsentChangedEvent, {
        eventId,
        clientId: request.clientId,
        kind: request.kind,
        scopeType: request.scopeType,
        scope: request.scope,
        occurredAt: row.occurred_at.toISOString(),
      });
      return toEvent(row);
    });
  }

  async history(clientId: string): Promise<ConsentHistoryReply> {
    const rows = (await this.dataSource.query(
      'SELECT * FROM consent.ledger WHERE client_id = $1 ORDER BY occurred_at, id',
      [clientId],
    )) as LedgerRow[];
    return { events: rows.map(toEvent) };
  }

  async state(clientId: string): Promise<ConsentStateReply> {
    const rows = (await this.dataSource.query(
      'SELECT scope_type, scope, kind, event_id, occurred_at FROM consent.consent_state WHERE client_id = $1 ORDER BY scope_type, scope',
      [clientId],
    )) as Pick<LedgerRow, 'scope_type' | 'scope' | 'kind' | 'event_id' | 'occurred_at'>[];
    return {
      clientId,
      states: rows.map((r) => ({
        scopeType: r.scope_type,
        scope: r.scope,
        kind: r.kind,
        eventId: r.event_id,
        occurredAt: r.occurred_at.toISOString(),
      })),
    };
  }

  /**
   * The redaction path the retention service's erasure uses: personal details (evidence, actor
   * reference) leave the subject's entries; the entries themselves, and an audit row, stay.
   */
  async redact(clientId: string, reason: string, caller: string): Promise<RedactLedgerReply> {
    if (caller !== 'retention') {
      throw new DsgError(
        ErrorCodes.FORBIDDEN,
        'Only the retention service redacts the consent ledger',
      );
    }
    const [{ n }] = (await this.dataSource.query(
      'SELECT consent.redact_subject_ledger($1, $2, $3) AS n',
      [clientId, reason, caller],
    )) as { n: number }[];
    this.logger.info({ context: 'Ledger', clientId, entries: n }, 'ledger details redacted');
    return { clientId, redactedEntries: n };
  }

  private async replay(
    manager: EntityManager,
    caller: string,
    idempotencyKey: string,
    requestHash: string,
  ): Promise<ConsentEvent | undefined> {
    // Serialise concurrent retries of one key.
    await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `ledger:${caller}:${idempotencyKey}`,
    ]);
    const [row] = (await manager.query(
      'SELECT * FROM consent.ledger WHERE recorded_by = $1 AND idempotency_key = $2',
      [caller, idempotencyKey],
    )) as LedgerRow[];
    if (!row) return undefined;
    if (row.request_hash !== requestHash) {
      throw new DsgError(
        ErrorCodes.IDEMPOTENCY_CONFLICT,
        'This Idempotency-Key was used for another request',
      );
    }
    return toEvent(row);
  }

  private async checkReferences(
    manager: EntityManager,
    request: RecordConsentRequest,
  ): Promise<void> {
    const [subject] = (await manager.query('SELECT 1 FROM consent.subjects WHERE client_id = $1', [
      request.clientId,
    ])) as unknown[];
    if (!subject) throw new DsgError(ErrorCodes.NOT_FOUND, 'No such subject');
    const [policy] = (await manager.query(
      'SELECT bundle FROM consent.policy_versions WHERE version = $1',
      [request.policyVersion],
    )) as { bundle: { purposes: { id: string }[]; categories: CategoryTree[] } }[];
    if (!policy) {
      throw new ValidationFailedError([
        {
          field: 'policyVersion',
          constraint: 'publishedVersion',
          message: 'policyVersion names no published version',
        },
      ]);
    }
    const known =
      request.scopeType === 'purpose'
        ? policy.bundle.purposes.some((p) => p.id === request.scope)
        : request.scopeType === 'category'
          ? categoryPaths(policy.bundle.categories).includes(request.scope)
          : request.scope === '';
    if (!known) {
      throw new ValidationFailedError([
        {
          field: 'scope',
          constraint: 'knownScope',
          message: `scope is not a ${request.scopeType === 'sale-and-sharing' ? 'blank scope' : request.scopeType} of policy version ${request.policyVersion}`,
        },
      ]);
    }
  }
}

function toEvent(row: LedgerRow): ConsentEvent {
  return {
    eventId: row.event_id,
    clientId: row.client_id,
    kind: row.kind,
    scopeType: row.scope_type,
    scope: row.scope,
    method: row.method,
    actor: row.actor,
    policyVersion: row.policy_version,
    occurredAt: row.occurred_at.toISOString(),
    recordedAt: row.recorded_at.toISOString(),
    ...(row.parental_verification ? { parentalVerification: row.parental_verification } : {}),
    evidence: row.evidence,
    redacted: row.redacted_at !== null,
  };
}

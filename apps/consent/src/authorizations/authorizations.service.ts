import {
  AuthorizationGrantedEvent,
  type AuthorizationReply,
  AuthorizationRevokedEvent,
  DsgError,
  ErrorCodes,
  type FieldError,
  type RecordAuthorizationRequest,
  ValidationFailedError,
  categoryPaths,
  type CategoryTree,
} from '@dsg/contracts';
import { Outbox } from '@dsg/platform';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { ageOn } from '../subjects/age';
import { DecisionReplicas } from '../decision/decision-replicas.service';

interface AuthorizationRow {
  id: string;
  client_id: string;
  purposes: string[];
  categories: string[];
  recipients: string[];
  expires_at: Date;
  signed_at: Date;
  received_at: Date | null;
  event_expired_at: Date | null;
}

interface PolicyShape {
  purposes: { id: string }[];
  categories: CategoryTree[];
}

/**
 * Authorizations (HIP-1, HIP-2, CMI-2, KID-2). Recorded only with every element HIPAA and CMIA
 * require, each missing one named; never edited; a revocation takes effect when it is received
 * and leaves what was done before it standing, so the status is always "at a moment".
 */
@Injectable()
export class AuthorizationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly replicas: DecisionReplicas,
  ) {}

  async record(request: RecordAuthorizationRequest, caller: string): Promise<AuthorizationReply> {
    const id = randomUUID();
    await this.replicas.transaction(async (manager, touch) => {
      touch(request.clientId);
      const problems = await this.check(manager, request);
      if (problems.length > 0) throw new ValidationFailedError(problems);
      await manager.query(
        `INSERT INTO consent.authorizations (id, client_id, purposes, categories, recipients, expires_at,
                                             signed_at, signed_by, policy_version, elements, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          id,
          request.clientId,
          request.purposes,
          request.categories,
          request.recipients,
          request.expiresAt,
          request.signedAt,
          request.signedBy,
          request.policyVersion,
          {
            phiDescription: request.phiDescription,
            discloser: request.discloser,
            expiryEvent: request.expiryEvent ?? null,
            signerRef: request.signerRef ?? null,
            representativeAuthority: request.representativeAuthority ?? null,
            statements: request.statements,
            form: request.form,
          },
          caller,
        ],
      );
      await this.outbox.append(manager, AuthorizationGrantedEvent, {
        authorizationId: id,
        clientId: request.clientId,
        purposes: request.purposes,
        at: request.signedAt,
      });
    });
    return this.get(id);
  }

  /** HIP-2: effective on receipt (now); decisions made before it stand. */
  async revoke(
    authorizationId: string,
    receivedVia: string,
    caller: string,
  ): Promise<AuthorizationReply> {
    await this.replicas.transaction(async (manager, touch) => {
      const [auth] = (await manager.query(
        'SELECT client_id, purposes FROM consent.authorizations WHERE id = $1',
        [authorizationId],
      )) as { client_id: string; purposes: string[] }[];
      if (!auth) throw new DsgError(ErrorCodes.NOT_FOUND, 'No such authorization');
      touch(auth.client_id);
      const [revocation] = (await manager.query(
        `INSERT INTO consent.authorization_revocations (authorization_id, received_via, recorded_by)
         VALUES ($1, $2, $3) ON CONFLICT (authorization_id) DO NOTHING RETURNING received_at`,
        [authorizationId, receivedVia, caller],
      )) as { received_at: Date }[];
      if (!revocation) return; // revoked before: the first receipt stands
      await this.outbox.append(manager, AuthorizationRevokedEvent, {
        authorizationId,
        clientId: auth.client_id,
        purposes: auth.purposes,
        at: revocation.received_at.toISOString(),
      });
    });
    return this.get(authorizationId);
  }

  async get(authorizationId: string, at: Date = new Date()): Promise<AuthorizationReply> {
    const [row] = (await this.dataSource.query(
      `SELECT a.id, a.client_id, a.purposes, a.categories, a.recipients, a.expires_at, a.signed_at, r.received_at,
              x.expired_at AS event_expired_at
         FROM consent.authorizations a
         LEFT JOIN consent.authorization_revocations r ON r.authorization_id = a.id
         LEFT JOIN consent.authorization_expiries x ON x.authorization_id = a.id
        WHERE a.id = $1`,
      [authorizationId],
    )) as AuthorizationRow[];
    if (!row) throw new DsgError(ErrorCodes.NOT_FOUND, 'No such authorization');
    const revoked = row.received_at !== null && row.received_at <= at;
    // Expired by its date, or by the event it names once the spa's systems reported it.
    const expired =
      row.expires_at <= at || (row.event_expired_at !== null && row.event_expired_at <= at);
    const status = revoked ? 'revoked' : expired ? 'expired' : 'valid';
    return {
      authorizationId: row.id,
      clientId: row.client_id,
      status,
      purposes: row.purposes,
      categories: row.categories,
      recipients: row.recipients,
      expiresAt: row.expires_at.toISOString(),
      signedAt: row.signed_at.toISOString(),
      ...(row.received_at ? { revokedAt: row.received_at.toISOString() } : {}),
      at: at.toISOString(),
    };
  }

  /**
   * Inside a spa event's transaction: the subject's authorizations whose expiry event is `event`
   * expire at `occurredAt` (the first report stands). Returns how many expired.
   */
  async expireByEvent(
    manager: EntityManager,
    clientId: string,
    event: string,
    occurredAt: string,
    eventId: string,
  ): Promise<number> {
    const rows = (await manager.query(
      `INSERT INTO consent.authorization_expiries (authorization_id, event, expired_at, event_id)
       SELECT id, $2, $3, $4 FROM consent.authorizations
        WHERE client_id = $1 AND elements->>'expiryEvent' = $2
       ON CONFLICT (authorization_id) DO NOTHING RETURNING authorization_id`,
      [clientId, event, occurredAt, eventId],
    )) as unknown[];
    return rows.length;
  }

  /** The elements that need the subject, the policy version or each other to be judged. */
  private async check(
    manager: EntityManager,
    request: RecordAuthorizationRequest,
  ): Promise<FieldError[]> {
    const problems: FieldError[] = [];
    const [subject] = (await manager.query(
      `SELECT to_char(date_of_birth, 'YYYY-MM-DD') AS dob FROM consent.subjects WHERE client_id = $1`,
      [request.clientId],
    )) as { dob: string | null }[];
    if (!subject) throw new DsgError(ErrorCodes.NOT_FOUND, 'No such subject');
    const [policy] = (await manager.query(
      'SELECT bundle FROM consent.policy_versions WHERE version = $1',
      [request.policyVersion],
    )) as { bundle: PolicyShape }[];
    if (!policy) {
      problems.push({
        field: 'policyVersion',
        constraint: 'publishedVersion',
        message: 'policyVersion names no published version',
      });
    } else {
      const purposes = policy.bundle.purposes.map((p) => p.id);
      const categories = categoryPaths(policy.bundle.categories);
      request.purposes.forEach((p, i) => {
        if (!purposes.includes(p))
          problems.push({
            field: `purposes.${i}`,
            constraint: 'knownPurpose',
            message: 'not a purpose of the policy',
          });
      });
      request.categories.forEach((c, i) => {
        if (!categories.includes(c))
          problems.push({
            field: `categories.${i}`,
            constraint: 'knownCategory',
            message: 'not a category of the policy',
          });
      });
    }
    if (new Date(request.expiresAt) <= new Date(request.signedAt)) {
      problems.push({
        field: 'expiresAt',
        constraint: 'afterSigning',
        message: 'expiresAt must be after signedAt',
      });
    }
    if (request.signedBy !== 'self') {
      if (!request.signerRef)
        problems.push({
          field: 'signerRef',
          constraint: 'HIP-1',
          message: 'a representative signature must name the signer',
        });
      if (!request.representativeAuthority) {
        problems.push({
          field: 'representativeAuthority',
          constraint: 'HIP-1',
          message: "the representative's authority is required",
        });
      }
    }
    // KID-2: under 18 in California, a parent or guardian signs.
    if (
      subject.dob &&
      ageOn(subject.dob, new Date(request.signedAt)) < 18 &&
      request.signedBy === 'self'
    ) {
      problems.push({
        field: 'signedBy',
        constraint: 'KID-2',
        message: "a minor's authorization must be signed by a parent or guardian",
      });
    }
    if (subject.dob && request.signedBy === 'guardian' && request.signerRef) {
      const [linked] = (await manager.query(
        'SELECT 1 FROM consent.guardianships WHERE minor_client_id = $1 AND guardian_client_id = $2',
        [request.clientId, request.signerRef],
      )) as unknown[];
      if (!linked)
        problems.push({
          field: 'signerRef',
          constraint: 'KID-2',
          message: 'the signer is not a linked guardian of the subject',
        });
    }
    return problems;
  }
}

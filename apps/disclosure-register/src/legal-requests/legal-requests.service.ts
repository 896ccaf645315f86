import {
  canonicalJson,
  covers,
  type DecideLegalRequest,
  type DisclosureReceipt,
  DsgError,
  ErrorCodes,
  type FulfilLegalRequest,
  type FulfilLegalRequestReply,
  type FulfilmentFailure,
  type FieldError,
  isRealTimestamp,
  MAX_CLOCK_SKEW_MS,
  periodErrors,
  requireIdempotencyKey,
  LegalRequestChangedEvent,
  type LegalRequestIntake,
  type LegalRequestReply,
  type LegalRequestState,
  type LegalScope,
  UnavailableError,
  ValidationFailedError,
} from '@dsg/contracts';
import { Outbox } from '@dsg/platform';
import { Injectable } from '@nestjs/common';
import { hash, randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { DisclosuresService } from '../disclosures/disclosures.service';
import { PolicyClient } from '../policy/policy.client';
import { RecipientsService } from '../recipients/recipients.service';
import { FULFILLABLE } from './legal-request-scope';
import { assessLegalRequest, scopeWithin } from './legal-validation';

const POLICY_TIMEOUT_MS = 2_000;

/** Which recipients a requester's disclosures may go to, and on what purpose and basis. */
const RECIPIENT_KINDS: Record<LegalRequestIntake['requesterKind'], string[]> = {
  'law-enforcement': ['law-enforcement'],
  court: ['law-enforcement', 'regulator'],
  regulator: ['regulator'],
};
const PURPOSE_BY_KIND: Record<
  string,
  { purpose: string; legalBasis: 'law-enforcement' | 'required-by-law' }
> = {
  'law-enforcement': { purpose: 'law-enforcement', legalBasis: 'law-enforcement' },
  regulator: { purpose: 'legal-obligations', legalBasis: 'required-by-law' },
};

interface RequestRow {
  id: string;
  caller: string;
  idempotency_key: string;
  request_hash: string;
  state: LegalRequestState;
  requester_kind: LegalRequestReply['requesterKind'];
  agency: string;
  official: LegalRequestReply['official'];
  instrument: LegalRequestReply['instrument'];
  reference: string;
  recipient_id: string;
  received_at: Date;
  requested_scope: LegalScope;
  scope: LegalScope;
  attestations: LegalRequestReply['attestations'] | null;
  identify_or_locate: boolean;
  validation: LegalRequestReply['validation'];
  decision_reasons: string | null;
}

/**
 * Law-enforcement, court and regulator requests (HIP-6, CMI-3). Each is validated on intake:
 * refused with reasons when HIPAA does not allow it (so neither law does), sent to a privacy
 * officer's review when HIPAA allows it and CMIA does not, accepted when both do. A privacy
 * officer approves, narrows or denies what is in review (or accepted and not yet fulfilled).
 * Fulfilment records each disclosure as a register entry naming the request, through the same
 * checks as every disclosure (which also refuse any law-enforcement disclosure outside an
 * approved request's scope). Every step is in the request's history, with its event.
 */
@Injectable()
export class LegalRequestsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly recipients: RecipientsService,
    private readonly disclosures: DisclosuresService,
    private readonly policy: PolicyClient,
  ) {}

  /** The policy's data categories (a request names only those), or a retryable refusal. */
  private async knownCategories(): Promise<Set<string>> {
    try {
      return (await this.policy.current(POLICY_TIMEOUT_MS)).categories;
    } catch {
      throw new UnavailableError(
        ErrorCodes.UNAVAILABLE,
        'The policy (its data categories) cannot be read now; retry',
      );
    }
  }

  async intake(
    intake: LegalRequestIntake,
    caller: string,
    idempotencyKey: string | undefined,
    by: string,
  ): Promise<LegalRequestReply> {
    const key = requireIdempotencyKey(idempotencyKey, 'a legal request');
    const problems: FieldError[] = [];
    if (
      intake.receivedAt !== undefined &&
      (!isRealTimestamp(intake.receivedAt) ||
        Date.parse(intake.receivedAt) > Date.now() + MAX_CLOCK_SKEW_MS)
    ) {
      problems.push({
        field: 'receivedAt',
        constraint: 'isPastTimestamp',
        message: 'receivedAt must be a real moment, not in the future',
      });
    }
    problems.push(...periodErrors(intake.scope, 'scope'));
    const known = await this.knownCategories();
    const unknown = intake.scope.categories.filter((c) => !known.has(c));
    if (unknown.length) {
      problems.push({
        field: 'scope.categories',
        constraint: 'isPolicyCategory',
        message: `not data categories of the policy: ${unknown.join(', ')}`,
      });
    }
    const recipient = await this.recipients.current(intake.recipientId);
    if (
      !recipient ||
      !recipient.active ||
      !RECIPIENT_KINDS[intake.requesterKind].includes(recipient.kind)
    ) {
      problems.push({
        field: 'recipientId',
        constraint: 'isLegalRecipient',
        message: `recipientId must name an active recipient of kind ${RECIPIENT_KINDS[intake.requesterKind].join(' or ')}`,
      });
    }
    if (intake.attestations && intake.instrument !== 'administrative-request') {
      problems.push({
        field: 'attestations',
        constraint: 'onlyAdministrative',
        message: 'attestations belong to an administrative request only',
      });
    }
    if (problems.length) throw new ValidationFailedError(problems);

    const requestHash = hash('sha256', canonicalJson(intake), 'hex');
    const prior = await this.byKey(caller, key);
    if (prior) return this.replay(prior, requestHash, 'legal request');

    const { validation, scope } = assessLegalRequest(intake);
    const state: LegalRequestState = !validation.hipaaAllows
      ? 'refused'
      : !validation.cmiaAllows
        ? 'in-review'
        : 'accepted';
    const id = randomUUID();
    const inserted = await this.dataSource.transaction(async (manager) => {
      const rows = (await manager.query(
        `INSERT INTO disclosure_register.legal_requests
           (id, caller, idempotency_key, request_hash, state, requester_kind, agency, official,
            instrument, reference, recipient_id, received_at, requested_scope, scope,
            attestations, identify_or_locate, validation)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
         ON CONFLICT (caller, idempotency_key) DO NOTHING RETURNING id`,
        [
          id,
          caller,
          key,
          requestHash,
          state,
          intake.requesterKind,
          intake.agency,
          intake.official,
          intake.instrument,
          intake.reference,
          intake.recipientId,
          intake.receivedAt ?? new Date().toISOString(),
          intake.scope,
          scope,
          intake.attestations ?? null,
          intake.identifyOrLocate ?? false,
          validation,
        ],
      )) as unknown[];
      if (rows.length === 0) return false;
      await this.step(manager, id, 'received', by);
      await this.step(manager, id, state, 'register', summary(validation.findings, state));
      await this.changed(manager, id, state, intake);
      return true;
    });
    if (!inserted) {
      // The same key, written meanwhile by a concurrent retry.
      return this.replay((await this.byKey(caller, key))!, requestHash, 'legal request');
    }
    return this.get(id);
  }

  async list(state?: LegalRequestState): Promise<LegalRequestReply[]> {
    const rows = (await this.dataSource.query(
      `SELECT * FROM disclosure_register.legal_requests
        WHERE $1::text IS NULL OR state = $1 ORDER BY received_at, id`,
      [state ?? null],
    )) as RequestRow[];
    return Promise.all(rows.map((row) => this.withHistory(this.dataSource.manager, row)));
  }

  async get(id: string, manager: EntityManager = this.dataSource.manager) {
    const [row] = (await manager.query(
      'SELECT * FROM disclosure_register.legal_requests WHERE id = $1',
      [id],
    )) as RequestRow[];
    if (!row) throw new DsgError(ErrorCodes.NOT_FOUND, 'No legal request has this id');
    return this.withHistory(manager, row);
  }

  /** A privacy officer approves, narrows or denies (with reasons). */
  async decide(request: DecideLegalRequest, by: string): Promise<LegalRequestReply> {
    const id = request.requestId;
    await this.dataSource.transaction(async (manager) => {
      const row = await this.locked(manager, id);
      if (row.state !== 'in-review' && row.state !== 'accepted') {
        throw new DsgError(
          ErrorCodes.INVALID_STATE,
          `A legal request that is ${row.state} cannot be decided: only one in review, or accepted and not yet fulfilled`,
        );
      }
      let scope = row.scope;
      if (request.decision === 'narrow') {
        if (!request.scope) {
          throw new ValidationFailedError([
            {
              field: 'scope',
              constraint: 'required',
              message: 'narrowing needs the scope approved',
            },
          ]);
        }
        const outside = scopeWithin(request.scope, row.scope);
        const problems = [
          ...periodErrors(request.scope, 'scope'),
          ...outside.map((field) => ({
            field: `scope.${field}`,
            constraint: 'withinRequest',
            message: `a narrowed scope stays within the request's ${field}`,
          })),
        ];
        if (problems.length) throw new ValidationFailedError(problems);
        scope = request.scope;
      } else if (request.scope) {
        throw new ValidationFailedError([
          { field: 'scope', constraint: 'onlyNarrow', message: 'a scope is given only to narrow' },
        ]);
      }
      const state: LegalRequestState = request.decision === 'deny' ? 'denied' : 'approved';
      await manager.query(
        `UPDATE disclosure_register.legal_requests
            SET state = $2, scope = $3, decision_reasons = $4 WHERE id = $1`,
        [id, state, scope, request.reasons],
      );
      const action = { approve: 'approved', narrow: 'narrowed', deny: 'denied' }[request.decision];
      await this.step(manager, id, action, by, request.reasons);
      await this.changed(manager, id, state, row);
    });
    return this.get(id);
  }

  /**
   * The disclosures made for the request, each recorded as a register entry naming it (all in one
   * batch of the register). Each must lie within the request's scope, or nothing is recorded. A
   * retry with the same Idempotency-Key answers the same receipts and records nothing twice.
   */
  async fulfil(
    request: FulfilLegalRequest,
    caller: string,
    idempotencyKey: string | undefined,
    by: string,
  ): Promise<FulfilLegalRequestReply> {
    const key = requireIdempotencyKey(idempotencyKey, 'a fulfilment');
    const row = await this.get(request.requestId);
    if (!FULFILLABLE.includes(row.state)) {
      throw new DsgError(
        ErrorCodes.INVALID_STATE,
        row.state === 'in-review'
          ? 'This legal request awaits a privacy officer’s review (CMI-3): it cannot be fulfilled yet'
          : `A legal request that is ${row.state} cannot be fulfilled`,
      );
    }
    const problems: FieldError[] = [];
    const known = await this.knownCategories();
    request.disclosures.forEach((item, i) => {
      const unknown = item.categories.filter((c) => !known.has(c));
      if (unknown.length) {
        problems.push({
          field: `disclosures[${i}].categories`,
          constraint: 'isPolicyCategory',
          message: `not data categories of the policy: ${unknown.join(', ')}`,
        });
        return;
      }
      if (!row.scope.subjects.includes(item.clientId)) {
        problems.push({
          field: `disclosures[${i}].clientId`,
          constraint: 'withinScope',
          message: 'the subject is not within the request’s scope',
        });
      }
      if (!item.categories.every((c) => row.scope.categories.some((s) => covers(s, c)))) {
        problems.push({
          field: `disclosures[${i}].categories`,
          constraint: 'withinScope',
          message: `categories must lie within the request’s scope (${row.scope.categories.join(', ')})`,
        });
      }
    });
    if (problems.length) throw new ValidationFailedError(problems);

    const recipient = await this.recipients.get(row.recipientId);
    const basis = PURPOSE_BY_KIND[recipient.kind];
    if (!basis) {
      throw new DsgError(
        ErrorCodes.INVALID_STATE,
        'The request’s recipient is no longer of kind law-enforcement or regulator',
      );
    }
    const { purpose, legalBasis } = basis;
    // Each disclosure is its own register entry (and idempotency key): one failing (the recipient
    // changed meanwhile, consent refusing a category) does not undo the others, which are
    // linked and reported beside the failures; a retry with the same key records only those.
    const settled = await Promise.allSettled(
      request.disclosures.map((item, i) =>
        this.disclosures.disclose(
          {
            clientId: item.clientId,
            recipientId: row.recipientId,
            purpose,
            legalBasis,
            legalRequestRef: row.requestId,
            categories: item.categories,
            description: item.description,
            actingPerson: by,
          },
          caller,
          `legal-request:${row.requestId}:${by}:${key}:${i}`,
        ),
      ),
    );
    const receipts: DisclosureReceipt[] = [];
    const failures: FulfilmentFailure[] = [];
    settled.forEach((result, index) => {
      if (result.status === 'fulfilled') receipts.push(result.value);
      else {
        const err = result.reason as DsgError;
        failures.push({
          index,
          code: err instanceof DsgError ? err.code : ErrorCodes.INTERNAL,
          message: err instanceof DsgError ? err.message : 'The disclosure could not be recorded',
        });
      }
    });
    if (receipts.length === 0) throw (settled[0] as PromiseRejectedResult).reason;
    await this.dataSource.transaction(async (manager) => {
      const linked = (await manager.query(
        `INSERT INTO disclosure_register.legal_request_disclosures (request_id, entry_id, position, decision)
         SELECT $1, r.entry_id, r.position, r.decision
           FROM json_to_recordset($2::json) AS r(entry_id uuid, position bigint, decision text)
         ON CONFLICT DO NOTHING RETURNING entry_id`,
        [
          row.requestId,
          JSON.stringify(
            receipts.map((r) => ({
              entry_id: r.entryId,
              position: r.position,
              decision: r.decision,
            })),
          ),
        ],
      )) as unknown[];
      if (linked.length === 0) return; // a retry: recorded before
      const allowed = receipts.filter((r) => r.decision === 'ALLOW').length;
      const note = `${linked.length} disclosure(s) recorded, ${allowed} allowed by the register's checks${failures.length ? `; ${failures.length} failed` : ''}`;
      // Decided otherwise while these were being recorded (denied): the entries stand, linked,
      // and the history says so; the decision is not overwritten.
      const current = await this.locked(manager, row.requestId);
      if (!FULFILLABLE.includes(current.state)) {
        await this.step(manager, row.requestId, 'recorded-after-decision', by, note);
        return;
      }
      await manager.query(
        `UPDATE disclosure_register.legal_requests SET state = 'fulfilled' WHERE id = $1`,
        [row.requestId],
      );
      await this.step(manager, row.requestId, 'fulfilled', by, note);
      await this.changed(manager, row.requestId, 'fulfilled', row);
    });
    return {
      request: await this.get(row.requestId),
      receipts,
      ...(failures.length ? { failures } : {}),
    };
  }

  private async byKey(caller: string, key: string): Promise<RequestRow | undefined> {
    const [row] = (await this.dataSource.query(
      'SELECT * FROM disclosure_register.legal_requests WHERE caller = $1 AND idempotency_key = $2',
      [caller, key],
    )) as RequestRow[];
    return row;
  }

  private async replay(prior: RequestRow, requestHash: string, what: string) {
    if (prior.request_hash !== requestHash) {
      throw new DsgError(
        ErrorCodes.IDEMPOTENCY_CONFLICT,
        `This Idempotency-Key was used for another ${what}`,
      );
    }
    return this.get(prior.id);
  }

  private async locked(manager: EntityManager, id: string): Promise<LegalRequestReply> {
    const [row] = (await manager.query(
      'SELECT * FROM disclosure_register.legal_requests WHERE id = $1 FOR UPDATE',
      [id],
    )) as RequestRow[];
    if (!row) throw new DsgError(ErrorCodes.NOT_FOUND, 'No legal request has this id');
    return toReply(row, [], []);
  }

  private async step(
    manager: EntityManager,
    id: string,
    action: string,
    by: string,
    note?: string,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO disclosure_register.legal_request_history (request_id, action, by, note)
       VALUES ($1, $2, $3, $4)`,
      [id, action, by, note ?? null],
    );
  }

  private changed(
    manager: EntityManager,
    id: string,
    state: LegalRequestState,
    request: Pick<LegalRequestIntake, 'requesterKind' | 'instrument'>,
  ) {
    return this.outbox.append(manager, LegalRequestChangedEvent, {
      requestId: id,
      state,
      requesterKind: request.requesterKind,
      instrument: request.instrument,
      at: new Date().toISOString(),
    });
  }

  private async withHistory(manager: EntityManager, row: RequestRow): Promise<LegalRequestReply> {
    const [history, disclosures] = await Promise.all([
      manager.query(
        `SELECT action, at, by, note FROM disclosure_register.legal_request_history
          WHERE request_id = $1 ORDER BY id`,
        [row.id],
      ) as Promise<{ action: string; at: Date; by: string; note: string | null }[]>,
      manager.query(
        `SELECT entry_id, position, decision FROM disclosure_register.legal_request_disclosures
          WHERE request_id = $1 ORDER BY position`,
        [row.id],
      ) as Promise<{ entry_id: string; position: string; decision: string }[]>,
    ]);
    return toReply(row, history, disclosures);
  }
}

function toReply(
  row: RequestRow,
  history: { action: string; at: Date; by: string; note: string | null }[],
  disclosures: { entry_id: string; position: string; decision: string }[],
): LegalRequestReply {
  return {
    requestId: row.id,
    state: row.state,
    requesterKind: row.requester_kind,
    agency: row.agency,
    official: row.official,
    instrument: row.instrument,
    reference: row.reference,
    recipientId: row.recipient_id,
    receivedAt: row.received_at.toISOString(),
    requestedScope: row.requested_scope,
    scope: row.scope,
    ...(row.attestations ? { attestations: row.attestations } : {}),
    identifyOrLocate: row.identify_or_locate,
    validation: row.validation,
    ...(row.decision_reasons ? { decisionReasons: row.decision_reasons } : {}),
    history: history.map((h) => ({
      action: h.action,
      at: h.at.toISOString(),
      by: h.by,
      ...(h.note ? { note: h.note } : {}),
    })),
    disclosures: disclosures.map((d) => ({
      entryId: d.entry_id,
      position: Number(d.position),
      decision: d.decision,
    })),
  };
}

function summary(findings: { rule: string; detail: string }[], state: LegalRequestState): string {
  const lead = {
    refused: 'refused: neither HIPAA nor CMIA allows it',
    'in-review': 'sent to review: HIPAA allows it, CMIA does not as it stands',
    accepted: 'accepted: HIPAA and CMIA allow it',
  }[state as 'refused' | 'in-review' | 'accepted'];
  return `${lead}. ${findings.map((f) => `${f.rule}: ${f.detail}`).join('; ')}`;
}

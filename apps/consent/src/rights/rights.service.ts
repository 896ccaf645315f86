import {
  canonicalJson,
  correctionSubject,
  CorrectionRequestedEvent,
  covers,
  type DenyRightsRequest,
  DsgClient,
  DsgError,
  type ErasureReply,
  ErrorCodes,
  type ExtendRightsRequest,
  type FieldError,
  type FulfilRightsRequest,
  type ListRightsCasesReply,
  type ListRightsCasesRequest,
  requireIdempotencyKey,
  type RestrictionScope,
  RightsRequestChangedEvent,
  type RightsRequestCase,
  type RightsRequestState,
  type SubmitRightsRequest,
  unrealTimestamps,
  ValidationFailedError,
  type VerificationPointKind,
  type VerifyRightsRequest,
} from '@dsg/contracts';
import {
  IdentifierHasher,
  type Logger,
  Outbox,
  type OutboxItem,
  PLATFORM_LOGGER,
} from '@dsg/platform';
import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { CONSENT_CONFIG, type ConsentConfig } from '../config/consent.config';
import { LedgerService } from '../ledger/ledger.service';
import { NoticesService } from '../notices/notices.service';
import { PolicyService } from '../policy/policy.service';
import { earlierRequest, requestHash } from '../requests/earlier-request';
import { answerOf, notInTheFuture } from '../requests/log-entry';
import { RestrictionsService } from '../restrictions/restrictions.service';
import { BusinessCalendar, CalendarNotCoveredError } from './business-days';
import { ClientDirectory } from './client-directory';
import { deadlinesFor, pointsNeeded, type Right, RIGHT_RULES } from './rights-policy';
import { SubjectReports } from './subject-reports';

export interface RightsRow {
  id: string;
  client_id: string;
  right: Right;
  channel: RightsRequestCase['channel'];
  requester: RightsRequestCase['requester'];
  received_at: Date;
  recorded_by: string;
  request_hash: string | null;
  answered_at: Date | null;
  outcome: RightsRequestCase['outcome'] | null;
  verification: RightsRequestCase['verification'] | null;
  denial_basis: string | null;
  state: RightsRequestState;
  guardian_id: string | null;
  agent: Record<string, unknown> | null;
  reply_to: string | null;
  scope: {
    accounting?: { from?: string; to?: string };
    correction?: CorrectionScope;
    restriction?: RestrictionScope;
  } | null;
  verification_level: RightsRequestCase['verificationLevel'];
  matched_points: string[];
  verified_at: Date | null;
  confirm_by: Date | null;
  confirmed_at: Date | null;
  answer_by: Date | null;
  original_answer_by: Date | null;
  extension_allowed: boolean;
  extended_at: Date | null;
  extension_reasons: string | null;
  duplicate_of: string | null;
  fee: RightsRequestCase['fee'] | null;
  fulfilment: Record<string, unknown> | null;
  erasure_id: string | null;
  report_hash: string | null;
  policy_version: string | null;
  overdue_noticed_at: Date | null;
}

interface CorrectionScope {
  categories: string[];
  description: string;
}

const SELECT = 'SELECT * FROM consent.rights_requests';
const NON_DISCRIMINATION =
  'Exercising a right changes nothing about the service you receive or its price (POL-4, CCP-1).';

/**
 * Rights requests (POL-4, CCP-1, HIP-8), from receipt to answer, on the request log's rows
 * (CCP-7). A privacy officer records a request received by e-mail, phone, web form or at the
 * front desk; its deadlines are set from the right (CCP-2, ACC-5, HIP-8) in business days of
 * America/Los_Angeles where the law counts them so; its receipt is confirmed by a notice. The
 * requester is verified at the level the right needs (CCP-3) against what this product holds and
 * the spa's client system, keeping only which kinds of point matched. Fulfilment goes through the
 * other services over NATS: the consent ledger for opt-outs (and the register's notices to
 * recipients told since, CCP-2), the retention service's erasure (CCP-4, with its exceptions),
 * the register's accounting (ACC-5; free once in 12 months, fee-quoted after, ACC-6), a report of
 * what is held (know, access), correction tasks to the holding systems. A repeat of an open
 * request is linked to it and answered with it. Nothing here is an input of the sharing decision:
 * exercising a right changes no one's service or price (POL-4).
 */
@Injectable()
export class RightsService {
  private readonly calendar: BusinessCalendar;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly notices: NoticesService,
    private readonly ledger: LedgerService,
    private readonly policy: PolicyService,
    private readonly directory: ClientDirectory,
    private readonly hasher: IdentifierHasher,
    private readonly reports: SubjectReports,
    private readonly restrictions: RestrictionsService,
    private readonly dsg: DsgClient,
    @Inject(CONSENT_CONFIG) private readonly config: ConsentConfig,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {
    this.calendar = BusinessCalendar.load(config.holidayCalendarPath);
    // Deadlines run up to 90 days past receipt: a calendar ending next year needs its next year.
    if (this.calendar.lastYear <= new Date().getUTCFullYear()) {
      logger.warn(
        { context: 'Rights', lastYear: this.calendar.lastYear },
        'the holiday calendar ends this year: add the next year (HOLIDAY_CALENDAR_PATH) before deadlines reach it',
      );
    }
    notices.onSent('request-confirmation', async (manager, notice) => {
      await manager.query(
        `UPDATE consent.rights_requests SET confirmed_at = $2
          WHERE id = $1 AND confirmed_at IS NULL`,
        [notice.ref, notice.sentAt],
      );
    });
  }

  // ---- intake -----------------------------------------------------------------------------

  async submit(
    request: SubmitRightsRequest,
    by: string,
    idempotencyKey: string | undefined,
  ): Promise<RightsRequestCase> {
    const key = requireIdempotencyKey(idempotencyKey, 'a rights request');
    await this.checkSubmission(request);
    const hash = requestHash(request);
    const receivedAt = request.receivedAt ? new Date(request.receivedAt) : new Date();
    const rules = RIGHT_RULES[request.right];
    const { confirmBy, answerBy } = this.deadlines(request.right, receivedAt);
    // Opt-outs are recorded under the version in effect now (a retry repeats the same entries).
    const policyVersion = rules.verification === 'none' ? (await this.policy.get()).version : null;
    const id = randomUUID();
    const row = await this.dataSource.transaction(async (manager) => {
      const earlier = await earlierRequest<RightsRow>(manager, SELECT, by, key, hash);
      if (earlier) return earlier;
      // Item 5: a repeat of an open request (same subject, same right) is linked, not processed
      // twice; it is answered with the request it repeats. One subject's intakes take turns.
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `rights-open:${request.clientId}`,
      ]);
      const [open] = (await manager.query(
        `${SELECT} WHERE client_id = $1 AND "right" = $2 AND answered_at IS NULL
                     AND answer_by IS NOT NULL AND state <> 'duplicate'
           ORDER BY received_at LIMIT 1`,
        [request.clientId, request.right],
      )) as RightsRow[];
      const state: RightsRequestState = open
        ? 'duplicate'
        : rules.verification === 'none'
          ? 'in-progress'
          : 'awaiting-verification';
      const [inserted] = (await manager.query(
        `INSERT INTO consent.rights_requests
           (id, client_id, "right", channel, requester, received_at, recorded_by, idempotency_key,
            request_hash, state, guardian_id, agent, reply_to, scope, verification_level,
            confirm_by, answer_by, original_answer_by, extension_allowed, duplicate_of,
            policy_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18, $19,
                 $20)
         RETURNING *`,
        [
          id,
          request.clientId,
          request.right,
          request.channel,
          request.requester,
          receivedAt.toISOString(),
          by,
          key,
          hash,
          state,
          request.guardianId ?? null,
          request.agentPermission ? JSON.stringify(request.agentPermission) : null,
          request.replyTo ?? null,
          request.accounting || request.correction || request.restriction
            ? JSON.stringify({
                accounting: request.accounting,
                correction: request.correction,
                restriction: request.restriction,
              })
            : null,
          rules.verification,
          // A repeat is confirmed on its own; it is answered with the request it repeats.
          confirmBy.toISOString(),
          (open?.answer_by ?? answerBy).toISOString(),
          rules.extendedDays > 0,
          open?.id ?? null,
          policyVersion,
        ],
      )) as RightsRow[];
      // CCP-2: receipt is confirmed (the notice's delivery fills in confirmed_at).
      await this.notify(manager, inserted, 'request-confirmation', this.confirmationText(inserted));
      await this.changed(manager, inserted);
      return inserted;
    });
    this.logger.info(
      { context: 'Rights', requestId: row.id, right: row.right, state: row.state },
      'rights request received',
    );
    if (row.state === 'in-progress' && RIGHT_RULES[row.right].verification === 'none') {
      await this.optOut(row.id).catch((err: unknown) => this.deferred(row.id, err));
    }
    return this.get(row.id);
  }

  /** Who may ask (CCP-3, KID-2), and what each right's request must say. */
  private async checkSubmission(request: SubmitRightsRequest): Promise<void> {
    const problems: FieldError[] = unrealTimestamps(request, ['receivedAt']);
    if (!problems.length) problems.push(...notInTheFuture(request, 'receivedAt'));
    if (request.requester === 'authorised-agent') {
      if (!request.agentPermission || request.agentPermission.signed !== true) {
        problems.push({
          field: 'agentPermission',
          constraint: 'CCP-3',
          message: "an authorised agent needs the subject's signed permission",
        });
      }
    } else if (request.agentPermission) {
      problems.push({
        field: 'agentPermission',
        constraint: 'CCP-3',
        message: 'a signed permission belongs to an authorised agent’s request only',
      });
    }
    if ((request.requester === 'guardian') !== (request.guardianId !== undefined)) {
      problems.push({
        field: 'guardianId',
        constraint: 'isGuardian',
        message:
          request.requester === 'guardian'
            ? 'a guardian’s request names the guardian (guardianId)'
            : 'guardianId belongs to a guardian’s request only',
      });
    }
    if (request.accounting && request.right !== 'accounting') {
      problems.push({
        field: 'accounting',
        constraint: 'belongsToRight',
        message: 'accounting belongs to a request for an accounting only',
      });
    }
    if ((request.right === 'correct') !== (request.correction !== undefined)) {
      problems.push({
        field: 'correction',
        constraint: 'belongsToRight',
        message:
          request.right === 'correct'
            ? 'a correction request says what is wrong (correction)'
            : 'correction belongs to a correction request only',
      });
    }
    if ((request.right === 'restriction') !== (request.restriction !== undefined)) {
      problems.push({
        field: 'restriction',
        constraint: 'belongsToRight',
        message:
          request.right === 'restriction'
            ? 'a restriction request says what it restricts (restriction)'
            : 'restriction belongs to a restriction request only',
      });
    } else if (
      request.restriction?.kind === 'confidential-channel' &&
      !request.restriction.channel
    ) {
      problems.push({
        field: 'restriction.channel',
        constraint: 'HIP-7',
        message: 'a confidential channel names how to reach the subject',
      });
    }
    if (problems.length) throw new ValidationFailedError(problems);
    const [known] = (await this.dataSource.query(
      'SELECT 1 FROM consent.subjects WHERE client_id = $1',
      [request.clientId],
    )) as unknown[];
    if (!known) {
      // A request about someone the spa's systems never described: the privacy office answers
      // it outside the product (there is nothing here to report, erase or opt out of).
      throw new DsgError(ErrorCodes.NOT_FOUND, 'No such subject: the spa has no client by this id');
    }
    if (request.requester === 'guardian') {
      // KID-2: a parent or guardian acts for a minor, and only one linked to the subject.
      const [subject] = (await this.dataSource.query(
        `SELECT to_char(s.date_of_birth, 'YYYY-MM-DD') AS date_of_birth,
                EXISTS (SELECT 1 FROM consent.guardianships g
                         WHERE g.minor_client_id = s.client_id AND g.guardian_client_id = $2) AS linked
           FROM consent.subjects s WHERE s.client_id = $1`,
        [request.clientId, request.guardianId],
      )) as { date_of_birth: string | null; linked: boolean }[];
      const minor =
        subject?.date_of_birth != null &&
        this.ageOn(subject.date_of_birth, request.receivedAt ?? new Date().toISOString()) < 18;
      if (!subject || !subject.linked || !minor) {
        throw new ValidationFailedError([
          {
            field: 'guardianId',
            constraint: 'isGuardian',
            // Neither the subject's age nor the link is said: no personal data in errors.
            message: 'guardianId is not a guardian on record of a minor subject',
          },
        ]);
      }
    }
  }

  private ageOn(dateOfBirth: string, at: string): number {
    const [y, m, d] = dateOfBirth.split('-').map(Number);
    const day = this.calendar.localDate(new Date(at));
    const [ty, tm, td] = day.split('-').map(Number);
    return ty - y - (tm < m || (tm === m && td < d) ? 1 : 0);
  }

  // ---- verification -----------------------------------------------------------------------

  async verify(request: VerifyRightsRequest, by: string): Promise<RightsRequestCase> {
    const row = await this.open(request.requestId);
    if (row.state !== 'awaiting-verification') {
      throw new DsgError(
        ErrorCodes.INVALID_STATE,
        `This request is ${row.state}: only one awaiting verification is verified`,
      );
    }
    const matched = await this.match(row.client_id, request.points);
    const needed = pointsNeeded(row.verification_level);
    const declaration =
      row.verification_level !== 'three-points-and-declaration' || request.signedDeclaration;
    const verified = matched.length >= needed && declaration;
    // ACC-6: read before the transaction, so a register that does not answer changes nothing.
    const fee = verified && row.right === 'accounting' ? await this.feeFor(row) : undefined;
    await this.dataSource.transaction(async (manager) => {
      const current = await this.lockOpen(manager, row.id);
      if (current.state !== 'awaiting-verification') return;
      const state = !verified
        ? 'awaiting-verification'
        : fee
          ? 'awaiting-fee-acceptance'
          : 'in-progress';
      const [[updated]] = (await manager.query(
        `UPDATE consent.rights_requests
            SET matched_points = $2, verified_at = $3, state = $4, fee = $5
          WHERE id = $1 RETURNING *`,
        [
          row.id,
          matched,
          verified ? new Date().toISOString() : null,
          state,
          fee ? JSON.stringify(fee) : null,
        ],
      )) as [RightsRow[], number];
      if (fee) {
        await this.notify(
          manager,
          updated,
          'request-fee-quote',
          `Your first accounting of disclosures in any 12 months is free. This one carries a ` +
            `cost-based fee of $${(fee.amountCents / 100).toFixed(2)}. You may accept it, or ` +
            `withdraw your request (and make a narrower one if you wish).`,
        );
      }
      await this.changed(manager, updated);
    });
    this.logger.info(
      { context: 'Rights', requestId: row.id, matched: matched.length, needed, verified, by },
      'rights request verification attempted',
    );
    return this.get(row.id);
  }

  /**
   * CCP-3: which kinds of the given points match the subject: e-mail and phone against the
   * keyed hashes this product keeps, the date of birth against the subject's, the rest (and
   * anything not matched here) through the client system. The values go nowhere else.
   */
  private async match(
    clientId: string,
    points: VerifyRightsRequest['points'],
  ): Promise<VerificationPointKind[]> {
    const matched = new Set<VerificationPointKind>();
    for (const kind of ['email', 'phone'] as const) {
      const value = points[kind];
      if (!value) continue;
      const [hit] = (await this.dataSource.query(
        `SELECT 1 FROM consent.subject_identifiers
          WHERE client_id = $1 AND kind = $2 AND hash = ANY($3)`,
        [clientId, kind, this.hasher.candidates(kind, value)],
      )) as unknown[];
      if (hit) matched.add(kind);
    }
    if (points.dateOfBirth) {
      const [hit] = (await this.dataSource.query(
        'SELECT 1 FROM consent.subjects WHERE client_id = $1 AND date_of_birth = $2::date',
        [clientId, points.dateOfBirth],
      )) as unknown[];
      if (hit) matched.add('dateOfBirth');
    }
    const rest = Object.fromEntries(
      Object.entries(points).filter(
        ([k, v]) => typeof v === 'string' && !matched.has(k as VerificationPointKind),
      ),
    );
    if (Object.keys(rest).length) {
      for (const kind of await this.directory.match({ clientId, points: rest })) {
        if (kind in rest) matched.add(kind as VerificationPointKind);
      }
    }
    return [...matched].sort();
  }

  // ---- deadlines --------------------------------------------------------------------------

  /** CCP-2, ACC-5: one extension, with reasons, told before the original deadline passes. */
  async extend(request: ExtendRightsRequest, by: string): Promise<RightsRequestCase> {
    await this.dataSource.transaction(async (manager) => {
      const row = await this.lockOpen(manager, request.requestId);
      const rules = RIGHT_RULES[row.right];
      if (!row.extension_allowed || rules.extendedDays === 0) {
        throw new DsgError(
          ErrorCodes.INVALID_STATE,
          `A ${row.right} request has no extension (${rules.rule})`,
        );
      }
      if (row.extended_at) {
        throw new DsgError(
          ErrorCodes.INVALID_STATE,
          'This request was extended already: once only',
        );
      }
      if (Date.now() > row.original_answer_by!.getTime()) {
        throw new ValidationFailedError([
          {
            field: 'requestId',
            constraint: rules.rule,
            message: 'the deadline has passed: an extension must be told before it ends',
          },
        ]);
      }
      const answerBy = this.extendedDeadline(row.received_at, rules.extendedDays);
      const [[updated]] = (await manager.query(
        `UPDATE consent.rights_requests
            SET extended_at = now(), extension_reasons = $2, answer_by = $3, overdue_noticed_at = NULL
          WHERE id = $1 RETURNING *`,
        [row.id, request.reasons, answerBy.toISOString()],
      )) as [RightsRow[], number];
      await manager.query(
        `UPDATE consent.rights_requests SET answer_by = $2
          WHERE duplicate_of = $1 AND answered_at IS NULL`,
        [row.id, answerBy.toISOString()],
      );
      await this.notify(
        manager,
        updated,
        'request-extension',
        `We need more time to answer your ${row.right} request received on ${this.calendar.localDate(row.received_at)}. ` +
          `We will answer by ${this.calendar.localDate(answerBy)}. Why: ${request.reasons}`,
      );
    });
    this.logger.info({ context: 'Rights', requestId: request.requestId, by }, 'request extended');
    return this.get(request.requestId);
  }

  private extendedDeadline(receivedAt: Date, days: number): Date {
    try {
      return this.calendar.addCalendarDays(receivedAt, days);
    } catch (err) {
      if (!(err instanceof CalendarNotCoveredError)) throw err;
      throw new ValidationFailedError([
        { field: 'requestId', constraint: 'holidayCalendar', message: err.message },
      ]);
    }
  }

  // ---- fulfilment -------------------------------------------------------------------------

  /** ACC-6: the first accounting in 12 months is free; a later one is quoted before it is made. */
  private async feeFor(row: RightsRow): Promise<RightsRow['fee'] | undefined> {
    if (this.config.accountingFeeCents === 0) return undefined;
    const { accountings } = await this.dsg.disclosureRegister.accountingsOfSubject({
      clientId: row.client_id,
    });
    const yearAgo = Date.now() - 365 * 86_400_000;
    const recent = accountings.filter((a) => Date.parse(a.producedAt) > yearAgo);
    if (recent.length === 0) return undefined;
    return {
      amountCents: this.config.accountingFeeCents,
      currency: 'USD',
      quotedAt: new Date().toISOString(),
      reason: `ACC-6: an accounting was provided on ${this.calendar.localDate(new Date(recent[0].producedAt))}, within 12 months`,
    };
  }

  async fulfil(request: FulfilRightsRequest, by: string): Promise<RightsRequestCase> {
    let row = await this.open(request.requestId);
    if (row.state === 'awaiting-fee-acceptance') {
      if (!request.feeAccepted) {
        throw new ValidationFailedError([
          {
            field: 'feeAccepted',
            constraint: 'ACC-6',
            message: 'a fee was quoted: the requester must accept it (or withdraw: deny)',
          },
        ]);
      }
      await this.dataSource.query(
        `UPDATE consent.rights_requests SET state = 'in-progress'
          WHERE id = $1 AND state = 'awaiting-fee-acceptance'`,
        [row.id],
      );
      row = await this.open(row.id);
    }
    if (row.state !== 'in-progress') {
      throw new DsgError(
        ErrorCodes.INVALID_STATE,
        row.state === 'awaiting-verification'
          ? 'The requester is not verified yet (CCP-3)'
          : `This request is ${row.state}`,
      );
    }
    switch (row.right) {
      case 'opt-out':
      case 'limit-sensitive':
        await this.optOut(row.id);
        break;
      case 'accounting':
        await this.accounting(row, request.staffTitle, by);
        break;
      case 'delete':
        await this.erase(row, by);
        break;
      case 'know':
      case 'access':
        await this.report(row, by);
        break;
      case 'correct':
        await this.corrections(row, by);
        break;
      case 'restriction':
        await this.restrict(row, request.restrictionAgreed === true, by);
        break;
    }
    return this.get(row.id);
  }

  /**
   * Opt-outs (CCP-2, CCP-5 scope): sale and sharing for `opt-out`; every purpose the policy lets
   * a person opt out of for `limit-sensitive`. Then the recipients that received the subject's
   * data since the request are told (7026(f)), each notice a register entry delivered by the
   * notification mechanism, and the request is answered. Each step is idempotent: a retry (the
   * periodic check's, after a failure) repeats nothing.
   */
  private async optOut(id: string): Promise<void> {
    const row = await this.open(id);
    // The version in effect at receipt: a retry under a later version repeats the same entries.
    const policy = await this.policy.get(row.policy_version ?? undefined);
    const purposes = (policy.bundle.purposes as { id: string; optOut?: boolean }[]) ?? [];
    const scopes =
      row.right === 'opt-out'
        ? [{ scopeType: 'sale-and-sharing' as const, scope: '' }]
        : purposes
            .filter((p) => p.optOut)
            .map((p) => ({ scopeType: 'purpose' as const, scope: p.id }));
    const method = CHANNEL_METHOD[row.channel];
    const actor =
      row.requester === 'subject'
        ? 'self'
        : row.requester === 'guardian'
          ? 'guardian'
          : 'authorised-agent';
    const entries: string[] = [];
    for (const s of scopes) {
      const entry = await this.ledger.record(
        {
          clientId: row.client_id,
          kind: 'opt-out',
          scopeType: s.scopeType,
          scope: s.scope,
          method,
          actor,
          ...(row.guardian_id ? { actorRef: row.guardian_id } : {}),
          policyVersion: policy.version,
          evidence: { rightsRequest: row.id },
        },
        'consent:rights',
        `rights:${row.id}:${s.scopeType}:${s.scope}`,
      );
      entries.push(entry.eventId);
    }
    const { notices } = await this.dsg.disclosureRegister.noticesRecord({
      clientId: row.client_id,
      notice: row.right === 'opt-out' ? 'opt-out-request' : 'limit-request',
      rule: 'CCP-2',
      ref: row.id,
      since: row.received_at.toISOString(),
    });
    await this.answer(row.id, 'fulfilled', 'consent:rights', {
      ledgerEntries: entries,
      recipientsTold: notices.map((n) => n.recipientId),
    });
  }

  private async accounting(row: RightsRow, staffTitle: string, by: string): Promise<void> {
    const accounting = await this.dsg.disclosureRegister.accountingForRightsRequest(
      {
        clientId: row.client_id,
        requestedAt: row.received_at.toISOString(),
        ...(row.scope?.accounting?.from ? { from: row.scope.accounting.from } : {}),
        ...(row.scope?.accounting?.to ? { to: row.scope.accounting.to } : {}),
        staffTitle,
        rightsRequestRef: row.id,
        actingFor: by,
      },
      { idempotencyKey: `rights:${row.id}` },
    );
    await this.answer(row.id, 'fulfilled', by, {
      accountingId: accounting.accountingId,
      lines: accounting.disclosures.length,
      contentHash: accounting.contentHash,
      ...(row.fee ? { fee: row.fee } : {}),
    });
  }

  /** CCP-4: the retention service's erasure, its exceptions recorded (1798.105(d)). */
  private async erase(row: RightsRow, by: string): Promise<void> {
    // Marked before the call: a call that times out may still start the erasure, so from here
    // the request is not denied, and the periodic check asks again (the same key) until answered.
    await this.dataSource.query(
      `UPDATE consent.rights_requests
          SET fulfilment = coalesce(fulfilment, '{}'::jsonb) || jsonb_build_object('erasureRequestedBy', $2::text)
        WHERE id = $1 AND answered_at IS NULL AND NOT coalesce(fulfilment ? 'erasureRequestedBy', false)`,
      [row.id, by],
    );
    const erasure = await this.dsg.retention.erasureForRightsRequest(
      {
        clientId: row.client_id,
        rightsRequestId: row.id,
        reason: 'the consumer asked for deletion (CCP-4)',
        actingFor: by,
      },
      { idempotencyKey: `rights:${row.id}` },
    );
    await this.dataSource.query(
      `UPDATE consent.rights_requests SET erasure_id = $2, fulfilment = $3
        WHERE id = $1 AND answered_at IS NULL`,
      [
        row.id,
        erasure.erasureId,
        JSON.stringify({ erasureId: erasure.erasureId, erasureRequestedBy: by }),
      ],
    );
    await this.settleErasure(erasure, by);
  }

  /** An erasure complete: the request is answered from its certificate. */
  async settleErasure(erasure: ErasureReply, by = 'consent:rights'): Promise<void> {
    if (erasure.state !== 'completed' || !erasure.certificate) return;
    const [row] = (await this.dataSource.query(
      `${SELECT} WHERE erasure_id = $1 AND answered_at IS NULL`,
      [erasure.erasureId],
    )) as RightsRow[];
    if (!row) return;
    const body = erasure.certificate.body;
    const exceptions = [...body.kept, ...body.notErased].map(
      (k) => `${k.system}/${k.category}: ${k.rule} — ${k.reason}`,
    );
    const fulfilment = {
      erasureId: erasure.erasureId,
      erased: body.erased.length,
      exceptions,
      recipientsTold: body.notices.map((n) => n.recipientId),
    };
    if (body.erased.length === 0 && exceptions.length > 0) {
      await this.answer(
        row.id,
        'denied',
        by,
        fulfilment,
        `Nothing could be erased: ${exceptions.join('; ')}`,
      );
    } else {
      await this.answer(
        row.id,
        exceptions.length ? 'partially-fulfilled' : 'fulfilled',
        by,
        fulfilment,
      );
    }
  }

  /** Know and access: a report of what is held and done (JSON kept with its hash; PDF on demand). */
  private async report(row: RightsRow, by: string): Promise<void> {
    const report = await this.reports.build(row.client_id, row.id, row.right, NON_DISCRIMINATION);
    const hash = createHash('sha256').update(canonicalJson(report)).digest('hex');
    await this.dataSource.query(
      `UPDATE consent.rights_requests SET report = $2, report_hash = $3
        WHERE id = $1 AND answered_at IS NULL`,
      [row.id, JSON.stringify(report), hash],
    );
    await this.answer(row.id, 'fulfilled', by, { reportHash: hash });
  }

  /** HIP-8, CCP-1: a correction task for every system holding a category the request names. */
  private async corrections(row: RightsRow, by: string): Promise<void> {
    const correction = row.scope!.correction!;
    const { holdings } = await this.dsg.retention.holdingsOfSubject({ clientId: row.client_id });
    const systems = [
      ...new Set(
        holdings
          .filter((h) =>
            correction.categories.some((c) => covers(c, h.category) || covers(h.category, c)),
          )
          .map((h) => h.system)
          .filter((s) => s !== 'consent' && s !== 'disclosure-register'),
      ),
    ].sort();
    await this.dataSource.transaction(async (manager) => {
      const current = await this.lockOpen(manager, row.id);
      if (current.fulfilment) return; // tasks issued already
      // One task per system, on the system's own subject: only it can read it.
      await this.outbox.appendMany(
        manager,
        systems.map((system) => ({
          def: CorrectionRequestedEvent as OutboxItem['def'],
          data: {
            requestId: row.id,
            clientId: row.client_id,
            system,
            categories: correction.categories,
            description: correction.description,
          },
          subject: correctionSubject(system),
        })),
      );
      await manager.query('UPDATE consent.rights_requests SET fulfilment = $2 WHERE id = $1', [
        row.id,
        JSON.stringify({ correctionTasks: systems }),
      ]);
    });
    await this.answer(
      row.id,
      systems.length ? 'fulfilled' : 'denied',
      by,
      { correctionTasks: systems },
      systems.length ? undefined : 'No system holds the categories named for correction',
    );
  }

  /**
   * HIP-7: the restriction recorded in the consent service's restrictions (the decision applies
   * it). A disclosure restriction binds only if the spa agrees; a self-pay restriction to a
   * health plan and a confidential channel bind regardless, the latter without asking why.
   */
  private async restrict(row: RightsRow, agreed: boolean, by: string): Promise<void> {
    const scope = row.scope!.restriction!;
    // One fulfilment of a request at a time (a session lock: the restrictions service commits in
    // its own transaction); a retry finds the restriction its first attempt recorded.
    const recordedBy = `consent:rights:${row.id}`;
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    let restrictionId: string;
    let binding: boolean;
    try {
      await runner.query('SELECT pg_advisory_lock(hashtext($1))', [recordedBy]);
      const [earlier] = (await runner.query(
        'SELECT id, agreed FROM consent.restrictions WHERE requested_by = $1',
        [recordedBy],
      )) as { id: string; agreed: boolean }[];
      if (earlier) {
        restrictionId = earlier.id;
        binding = earlier.agreed;
      } else {
        const restriction = await this.restrictions.request(
          { clientId: row.client_id, ...scope, agreed },
          recordedBy,
        );
        restrictionId = restriction.restrictionId;
        binding = restriction.binding;
        await runner.query(
          'UPDATE consent.rights_requests SET fulfilment = $2 WHERE id = $1 AND answered_at IS NULL',
          [row.id, JSON.stringify({ restrictionId, agreed: binding })],
        );
      }
    } finally {
      await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [recordedBy]).catch(() => {});
      await runner.release();
    }
    await this.answer(
      row.id,
      binding ? 'fulfilled' : 'denied',
      by,
      { restrictionId, agreed: binding },
      binding ? undefined : 'HIP-7: the spa did not agree to this restriction of disclosures',
    );
  }

  // ---- answers ----------------------------------------------------------------------------

  async deny(request: DenyRightsRequest, by: string): Promise<RightsRequestCase> {
    const row = await this.open(request.requestId);
    if (row.erasure_id || row.fulfilment) {
      // An erasure (or another fulfilment) is under way: its outcome answers the request.
      throw new DsgError(
        ErrorCodes.INVALID_STATE,
        'Fulfilment of this request has started: it is answered from its outcome',
      );
    }
    await this.answer(request.requestId, 'denied', by, null, request.basis);
    return this.get(request.requestId);
  }

  /**
   * The answer, once (CCP-7): outcome, the verification it rested on, a denial's basis; linked
   * duplicates are answered with it; the requester is told (request-answer notice).
   */
  private async answer(
    id: string,
    outcome: NonNullable<RightsRow['outcome']>,
    by: string,
    fulfilment: Record<string, unknown> | null,
    denialBasis?: string,
  ): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const row = await this.lockOpen(manager, id);
      const verification =
        row.verification_level === 'none'
          ? 'not-required'
          : row.verified_at
            ? 'verified'
            : 'not-verified';
      const ids = [
        id,
        ...(
          (await manager.query(
            `SELECT id FROM consent.rights_requests WHERE duplicate_of = $1 AND answered_at IS NULL FOR UPDATE`,
            [id],
          )) as { id: string }[]
        ).map((r) => r.id),
      ];
      const [answered] = (await manager.query(
        `UPDATE consent.rights_requests
            SET answered_at = greatest(now(), received_at), outcome = $2, verification = $3,
                denial_basis = $4, answered_by = $5, fulfilment = coalesce($6, fulfilment),
                state = CASE WHEN duplicate_of IS NULL THEN 'answered' ELSE 'duplicate' END
          WHERE id = ANY($1::uuid[]) RETURNING *`,
        [
          ids,
          outcome,
          verification,
          denialBasis ?? null,
          by,
          fulfilment ? JSON.stringify(fulfilment) : null,
        ],
      )) as [RightsRow[], number];
      for (const r of answered) {
        await this.notify(manager, r, 'request-answer', answerText(r));
        await this.changed(manager, r);
      }
    });
    this.logger.info({ context: 'Rights', requestId: id, outcome }, 'rights request answered');
  }

  // ---- reads ------------------------------------------------------------------------------

  async get(id: string): Promise<RightsRequestCase> {
    const [row] = (await this.dataSource.query(`${SELECT} WHERE id = $1`, [id])) as RightsRow[];
    if (!row || !row.answer_by) throw new DsgError(ErrorCodes.NOT_FOUND, 'No such rights request');
    return this.toCase(row);
  }

  async list(request: ListRightsCasesRequest): Promise<ListRightsCasesReply> {
    const rows = (await this.dataSource.query(
      `${SELECT}
        WHERE answer_by IS NOT NULL
          AND ($1::text IS NULL OR client_id = $1)
          AND ($2::text IS NULL OR state = $2)
          AND (NOT $3 OR (answered_at IS NULL AND (answer_by < now() OR (confirmed_at IS NULL AND confirm_by < now()))))
        ORDER BY answered_at IS NOT NULL, answer_by, id
        LIMIT $4`,
      [
        request.clientId ?? null,
        request.state ?? null,
        request.overdue === true,
        Math.min(request.limit ?? 100, 1000),
      ],
    )) as RightsRow[];
    return { requests: rows.map((r) => this.toCase(r)) };
  }

  /** The report of a know or access request, as kept (JSON) or rendered (PDF). */
  async reportOf(id: string): Promise<{ report: unknown; hash: string }> {
    const [row] = (await this.dataSource.query(
      'SELECT report, report_hash FROM consent.rights_requests WHERE id = $1',
      [id],
    )) as { report: unknown; report_hash: string | null }[];
    if (!row) throw new DsgError(ErrorCodes.NOT_FOUND, 'No such rights request');
    if (!row.report || !row.report_hash) {
      throw new DsgError(
        ErrorCodes.NOT_FOUND,
        'This request has no report (know or access, once fulfilled)',
      );
    }
    return { report: row.report, hash: row.report_hash };
  }

  // ---- the periodic check -----------------------------------------------------------------

  /**
   * Deadlines passed are told to privacy officers, once per deadline (a confirmation late, an
   * answer late; an extension re-arms the answer's), by one replica at a time. Then steps that did
   * not finish (an opt-out whose register call failed, an erasure whose completion was missed)
   * are carried on, each failing one waiting longer before its next try (up to a day).
   */
  async check(): Promise<void> {
    const told = await this.dataSource.transaction(async (manager) => {
      const [{ locked }] = (await manager.query(
        "SELECT pg_try_advisory_xact_lock(hashtext('consent:rights-check')) AS locked",
      )) as { locked: boolean }[];
      if (!locked) return -1;
      // Which deadline passed is decided by the database's clock, as the choice of rows is.
      const rows = (await manager.query(
        `SELECT * FROM (
           SELECT r.*, (answer_by < now() AND overdue_noticed_at IS NULL) AS answer_late
             FROM consent.rights_requests r
            WHERE answered_at IS NULL AND answer_by IS NOT NULL AND state <> 'duplicate'
              AND ((answer_by < now() AND overdue_noticed_at IS NULL)
                OR (confirmed_at IS NULL AND confirm_by < now() AND confirm_overdue_noticed_at IS NULL))
            ORDER BY answer_by LIMIT 100 FOR UPDATE SKIP LOCKED) late`,
      )) as (RightsRow & { answer_late: boolean })[];
      for (const row of rows) {
        const answerLate = row.answer_late;
        const deadline = answerLate ? row.answer_by! : row.confirm_by!;
        const what = answerLate ? 'its answer' : 'its confirmation of receipt';
        await this.notices.enqueue(manager, [
          {
            type: 'request-overdue',
            audience: 'privacy-officer',
            rule: RIGHT_RULES[row.right].rule,
            ref: row.id,
            clientId: row.client_id,
            subject: `Rights request overdue: ${row.right}`,
            body:
              `The ${row.right} request ${row.id}, received ${this.calendar.localDate(row.received_at)}, ` +
              `is past the deadline for ${what} (${this.calendar.localDate(deadline)}).`,
            dedupKey: `overdue:${answerLate ? 'answer' : 'confirmation'}:${row.id}:${deadline.toISOString()}`,
          },
        ]);
        await manager.query(
          `UPDATE consent.rights_requests SET ${answerLate ? 'overdue_noticed_at' : 'confirm_overdue_noticed_at'} = now()
            WHERE id = $1`,
          [row.id],
        );
      }
      return rows.length;
    });
    if (told > 0) {
      this.logger.warn({ context: 'Rights', overdue: told }, 'rights requests past a deadline');
      this.notices.kick();
    }
    if (told < 0) return;
    const unfinished = (await this.dataSource.query(
      `SELECT id FROM consent.rights_requests
        WHERE answered_at IS NULL AND answer_by IS NOT NULL AND state = 'in-progress'
          AND ("right" IN ('opt-out', 'limit-sensitive') OR erasure_id IS NOT NULL
               OR ("right" = 'delete' AND fulfilment ? 'erasureRequestedBy'))
          AND (retry_after IS NULL OR retry_after <= now())
        ORDER BY retry_after NULLS FIRST, received_at LIMIT 50`,
    )) as { id: string }[];
    for (const r of unfinished) await this.carryOn(r.id);
  }

  /**
   * Carries an unfinished request on: an opt-out's remaining steps, or an erasure's outcome. A
   * failure is logged (by code) and the request waits longer before the next try.
   */
  async carryOn(id: string): Promise<void> {
    try {
      const row = await this.open(id);
      const requestedBy = row.fulfilment?.erasureRequestedBy;
      if (row.erasure_id || typeof requestedBy === 'string') {
        await this.erase(row, typeof requestedBy === 'string' ? requestedBy : 'consent:rights');
      } else if (row.right === 'opt-out' || row.right === 'limit-sensitive') await this.optOut(id);
    } catch (err) {
      if (err instanceof DsgError && err.code === ErrorCodes.INVALID_STATE) return; // answered
      this.deferred(id, err);
      // The wait doubles per failure, at most a day (the exponent is capped before multiplying).
      await this.dataSource
        .query(
          `UPDATE consent.rights_requests
              SET retries = retries + 1,
                  retry_after = now() + least(interval '1 day',
                                              $2::bigint * interval '1 millisecond' * 2 ^ least(retries, 20))
            WHERE id = $1 AND answered_at IS NULL`,
          [id, this.config.rightsCheckMs],
        )
        .catch((e: unknown) => this.deferred(id, e));
    }
  }

  /** The deadlines of a request received now; a date the holiday calendar misses is refused. */
  private deadlines(right: Right, receivedAt: Date) {
    try {
      return deadlinesFor(right, receivedAt, this.calendar);
    } catch (err) {
      if (!(err instanceof CalendarNotCoveredError)) throw err;
      throw new ValidationFailedError([
        { field: 'receivedAt', constraint: 'holidayCalendar', message: err.message },
      ]);
    }
  }

  private confirmationText(row: RightsRow): string {
    const day = (d: Date) => this.calendar.localDate(d);
    return row.duplicate_of
      ? `We received your ${row.right} request on ${day(row.received_at)}. It repeats one we are ` +
          'already working on; we will answer both together.'
      : `We received your ${row.right} request on ${day(row.received_at)}. ` +
          `We will answer by ${day(row.answer_by!)}. ` +
          (row.verification_level === 'none'
            ? 'No verification is needed.'
            : 'We will first verify your identity.') +
          ` ${NON_DISCRIMINATION}`;
  }

  // ---- helpers ----------------------------------------------------------------------------

  private async open(id: string): Promise<RightsRow> {
    const [row] = (await this.dataSource.query(`${SELECT} WHERE id = $1`, [id])) as RightsRow[];
    return this.openRow(row);
  }

  private async lockOpen(manager: EntityManager, id: string): Promise<RightsRow> {
    const [row] = (await manager.query(`${SELECT} WHERE id = $1 FOR UPDATE`, [id])) as RightsRow[];
    return this.openRow(row);
  }

  private openRow(row: RightsRow | undefined): RightsRow {
    if (!row || !row.answer_by) throw new DsgError(ErrorCodes.NOT_FOUND, 'No such rights request');
    if (row.answered_at) {
      throw new DsgError(ErrorCodes.INVALID_STATE, 'This rights request is answered already');
    }
    if (row.state === 'duplicate') {
      throw new DsgError(
        ErrorCodes.INVALID_STATE,
        `This request repeats ${row.duplicate_of}: it is answered with that one`,
      );
    }
    return row;
  }

  private deferred(id: string, err: unknown): void {
    this.logger.warn(
      {
        context: 'Rights',
        requestId: id,
        code: (err as { code?: string }).code ?? ErrorCodes.INTERNAL,
      },
      'a rights request step could not finish now; the periodic check carries it on',
    );
  }

  /** A notice to the requester about their request (no content beyond what it must say). */
  private async notify(
    manager: EntityManager,
    row: RightsRow,
    type: 'request-confirmation' | 'request-extension' | 'request-fee-quote' | 'request-answer',
    body: string,
  ): Promise<void> {
    await this.notices.enqueue(manager, [
      {
        type,
        audience: 'subject',
        rule: type === 'request-fee-quote' ? 'ACC-6' : RIGHT_RULES[row.right].rule,
        ref: row.id,
        clientId: row.guardian_id ?? row.client_id,
        ...(row.reply_to ? { destination: row.reply_to } : {}),
        subject: NOTICE_SUBJECTS[type],
        body,
        dedupKey: `${type}:${row.id}`,
      },
    ]);
  }

  private async changed(manager: EntityManager, row: RightsRow): Promise<void> {
    await this.outbox.append(manager, RightsRequestChangedEvent, {
      requestId: row.id,
      right: row.right,
      state: row.state,
      ...(row.outcome ? { outcome: row.outcome } : {}),
    });
  }

  private toCase(row: RightsRow): RightsRequestCase {
    const now = Date.now();
    const open = !row.answered_at;
    return {
      requestId: row.id,
      clientId: row.client_id,
      right: row.right,
      channel: row.channel,
      requester: row.requester,
      state: row.state,
      receivedAt: row.received_at.toISOString(),
      ...(row.confirmed_at ? { confirmedAt: row.confirmed_at.toISOString() } : {}),
      verificationLevel: row.verification_level,
      matchedPoints: row.matched_points,
      ...(row.verified_at ? { verifiedAt: row.verified_at.toISOString() } : {}),
      deadlines: {
        confirmBy: row.confirm_by!.toISOString(),
        answerBy: row.answer_by!.toISOString(),
        originalAnswerBy: row.original_answer_by!.toISOString(),
        extensionAllowed: row.extension_allowed,
        ...(row.extended_at ? { extendedAt: row.extended_at.toISOString() } : {}),
        ...(row.extension_reasons ? { extensionReasons: row.extension_reasons } : {}),
        rule: `${RIGHT_RULES[row.right].rule}; business days in ${this.calendar.timeZone} without weekends and California state holidays`,
      },
      overdue:
        open &&
        (row.answer_by!.getTime() < now || (!row.confirmed_at && row.confirm_by!.getTime() < now)),
      ...(row.duplicate_of ? { duplicateOf: row.duplicate_of } : {}),
      ...(row.fee ? { fee: row.fee } : {}),
      ...(row.fulfilment ? { fulfilment: row.fulfilment } : {}),
      ...answerOf(row),
    };
  }
}

const CHANNEL_METHOD = {
  email: 'email-link',
  phone: 'phone',
  'web-form': 'web-form',
  'front-desk': 'front-desk',
} as const;

const NOTICE_SUBJECTS = {
  'request-confirmation': 'We received your privacy request',
  'request-extension': 'Your privacy request: we need more time',
  'request-fee-quote': 'Your request for an accounting of disclosures: a fee applies',
  'request-answer': 'Your privacy request has been answered',
} as const;

function answerText(row: RightsRow): string {
  switch (row.outcome) {
    case 'fulfilled':
      return `Your ${row.right} request has been carried out.`;
    case 'partially-fulfilled':
      return `Your ${row.right} request has been carried out in part; some information is kept because the law requires it (the reasons are on record).`;
    default:
      return `We cannot carry out your ${row.right} request: ${row.denial_basis ?? ''}`;
  }
}

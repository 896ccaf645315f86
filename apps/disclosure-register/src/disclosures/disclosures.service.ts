import {
  canonicalJson,
  covers,
  type DiscloseRequest,
  DisclosureDeniedEvent,
  type DisclosureReceipt,
  DisclosureRecordedEvent,
  DsgClient,
  DsgError,
  ErrorCodes,
  isRealTimestamp,
  type RecipientReply,
  type ReportDisclosureRequest,
  type ReportReceipt,
  ValidationFailedError,
} from '@dsg/contracts';
import { KeyRing, type Logger, Outbox, PLATFORM_LOGGER } from '@dsg/platform';
import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { BreachesService } from '../breaches/breaches.service';
import { REGISTER_CONFIG, type RegisterConfig } from '../config/register.config';
import { RegisterLog } from '../log/register-log.service';
import { PolicyClient, type PolicyView } from '../policy/policy.client';
import { RecipientsService } from '../recipients/recipients.service';

export const CONSENT_UNAVAILABLE = 'CONSENT_UNAVAILABLE';

/** HIP-4's exemptions: minimum necessary does not apply to these bases. */
const MINIMUM_NECESSARY_EXEMPT = ['treatment', 'authorization', 'required-by-law'];

interface Decision {
  decision: 'ALLOW' | 'DENY';
  reasons: string[];
  code?: string;
  recipientVersion?: number;
  policyVersion?: string;
}

/** What a report adds: when the disclosure happened and who reports it (ACC-3). */
interface Reported {
  occurredAt: string;
  source: ReportDisclosureRequest['source'];
  reportedBy?: string;
}

/** A reported disclosure dated this far ahead of the register's clock is refused. */
const CLOCK_SKEW_MS = 5 * 60_000;

interface Prior {
  request_hash: string;
  entry_id: string;
  receipt: DisclosureReceipt;
}

/**
 * Every disclosure an internal service makes is asked for here first: the register checks the
 * recipient (active, of a listed kind: POL-2), no sale (POL-1), a business associate agreement in
 * force for PHI (HIP-5), the recipient's allowance for the purpose (minimum necessary, HIP-4), and
 * the consent service's decision (opt-outs, authorizations, restrictions, minors, CMIA); the
 * stricter answer wins. If consent cannot answer the disclosure is denied (CONSENT_UNAVAILABLE:
 * fail closed). Allowed or denied, the request becomes one register entry, and the caller gets a
 * signed receipt. A key replayed with the same request returns the same receipt and writes
 * nothing; with another request it is a conflict; after a CONSENT_UNAVAILABLE denial it is
 * decided afresh and the new entry points to the first.
 */
@Injectable()
export class DisclosuresService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly log: RegisterLog,
    private readonly recipients: RecipientsService,
    private readonly policy: PolicyClient,
    private readonly dsg: DsgClient,
    private readonly keyRing: KeyRing,
    private readonly outbox: Outbox,
    private readonly breaches: BreachesService,
    @Inject(REGISTER_CONFIG) private readonly config: RegisterConfig,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  disclose(
    request: DiscloseRequest,
    caller: string,
    idempotencyKey: string | undefined,
  ): Promise<DisclosureReceipt> {
    return this.record(request, caller, idempotencyKey);
  }

  /**
   * A disclosure that already happened (ACC-3: a business associate's report; an emergency):
   * the same checks as of when it happened, recorded the same way. One that fails them (or that
   * cannot be checked because consent does not answer) is flagged and opens a breach assessment
   * (HIP-9) in the same transaction.
   */
  async report(
    request: ReportDisclosureRequest,
    caller: string,
    idempotencyKey: string | undefined,
  ): Promise<ReportReceipt> {
    const { occurredAt, source, reportedBy, ...disclosure } = request;
    const problems: { field: string; constraint: string; message: string }[] = [];
    if (!isRealTimestamp(occurredAt) || Date.parse(occurredAt) > Date.now() + CLOCK_SKEW_MS) {
      problems.push({
        field: 'occurredAt',
        constraint: 'isPastTimestamp',
        message: 'occurredAt must be a real moment, not in the future',
      });
    }
    if (source === 'business-associate') {
      const reporter = reportedBy ? await this.recipients.current(reportedBy) : undefined;
      if (!reporter || reporter.legalRole !== 'business-associate') {
        problems.push({
          field: 'reportedBy',
          constraint: 'isBusinessAssociate',
          message: 'a business associate report names the reporting business associate (ACC-3)',
        });
      }
    }
    if (problems.length) throw new ValidationFailedError(problems);
    return this.record(disclosure, caller, idempotencyKey, {
      occurredAt,
      source,
      ...(reportedBy ? { reportedBy } : {}),
    }) as Promise<ReportReceipt>;
  }

  private async record(
    request: DiscloseRequest,
    caller: string,
    idempotencyKey: string | undefined,
    reported?: Reported,
  ): Promise<DisclosureReceipt | ReportReceipt> {
    if (!idempotencyKey) {
      throw new ValidationFailedError([
        {
          field: 'Idempotency-Key',
          constraint: 'required',
          message: 'a disclosure needs an Idempotency-Key header',
        },
      ]);
    }
    const requestHash = createHash('sha256')
      .update(canonicalJson(reported ? { ...request, ...reported } : request))
      .digest('hex');
    const before = await this.prior(this.dataSource.manager, caller, idempotencyKey, requestHash);
    if (before && before.receipt.code !== CONSENT_UNAVAILABLE) return before.receipt;

    const decision = await this.decide(request, reported?.occurredAt);
    const flagged = reported !== undefined && decision.decision === 'DENY';
    return this.dataSource.transaction(async (manager) => {
      // Concurrent retries of one key: one decides, the others find its receipt.
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
        `disclose:${caller}:${idempotencyKey}`,
      ]);
      const prior = await this.prior(manager, caller, idempotencyKey, requestHash);
      if (prior && prior.receipt.code !== CONSENT_UNAVAILABLE) return prior.receipt;
      const entryId = randomUUID();
      const retryOf = prior?.entry_id;
      const [entry] = await this.log.append(manager, [
        {
          entryId,
          content: {
            v: 1,
            type: reported ? 'reported-disclosure' : 'disclosure',
            ...(reported ? { ...reported, flagged } : {}),
            caller,
            recipient: { id: request.recipientId, version: decision.recipientVersion ?? null },
            purpose: request.purpose,
            legalBasis: request.legalBasis,
            categories: request.categories,
            authorizationId: request.authorizationId,
            legalRequestRef: request.legalRequestRef,
            decision: decision.decision,
            reasons: decision.reasons,
            code: decision.code,
            policyVersion: decision.policyVersion,
            retryOf,
          },
          details: {
            clientId: request.clientId,
            description: request.description,
            ...(request.actingPerson ? { actingPerson: request.actingPerson } : {}),
          },
        },
      ]);
      const breachAssessmentId = flagged
        ? await this.breaches.open(manager, entryId, decision.reasons, new Date(entry.recordedAt))
        : undefined;
      const unsigned = {
        entryId,
        position: entry.position,
        leafHash: entry.leafHash,
        decision: decision.decision,
        reasons: decision.reasons,
        ...(decision.code ? { code: decision.code } : {}),
        recordedAt: entry.recordedAt,
        ...(retryOf ? { retryOf } : {}),
        ...(reported ? { flagged } : {}),
        ...(breachAssessmentId ? { breachAssessmentId } : {}),
      };
      const signature = this.keyRing.sign(canonicalJson(unsigned));
      const receipt: DisclosureReceipt | ReportReceipt = {
        ...unsigned,
        kid: signature.kid,
        signature: signature.sig,
      };
      await manager.query(
        `INSERT INTO disclosure_register.idempotency_keys (caller, key, request_hash, entry_id, receipt)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (caller, key) DO UPDATE SET entry_id = excluded.entry_id, receipt = excluded.receipt`,
        [caller, idempotencyKey, requestHash, entryId, receipt],
      );
      // A reported disclosure happened, whatever the checks say of it: it is recorded.
      await this.outbox.append(
        manager,
        reported || decision.decision === 'ALLOW' ? DisclosureRecordedEvent : DisclosureDeniedEvent,
        {
          ...(reported ? { occurredAt: reported.occurredAt } : {}),
          entryId,
          position: entry.position,
          recipientId: request.recipientId,
          purpose: request.purpose,
          decision: decision.decision,
          reasons: decision.reasons,
          recordedAt: entry.recordedAt,
        },
      );
      return receipt;
    });
  }

  private async prior(
    manager: DataSource['manager'],
    caller: string,
    key: string,
    requestHash: string,
  ): Promise<Prior | undefined> {
    const [row] = (await manager.query(
      `SELECT request_hash, entry_id, receipt FROM disclosure_register.idempotency_keys
        WHERE caller = $1 AND key = $2`,
      [caller, key],
    )) as Prior[];
    if (row && row.request_hash !== requestHash) {
      throw new DsgError(
        ErrorCodes.IDEMPOTENCY_CONFLICT,
        'This Idempotency-Key was used for another disclosure',
      );
    }
    return row;
  }

  /** Every rule, the register's and consent's; any failure is DENY. */
  private async decide(request: DiscloseRequest, occurredAt?: string): Promise<Decision> {
    const timeoutMs = this.config.consentTimeoutMs;
    let policy: PolicyView;
    try {
      policy = await this.policy.current(timeoutMs);
    } catch {
      return { decision: 'DENY', reasons: [], code: CONSENT_UNAVAILABLE };
    }
    const recipient = await this.recipients.current(request.recipientId);
    const at = occurredAt ? Date.parse(occurredAt) : Date.now();
    const reasons = new Set<string>(this.registerRules(request, recipient, policy, at));
    try {
      const consent = await this.dsg.consent.check(
        {
          clientId: request.clientId,
          recipientKind: recipient?.kind ?? request.recipientId,
          recipientId: request.recipientId,
          purpose: request.purpose,
          categories: request.categories,
          legalBasis: request.legalBasis,
          ...(request.authorizationId ? { authorizationId: request.authorizationId } : {}),
          ...(occurredAt ? { at: occurredAt } : {}),
        },
        { timeoutMs, retries: 0 },
      );
      for (const reason of consent.reasons) reasons.add(reason.rule);
      return {
        decision: reasons.size === 0 ? 'ALLOW' : 'DENY',
        reasons: [...reasons].sort(),
        recipientVersion: recipient?.version,
        policyVersion: consent.policyVersion,
      };
    } catch (err) {
      if (err instanceof DsgError && err.code === ErrorCodes.VALIDATION_FAILED) throw err;
      this.logger.warn(
        { context: 'Disclose', code: (err as DsgError).code },
        'consent did not answer: disclosure denied (fail closed)',
      );
      return {
        decision: 'DENY',
        reasons: [...reasons].sort(),
        code: CONSENT_UNAVAILABLE,
        recipientVersion: recipient?.version,
      };
    }
  }

  private registerRules(
    request: DiscloseRequest,
    recipient: RecipientReply | undefined,
    policy: PolicyView,
    now: number,
  ): string[] {
    const failed: string[] = [];
    // POL-1: a sale, never.
    if (policy.purposes.get(request.purpose)?.sale) failed.push('POL-1');
    // POL-2: only to a known, active recipient of a listed kind.
    if (!recipient || !recipient.active || !policy.recipientKinds.has(recipient.kind)) {
      failed.push('POL-2');
      return failed;
    }
    // HIP-5: no PHI to a business associate without an agreement in force.
    const phi = request.categories.some((c) =>
      policy.phi.some((p) => covers(p, c) || covers(c, p)),
    );
    if (phi && recipient.legalRole === 'business-associate' && !baaInForce(recipient, now)) {
      failed.push('HIP-5');
    }
    // HIP-4: minimum necessary, per recipient and purpose (treatment, authorization and
    // required-by-law disclosures are exempt).
    if (!MINIMUM_NECESSARY_EXEMPT.includes(request.legalBasis)) {
      const allowance = recipient.allowances.find((a) => a.purpose === request.purpose);
      const within =
        !!allowance &&
        request.categories.every((c) => allowance.categories.some((a) => covers(a, c)));
      if (!within) failed.push('HIP-4');
    }
    return failed;
  }
}

function baaInForce(recipient: RecipientReply, now: number): boolean {
  const baa = recipient.baa;
  if (!baa) return false;
  if (Date.parse(baa.effectiveFrom) > now) return false;
  if (baa.expiresAt && Date.parse(baa.expiresAt) <= now) return false;
  if (baa.terminatedAt && Date.parse(baa.terminatedAt) <= now) return false;
  return true;
}

import {
  type AccountingLine,
  AccountingProducedEvent,
  type AccountingReply,
  type AccountingSummary,
  canonicalJson,
  DsgError,
  ErrorCodes,
  isRealTimestamp,
  MAX_CLOCK_SKEW_MS,
  requireIdempotencyKey,
  unrealTimestamps,
  type ProduceAccountingForRightsRequest,
  type ProduceAccountingRequest,
  type RecipientReply,
  UnavailableError,
  UUID_PATTERN,
  ValidationFailedError,
} from '@dsg/contracts';
import { Outbox, requireCaller } from '@dsg/platform';
import { Injectable } from '@nestjs/common';
import { hash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { type EntryLeaf, recipientLookup, subjectEntries } from '../entries/subject-entries';
import { PolicyClient } from '../policy/policy.client';
import { RecipientsService } from '../recipients/recipients.service';
import { isAccountable, sixYearsBefore } from './accountable';
import { type SuspensionRow, SuspensionsService } from './suspensions.service';

const POLICY_TIMEOUT_MS = 2_000;

interface Disclosure {
  date: Date;
  position: number;
  leaf: EntryLeaf;
  description: string;
}

/**
 * The HIPAA accounting of disclosures for a subject (164.528). It lists, for the look-back (six
 * years before the request, ACC-4, or a shorter period asked for), every disclosure the register
 * holds for the subject that its legal basis makes accountable (ACC-2) — business associates'
 * reports included (ACC-3) — each with its date, recipient and address, a description and a
 * statement of purpose (ACC-1); disclosures covered by a suspension in force are left out until
 * it ends (ACC-8); repeated disclosures to one recipient for one purpose are summarised (ACC-7).
 * Every accounting produced is recorded with the producer's title and its content's hash, and
 * kept (ACC-9).
 */
@Injectable()
export class AccountingService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly recipients: RecipientsService,
    private readonly policy: PolicyClient,
    private readonly suspensions: SuspensionsService,
  ) {}

  /**
   * A retry with the same Idempotency-Key answers the accounting already recorded (one request,
   * one accounting: ACC-9's record and ACC-6's count stay true); with another request it is a
   * conflict.
   */
  async produce(
    request: ProduceAccountingRequest,
    caller: string,
    idempotencyKey: string | undefined,
    by: string,
  ): Promise<AccountingReply> {
    const key = requireIdempotencyKey(idempotencyKey, 'an accounting');
    const requestHash = hash('sha256', canonicalJson(request), 'hex');
    const prior = await this.byKey(caller, key, requestHash);
    if (prior) return prior;
    const producedAt = new Date();
    const { requestedAt, from, to } = this.period(request, producedAt.getTime());
    const rows = await subjectEntries(this.dataSource, request.clientId);
    const suspensions = await this.suspensions.inForce(producedAt);
    const shown: Disclosure[] = [];
    let suspended = 0;
    for (const row of rows) {
      const leaf = JSON.parse(row.leaf) as EntryLeaf;
      if (!isAccountable(leaf)) continue;
      const date = leaf.occurredAt ? new Date(leaf.occurredAt) : row.recorded_at;
      if (date < from || date > to) continue;
      if (suspensions.some((s) => suspends(s, leaf, request.clientId))) {
        suspended++; // ACC-8: hidden until the suspension ends
        continue;
      }
      shown.push({
        date,
        position: Number(row.position),
        leaf,
        description: row.details?.description ?? '(details redacted under the retention schedule)',
      });
    }
    const disclosures = await this.lines(shown);
    const id = randomUUID();
    const content: Omit<AccountingReply, 'contentHash'> = {
      accountingId: id,
      clientId: request.clientId,
      requestedAt: requestedAt.toISOString(),
      period: { from: from.toISOString(), to: to.toISOString() },
      producedAt: producedAt.toISOString(),
      producedBy: by,
      staffTitle: request.staffTitle,
      ...(request.rightsRequestRef ? { rightsRequestRef: request.rightsRequestRef } : {}),
      disclosures,
    };
    const contentHash = hash('sha256', canonicalJson(content), 'hex');
    const recorded = await this.dataSource.transaction(async (manager) => {
      const rows = (await manager.query(
        `INSERT INTO disclosure_register.accountings
           (id, client_id, requested_at, period_from, period_to, produced_at, produced_by,
            staff_title, rights_request_ref, lines, suspended_entries, content, content_hash,
            caller, idempotency_key, request_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (caller, idempotency_key) DO NOTHING RETURNING id`,
        [
          id,
          request.clientId,
          requestedAt,
          from,
          to,
          producedAt,
          by,
          request.staffTitle,
          request.rightsRequestRef ?? null,
          disclosures.length,
          suspended,
          content,
          contentHash,
          caller,
          key,
          requestHash,
        ],
      )) as unknown[];
      if (rows.length === 0) return false; // a concurrent retry recorded it
      await this.outbox.append(manager, AccountingProducedEvent, {
        accountingId: id,
        producedAt: content.producedAt,
        lines: disclosures.length,
        contentHash,
      });
      return true;
    });
    if (!recorded) return (await this.byKey(caller, key, requestHash))!;
    return { ...content, contentHash };
  }

  /**
   * An accounting for a rights request (issue 8): produced as `produce` does — the same period,
   * suspensions (ACC-8), lines and record — for the privacy officer the consent service acts for,
   * who is kept as its producer with the title and the rights request (ACC-9). Retries are keyed
   * on the consent service's Idempotency-Key; who it acts for is not part of what is compared, so
   * a retry carried for another officer answers the accounting already recorded.
   */
  async produceForRightsRequest(
    request: ProduceAccountingForRightsRequest,
    caller: string,
    idempotencyKey: string | undefined,
  ): Promise<AccountingReply> {
    requireCaller(
      caller,
      'consent',
      'produces accountings for rights requests, for a verified rights request',
    );
    const { actingFor, ...produce } = request;
    if (!produce.rightsRequestRef) {
      throw new ValidationFailedError([
        {
          field: 'rightsRequestRef',
          constraint: 'isDefined',
          message: 'an accounting for a rights request names the request (ACC-9)',
        },
      ]);
    }
    return this.produce(produce, caller, idempotencyKey, actingFor);
  }

  /** A subject's accountings for the consent service's fee check (ACC-6: one free in 12 months). */
  async listForRightsRequest(clientId: string, caller: string): Promise<AccountingSummary[]> {
    requireCaller(
      caller,
      'consent',
      "lists a subject's accountings, for a verified rights request",
    );
    return this.list(clientId);
  }

  private async byKey(
    caller: string,
    key: string,
    requestHash: string,
  ): Promise<AccountingReply | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT id, request_hash FROM disclosure_register.accountings
        WHERE caller = $1 AND idempotency_key = $2`,
      [caller, key],
    )) as { id: string; request_hash: string }[];
    if (!row) return undefined;
    if (row.request_hash !== requestHash) {
      throw new DsgError(
        ErrorCodes.IDEMPOTENCY_CONFLICT,
        'This Idempotency-Key was used for another accounting',
      );
    }
    return this.get(row.id);
  }

  /** An accounting as recorded (ACC-9). */
  async get(id: string): Promise<AccountingReply> {
    const [row] = (await this.dataSource.query(
      'SELECT content, content_hash FROM disclosure_register.accountings WHERE id = $1',
      [id],
    )) as { content: Omit<AccountingReply, 'contentHash'>; content_hash: string }[];
    if (!row) throw new DsgError(ErrorCodes.NOT_FOUND, 'No accounting has this id');
    return { ...row.content, contentHash: row.content_hash };
  }

  async list(clientId: string): Promise<AccountingSummary[]> {
    const rows = (await this.dataSource.query(
      `SELECT id, requested_at, period_from, period_to, produced_at, produced_by, staff_title,
              lines, content_hash
         FROM disclosure_register.accountings WHERE client_id = $1
        ORDER BY produced_at DESC, id`,
      [clientId],
    )) as {
      id: string;
      requested_at: Date;
      period_from: Date;
      period_to: Date;
      produced_at: Date;
      produced_by: string;
      staff_title: string;
      lines: number;
      content_hash: string;
    }[];
    return rows.map((r) => ({
      accountingId: r.id,
      requestedAt: r.requested_at.toISOString(),
      period: { from: r.period_from.toISOString(), to: r.period_to.toISOString() },
      producedAt: r.produced_at.toISOString(),
      producedBy: r.produced_by,
      staffTitle: r.staff_title,
      lines: r.lines,
      contentHash: r.content_hash,
    }));
  }

  /** ACC-4: the look-back, or the shorter period asked for inside it. */
  private period(request: ProduceAccountingRequest, now: number) {
    const problems = unrealTimestamps(request, ['requestedAt', 'from', 'to']);
    const moment = (field: 'requestedAt' | 'from' | 'to') => {
      const value = request[field];
      return value !== undefined && isRealTimestamp(value) ? new Date(value) : undefined;
    };
    const requestedAt = moment('requestedAt') ?? new Date(now);
    const asked = { from: moment('from'), to: moment('to') };
    if (requestedAt.getTime() > now + MAX_CLOCK_SKEW_MS) {
      problems.push({
        field: 'requestedAt',
        constraint: 'isPast',
        message: 'requestedAt must not be in the future',
      });
    }
    const lookBack = sixYearsBefore(requestedAt);
    if (asked.from && asked.from < lookBack) {
      problems.push({
        field: 'from',
        constraint: 'withinLookBack',
        message: 'an accounting reaches back at most six years before the request (ACC-4)',
      });
    }
    if (asked.to && asked.to > requestedAt) {
      problems.push({
        field: 'to',
        constraint: 'notAfterRequest',
        message: 'the period ends no later than the request',
      });
    }
    const from = asked.from ?? lookBack;
    const to = asked.to ?? requestedAt;
    if (from > to) {
      problems.push({
        field: 'to',
        constraint: 'isAfterFrom',
        message: 'to must not be before from',
      });
    }
    if (problems.length) throw new ValidationFailedError(problems);
    return { requestedAt, from, to };
  }

  /**
   * ACC-1 and ACC-7: one line per recipient, purpose (and legal request), the first disclosure in
   * full with the count and the date of the last; lines in the order of their first disclosure.
   */
  private async lines(shown: Disclosure[]): Promise<AccountingLine[]> {
    shown.sort((a, b) => a.date.getTime() - b.date.getTime() || a.position - b.position);
    const groups = new Map<string, Disclosure[]>();
    for (const d of shown) {
      const key = `${d.leaf.recipient.id}\u0000${d.leaf.purpose}\u0000${d.leaf.legalRequestRef ?? ''}`;
      const group = groups.get(key);
      if (group) group.push(d);
      else groups.set(key, [d]);
    }
    // What is recorded is what the individual receives (ACC-9): it is not produced with ids in
    // place of names because the policy or a recipient could not be read just then.
    const policy = await this.policy.current(POLICY_TIMEOUT_MS).catch(() => {
      throw new UnavailableError(
        ErrorCodes.UNAVAILABLE,
        'The policy (purposes’ statements) cannot be read now; retry',
      );
    });
    const recipientAt = recipientLookup(this.recipients);
    const requests = await this.legalRequests(shown);
    const lines: AccountingLine[] = [];
    for (const group of groups.values()) {
      const first = group[0];
      const last = group[group.length - 1];
      const recipient = await recipientAt(first.leaf.recipient.id, first.leaf.recipient.version);
      const label = policy?.purposes.get(first.leaf.purpose)?.label ?? first.leaf.purpose;
      const request = first.leaf.legalRequestRef
        ? requests.get(first.leaf.legalRequestRef)
        : undefined;
      lines.push({
        date: first.date.toISOString(),
        recipient: {
          id: first.leaf.recipient.id,
          name: recipient?.name ?? first.leaf.recipient.id,
          ...(recipient?.address ? { address: formatAddress(recipient.address) } : {}),
        },
        description: first.description,
        categories: first.leaf.categories,
        // ACC-1: a statement of purpose, or for a legal request what the request was.
        purpose: request
          ? `${label}: in answer to a ${request.instrument} (${request.reference}) from ${request.agency}`
          : label,
        legalBasis: first.leaf.legalBasis,
        count: group.length,
        ...(group.length > 1 ? { lastDate: last.date.toISOString() } : {}),
        positions: group.map((d) => d.position),
      });
    }
    return lines;
  }

  private async legalRequests(shown: Disclosure[]) {
    const ids = [
      ...new Set(
        shown.map((d) => d.leaf.legalRequestRef).filter((r) => !!r && UUID_PATTERN.test(r)),
      ),
    ];
    const rows = ids.length
      ? ((await this.dataSource.query(
          `SELECT id, instrument, reference, agency FROM disclosure_register.legal_requests
            WHERE id = ANY($1::uuid[])`,
          [ids],
        )) as { id: string; instrument: string; reference: string; agency: string }[])
      : [];
    return new Map(rows.map((r) => [r.id, r]));
  }
}

/** ACC-8: whether a suspension in force covers this disclosure of this subject. */
function suspends(s: SuspensionRow, leaf: EntryLeaf, clientId: string): boolean {
  return (
    s.recipient_id === leaf.recipient.id &&
    (s.legal_request_ids.length === 0 ||
      (!!leaf.legalRequestRef && s.legal_request_ids.includes(leaf.legalRequestRef))) &&
    (s.subjects.length === 0 || s.subjects.includes(clientId))
  );
}

function formatAddress(a: NonNullable<RecipientReply['address']>): string {
  return [a.line1, a.line2, `${a.city}, ${a.region} ${a.postalCode}`, a.country]
    .filter((part) => !!part)
    .join(', ');
}

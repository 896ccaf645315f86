import {
  canonicalJson,
  covers,
  DsgClient,
  DsgError,
  type ErasureBasis,
  type ErasureCertificateBody,
  ErasureCompletedEvent,
  type ErasureDecision,
  type ErasureNotice,
  type ErasureReply,
  ErrorCodes,
  type PurgeItemState,
  requireIdempotencyKey,
  type RequestErasureForRightsRequest,
  type RequestErasureRequest,
  ValidationFailedError,
} from '@dsg/contracts';
import { KeyRing, type Logger, Outbox, PLATFORM_LOGGER, requireCaller } from '@dsg/platform';
import { Inject, Injectable } from '@nestjs/common';
import { hash, randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { HELD_BY } from '../holds/holds.service';
import { PurgesService } from '../purges/purges.service';
import { type RetentionPolicyView, RetentionPolicy } from '../schedules/retention-policy';
import { ruleFor } from '../schedules/schedule';

interface ErasureRow {
  id: string;
  request_hash: string;
  client_id: string;
  basis: ErasureBasis;
  request_ref: string | null;
  requested_by: string;
  requested_at: Date;
  state: 'in-progress' | 'completed';
  decisions: ErasureDecision[];
  notices: ErasureNotice[] | null;
  notices_at: Date | null;
  certificate: ErasureReply['certificate'] | null;
  completed_at: Date | null;
}

interface HoldingRow {
  system: string;
  category: string;
  action: string | null;
  held_by: string[];
}

/** Item states an erasure waits for no longer. */
const FINAL: PurgeItemState[] = ['done', 'held', 'superseded', 'dead-lettered'];

/**
 * Why a holding is kept, before any erasure: the product's own records and the spa's legal
 * retention duties (RET-6: they beat a deletion request, 1798.105(d)).
 */
const RETENTION_DUTIES: Record<string, string> = {
  'RET-1':
    'medical records are kept at least 7 years after the last encounter (a legal retention duty)',
  'RET-2': 'HIPAA documentation is kept 6 years (a legal retention duty)',
  'RET-3': 'the consumer-rights request log is kept 24 months (a legal retention duty)',
  'RET-4': 'financial records are kept 7 years (a legal retention duty)',
};

/**
 * Erasure requests (CCP-4, KID-1, POL-5). Every holding of the subject is decided: kept when a
 * legal hold covers it (RET-6), when it is medical information or PHI under a consumer's request
 * (exempt from CCPA deletion, 1798.146: routed to the HIPAA access and amendment paths), or when a
 * legal retention duty applies (RET-1, RET-2, RET-4, the register's ACC-9); erased otherwise,
 * through purge items to the holding systems. Every recipient the register shows received the
 * subject's data is told, each notice a register entry. Once every item is settled the erasure
 * completes with a certificate signed by the service's key: what was erased, what was kept and
 * under which rule, what could not be erased.
 */
@Injectable()
export class ErasuresService {
  private completing?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly purges: PurgesService,
    private readonly policy: RetentionPolicy,
    private readonly dsg: DsgClient,
    private readonly keyRing: KeyRing,
    private readonly outbox: Outbox,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {
    purges.onSettled = (ids) => this.completeSome(ids);
  }

  async request(
    request: RequestErasureRequest,
    caller: string,
    idempotencyKey: string | undefined,
    by: string,
  ): Promise<ErasureReply> {
    const key = requireIdempotencyKey(idempotencyKey, 'an erasure');
    const requestHash = hash('sha256', canonicalJson(request), 'hex');
    const prior = await this.byKey(caller, key);
    if (prior) return this.replay(prior, requestHash);

    if (request.basis === 'child-without-parental-consent') await this.assertChild(request);
    const policy = await this.policy.current();
    const id = randomUUID();
    const created = await this.dataSource.transaction(async (manager) => {
      const holdings = (await manager.query(
        `SELECT system, category, action, ${HELD_BY} AS held_by
           FROM retention.holdings h WHERE client_id = $1
          ORDER BY system, category
            FOR UPDATE`,
        [request.clientId],
      )) as HoldingRow[];
      const decisions = holdings.map((h) => decide(h, request.basis, policy));
      const inserted = (await manager.query(
        `INSERT INTO retention.erasures
           (id, caller, idempotency_key, request_hash, client_id, basis, request_ref, reason,
            requested_by, state, decisions)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'in-progress', '[]')
         ON CONFLICT (caller, idempotency_key) DO NOTHING RETURNING id`,
        [
          id,
          caller,
          key,
          requestHash,
          request.clientId,
          request.basis,
          request.requestRef ?? null,
          request.reason,
          by,
        ],
      )) as { id: string }[];
      if (inserted.length === 0) return false; // a concurrent retry of the same key won
      const toErase = decisions.filter((d) => d.decision === 'erase');
      const issued = await this.purges.issue(
        manager,
        toErase.map((d) => ({
          system: d.system,
          clientId: request.clientId,
          category: d.category,
          action: d.action!,
          rule: d.rule,
        })),
        { source: 'erasure', erasureId: id },
      );
      const itemOf = new Map(issued.map((i) => [`${i.system}\u0000${i.category}`, i.itemId]));
      // A holding a sweep is purging already: the erasure waits for that item.
      const open = (await manager.query(
        `SELECT id, system, category FROM retention.purge_items
          WHERE client_id = $1 AND state IN ('issued', 'failed')`,
        [request.clientId],
      )) as { id: string; system: string; category: string }[];
      for (const o of open) {
        const k = `${o.system}\u0000${o.category}`;
        if (!itemOf.has(k)) itemOf.set(k, o.id);
      }
      for (const d of toErase) d.itemId = itemOf.get(`${d.system}\u0000${d.category}`);
      await manager.query('UPDATE retention.erasures SET decisions = $2 WHERE id = $1', [
        id,
        JSON.stringify(decisions),
      ]);
      return true;
    });
    if (!created) return this.replay((await this.byKey(caller, key))!, requestHash);
    this.logger.info({ context: 'Erasures', erasureId: id }, 'erasure requested');
    await this.completeSome([id]);
    return this.get(id);
  }

  /**
   * A consumer's deletion request carried out for a rights request (CCP-4, issue 8): the same
   * erasure as `request`, its basis `consumer-request`, its reference the rights request, and
   * requested by the privacy officer the consent service acts for. A retry with the same
   * Idempotency-Key answers the erasure as it stands then: that is how the consent service reads
   * its outcome later. Who it acts for is not part of what a retry is compared on.
   */
  async requestForRightsRequest(
    request: RequestErasureForRightsRequest,
    caller: string,
    idempotencyKey: string | undefined,
  ): Promise<ErasureReply> {
    requireCaller(
      caller,
      'consent',
      'carries out erasures for rights requests, for a verified rights request',
    );
    return this.request(
      {
        clientId: request.clientId,
        basis: 'consumer-request',
        reason: request.reason,
        requestRef: request.rightsRequestId,
      },
      caller,
      idempotencyKey,
      request.actingFor,
    );
  }

  /** KID-1, POL-5: this basis is for a child under 13, as the consent service knows the subject. */
  private async assertChild(request: RequestErasureRequest): Promise<void> {
    let band: string;
    try {
      band = (await this.dsg.consent.subjectGet({ clientId: request.clientId })).ageBand;
    } catch (err) {
      if (err instanceof DsgError && err.code === ErrorCodes.NOT_FOUND) band = 'unknown';
      else throw err;
    }
    if (band !== 'under-13') {
      throw new ValidationFailedError([
        {
          field: 'basis',
          constraint: 'isChild',
          // The subject's age band is not said: no personal data in error messages.
          message: 'KID-1 applies only to a subject the consent service knows as under 13',
        },
      ]);
    }
  }

  async get(id: string): Promise<ErasureReply> {
    const [row] = (await this.dataSource.query('SELECT * FROM retention.erasures WHERE id = $1', [
      id,
    ])) as ErasureRow[];
    if (!row) throw new DsgError(ErrorCodes.NOT_FOUND, 'No such erasure');
    return this.toReply(row, await this.itemStates(this.dataSource.manager, row));
  }

  /**
   * Completes what can be: erasures whose notices are recorded (recording them first if they are
   * not) and whose items are all settled. Any replica; an erasure completes once (row lock).
   */
  async completeSome(ids?: string[]): Promise<void> {
    const previous = this.completing;
    const run = (async () => {
      await previous?.catch(() => {});
      const open = ids
        ? ids
        : (
            (await this.dataSource.query(
              "SELECT id FROM retention.erasures WHERE state = 'in-progress' ORDER BY requested_at LIMIT 100",
            )) as { id: string }[]
          ).map((r) => r.id);
      for (const id of open) await this.complete(id);
    })();
    this.completing = run;
    await run.catch((err: { code?: string }) => {
      this.logger.warn(
        { context: 'Erasures', code: err.code ?? ErrorCodes.INTERNAL },
        'an erasure could not be completed now; the next check tries again',
      );
    });
  }

  private async complete(id: string): Promise<void> {
    const [row] = (await this.dataSource.query(
      "SELECT * FROM retention.erasures WHERE id = $1 AND state = 'in-progress'",
      [id],
    )) as ErasureRow[];
    if (!row) return;
    if (!row.notices_at) {
      // CCP-4: the recipients of the subject's data are told; the register records each notice
      // (a retry with the same ref records nothing again).
      const { notices } = await this.dsg.disclosureRegister.noticesRecord({
        clientId: row.client_id,
        notice: 'deletion-request',
        rule: 'CCP-4',
        ref: row.id,
      });
      await this.dataSource.query(
        'UPDATE retention.erasures SET notices = $2, notices_at = now() WHERE id = $1 AND notices_at IS NULL',
        [id, JSON.stringify(notices)],
      );
    }
    await this.dataSource.transaction(async (manager) => {
      const [locked] = (await manager.query(
        "SELECT * FROM retention.erasures WHERE id = $1 AND state = 'in-progress' FOR UPDATE",
        [id],
      )) as ErasureRow[];
      if (!locked) return;
      const states = await this.itemStates(manager, locked);
      if ([...states.values()].some((s) => !FINAL.includes(s.state))) return;
      const completedAt = new Date().toISOString();
      const body = certificateBody(locked, states, completedAt);
      const signature = this.keyRing.sign(canonicalJson(body));
      const certificate = {
        body,
        kid: signature.kid,
        alg: 'EdDSA' as const,
        signature: signature.sig,
      };
      await manager.query(
        `UPDATE retention.erasures SET state = 'completed', completed_at = $2, certificate = $3
          WHERE id = $1`,
        [id, completedAt, JSON.stringify(certificate)],
      );
      await this.outbox.append(manager, ErasureCompletedEvent, {
        erasureId: id,
        basis: locked.basis,
        erased: body.erased.length,
        kept: body.kept.length,
        notErased: body.notErased.length,
        notices: body.notices.length,
      });
      this.logger.info(
        { context: 'Erasures', erasureId: id },
        'erasure completed, certificate signed',
      );
    });
  }

  private async itemStates(
    manager: EntityManager,
    row: ErasureRow,
  ): Promise<Map<string, { state: PurgeItemState; detail: string | null }>> {
    const ids = row.decisions.map((d) => d.itemId).filter((i): i is string => !!i);
    if (ids.length === 0) return new Map();
    const items = (await manager.query(
      'SELECT id, state, detail FROM retention.purge_items WHERE id = ANY($1::uuid[])',
      [ids],
    )) as { id: string; state: PurgeItemState; detail: string | null }[];
    return new Map(items.map((i) => [i.id, { state: i.state, detail: i.detail }]));
  }

  private async byKey(caller: string, key: string): Promise<ErasureRow | undefined> {
    const [row] = (await this.dataSource.query(
      'SELECT * FROM retention.erasures WHERE caller = $1 AND idempotency_key = $2',
      [caller, key],
    )) as ErasureRow[];
    return row;
  }

  private async replay(prior: ErasureRow, requestHash: string): Promise<ErasureReply> {
    if (prior.request_hash !== requestHash) {
      throw new DsgError(
        ErrorCodes.IDEMPOTENCY_CONFLICT,
        'This Idempotency-Key was used for another erasure',
      );
    }
    return this.get(prior.id);
  }

  private toReply(
    row: ErasureRow,
    states: Map<string, { state: PurgeItemState; detail: string | null }>,
  ): ErasureReply {
    return {
      erasureId: row.id,
      clientId: row.client_id,
      basis: row.basis,
      state: row.state,
      requestedAt: row.requested_at.toISOString(),
      requestedBy: row.requested_by,
      ...(row.request_ref ? { requestRef: row.request_ref } : {}),
      ...(row.completed_at ? { completedAt: row.completed_at.toISOString() } : {}),
      decisions: row.decisions.map((d) => ({
        ...d,
        ...(d.itemId && states.get(d.itemId) ? { state: states.get(d.itemId)!.state } : {}),
      })),
      notices: row.notices ?? [],
      ...(row.certificate ? { certificate: row.certificate } : {}),
    };
  }
}

/** One holding's decision under the erasure's basis (the exceptions first). */
function decide(h: HoldingRow, basis: ErasureBasis, policy: RetentionPolicyView): ErasureDecision {
  const at = { system: h.system, category: h.category };
  if (h.held_by.length) {
    return {
      ...at,
      decision: 'keep',
      rule: 'RET-6',
      reason: `a legal hold covers it (${h.held_by.join(', ')})`,
    };
  }
  if (h.system === 'disclosure-register') {
    return {
      ...at,
      decision: 'keep',
      rule: 'ACC-9',
      reason: 'the register’s entries are kept 6 years (accounting of disclosures)',
    };
  }
  const rule = ruleFor(policy.rules, h.category)?.rule;
  const isPhi = policy.phi.some((p) => covers(p, h.category) || covers(h.category, p));
  if (basis === 'consumer-request' && isPhi) {
    return {
      ...at,
      decision: 'keep',
      rule: 'CCP-4',
      reason:
        'medical information and PHI are exempt from CCPA deletion (1798.146): routed to the HIPAA access and amendment paths',
    };
  }
  // RET-1 is a duty on the medical record (the treatment records, and PHI wherever it is held),
  // not on the identifiers a booking or CRM system keeps beside it.
  const duty =
    rule === 'RET-1' && !(h.system === 'treatment-records' || isPhi)
      ? undefined
      : rule && RETENTION_DUTIES[rule];
  if (rule && duty) return { ...at, decision: 'keep', rule, reason: duty };
  const erasedUnder = basis === 'consumer-request' ? 'CCP-4' : 'KID-1';
  return {
    ...at,
    decision: 'erase',
    action: h.action === 'de-identify' ? 'de-identify' : 'delete',
    rule: erasedUnder,
    reason:
      basis === 'consumer-request'
        ? 'the consumer asked for deletion and no exception applies'
        : "a child's data collected without verifiable parental consent is deleted (KID-1, POL-5)",
  };
}

function certificateBody(
  row: ErasureRow,
  states: Map<string, { state: PurgeItemState; detail: string | null }>,
  completedAt: string,
): ErasureCertificateBody {
  const erased: ErasureCertificateBody['erased'] = [];
  const kept: ErasureCertificateBody['kept'] = [];
  const notErased: ErasureCertificateBody['notErased'] = [];
  for (const d of row.decisions) {
    const at = { system: d.system, category: d.category };
    if (d.decision === 'keep') {
      kept.push({ ...at, rule: d.rule, reason: d.reason });
      continue;
    }
    const item = d.itemId ? states.get(d.itemId) : undefined;
    if (item?.state === 'done') erased.push({ ...at, action: d.action!, rule: d.rule });
    else if (item?.state === 'held') {
      kept.push({
        ...at,
        rule: 'RET-6',
        reason: 'a legal hold placed before the purge ran covers it',
      });
    } else {
      notErased.push({
        ...at,
        rule: d.rule,
        reason:
          item?.state === 'superseded'
            ? 'declared again by its system before the purge ran: a new erasure is needed'
            : `the holding system did not complete the purge (${item?.detail ?? 'no answer'})`,
      });
    }
  }
  return {
    type: 'dsg.erasure-certificate',
    version: 1,
    erasureId: row.id,
    clientId: row.client_id,
    basis: row.basis,
    requestedAt: row.requested_at.toISOString(),
    completedAt,
    erased,
    kept,
    notErased,
    notices: row.notices ?? [],
  };
}

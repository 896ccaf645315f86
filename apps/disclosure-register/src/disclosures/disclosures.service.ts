import {
  canonicalJson,
  covers,
  type DiscloseRequest,
  DisclosureDeniedEvent,
  type DisclosureReceipt,
  DisclosureRecordedEvent,
  DsgError,
  ErrorCodes,
  isRealTimestamp,
  MAX_CLOCK_SKEW_MS,
  requireIdempotencyKey,
  UnavailableError,
  type ReceiptBody,
  receiptBatch,
  type RecipientReply,
  type ReportDisclosureRequest,
  type ReportReceipt,
  traceHeaders,
  ValidationFailedError,
} from '@dsg/contracts';
import {
  combineStatements,
  type HeldConnection,
  holdConnection,
  KeyRing,
  type Logger,
  MetricsService,
  Outbox,
  type OutboxItem,
  PLATFORM_LOGGER,
  type Statement,
} from '@dsg/platform';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { Inject, Injectable } from '@nestjs/common';
import { createHash, hash, randomInt, randomUUID } from 'node:crypto';
import { Counter } from 'prom-client';
import { DataSource, type EntityManager } from 'typeorm';
import { BreachesService } from '../breaches/breaches.service';
import { REGISTER_CONFIG, type RegisterConfig } from '../config/register.config';
import { ConsentChecks } from '../consent/consent-checks';
import { LegalRequestScope } from '../legal-requests/legal-request-scope';
import { type AppendedEntry, NEXT_POSITION, RegisterLog } from '../log/register-log.service';
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

/** A decided request waiting for its batch to commit. */
interface Pending {
  caller: string;
  key: string;
  requestHash: string;
  request: DiscloseRequest;
  reported?: Reported;
  part: ConsentPart;
  /** The request's trace headers, carried onto its event. */
  trace: Record<string, string>;
  resolve: (receipt: DisclosureReceipt | ReportReceipt) => void;
  reject: (err: unknown) => void;
}

/** Entries per group commit at most. */
const MAX_BATCH = 256;

/**
 * Optimistic batches in flight at most, each on a connection of its own: while one holds the log's
 * lock to write its entries and commit, the next writes its keys and events (appendOptimistically).
 */
const PIPELINE_DEPTH = 2;

/** A connection optimistic appends go through, one batch at a time. */
interface Appender extends HeldConnection {
  /** The connection failed: it is closed, not given back to the pool. */
  broken: boolean;
}

/** An optimistic batch sent, and the assumptions it was sent on (see `generation`). */
interface InFlight {
  batch: Pending[];
  generation: number;
  /** Its turn: the batch sent after it waits for its lock (see migration 1766400000000). */
  turn: number;
  appender: Appender;
  written: Promise<Outcome[] | undefined>;
  settled: boolean;
}

/** Attempts of a locked append whose position another instance's optimistic append took. */
const LOCKED_ATTEMPTS = 5;

type Outcome = DisclosureReceipt | ReportReceipt | Error;

/** A request of the batch to be recorded, and what was decided. */
interface Fresh {
  index: number;
  entryId: string;
  retryOf?: string;
  flagged: boolean;
  decision: Decision;
}

/** What the consent service said, and with which policy, before the batch. */
interface ConsentPart {
  /** When the disclosure is (or was) made, epoch ms. */
  at: number;
  /** Undefined when the policy could not be read (then `code` says why). */
  policy?: PolicyView;
  /** The recipient kind consent was asked about. */
  kind?: string;
  reasons: string[];
  code?: string;
  policyVersion?: string;
}

interface Prior {
  request_hash: string;
  entry_id: string;
  receipt: DisclosureReceipt;
}

/** A key as read: its receipt kept whole (keys older than migration 1766500000000), or its batch. */
type StoredPrior = Omit<Prior, 'receipt'> & {
  caller: string;
  key: string;
  receipt: DisclosureReceipt | null;
  batch: StoredBatch | null;
};

/** A receipt batch as stored (migration 1766500000000): its signature and its entries, in order. */
interface StoredBatch {
  kid: string;
  signature: string;
  entries: { leaf: string; leafHash: string; breach: string | null }[];
}

/** What a receipt's body says of its entry: the leaf's fields of the same names. */
interface ReceiptFields {
  code?: string;
  decision: 'ALLOW' | 'DENY';
  entryId: string;
  flagged?: boolean;
  position: number;
  reasons: string[];
  recordedAt: string;
  retryOf?: string;
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
  private queue: Pending[] = [];
  private writing = false;
  /** Settled when a request is queued while batches are being written (see drain). */
  private arrival?: { promise: Promise<void>; resolve: () => void };
  /** Counts failed optimistic appends: batches sent before the last failure assumed wrongly. */
  private generation = 0;
  /** Batches appended, by how (operators watch the locked share: instances contending). */
  private readonly appends: Counter<'path'>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly log: RegisterLog,
    private readonly recipients: RecipientsService,
    private readonly policy: PolicyClient,
    private readonly keyRing: KeyRing,
    private readonly outbox: Outbox,
    private readonly breaches: BreachesService,
    private readonly consentChecks: ConsentChecks,
    private readonly legalScope: LegalRequestScope,
    @Inject(REGISTER_CONFIG) private readonly config: RegisterConfig,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    this.appends = new Counter({
      name: 'dsg_register_batches_total',
      help: 'Disclosure batches committed, by path: optimistic (one statement) or locked',
      labelNames: ['path'],
      registers: [metrics.registry],
    });
  }

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
    if (!isRealTimestamp(occurredAt) || Date.parse(occurredAt) > Date.now() + MAX_CLOCK_SKEW_MS) {
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
    const key = requireIdempotencyKey(idempotencyKey, 'a disclosure');
    const requestHash = hash(
      'sha256',
      canonicalJson(reported ? { ...request, ...reported } : request),
      'hex',
    );
    // A replayed key is answered in the batch (its receipt, or a conflict), not here: one round
    // trip less for every request, and a replay is rare.
    const part = await this.consentPart(request, reported?.occurredAt);
    // HIP-6, CMI-3: a disclosure to law enforcement, on whatever basis, answers a legal request
    // that may be fulfilled.
    if (
      request.legalBasis === 'law-enforcement' ||
      request.legalRequestRef ||
      part.kind === 'law-enforcement'
    ) {
      part.reasons = [...part.reasons, ...(await this.legalScope.reasons(request))];
    }
    return new Promise((resolve, reject) => {
      this.queue.push({
        caller,
        key,
        requestHash,
        request,
        reported,
        part,
        trace: traceHeaders(),
        resolve,
        reject,
      });
      if (this.writing) {
        this.arrival?.resolve();
        this.arrival = undefined;
        // Outside the request's trace: the batch belongs to every request in it.
      } else context.with(ROOT_CONTEXT, () => void this.drain());
    });
  }

  /**
   * Group commit: decided requests wait here while batches are being written, then go together
   * into one commit (one fsync) of up to MAX_BATCH entries. Nothing is answered before its batch
   * has committed. A batch is first appended optimistically, in one statement that takes the log's
   * lock only for its entries (appendOptimistically). Up to PIPELINE_DEPTH batches are in flight,
   * each on its own connection: while one is being written, the requests that arrive go at once in
   * the next, which writes its keys and events meanwhile and then waits for its turn. When a batch
   * cannot be tried so, or its assumptions turned out wrong, it is appended under the lock
   * (appendLocked), in its turn; no new batch is sent before those sent on the wrong assumptions
   * are settled. A batch that fails answers every request in it with the failure, and none of
   * them was recorded. Batches are answered in the order they were sent.
   */
  private async drain(): Promise<void> {
    this.writing = true;
    const inFlight: InFlight[] = [];
    const appenders: Appender[] = [];
    try {
      for (;;) {
        while (this.queue.length > 0 && this.maySend(inFlight)) {
          const appender = await this.freeAppender(appenders, inFlight);
          if (!appender) break;
          const batch = this.takeBatch();
          const after = inFlight.at(-1)?.turn;
          const flight: InFlight = {
            batch,
            generation: this.generation,
            turn: randomInt(2 ** 31 - 1),
            appender,
            settled: false,
            written: Promise.resolve(undefined),
          };
          flight.written = this.appendOptimistically(appender, batch, flight.turn, after).finally(
            () => (flight.settled = true),
          );
          // Its failure is answered when its turn comes (below), not as an unhandled rejection.
          flight.written.catch(() => undefined);
          inFlight.push(flight);
        }
        const head = inFlight[0];
        if (!head && this.queue.length === 0) break;
        if (head && !head.settled && this.queue.length === 0 && this.maySend(inFlight)) {
          // Whichever comes first: the head commits, or requests arrive to send behind it.
          await Promise.race([head.written.catch(() => undefined), this.nextArrival()]);
          continue;
        }
        inFlight.shift();
        const batch = head?.batch ?? this.takeBatch();
        try {
          let outcomes = head ? await head.written : undefined;
          if (outcomes) this.appends.inc({ path: 'optimistic' });
          else {
            outcomes = await this.appendLocked(batch);
            this.appends.inc({ path: 'locked' });
          }
          batch.forEach((p, i) => {
            const outcome = outcomes[i];
            if (outcome instanceof Error) p.reject(outcome);
            else p.resolve(outcome);
          });
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      for (const appender of appenders) appender.release(appender.broken || undefined);
      this.writing = false;
    }
  }

  /** Whether another optimistic batch may be sent behind those in flight. */
  private maySend(inFlight: InFlight[]): boolean {
    return (
      inFlight.length < PIPELINE_DEPTH &&
      this.log.nextHint !== undefined &&
      inFlight.every((f) => f.generation === this.generation)
    );
  }

  /** Settles when the next request is queued (see record). */
  private nextArrival(): Promise<void> {
    if (!this.arrival) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.arrival = { promise, resolve };
    }
    return this.arrival.promise;
  }

  /**
   * A connection no batch in flight is using: one held already, or a new one. Undefined if the
   * pool cannot give one (the batch is then appended under the lock).
   */
  private async freeAppender(
    appenders: Appender[],
    inFlight: InFlight[],
  ): Promise<Appender | undefined> {
    const busy = new Set(inFlight.map((f) => f.appender));
    for (const appender of [...appenders]) {
      if (busy.has(appender)) continue;
      if (!appender.broken) return appender;
      appender.release(true);
      appenders.splice(appenders.indexOf(appender), 1);
    }
    const fresh = await this.obtainAppender();
    if (fresh) appenders.push(fresh);
    return fresh;
  }

  /** The connection optimistic appends are sent on, held while batches keep coming. */
  private async obtainAppender(): Promise<Appender | undefined> {
    try {
      return { ...(await holdConnection(this.dataSource)), broken: false };
    } catch (err) {
      // Without it every batch takes the locked path, which reports the database's state.
      this.logger.warn(
        { context: 'Disclose', code: sqlState(err) },
        'no connection for optimistic appends',
      );
      return undefined;
    }
  }

  /** Up to MAX_BATCH requests, one per idempotency key (a repeat waits for the next batch). */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    const keys = new Set<string>();
    for (const p of this.queue) {
      const key = `${p.caller}\u0000${p.key}`;
      if (batch.length < MAX_BATCH && !keys.has(key)) {
        keys.add(key);
        batch.push(p);
      } else {
        rest.push(p);
      }
    }
    this.queue = rest;
    return batch;
  }

  /**
   * The batch in one statement, committed on its own (one round trip), assuming what this
   * instance last saw: the log's next position (its own last append, or the reservation of the
   * batch in flight before it), the recipients' current versions (as last read under the lock),
   * and that no key of the batch was used before. The statement writes the keys and events, waits
   * for the batch before it, takes the append lock, checks all three on a fresh snapshot
   * (append_in_turn), then writes the entries; the primary key refuses a position taken
   * meanwhile by another instance. If anything does not hold, nothing of it is written and the
   * answer is undefined: the batch is then appended under the lock, which
   * re-reads everything. So is a batch with a flagged report (its breach assessment is written
   * after its entry) or a decision refused as retryable. An unknown outcome (the connection lost
   * at commit) is safe too: the locked append finds the keys, and answers their receipts.
   */
  private async appendOptimistically(
    appender: Appender,
    batch: Pending[],
    turn: number,
    after: number | undefined,
  ): Promise<Outcome[] | undefined> {
    // Synchronous up to the query: positions are reserved in the order batches are sent.
    const ids = [...new Set(batch.map((p) => p.request.recipientId))];
    const recipients = this.recipients.lastReadOf(ids);
    if (!recipients) return undefined;
    const { outcomes, fresh } = this.decide(batch, new Map(), recipients);
    if (fresh.length < batch.length || fresh.some((f) => f.flagged)) return undefined;
    const next = this.log.reserve(fresh.length);
    if (next === undefined) return undefined;
    const {
      statements: [append, keys, events, signed],
      appended,
    } = this.writes(next, batch, fresh, outcomes, 'new');
    // The batch takes its turn, which the batch sent after it waits for, then writes its keys (s0)
    // and events (s1) outside the log's lock: the guard's argument takes and reads them, in order.
    // The guard then waits for the batch sent before this one, takes the lock and checks what was
    // assumed; the entries and the receipts' batch (s2, s3, read by nothing) are written after it,
    // under the lock (migration 1766400000000).
    const guard: Statement = {
      sql: `SELECT disclosure_register.append_in_turn(
                   disclosure_register.take_turn($1::int)
               AND (SELECT count(*) FROM s0) = $2 AND (SELECT count(*) FROM s1) > 0,
                   $3::bigint, $4::text[], $5::int[], $6::int)`,
      params: [
        turn,
        fresh.length,
        next,
        ids,
        ids.map((id) => recipients.get(id)?.version ?? null),
        after ?? null,
      ],
    };
    const written = combineStatements([keys, events, append, signed, guard]);
    try {
      // A named statement: parsed and planned once per connection, not for every batch.
      await appender.client.query({
        name: preparedName(written.sql),
        text: written.sql,
        values: written.params,
      });
    } catch (err) {
      const state = sqlState(err);
      // No SQLSTATE: the connection itself failed; the batches behind it fail the same way. A
      // statement cancelled (57014) may have been stopped holding the previous batch's turn,
      // which append_in_turn takes at session level for an instant: the connection is closed,
      // and the lock with it, rather than given back to the pool.
      if (state === undefined || state === '57014') appender.broken = true;
      this.generation++;
      this.log.forgetNext();
      this.recipients.forget();
      this.logger.debug(
        { context: 'Disclose', code: state },
        'optimistic append did not hold: the batch is appended under the lock',
      );
      return undefined;
    }
    this.log.committed(appended[appended.length - 1].position + 1);
    return outcomes as Outcome[];
  }

  /**
   * The batch in a transaction under the log's lock. An optimistic append holds the same lock
   * while it commits, or fails, so the position read here is free; should the primary key still
   * refuse it, the batch is tried again, a few times.
   */
  private async appendLocked(batch: Pending[]): Promise<Outcome[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction((manager) => this.writeBatch(manager, batch));
      } catch (err) {
        // Should an optimistic append of another instance wait for a key this one wrote, while
        // this one waits for its lock, the database ends one of them (a deadlock): try again.
        if (attempt >= LOCKED_ATTEMPTS || !(isPositionTaken(err) || sqlState(err) === '40P01')) {
          throw err;
        }
      }
    }
  }

  private async writeBatch(manager: EntityManager, batch: Pending[]): Promise<Outcome[]> {
    // Under the log's lock every earlier locked append of any instance has committed: a key
    // recorded meanwhile (a concurrent retry) is found here and answered with its receipt. What
    // the batch needs to know is read in one statement: the next position, the keys, the
    // recipients.
    await this.log.lock(manager);
    const ids = [...new Set(batch.map((p) => p.request.recipientId))];
    const [read] = (await manager.query(
      `SELECT ${NEXT_POSITION} AS next,
              (SELECT coalesce(json_agg(k), '[]') FROM (
                 SELECT k.caller, k.key, k.request_hash, k.entry_id, k.receipt,
                        CASE WHEN k.receipt IS NULL THEN (${STORED_BATCH}) END AS batch
                   FROM disclosure_register.idempotency_keys k
                   JOIN unnest($1::text[], $2::text[]) AS b(caller, key) USING (caller, key)) k) AS priors,
              ${RecipientsService.currentInJson('$3')} AS recipients`,
      [batch.map((p) => p.caller), batch.map((p) => p.key), ids],
    )) as {
      next: string;
      priors: StoredPrior[];
      recipients: unknown[];
    }[];
    const priors = new Map(
      read.priors.map((r) => [
        `${r.caller}\u0000${r.key}`,
        { ...r, receipt: r.receipt ?? rebuildReceipt(r.entry_id, r.batch) },
      ]),
    );
    const recipients = RecipientsService.fromJsonRows(read.recipients);
    this.recipients.remember(ids, recipients);
    const { outcomes, fresh } = this.decide(batch, priors, recipients);
    if (fresh.length === 0) return outcomes as Outcome[];

    const { statements, appended, breaches } = this.writes(
      Number(read.next),
      batch,
      fresh,
      outcomes,
      'new-or-retried',
    );
    // The entries, their keys, their events and their receipts' batch: one statement, one round trip.
    const written = combineStatements(statements);
    await manager.query(written.sql, written.params);
    for (const b of breaches) {
      await this.breaches.open(manager, b.entryId, b.decision.reasons, new Date(b.at), b.id);
    }
    this.log.appended(appended[appended.length - 1].position + 1);
    return outcomes as Outcome[];
  }

  /**
   * Each request's answer where it has one already (a replayed key's receipt, a conflict, a
   * refusal), and the decisions of those to be recorded.
   */
  private decide(
    batch: Pending[],
    priors: Map<string, Prior>,
    recipients: Map<string, RecipientReply>,
  ): { outcomes: Outcome[]; fresh: Fresh[] } {
    const outcomes: Outcome[] = [];
    const fresh: Fresh[] = [];
    batch.forEach((p, index) => {
      const prior = priors.get(`${p.caller}\u0000${p.key}`);
      if (prior && prior.request_hash !== p.requestHash) {
        outcomes[index] = new DsgError(
          ErrorCodes.IDEMPOTENCY_CONFLICT,
          'This Idempotency-Key was used for another disclosure',
        );
      } else if (prior && prior.receipt.code !== CONSENT_UNAVAILABLE) {
        outcomes[index] = prior.receipt;
      } else {
        const decision = this.final(p.request, p.part, recipients.get(p.request.recipientId));
        if (decision instanceof Error) {
          outcomes[index] = decision;
          return;
        }
        fresh.push({
          index,
          entryId: randomUUID(),
          retryOf: prior?.entry_id,
          flagged: p.reported !== undefined && decision.decision === 'DENY',
          decision,
        });
      }
    });
    return { outcomes, fresh };
  }

  /**
   * The statements recording `fresh` from position `next`: entries, keys, events (in that
   * order). Fills in their receipts. Keys are 'new' (a key already used makes its INSERT return
   * fewer rows) or 'new-or-retried' (a retry after CONSENT_UNAVAILABLE takes the key over).
   */
  private writes(
    next: number,
    batch: Pending[],
    fresh: Fresh[],
    outcomes: Outcome[],
    keysAre: 'new' | 'new-or-retried',
  ): {
    statements: Statement[];
    appended: AppendedEntry[];
    breaches: { id: string; entryId: string; decision: Decision; at: string }[];
  } {
    const { statement: append, appended } = this.log.appendStatement(
      next,
      fresh.map(({ index, entryId, retryOf, flagged, decision }) => {
        const { caller, request, reported } = batch[index];
        return {
          entryId,
          // Keys in canonical order (the leaf is then written without sorting: canonicalJson).
          content: {
            authorizationId: request.authorizationId,
            caller,
            categories: request.categories,
            code: decision.code,
            decision: decision.decision,
            ...(reported ? { flagged } : {}),
            legalBasis: request.legalBasis,
            legalRequestRef: request.legalRequestRef,
            ...(reported ? { occurredAt: reported.occurredAt } : {}),
            policyVersion: decision.policyVersion,
            purpose: request.purpose,
            reasons: decision.reasons,
            recipient: { id: request.recipientId, version: decision.recipientVersion ?? null },
            ...(reported?.reportedBy ? { reportedBy: reported.reportedBy } : {}),
            retryOf,
            ...(reported ? { source: reported.source } : {}),
            type: reported ? 'reported-disclosure' : 'disclosure',
            v: 1,
          },
          details: {
            ...(request.actingPerson ? { actingPerson: request.actingPerson } : {}),
            clientId: request.clientId,
            description: request.description,
          },
        };
      }),
    );
    const breaches: { id: string; entryId: string; decision: Decision; at: string }[] = [];
    const bodies: ReceiptBody[] = fresh.map(({ index, entryId, retryOf, flagged, decision }, i) => {
      const { reported } = batch[index];
      const entry = appended[i];
      // Opened once the entry it points to is written.
      const breachAssessmentId = flagged ? randomUUID() : undefined;
      if (breachAssessmentId) {
        breaches.push({ id: breachAssessmentId, entryId, decision, at: entry.recordedAt });
      }
      return receiptBody(
        {
          code: decision.code,
          decision: decision.decision,
          entryId,
          ...(reported ? { flagged } : {}),
          position: entry.position,
          reasons: decision.reasons,
          recordedAt: entry.recordedAt,
          retryOf,
        },
        entry.leafHash,
        breachAssessmentId,
      );
    });
    // One signature for the batch's receipts; each carries its path to what was signed.
    const { message, batches } = receiptBatch(bodies);
    const signature = this.keyRing.sign(message);
    const keys: { caller: string; key: string; hash: string; entryId: string }[] = [];
    const events: OutboxItem[] = [];
    for (const [i, { index, entryId, decision }] of fresh.entries()) {
      const { caller, key, requestHash, request, reported, trace } = batch[index];
      const entry = appended[i];
      const receipt = {
        ...(bodies[i] as Omit<ReportReceipt, 'batch' | 'kid' | 'signature'>),
        batch: batches[i],
        kid: signature.kid,
        signature: signature.sig,
      };
      outcomes[index] = receipt;
      keys.push({ caller, key, hash: requestHash, entryId });
      // A reported disclosure happened, whatever the checks say of it: it is recorded.
      events.push({
        def: (reported || decision.decision === 'ALLOW'
          ? DisclosureRecordedEvent
          : DisclosureDeniedEvent) as OutboxItem['def'],
        data: {
          ...(reported ? { occurredAt: reported.occurredAt } : {}),
          entryId,
          position: entry.position,
          recipientId: request.recipientId,
          purpose: request.purpose,
          decision: decision.decision,
          reasons: decision.reasons,
          recordedAt: entry.recordedAt,
        },
        headers: trace,
      });
    }
    const keysInsert: Statement = {
      // The receipt is not kept: its entry and its batch make it again (rebuildReceipt).
      sql: `INSERT INTO disclosure_register.idempotency_keys (caller, key, request_hash, entry_id)
       SELECT caller, key, request_hash, entry_id
         FROM json_to_recordset($1::json)
              AS k(caller text, key text, request_hash text, entry_id uuid)
       ${
         keysAre === 'new'
           ? 'ON CONFLICT (caller, key) DO NOTHING RETURNING 1'
           : 'ON CONFLICT (caller, key) DO UPDATE SET entry_id = excluded.entry_id, receipt = NULL'
       }`,
      params: [
        JSON.stringify(
          keys.map((k) => ({
            caller: k.caller,
            key: k.key,
            request_hash: k.hash,
            entry_id: k.entryId,
          })),
        ),
      ],
    };
    // The batch's entries are the positions from `next` on, one per receipt, in order.
    const signed: Statement = {
      sql: `INSERT INTO disclosure_register.receipt_batches (first_position, size, kid, signature)
            VALUES ($1, $2, $3, $4)`,
      params: [next, fresh.length, signature.kid, signature.sig],
    };
    return {
      // Disclosure events are published in batches (their EventDef): one row per type.
      statements: [append, keysInsert, this.outbox.statementFor(events).statement, signed],
      appended,
      breaches,
    };
  }

  /**
   * The consent service's part of the decision, asked before the batch (over NATS, for the
   * recipient's kind as recently known). The register's own rules are applied in the batch, to
   * the recipient versions current when it is written (see final()).
   */
  private async consentPart(request: DiscloseRequest, occurredAt?: string): Promise<ConsentPart> {
    const timeoutMs = this.config.consentTimeoutMs;
    const at = occurredAt ? Date.parse(occurredAt) : Date.now();
    let policy: PolicyView;
    try {
      policy = await this.policy.current(timeoutMs);
    } catch {
      return { at, reasons: [], code: CONSENT_UNAVAILABLE };
    }
    const kind = (await this.recipients.kindHint(request.recipientId)) ?? request.recipientId;
    try {
      const consent = await this.consentChecks.check({
        clientId: request.clientId,
        recipientKind: kind,
        recipientId: request.recipientId,
        purpose: request.purpose,
        categories: request.categories,
        legalBasis: request.legalBasis,
        ...(request.authorizationId ? { authorizationId: request.authorizationId } : {}),
        ...(occurredAt ? { at: occurredAt } : {}),
      });
      return {
        at,
        policy,
        kind,
        reasons: consent.reasons.map((r) => r.rule),
        policyVersion: consent.policyVersion,
      };
    } catch (err) {
      if (err instanceof DsgError && err.code === ErrorCodes.VALIDATION_FAILED) throw err;
      this.logger.warn(
        { context: 'Disclose', code: (err as DsgError).code },
        'consent did not answer: disclosure denied (fail closed)',
      );
      return { at, policy, kind, reasons: [], code: CONSENT_UNAVAILABLE };
    }
  }

  /**
   * Every rule, the register's and consent's; any failure is DENY (the stricter rule wins).
   * `recipient` is the version current when the batch is written. If its kind is not
   * the one consent was asked about, the request is refused as retryable and nothing recorded.
   */
  private final(
    request: DiscloseRequest,
    part: ConsentPart,
    recipient: RecipientReply | undefined,
  ): Decision | Error {
    if (part.kind !== undefined && part.kind !== (recipient?.kind ?? request.recipientId)) {
      return new UnavailableError(
        ErrorCodes.UNAVAILABLE,
        'The recipient changed while the disclosure was being decided; retry',
      );
    }
    const reasons = new Set(
      part.policy ? this.registerRules(request, recipient, part.policy, part.at) : [],
    );
    for (const reason of part.reasons) reasons.add(reason);
    return {
      decision: reasons.size === 0 && !part.code ? 'ALLOW' : 'DENY',
      reasons: [...reasons].sort(),
      ...(part.code ? { code: part.code } : {}),
      recipientVersion: recipient?.version,
      policyVersion: part.policyVersion,
    };
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

/**
 * A receipt's body, from what its entry says (ReceiptFields, as in the leaf) and its leaf hash:
 * the same whether the entry was just written or is read back (rebuildReceipt). Keys in canonical
 * order, as the receipt's leaf is written (canonicalJson).
 */
function receiptBody(
  fields: ReceiptFields,
  leafHash: string,
  breachAssessmentId: string | undefined,
): ReceiptBody {
  const { code, decision, entryId, flagged, position, reasons, recordedAt, retryOf } = fields;
  return {
    // A flagged report's breach assessment is opened with its entry (HIP-9).
    ...(flagged && breachAssessmentId ? { breachAssessmentId } : {}),
    ...(code ? { code } : {}),
    decision,
    entryId,
    ...(flagged !== undefined ? { flagged } : {}),
    leafHash,
    position,
    reasons,
    recordedAt,
    ...(retryOf ? { retryOf } : {}),
  };
}

/**
 * The receipt of entry `entryId`, made again from the batch it was signed in: every receipt
 * body of the batch from its entry, the batch's tree, the stored signature. It is the receipt
 * that was sent; the signature verifies only if it is.
 */
function rebuildReceipt(
  entryId: string,
  stored: StoredBatch | null | undefined,
): DisclosureReceipt {
  const bodies = (stored?.entries ?? []).map((e) =>
    receiptBody(JSON.parse(e.leaf) as ReceiptFields, e.leafHash, e.breach ?? undefined),
  );
  const index = bodies.findIndex((b) => b.entryId === entryId);
  if (!stored || index < 0) {
    throw new DsgError(
      ErrorCodes.INTERNAL,
      'A disclosure receipt could not be made again: its batch is missing. Verify the log',
    );
  }
  const { batches } = receiptBatch(bodies);
  return {
    ...(bodies[index] as Omit<DisclosureReceipt, 'batch' | 'kid' | 'signature'>),
    batch: batches[index],
    kid: stored.kid,
    signature: stored.signature,
  };
}

/**
 * A subquery, for a key's row `k`: the receipt batch its entry was signed in, with the batch's
 * entries (leaf, leaf hash, breach assessment), in order (StoredBatch).
 */
const STORED_BATCH = `
  SELECT json_build_object(
           'kid', rb.kid, 'signature', rb.signature,
           'entries', (SELECT json_agg(json_build_object(
                                'leaf', e.leaf, 'leafHash', encode(e.leaf_hash, 'hex'), 'breach', ba.id)
                              ORDER BY e.position)
                         FROM disclosure_register.entries e
                         LEFT JOIN disclosure_register.breach_assessments ba USING (entry_id)
                        WHERE e.position >= rb.first_position
                          AND e.position < rb.first_position + rb.size))
    FROM disclosure_register.receipt_batches rb
   WHERE rb.first_position <= (SELECT position FROM disclosure_register.entries
                                WHERE entry_id = k.entry_id)
   ORDER BY rb.first_position DESC LIMIT 1`;

const preparedNames = new Map<string, string>();

/** A prepared statement's name for `sql` (the same text, the same name, on every connection). */
function preparedName(sql: string): string {
  let name = preparedNames.get(sql);
  if (!name) {
    name = `dsg_append_${createHash('sha256').update(sql).digest('hex').slice(0, 16)}`;
    preparedNames.set(sql, name);
  }
  return name;
}

/** The SQLSTATE of a failed statement, if it has one. */
function sqlState(err: unknown): string | undefined {
  const e = err as { code?: unknown; driverError?: { code?: unknown } };
  const code = e.driverError?.code ?? e.code;
  return typeof code === 'string' ? code : undefined;
}

/** The primary key refused an entry: its position was taken by an append of another instance. */
function isPositionTaken(err: unknown): boolean {
  const e = err as { driverError?: { constraint?: unknown } };
  return sqlState(err) === '23505' && e.driverError?.constraint === 'entries_pkey';
}

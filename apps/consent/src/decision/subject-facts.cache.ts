import { Inject, Injectable } from '@nestjs/common';
import { type Logger, PLATFORM_LOGGER } from '@dsg/platform';
import { DataSource } from 'typeorm';

/** One ledger entry as the decision reads it; `at` is occurred_at in epoch milliseconds. */
export interface LedgerFact {
  scopeType: string;
  scope: string;
  kind: string;
  actor: string;
  method: string;
  at: number;
  /** KID-1: how a guardian was verified as the parent, on a guardian's grant or opt-in. */
  parentalVerification: string | null;
}

/** A binding restriction (agreed, not a confidential channel) with the period it binds. */
export interface RestrictionFact {
  kind: string;
  recipientKinds: string[];
  purposes: string[];
  categories: string[];
  from: number;
  until: number | null;
}

/** The latest entry per scope from some moment on. */
export interface ConsentStateAt {
  latest: Map<string, LedgerFact>;
  /** `<scopeType>:<scope or *>` → kind, as a decision reports it. */
  consentState: Record<string, string>;
}

/** Everything about one subject the decision's rules read, for any moment. */
export interface SubjectFacts {
  dob: string | null;
  /** Oldest first (occurred_at, then insertion order), as the ledger orders them. */
  ledger: LedgerFact[];
  restrictions: RestrictionFact[];
  /**
   * The state after the last entry, computed when the subject is loaded: a decision for now
   * allocates nothing lasting (which keeps the collector's pauses, and so the tail, short).
   */
  current: ConsentStateAt;
}

type LedgerTuple = [string, string, string, string, string, number, string | null];
type RestrictionTuple = [string, string[], string[], string[], number, number | null];
interface FactsRow {
  client_id: string;
  dob: string | null;
  ledger: LedgerTuple[];
  restrictions: RestrictionTuple[];
}

/** Facts for the subjects in $1 (ids) or, for the bulk load, those after $2 in id order. */
const FACTS_SELECT = `
  SELECT s.client_id, to_char(s.date_of_birth, 'YYYY-MM-DD') AS dob,
         (SELECT coalesce(json_agg(json_build_array(l.scope_type, l.scope, l.kind, l.actor, l.method,
                                                    extract(epoch FROM l.occurred_at) * 1000,
                                                    l.parental_verification)
                                   ORDER BY l.occurred_at, l.id), '[]'::json)
            FROM consent.ledger l WHERE l.client_id = s.client_id) AS ledger,
         (SELECT coalesce(json_agg(json_build_array(r.kind, r.recipient_kinds, r.purposes, r.categories,
                                                    extract(epoch FROM r.requested_at) * 1000,
                                                    extract(epoch FROM e.ended_at) * 1000)), '[]'::json)
            FROM consent.restrictions r LEFT JOIN consent.restriction_ends e ON e.restriction_id = r.id
           WHERE r.client_id = s.client_id AND r.kind <> 'confidential-channel' AND r.agreed) AS restrictions
    FROM consent.subjects s`;

const BULK_BATCH = 5000;

/**
 * The consent state every decision reads, held in memory: per subject its date of birth, its
 * whole ledger (kind, scope, actor, method, time) and its binding restrictions. Loaded once at
 * boot, then kept exact by invalidation: every write in any replica invalidates the subjects it
 * changed here before it is acknowledged (DecisionReplicas). The cache answers only while it is
 * warm and this replica holds its lease; otherwise every read goes to PostgreSQL.
 *
 * Each subject has a version that every invalidation bumps. A reader that had to wait (a load
 * from PostgreSQL, an authorization lookup) compares the version after the wait and starts again
 * if it moved, so a decision computed from state read before a change is never returned after
 * that change was acknowledged.
 */
@Injectable()
export class SubjectFactsCache {
  private facts = new Map<string, SubjectFacts>();
  /** Subjects invalidated since they were loaded: read from PostgreSQL on next use. */
  private readonly stale = new Set<string>();
  private readonly versions = new Map<string, number>();
  /** Bumped when the whole cache is dropped; part of every subject's version. */
  private generation = 0;
  private state: 'cold' | 'loading' | 'warm' = 'cold';
  private loadingDirty?: Set<string>;
  private leaseDeadline = 0;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(PLATFORM_LOGGER) private readonly logger: Logger,
  ) {}

  /** Until `deadline` (performance.now() clock) this replica's lease lets it answer from memory. */
  setLeaseDeadline(deadline: number): void {
    this.leaseDeadline = deadline;
  }

  get usable(): boolean {
    return this.state === 'warm' && performance.now() < this.leaseDeadline;
  }

  get status(): { state: 'cold' | 'loading' | 'warm'; leased: boolean; subjects: number } {
    return {
      state: this.state,
      leased: performance.now() < this.leaseDeadline,
      subjects: this.facts.size,
    };
  }

  version(clientId: string): number {
    return this.generation * 1e9 + (this.versions.get(clientId) ?? 0);
  }

  /**
   * The subject's facts if the cache can answer now without waiting: `null` for a subject that
   * does not exist, `undefined` when the answer must come from PostgreSQL.
   */
  peek(clientId: string): SubjectFacts | null | undefined {
    if (!this.usable || this.stale.has(clientId)) return undefined;
    return this.facts.get(clientId) ?? null;
  }

  /** The subject's facts, from memory or else PostgreSQL; never older than the last invalidation. */
  async read(clientId: string): Promise<SubjectFacts | null> {
    for (;;) {
      const held = this.peek(clientId);
      if (held !== undefined) return held;
      const version = this.version(clientId);
      const [row] = await this.query([clientId]);
      if (this.version(clientId) !== version) continue; // changed while loading: read again
      const facts = row ? toFacts(row) : null;
      if (this.state === 'warm') {
        if (facts) this.facts.set(clientId, facts);
        else this.facts.delete(clientId);
        this.stale.delete(clientId);
      }
      return facts;
    }
  }

  /** Called (synchronously) for every subject a write changed, here or in another replica. */
  invalidate(clientIds: readonly string[]): void {
    for (const id of clientIds) {
      this.versions.set(id, (this.versions.get(id) ?? 0) + 1);
      this.stale.add(id);
      this.loadingDirty?.add(id);
    }
  }

  /** Forgets everything (the lease was lost, or the replica was fenced); a reload follows. */
  drop(): void {
    this.generation++;
    this.facts = new Map();
    this.stale.clear();
    this.versions.clear();
    this.state = 'cold';
    this.loadingDirty = undefined;
  }

  /**
   * Loads every subject, in id order and in batches. Subjects invalidated while the load runs are
   * marked stale at the end, so they are read again from PostgreSQL on first use.
   */
  async loadAll(): Promise<void> {
    const generation = this.generation;
    const started = performance.now();
    this.state = 'loading';
    const dirty = new Set<string>();
    this.loadingDirty = dirty;
    const next = new Map<string, SubjectFacts>();
    let after = '';
    for (;;) {
      const rows = (await this.dataSource.query(
        `${FACTS_SELECT} WHERE s.client_id > $1 ORDER BY s.client_id LIMIT ${BULK_BATCH}`,
        [after],
      )) as FactsRow[];
      if (generation !== this.generation) return; // dropped meanwhile; the caller reloads
      for (const row of rows) next.set(row.client_id, toFacts(row));
      if (rows.length < BULK_BATCH) break;
      after = rows[rows.length - 1].client_id;
    }
    this.facts = next;
    this.stale.clear();
    for (const id of dirty) this.stale.add(id);
    this.loadingDirty = undefined;
    this.state = 'warm';
    this.logger.info(
      { context: 'Decision', subjects: next.size, ms: Math.round(performance.now() - started) },
      'consent state loaded',
    );
  }

  private query(clientIds: string[]): Promise<FactsRow[]> {
    return this.dataSource.query(`${FACTS_SELECT} WHERE s.client_id = ANY($1)`, [
      clientIds,
    ]) as Promise<FactsRow[]>;
  }
}

/** The latest entry per scope as of `atMs` (the ledger is held oldest first). */
export function stateAt(ledger: readonly LedgerFact[], atMs: number): ConsentStateAt {
  const latest = new Map<string, LedgerFact>();
  for (const entry of ledger) {
    if (entry.at <= atMs) latest.set(`${entry.scopeType}:${entry.scope}`, entry);
  }
  const consentState: Record<string, string> = {};
  for (const s of latest.values()) consentState[`${s.scopeType}:${s.scope || '*'}`] = s.kind;
  return { latest, consentState };
}

/** One copy of each repeated short string (kinds, scopes, methods) across 100,000s of subjects. */
const interned = new Map<string, string>();
function intern(value: string): string {
  const held = interned.get(value);
  if (held !== undefined) return held;
  if (interned.size < 10_000) interned.set(value, value);
  return value;
}

function toFacts(row: FactsRow): SubjectFacts {
  const ledger = row.ledger.map(
    ([scopeType, scope, kind, actor, method, at, parentalVerification]) => ({
      scopeType: intern(scopeType),
      scope: intern(scope),
      kind: intern(kind),
      actor: intern(actor),
      method: intern(method),
      at,
      parentalVerification: parentalVerification && intern(parentalVerification),
    }),
  );
  return {
    dob: row.dob,
    ledger,
    current: stateAt(ledger, Infinity),
    restrictions: row.restrictions.map(
      ([kind, recipientKinds, purposes, categories, from, until]) => ({
        kind,
        recipientKinds,
        purposes,
        categories,
        from,
        until,
      }),
    ),
  };
}

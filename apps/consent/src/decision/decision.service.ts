import {
  type CheckReply,
  type CheckRequest,
  ErrorCodes,
  isRealTimestamp,
  type RuleOutcome,
  UnavailableError,
  ValidationFailedError,
  categoryPaths,
  type CategoryTree,
  covers,
} from '@dsg/contracts';
import { Injectable } from '@nestjs/common';
import { AuthorizationsService } from '../authorizations/authorizations.service';
import type { Purpose, RecipientKind } from '../policy/policy-bundle';
import { PolicyService } from '../policy/policy.service';
import { ageBand, ageOn } from '../subjects/age';
import {
  type ConsentStateAt,
  type SubjectFacts,
  SubjectFactsCache,
  stateAt,
} from './subject-facts.cache';

const NO_STATE: ConsentStateAt = { latest: new Map(), consentState: {} };

interface Bundle {
  purposes: Purpose[];
  recipientKinds: RecipientKind[];
  categories: CategoryTree[];
}
interface Index {
  purposes: Map<string, Purpose>;
  recipientKinds: Map<string, RecipientKind>;
  categories: Set<string>;
}
type Authorization = Awaited<ReturnType<AuthorizationsService['get']>>;

const DENYING = ['opt-out', 'withdraw'];
/** Attempts before a decision whose subject keeps changing under it is refused as unavailable. */
const MAX_ATTEMPTS = 5;

/**
 * The sharing decision. Every rule is evaluated and reported with its id; any failure is DENY.
 * HIPAA, CMIA and the policy are all applied and the most restrictive outcome wins
 * (45 CFR 160.203(b)). A request naming something unknown is DENY with the reason, never an
 * error a caller could mistake for "allowed".
 *
 * The subject's state comes from memory (SubjectFactsCache), which every write invalidates in
 * every replica before it is acknowledged. A decision that had to wait for anything (PostgreSQL,
 * an authorization) is recomputed if its subject changed meanwhile, so nothing decided before a
 * revocation or opt-out was acknowledged is served after it (HIP-2).
 */
@Injectable()
export class DecisionService {
  constructor(
    private readonly policy: PolicyService,
    private readonly authorizations: AuthorizationsService,
    private readonly cache: SubjectFactsCache,
  ) {}

  private readonly indexes = new Map<string, Index>();

  private index(version: string, bundle: Bundle): Index {
    let index = this.indexes.get(version);
    if (!index) {
      index = {
        purposes: new Map(bundle.purposes.map((p) => [p.id, p])),
        recipientKinds: new Map(bundle.recipientKinds.map((k) => [k.id, k])),
        categories: new Set(categoryPaths(bundle.categories)),
      };
      this.indexes.set(version, index);
    }
    return index;
  }

  async check(request: CheckRequest, explain = false): Promise<CheckReply> {
    const at = request.at ? new Date(request.at) : new Date();
    if (request.at !== undefined && !isRealTimestamp(request.at)) {
      // The pattern admits 2026-02-30: a request naming no real moment is refused, not decided.
      throw new ValidationFailedError([
        { field: 'at', constraint: 'isTimestamp', message: 'at is not a real date and time' },
      ]);
    }
    for (let attempt = 1; ; attempt++) {
      const version = this.cache.version(request.clientId);
      const policy = this.policy.peekCurrent() ?? (await this.policy.get());
      const bundle = policy.bundle as unknown as Bundle;
      const index = this.index(policy.version, bundle);
      const purpose = index.purposes.get(request.purpose);
      const needsAuthorization =
        purpose?.authorization === 'required' || request.legalBasis === 'authorization';
      const auth =
        purpose && needsAuthorization && request.authorizationId
          ? await this.authorizations.get(request.authorizationId, at).catch(() => undefined)
          : undefined;
      let facts = this.cache.peek(request.clientId);
      if (facts === undefined) facts = await this.cache.read(request.clientId);
      const reply = this.evaluate(request, at, policy.version, index, facts, auth, explain);
      if (this.cache.version(request.clientId) === version) return reply;
      if (attempt === MAX_ATTEMPTS) {
        throw new UnavailableError(
          ErrorCodes.UNAVAILABLE,
          'The subject kept changing while it was being decided; retry',
        );
      }
    }
  }

  private evaluate(
    request: CheckRequest,
    at: Date,
    policyVersion: string,
    index: Index,
    facts: SubjectFacts | null,
    auth: Authorization | undefined,
    explain: boolean,
  ): CheckReply {
    const atMs = at.getTime();
    const rules: RuleOutcome[] = [];
    // Without `explain` only failures are kept, and a detail is written only for what is kept.
    const add = (rule: string, ok: boolean | undefined, detail: () => string) => {
      if (ok !== false && !explain) return;
      rules.push({
        rule,
        outcome: ok === undefined ? 'not-applicable' : ok ? 'pass' : 'fail',
        detail: detail(),
      });
    };

    const purpose = index.purposes.get(request.purpose);
    const recipient = index.recipientKinds.get(request.recipientKind);
    const unknownCategories = request.categories.filter((c) => !index.categories.has(c));
    add('POL-3', !!purpose, () =>
      purpose
        ? `purpose ${purpose.id} is listed`
        : `purpose ${request.purpose} is not in the policy`,
    );
    add('POL-2', !!recipient, () =>
      recipient
        ? `${recipient.id} is a listed recipient kind`
        : `${request.recipientKind} is not a listed recipient kind`,
    );
    add('POL-3', unknownCategories.length === 0, () =>
      unknownCategories.length
        ? `unknown categories: ${unknownCategories.join(', ')}`
        : 'every category is in the policy',
    );

    const age = facts?.dob ? ageOn(facts.dob, at) : undefined;
    add('KID-3', age !== undefined, () =>
      !facts
        ? 'unknown subject'
        : age === undefined
          ? 'no date of birth: age cannot be established'
          : `age ${age} on the date of the decision`,
    );

    const { latest, consentState } = facts ? consentStateAt(facts, atMs) : NO_STATE;
    const states = [...latest.values()];
    const state = (type: string, scope: string) => latest.get(`${type}:${scope}`);

    if (purpose) {
      add('POL-1', !purpose.sale, () =>
        purpose.sale ? 'a sale of personal information is never allowed' : 'not a sale',
      );
      const basisOk =
        request.legalBasis === purpose.basis ||
        (request.legalBasis === 'authorization' && !!request.authorizationId);
      add('CMI-1', basisOk, () =>
        basisOk
          ? `legal basis ${request.legalBasis}`
          : `legal basis ${request.legalBasis} does not fit purpose ${purpose.id} (${purpose.basis})`,
      );

      // HIP-3 / CMI-4: marketing, a sale, and any use needing it require a valid authorization.
      if (purpose.authorization === 'required' || request.legalBasis === 'authorization') {
        const fits =
          !!auth &&
          auth.clientId === request.clientId &&
          auth.status === 'valid' &&
          auth.purposes.includes(purpose.id) &&
          request.categories.every((c) => auth.categories.some((a) => covers(a, c)));
        add('HIP-3', fits, () =>
          !auth
            ? 'an authorization is required and none valid was given'
            : fits
              ? 'a valid authorization covers the purpose and categories'
              : `the authorization is ${auth.status} or does not cover the purpose and categories`,
        );
        add('CMI-4', fits, () =>
          fits
            ? 'authorized under Civil Code 56.11'
            : 'CMIA requires an authorization for this use',
        );
      } else {
        add('HIP-3', undefined, () => 'no authorization needed for this purpose');
      }

      // POL-4 / CCP-1: opt-outs and withdrawals of the purpose or of a requested category.
      const purposeState = state('purpose', purpose.id);
      add('POL-4', !(purpose.optOut && purposeState && DENYING.includes(purposeState.kind)), () =>
        purposeState ? `purpose state: ${purposeState.kind}` : 'no opt-out of the purpose',
      );
      const withdrawn = states.filter(
        (s) =>
          s.scopeType === 'category' &&
          DENYING.includes(s.kind) &&
          request.categories.some((c) => covers(s.scope, c) || covers(c, s.scope)),
      );
      add('CCP-1', withdrawn.length === 0, () =>
        withdrawn.length
          ? `withdrawn categories: ${withdrawn.map((s) => s.scope).join(', ')}`
          : 'no category withdrawn',
      );

      // CCP-5 / CCP-6: sale and sharing (purposes outside TPO that a person may opt out of).
      const isSharing = purpose.sale || (purpose.tpo === 'none' && purpose.optOut);
      const sale = state('sale-and-sharing', '');
      if (isSharing) {
        add('CCP-5', !(sale && DENYING.includes(sale.kind)), () =>
          sale
            ? `sale and sharing: ${sale.kind} (${sale.method})`
            : 'no opt-out of sale and sharing',
        );
        const band = ageBand(age);
        if (band === 'under-13' || band === '13-15') {
          const optedIn =
            sale?.kind === 'opt-in' &&
            (band === 'under-13' ? sale.actor === 'guardian' : sale.actor === 'self');
          add('CCP-6', optedIn, () =>
            optedIn
              ? 'the required opt-in to sale and sharing was given'
              : band === 'under-13'
                ? 'under 13: a parent must opt in'
                : '13 to 15: the minor must opt in',
          );
        } else {
          add('CCP-6', undefined, () => 'not a minor under 16');
        }
      } else {
        add('CCP-5', undefined, () => 'not a sale or sharing');
      }

      // KID-1: under 13, nothing beyond the parent's contact details without verifiable parental consent.
      if (age !== undefined && age < 13) {
        const parental = state('purpose', purpose.id);
        // A guardian's grant counts only with the parent's verification recorded (16 CFR 312.5).
        const ok =
          parental?.kind === 'grant' &&
          parental.actor === 'guardian' &&
          !!parental.parentalVerification;
        add('KID-1', ok, () =>
          ok
            ? `verifiable parental consent recorded (${parental.parentalVerification})`
            : parental?.kind === 'grant' && parental.actor === 'guardian'
              ? "under 13: a guardian's grant without the parent's verification is not verifiable parental consent"
              : 'under 13: no verifiable parental consent for this purpose',
        );
      } else {
        add('KID-1', undefined, () => 'not under 13');
      }

      // HIP-7: binding restrictions.
      const binding = (facts?.restrictions ?? []).filter(
        (r) =>
          r.from <= atMs &&
          (r.until === null || r.until > atMs) &&
          (r.recipientKinds.length === 0 || r.recipientKinds.includes(request.recipientKind)) &&
          (r.purposes.length === 0 || r.purposes.includes(purpose.id)) &&
          (r.categories.length === 0 ||
            request.categories.some((c) =>
              r.categories.some((rc) => covers(rc, c) || covers(c, rc)),
            )),
      );
      add('HIP-7', binding.length === 0, () =>
        binding.length
          ? `restricted by the subject (${binding.map((r) => r.kind).join(', ')})`
          : 'no restriction applies',
      );
    }

    const reasons = rules.filter((r) => r.outcome === 'fail');
    return {
      decision: reasons.length === 0 ? 'ALLOW' : 'DENY',
      reasons,
      policyVersion,
      consentState,
      evaluatedAt: at.toISOString(),
      ...(explain ? { rules } : {}),
    };
  }
}

/** The state for `atMs`: the one computed at load when nothing came after it. */
function consentStateAt(facts: SubjectFacts, atMs: number): ConsentStateAt {
  const last = facts.ledger.length ? facts.ledger[facts.ledger.length - 1].at : -Infinity;
  return atMs >= last ? facts.current : stateAt(facts.ledger, atMs);
}

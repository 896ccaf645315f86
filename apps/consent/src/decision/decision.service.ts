import type { CheckReply, CheckRequest, RuleOutcome } from '@dsg/contracts';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuthorizationsService } from '../authorizations/authorizations.service';
import type { Purpose, RecipientKind } from '../policy/policy-bundle';
import { PolicyService } from '../policy/policy.service';
import { ageBand, ageOn } from '../subjects/age';
import { categoryPaths, type CategoryTree, covers } from '../policy/taxonomy';

interface Bundle {
  purposes: Purpose[];
  recipientKinds: RecipientKind[];
  categories: CategoryTree[];
}
interface StateRow {
  scope_type: string;
  scope: string;
  kind: string;
  actor: string;
  method: string;
}
interface RestrictionRow {
  kind: string;
  recipient_kinds: string[];
  purposes: string[];
  categories: string[];
}

const DENYING = ['opt-out', 'withdraw'];

/** The subject, its latest ledger entry per scope, and its binding restrictions, as of $2. */
const SUBJECT_FACTS = `
  SELECT EXISTS (SELECT 1 FROM consent.subjects WHERE client_id = $1) AS known,
         (SELECT to_char(date_of_birth, 'YYYY-MM-DD') FROM consent.subjects WHERE client_id = $1) AS dob,
         (SELECT coalesce(json_agg(s), '[]'::json) FROM (
            SELECT DISTINCT ON (scope_type, scope) scope_type, scope, kind, actor, method
              FROM consent.ledger WHERE client_id = $1 AND occurred_at <= $2
             ORDER BY scope_type, scope, occurred_at DESC, id DESC) s) AS states,
         (SELECT coalesce(json_agg(r), '[]'::json) FROM (
            SELECT r.kind, r.recipient_kinds, r.purposes, r.categories
              FROM consent.restrictions r LEFT JOIN consent.restriction_ends e ON e.restriction_id = r.id
             WHERE r.client_id = $1 AND r.kind <> 'confidential-channel' AND r.agreed
               AND r.requested_at <= $2 AND (e.ended_at IS NULL OR e.ended_at > $2)) r) AS restrictions`;

/**
 * The sharing decision. Every rule is evaluated and reported with its id; any failure is DENY.
 * HIPAA, CMIA and the policy are all applied and the most restrictive outcome wins
 * (45 CFR 160.203(b)). A request naming something unknown is DENY with the reason, never an
 * error a caller could mistake for "allowed". Every decision reads the ledger afresh: nothing
 * decided before a revocation or opt-out is served after it.
 */
@Injectable()
export class DecisionService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
    private readonly authorizations: AuthorizationsService,
  ) {}

  private readonly pathsByVersion = new Map<string, string[]>();

  private knownCategories(version: string, bundle: Bundle): string[] {
    let known = this.pathsByVersion.get(version);
    if (!known) {
      known = categoryPaths(bundle.categories);
      this.pathsByVersion.set(version, known);
    }
    return known;
  }

  async check(request: CheckRequest, explain = false): Promise<CheckReply> {
    const at = request.at ? new Date(request.at) : new Date();
    const policy = await this.policy.get();
    const bundle = policy.bundle as unknown as Bundle;
    const rules: RuleOutcome[] = [];
    const add = (rule: string, ok: boolean | undefined, detail: string) =>
      rules.push({
        rule,
        outcome: ok === undefined ? 'not-applicable' : ok ? 'pass' : 'fail',
        detail,
      });

    const purpose = bundle.purposes.find((p) => p.id === request.purpose);
    const recipient = bundle.recipientKinds.find((k) => k.id === request.recipientKind);
    const known = this.knownCategories(policy.version, bundle);
    const unknownCategories = request.categories.filter((c) => !known.includes(c));
    add(
      'POL-3',
      !!purpose,
      purpose
        ? `purpose ${purpose.id} is listed`
        : `purpose ${request.purpose} is not in the policy`,
    );
    add(
      'POL-2',
      !!recipient,
      recipient
        ? `${recipient.id} is a listed recipient kind`
        : `${request.recipientKind} is not a listed recipient kind`,
    );
    add(
      'POL-3',
      unknownCategories.length === 0,
      unknownCategories.length
        ? `unknown categories: ${unknownCategories.join(', ')}`
        : 'every category is in the policy',
    );

    // One round trip for everything about the subject the rules read, as of `at`.
    const [facts] = (await this.dataSource.query(SUBJECT_FACTS, [request.clientId, at])) as {
      known: boolean;
      dob: string | null;
      states: StateRow[];
      restrictions: RestrictionRow[];
    }[];
    const subject = facts.known ? { dob: facts.dob } : undefined;
    const age = subject?.dob ? ageOn(subject.dob, at) : undefined;
    add(
      'KID-3',
      age !== undefined,
      !subject
        ? 'unknown subject'
        : age === undefined
          ? 'no date of birth: age cannot be established'
          : `age ${age} on the date of the decision`,
    );

    const states = facts.states;
    const state = (type: string, scope: string) =>
      states.find((s) => s.scope_type === type && s.scope === scope);
    const consentState: Record<string, string> = Object.fromEntries(
      states.map((s) => [`${s.scope_type}:${s.scope || '*'}`, s.kind]),
    );

    if (purpose) {
      add(
        'POL-1',
        !purpose.sale,
        purpose.sale ? 'a sale of personal information is never allowed' : 'not a sale',
      );
      const basisOk =
        request.legalBasis === purpose.basis ||
        (request.legalBasis === 'authorization' && !!request.authorizationId);
      add(
        'CMI-1',
        basisOk,
        basisOk
          ? `legal basis ${request.legalBasis}`
          : `legal basis ${request.legalBasis} does not fit purpose ${purpose.id} (${purpose.basis})`,
      );

      // HIP-3 / CMI-4: marketing, a sale, and any use needing it require a valid authorization.
      const needsAuthorization =
        purpose.authorization === 'required' || request.legalBasis === 'authorization';
      if (needsAuthorization) {
        const auth = request.authorizationId
          ? await this.authorizations.get(request.authorizationId, at).catch(() => undefined)
          : undefined;
        const fits =
          !!auth &&
          auth.clientId === request.clientId &&
          auth.status === 'valid' &&
          auth.purposes.includes(purpose.id) &&
          request.categories.every((c) => auth.categories.some((a) => covers(a, c)));
        add(
          'HIP-3',
          fits,
          !auth
            ? 'an authorization is required and none valid was given'
            : fits
              ? 'a valid authorization covers the purpose and categories'
              : `the authorization is ${auth.status} or does not cover the purpose and categories`,
        );
        add(
          'CMI-4',
          fits,
          fits
            ? 'authorized under Civil Code 56.11'
            : 'CMIA requires an authorization for this use',
        );
      } else {
        add('HIP-3', undefined, 'no authorization needed for this purpose');
      }

      // POL-4 / CCP-1: opt-outs and withdrawals of the purpose or of a requested category.
      const purposeState = state('purpose', purpose.id);
      add(
        'POL-4',
        !(purpose.optOut && purposeState && DENYING.includes(purposeState.kind)),
        purposeState ? `purpose state: ${purposeState.kind}` : 'no opt-out of the purpose',
      );
      const withdrawn = states.filter(
        (s) =>
          s.scope_type === 'category' &&
          DENYING.includes(s.kind) &&
          request.categories.some((c) => covers(s.scope, c) || covers(c, s.scope)),
      );
      add(
        'CCP-1',
        withdrawn.length === 0,
        withdrawn.length
          ? `withdrawn categories: ${withdrawn.map((s) => s.scope).join(', ')}`
          : 'no category withdrawn',
      );

      // CCP-5 / CCP-6: sale and sharing (purposes outside TPO that a person may opt out of).
      const isSharing = purpose.sale || (purpose.tpo === 'none' && purpose.optOut);
      const sale = state('sale-and-sharing', '');
      if (isSharing) {
        add(
          'CCP-5',
          !(sale && DENYING.includes(sale.kind)),
          sale
            ? `sale and sharing: ${sale.kind} (${sale.method})`
            : 'no opt-out of sale and sharing',
        );
        const band = ageBand(age);
        if (band === 'under-13' || band === '13-15') {
          const optedIn =
            sale?.kind === 'opt-in' &&
            (band === 'under-13' ? sale.actor === 'guardian' : sale.actor === 'self');
          add(
            'CCP-6',
            optedIn,
            optedIn
              ? 'the required opt-in to sale and sharing was given'
              : band === 'under-13'
                ? 'under 13: a parent must opt in'
                : '13 to 15: the minor must opt in',
          );
        } else {
          add('CCP-6', undefined, 'not a minor under 16');
        }
      } else {
        add('CCP-5', undefined, 'not a sale or sharing');
      }

      // KID-1: under 13, nothing beyond the parent's contact details without verifiable parental consent.
      if (age !== undefined && age < 13) {
        const parental = state('purpose', purpose.id);
        const ok = parental?.kind === 'grant' && parental.actor === 'guardian';
        add(
          'KID-1',
          ok,
          ok
            ? 'verifiable parental consent recorded'
            : 'under 13: no verifiable parental consent for this purpose',
        );
      } else {
        add('KID-1', undefined, 'not under 13');
      }

      // HIP-7: binding restrictions.
      const restrictions = facts.restrictions;
      const binding = restrictions.filter(
        (r) =>
          (r.recipient_kinds.length === 0 || r.recipient_kinds.includes(request.recipientKind)) &&
          (r.purposes.length === 0 || r.purposes.includes(purpose.id)) &&
          (r.categories.length === 0 ||
            request.categories.some((c) =>
              r.categories.some((rc) => covers(rc, c) || covers(c, rc)),
            )),
      );
      add(
        'HIP-7',
        binding.length === 0,
        binding.length
          ? `restricted by the subject (${binding.map((r) => r.kind).join(', ')})`
          : 'no restriction applies',
      );
    }

    const reasons = rules.filter((r) => r.outcome === 'fail');
    return {
      decision: reasons.length === 0 ? 'ALLOW' : 'DENY',
      reasons,
      policyVersion: policy.version,
      consentState,
      evaluatedAt: at.toISOString(),
      ...(explain ? { rules } : {}),
    };
  }
}

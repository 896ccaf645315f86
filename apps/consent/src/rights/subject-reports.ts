import { DsgClient, type RightsRequestCase, type SubjectReport } from '@dsg/contracts';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuthorizationsService } from '../authorizations/authorizations.service';
import { LedgerService } from '../ledger/ledger.service';
import { PolicyService } from '../policy/policy.service';

interface CategoryNode {
  id: string;
  label: string;
  children?: CategoryNode[];
}

/**
 * A know or access report (CCP-1, HIP-8): the categories held and by which system (the retention
 * service's holdings), the purposes used and the recipients and disclosures (the register's
 * entries), the consents (the ledger's state) and authorizations on record, with the policy's
 * labels. Gathered over NATS from the services that hold each part.
 */
@Injectable()
export class SubjectReports {
  constructor(
    private readonly dataSource: DataSource,
    private readonly policy: PolicyService,
    private readonly ledger: LedgerService,
    private readonly authorizations: AuthorizationsService,
    private readonly dsg: DsgClient,
  ) {}

  async build(
    clientId: string,
    requestId: string,
    right: RightsRequestCase['right'],
    nonDiscrimination: string,
  ): Promise<SubjectReport> {
    const policy = await this.policy.get();
    const labels = new Map<string, string>();
    const walk = (nodes: CategoryNode[] | undefined, prefix: string) => {
      for (const n of nodes ?? []) {
        const path = prefix ? `${prefix}.${n.id}` : n.id;
        labels.set(path, n.label);
        walk(n.children, path);
      }
    };
    walk(policy.bundle.categories as CategoryNode[], '');
    const purposeLabels = new Map(
      ((policy.bundle.purposes as { id: string; label: string }[]) ?? []).map((p) => [
        p.id,
        p.label,
      ]),
    );
    const [{ holdings }, { entries }, state, authorizationIds] = await Promise.all([
      this.dsg.retention.holdingsOfSubject({ clientId }),
      this.dsg.disclosureRegister.entriesOfSubject({ clientId }),
      this.ledger.state(clientId),
      this.dataSource.query(
        'SELECT id FROM consent.authorizations WHERE client_id = $1 ORDER BY signed_at, id',
        [clientId],
      ) as Promise<{ id: string }[]>,
    ]);
    const recipients = new Map<string, SubjectReport['recipients'][number]>();
    for (const e of entries) {
      const r = recipients.get(e.recipientId) ?? {
        id: e.recipientId,
        name: e.recipientName,
        disclosures: 0,
        last: e.recordedAt,
      };
      r.disclosures++;
      if (e.recordedAt > r.last) r.last = e.recordedAt;
      recipients.set(e.recipientId, r);
    }
    const purposes = [...new Set(entries.map((e) => e.purpose))].sort();
    const authorizations = await Promise.all(
      authorizationIds.map((a) => this.authorizations.get(a.id)),
    );
    return {
      type: 'dsg.subject-report',
      clientId,
      requestId,
      right,
      producedAt: new Date().toISOString(),
      policyVersion: policy.version,
      categoriesHeld: holdings
        .map((h) => ({
          system: h.system,
          category: h.category,
          ...(labels.has(h.category) ? { label: labels.get(h.category) } : {}),
        }))
        .sort((a, b) => a.system.localeCompare(b.system) || a.category.localeCompare(b.category)),
      purposes: purposes.map((id) => ({ id, label: purposeLabels.get(id) ?? id })),
      recipients: [...recipients.values()].sort((a, b) => a.id.localeCompare(b.id)),
      disclosures: entries.map((e) => ({
        position: e.position,
        date: e.recordedAt,
        recipient: e.recipientName,
        purpose: purposeLabels.get(e.purpose) ?? e.purpose,
        categories: e.categories,
      })),
      consents: state.states.map((s) => ({
        scopeType: s.scopeType,
        scope: s.scope,
        kind: s.kind,
        at: s.occurredAt,
      })),
      authorizations: authorizations.map((a) => ({
        authorizationId: a.authorizationId,
        status: a.status,
        purposes: a.purposes,
        expiresAt: a.expiresAt,
      })),
      nonDiscrimination,
    };
  }
}

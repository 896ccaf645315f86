import { categoryPaths, type CategoryTree, DsgClient } from '@dsg/contracts';
import { Injectable } from '@nestjs/common';

interface PolicyShape {
  categories: (CategoryTree & { phi?: boolean })[];
  purposes: { id: string; label: string; sale: boolean }[];
  recipientKinds: { id: string }[];
}

export interface PolicyView {
  version: string;
  categories: Set<string>;
  /** Categories that are PHI (under a node marked `phi` in the bundle). */
  phi: string[];
  purposes: Map<string, { sale: boolean; label: string }>;
  recipientKinds: Set<string>;
}

const TTL_MS = 60_000;

/**
 * The policy in effect, as the consent service (its authority) serves it, re-read every minute.
 * Without it nothing is decided: the disclosure is denied as CONSENT_UNAVAILABLE.
 */
@Injectable()
export class PolicyClient {
  private cached?: { view: PolicyView; readAt: number };

  constructor(private readonly dsg: DsgClient) {}

  async current(timeoutMs: number): Promise<PolicyView> {
    if (this.cached && Date.now() - this.cached.readAt < TTL_MS) return this.cached.view;
    const reply = await this.dsg.consent.policyGet({}, { timeoutMs, retries: 0 });
    const bundle = reply.bundle as unknown as PolicyShape;
    const view: PolicyView = {
      version: reply.version,
      categories: new Set(categoryPaths(bundle.categories)),
      phi: bundle.categories.filter((c) => c.phi).flatMap((c) => categoryPaths([c])),
      purposes: new Map(bundle.purposes.map((p) => [p.id, { sale: p.sale, label: p.label }])),
      recipientKinds: new Set(bundle.recipientKinds.map((k) => k.id)),
    };
    this.cached = { view, readAt: Date.now() };
    return view;
  }
}

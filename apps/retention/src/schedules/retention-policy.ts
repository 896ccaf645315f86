import {
  categoryPaths,
  type CategoryTree,
  DsgClient,
  ErrorCodes,
  UnavailableError,
} from '@dsg/contracts';
import { Injectable } from '@nestjs/common';
import { OWN_RECORD_CATEGORIES, OWN_RECORD_RULES, type RetentionRule } from './schedule';

export interface RetentionPolicyView {
  version: string;
  rules: RetentionRule[];
  /** Every category path of the policy (a holding names one of them). */
  categories: Set<string>;
  /** The categories marked `phi` in the bundle, with everything under them. */
  phi: string[];
}

const TTL_MS = 60_000;
const TIMEOUT_MS = 2_000;

/**
 * The retention rules of the policy in effect, as the consent service (its authority) serves
 * it, re-read every minute. Without it nothing is computed: a declaration is refused as
 * retryable rather than dated under a schedule that may be stale.
 */
@Injectable()
export class RetentionPolicy {
  private cached?: { view: RetentionPolicyView; readAt: number };

  constructor(private readonly dsg: DsgClient) {}

  /** A new version was published: the next read asks the consent service again. */
  forget(): void {
    this.cached = undefined;
  }

  async current(): Promise<RetentionPolicyView> {
    if (this.cached && Date.now() - this.cached.readAt < TTL_MS) return this.cached.view;
    let reply;
    try {
      reply = await this.dsg.consent.policyGet({}, { timeoutMs: TIMEOUT_MS, retries: 1 });
    } catch {
      throw new UnavailableError(
        ErrorCodes.UNAVAILABLE,
        'The policy (its retention schedule) cannot be read now; retry',
      );
    }
    const bundle = reply.bundle as unknown as {
      categories: (CategoryTree & { phi?: boolean })[];
      retention?: RetentionRule[];
    };
    const rules = bundle.retention ?? [];
    const view: RetentionPolicyView = {
      version: reply.version,
      // The product's own records (schedule.ts) unless the bundle states their rules itself.
      rules: [
        ...rules,
        ...OWN_RECORD_RULES.filter((own) => !rules.some((r) => r.category === own.category)),
      ],
      categories: new Set([...categoryPaths(bundle.categories), ...OWN_RECORD_CATEGORIES]),
      phi: phiPaths(bundle.categories),
    };
    this.cached = { view, readAt: Date.now() };
    return view;
  }
}

/** The paths of the categories marked `phi` (each covers what is under it). */
function phiPaths(nodes: readonly (CategoryTree & { phi?: boolean })[], prefix = ''): string[] {
  return nodes.flatMap((node) => {
    const path = prefix ? `${prefix}.${node.id}` : node.id;
    return node.phi ? [path] : phiPaths(node.children ?? [], path);
  });
}

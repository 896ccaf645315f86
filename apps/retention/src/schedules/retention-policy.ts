import {
  categoryPaths,
  type CategoryTree,
  DsgClient,
  ErrorCodes,
  UnavailableError,
} from '@dsg/contracts';
import { Injectable } from '@nestjs/common';
import type { RetentionRule } from './schedule';

export interface RetentionPolicyView {
  version: string;
  rules: RetentionRule[];
  /** Every category path of the policy (a holding names one of them). */
  categories: Set<string>;
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
      categories: CategoryTree[];
      retention?: RetentionRule[];
    };
    const view: RetentionPolicyView = {
      version: reply.version,
      rules: bundle.retention ?? [],
      categories: new Set(categoryPaths(bundle.categories)),
    };
    this.cached = { view, readAt: Date.now() };
    return view;
  }
}

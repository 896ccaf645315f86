import { covers, type DiscloseRequest, type LegalScope, UUID_PATTERN } from '@dsg/contracts';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** The states in which a legal request may be fulfilled. */
export const FULFILLABLE = ['accepted', 'approved', 'fulfilled'];

/**
 * HIP-6 and CMI-3 at the moment of disclosure: a disclosure to a law-enforcement recipient or on
 * the law-enforcement basis (whatever basis it claims), or one naming a legal request, must
 * answer a request that may be fulfilled (accepted as received, or
 * approved by a privacy officer), to its recipient, within its scope. Otherwise it is denied with
 * the rule it fails: a request still in review fails CMI-3 (CMIA has not been satisfied), any
 * other gap HIP-6. So no internal caller can disclose to law enforcement around the review.
 */
@Injectable()
export class LegalRequestScope {
  constructor(private readonly dataSource: DataSource) {}

  async reasons(request: DiscloseRequest): Promise<string[]> {
    const ref = request.legalRequestRef;
    if (!ref || !UUID_PATTERN.test(ref)) return ['HIP-6'];
    const [row] = (await this.dataSource.query(
      `SELECT state, recipient_id, scope, validation
         FROM disclosure_register.legal_requests WHERE id = $1`,
      [ref],
    )) as {
      state: string;
      recipient_id: string;
      scope: LegalScope;
      validation: { cmiaAllows: boolean };
    }[];
    if (!row) return ['HIP-6'];
    if (row.state === 'in-review') return ['CMI-3'];
    if (!FULFILLABLE.includes(row.state)) {
      return row.validation.cmiaAllows ? ['HIP-6'] : ['CMI-3', 'HIP-6'];
    }
    const within =
      row.recipient_id === request.recipientId &&
      row.scope.subjects.includes(request.clientId) &&
      request.categories.every((c) => row.scope.categories.some((s) => covers(s, c)));
    return within ? [] : ['HIP-6'];
  }
}

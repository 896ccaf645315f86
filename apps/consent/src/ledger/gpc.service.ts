import { type GpcSignalReply, type GpcSignalRequest, ValidationFailedError } from '@dsg/contracts';
import { IdentifierHasher } from '@dsg/platform';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PolicyService } from '../policy/policy.service';
import { SubjectsService } from '../subjects/subjects.service';
import { LedgerService } from './ledger.service';

interface SaleEntry {
  kind: string;
  method: string;
}

export const GPC_HONORED = 'Opt-Out Request Honored';

/**
 * CCP-5: a Global Privacy Control signal is an opt-out of sale and sharing for the browser and
 * every profile linked to it, honoured without friction and shown back. It never overrides an
 * explicit opt-in the person gave after an earlier signal.
 */
@Injectable()
export class GpcService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly hasher: IdentifierHasher,
    private readonly subjects: SubjectsService,
    private readonly ledger: LedgerService,
    private readonly policy: PolicyService,
  ) {}

  async signal(request: GpcSignalRequest, caller: string): Promise<GpcSignalReply> {
    if (!request.clientId && !request.deviceId && !request.email) {
      throw new ValidationFailedError([
        { field: '$', constraint: 'oneOf', message: 'a signal needs clientId, deviceId or email' },
      ]);
    }
    if (request.deviceId) {
      await this.dataSource.query(
        `INSERT INTO consent.gpc_signals (device_hash) VALUES ($1)
         ON CONFLICT (device_hash) DO UPDATE SET last_seen_at = now()`,
        [this.hasher.hash('device', request.deviceId)],
      );
    }
    const linked = new Set<string>();
    if (request.clientId) {
      const exists = await this.subjects.get(request.clientId).then(
        () => true,
        () => false,
      );
      if (exists) linked.add(request.clientId);
    }
    for (const [kind, value] of [
      ['device', request.deviceId],
      ['email', request.email],
    ] as const) {
      const owner = value ? await this.subjects.findByIdentifier(kind, value) : undefined;
      if (owner) linked.add(owner);
    }
    const optedOut: string[] = [];
    const optInRespected: string[] = [];
    const version = linked.size > 0 ? (await this.policy.get()).version : '';
    for (const clientId of [...linked].sort()) {
      const entries = (await this.dataSource.query(
        `SELECT kind, method FROM consent.ledger
          WHERE client_id = $1 AND scope_type = 'sale-and-sharing' ORDER BY occurred_at, id`,
        [clientId],
      )) as SaleEntry[];
      const latest = entries[entries.length - 1];
      if (latest?.kind === 'opt-out') {
        optedOut.push(clientId);
        continue;
      }
      const explicitOptIn =
        latest && latest.method !== 'gpc-signal' && ['opt-in', 'grant'].includes(latest.kind);
      const signalBefore = entries.slice(0, -1).some((e) => e.method === 'gpc-signal');
      if (explicitOptIn && signalBefore) {
        optInRespected.push(clientId);
        continue;
      }
      await this.ledger.record(
        {
          clientId,
          kind: 'opt-out',
          scopeType: 'sale-and-sharing',
          scope: '',
          method: 'gpc-signal',
          actor: 'self',
          policyVersion: version,
          evidence: { signal: 'Sec-GPC: 1' },
        },
        caller,
      );
      optedOut.push(clientId);
    }
    const honored = optInRespected.length === 0;
    return {
      honored,
      message: honored
        ? GPC_HONORED
        : 'Opt-Out Request Honored for this browser; your later choice to allow sharing is kept for your account',
      optedOut,
      optInRespected,
    };
  }
}

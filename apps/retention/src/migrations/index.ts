import type { MigrationClass } from '@dsg/platform';
import { InitRetentionSchema1764100000000 } from './1764100000000-init-retention-schema';
import { RetentionOutboxAndInbox1764200000000 } from './1764200000000-outbox-and-inbox';
import { RetentionSigningKeys1764300000000 } from './1764300000000-signing-keys';
import { RetentionHoldings1766000000000 } from './1766000000000-holdings';
import { RetentionLegalHolds1766100000000 } from './1766100000000-legal-holds';
import { RetentionSweepsPurgesErasures1766200000000 } from './1766200000000-sweeps-purges-erasures';
import { RetentionOutboxJson1766300000000 } from './1766300000000-outbox-json';
import { RetentionSweepInOneStatement1766700000000 } from './1766700000000-sweep-in-one-statement';

/** In order of application. A migration that has shipped is never edited; add a new one. */
export const migrations: MigrationClass[] = [
  InitRetentionSchema1764100000000,
  RetentionOutboxAndInbox1764200000000,
  RetentionSigningKeys1764300000000,
  RetentionHoldings1766000000000,
  RetentionLegalHolds1766100000000,
  RetentionSweepsPurgesErasures1766200000000,
  RetentionOutboxJson1766300000000,
  RetentionSweepInOneStatement1766700000000,
];

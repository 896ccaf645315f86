import type { MigrationClass } from '@dsg/platform';
import { InitConsentSchema1764100000000 } from './1764100000000-init-consent-schema';
import { ConsentOutboxAndInbox1764200000000 } from './1764200000000-outbox-and-inbox';

/** In order of application. A migration that has shipped is never edited; add a new one. */
export const migrations: MigrationClass[] = [
  InitConsentSchema1764100000000,
  ConsentOutboxAndInbox1764200000000,
];

import type { MigrationClass } from '@dsg/platform';
import { InitConsentSchema1764100000000 } from './1764100000000-init-consent-schema';

/** In order of application. A migration that has shipped is never edited; add a new one. */
export const migrations: MigrationClass[] = [InitConsentSchema1764100000000];

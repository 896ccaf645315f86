import type { MigrationClass } from '@dsg/platform';
import { InitGatewaySchema1764100000000 } from './1764100000000-init-gateway-schema';

/** In order of application. A migration that has shipped is never edited; add a new one. */
export const migrations: MigrationClass[] = [InitGatewaySchema1764100000000];

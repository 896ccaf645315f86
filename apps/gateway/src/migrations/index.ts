import type { MigrationClass } from '@dsg/platform';
import { InitGatewaySchema1764100000000 } from './1764100000000-init-gateway-schema';
import { GatewayOutboxAndInbox1764200000000 } from './1764200000000-outbox-and-inbox';
import { GatewaySigningKeys1764300000000 } from './1764300000000-signing-keys';
import { GatewayAccessLog1767200000000 } from './1767200000000-access-log';

/** In order of application. A migration that has shipped is never edited; add a new one. */
export const migrations: MigrationClass[] = [
  InitGatewaySchema1764100000000,
  GatewayOutboxAndInbox1764200000000,
  GatewaySigningKeys1764300000000,
  GatewayAccessLog1767200000000,
];

import {
  EVENTS,
  eventSubject,
  renderAsyncApiYaml,
  SERVICE_NAMES,
  SERVICES,
  type ServiceName,
} from '@dsg/contracts';
import { platformControllers } from '@dsg/platform';
import type { Type } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConsentModule } from '../apps/consent/src/consent.module';
import { DisclosureRegisterModule } from '../apps/disclosure-register/src/disclosure-register.module';
import { GatewayModule } from '../apps/gateway/src/gateway.module';
import { RetentionModule } from '../apps/retention/src/retention.module';

const root = join(__dirname, '..');
const committed = readFileSync(join(root, 'docs', 'asyncapi.yaml'), 'utf8');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
};

const MODULES: Record<ServiceName, Type> = {
  consent: ConsentModule,
  'disclosure-register': DisclosureRegisterModule,
  retention: RetentionModule,
  gateway: GatewayModule,
};

/** Controllers of a module and of the modules it imports, as Nest will register them. */
function controllersOf(module: Type, seen = new Set<Type>()): Type[] {
  if (seen.has(module)) return [];
  seen.add(module);
  const own = (Reflect.getMetadata('controllers', module) as Type[] | undefined) ?? [];
  const imports = (Reflect.getMetadata('imports', module) as Type[] | undefined) ?? [];
  return [...own, ...imports.flatMap((m) => controllersOf(m, seen))];
}

/** The NATS subjects a service's @MessagePattern handlers answer (gRPC methods excluded). */
function natsHandlers(service: ServiceName): string[] {
  const controllers = [
    ...platformControllers(SERVICES[service]),
    ...controllersOf(MODULES[service]),
  ];
  return controllers.flatMap((controller) =>
    Object.getOwnPropertyNames(controller.prototype).flatMap((method) => {
      const fn = (controller.prototype as Record<string, unknown>)[method];
      const patterns =
        (Reflect.getMetadata('microservices:pattern', fn as object) as unknown[] | undefined) ?? [];
      return patterns.filter((p): p is string => typeof p === 'string');
    }),
  );
}

describe('docs/asyncapi.yaml', () => {
  const doc = parse(committed) as {
    operations: Record<string, { action: 'send' | 'receive'; 'x-dsg-service': string }>;
  };
  const operations = (service: ServiceName, action: 'send' | 'receive') =>
    Object.entries(doc.operations)
      .filter(([, op]) => op.action === action && op['x-dsg-service'] === service)
      .map(([subject]) => subject)
      .sort();

  it('is what libs/contracts generates (run `npm run docs` after changing a contract)', () => {
    expect(committed).toBe(renderAsyncApiYaml(version));
  });

  it.each(SERVICE_NAMES.map((s) => [s]))(
    '%s: every receive operation has a NATS handler, and every handler a receive operation',
    (service) => {
      expect(natsHandlers(service).sort()).toEqual(operations(service, 'receive'));
    },
  );

  it.each(SERVICE_NAMES.map((s) => [s]))(
    '%s: every send operation is an event the service publishes, and every such event is documented',
    (service) => {
      const published = EVENTS.filter((e) => e.source === service).map(
        (e) => e.channel ?? eventSubject(e),
      );
      expect(published.sort()).toEqual(operations(service, 'send'));
    },
  );
});

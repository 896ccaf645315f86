import './instrument';
import 'reflect-metadata';
import { runService } from '@dsg/platform';
import { GatewayModule } from './gateway.module';
import { migrations } from './migrations';
import { setupOpenApi } from './openapi';

void runService({
  service: 'gateway',
  module: GatewayModule,
  migrations,
  configureHttp: setupOpenApi,
});

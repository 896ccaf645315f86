import './instrument';
import 'reflect-metadata';
import { runService } from '@dsg/platform';
import { GatewayModule } from './gateway.module';
import { migrations } from './migrations';
import { configureGatewayHttp } from './openapi';

void runService({
  service: 'gateway',
  module: GatewayModule,
  migrations,
  configureHttp: configureGatewayHttp,
});

import './instrument';
import 'reflect-metadata';
import { runService } from '@dsg/platform';
import { ConsentModule } from './consent.module';
import { migrations } from './migrations';

void runService({ service: 'consent', module: ConsentModule, migrations });

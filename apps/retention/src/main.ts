import './instrument';
import 'reflect-metadata';
import { runService } from '@dsg/platform';
import { RetentionModule } from './retention.module';
import { migrations } from './migrations';

void runService({ service: 'retention', module: RetentionModule, migrations });

import './instrument';
import 'reflect-metadata';
import { runService } from '@dsg/platform';
import { DisclosureRegisterModule } from './disclosure-register.module';
import { migrations } from './migrations';

void runService({ service: 'disclosure-register', module: DisclosureRegisterModule, migrations });

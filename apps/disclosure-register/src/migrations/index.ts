import type { MigrationClass } from '@dsg/platform';
import { InitDisclosureRegisterSchema1764100000000 } from './1764100000000-init-disclosure-register-schema';
import { DisclosureRegisterOutboxAndInbox1764200000000 } from './1764200000000-outbox-and-inbox';
import { DisclosureRegisterSigningKeys1764300000000 } from './1764300000000-signing-keys';
import { RegisterRecipients1765400000000 } from './1765400000000-recipients';
import { RegisterLog1765500000000 } from './1765500000000-register-log';
import { BreachAssessments1765600000000 } from './1765600000000-breach-assessments';
import { RegisterAppendGuard1765700000000 } from './1765700000000-append-guard';
import { RegisterJsonColumns1765800000000 } from './1765800000000-json-columns';
import { RegisterLegalRequestsAndAccounting1765900000000 } from './1765900000000-legal-requests-and-accounting';
import { RegisterNoticesAndRedaction1766200000000 } from './1766200000000-notices-and-redaction';
import { RegisterRecordsDeclared1766300000000 } from './1766300000000-records-declared';
import { RegisterAppendsInTurn1766400000000 } from './1766400000000-appends-in-turn';
import { RegisterReceiptBatches1766500000000 } from './1766500000000-receipt-batches';
import { RegisterOutboxJson1766600000000 } from './1766600000000-outbox-json';
import { RegisterRecipientNoticeContact1766900000000 } from './1766900000000-recipient-notice-contact';

/** In order of application. A migration that has shipped is never edited; add a new one. */
export const migrations: MigrationClass[] = [
  InitDisclosureRegisterSchema1764100000000,
  DisclosureRegisterOutboxAndInbox1764200000000,
  DisclosureRegisterSigningKeys1764300000000,
  RegisterRecipients1765400000000,
  RegisterLog1765500000000,
  BreachAssessments1765600000000,
  RegisterAppendGuard1765700000000,
  RegisterJsonColumns1765800000000,
  RegisterLegalRequestsAndAccounting1765900000000,
  RegisterNoticesAndRedaction1766200000000,
  RegisterRecordsDeclared1766300000000,
  RegisterAppendsInTurn1766400000000,
  RegisterReceiptBatches1766500000000,
  RegisterOutboxJson1766600000000,
  RegisterRecipientNoticeContact1766900000000,
];

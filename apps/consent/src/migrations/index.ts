import type { MigrationClass } from '@dsg/platform';
import { InitConsentSchema1764100000000 } from './1764100000000-init-consent-schema';
import { ConsentOutboxAndInbox1764200000000 } from './1764200000000-outbox-and-inbox';
import { ConsentSigningKeys1764300000000 } from './1764300000000-signing-keys';
import { ConsentPolicyVersions1764400000000 } from './1764400000000-policy-versions';
import { ConsentSubjects1764500000000 } from './1764500000000-subjects';
import { ConsentLedger1764600000000 } from './1764600000000-consent-ledger';
import { ConsentGpcSignals1764700000000 } from './1764700000000-gpc-signals';
import { ConsentAuthorizations1764800000000 } from './1764800000000-authorizations';
import { ConsentRestrictions1764900000000 } from './1764900000000-restrictions';
import { ConsentNotificationTasks1765000000000 } from './1765000000000-notification-tasks';
import { ConsentDecisionReplicas1765100000000 } from './1765100000000-decision-replicas';
import { ConsentAuthorizationExpiries1765200000000 } from './1765200000000-authorization-expiries';
import { ConsentParentalVerification1765300000000 } from './1765300000000-parental-verification';
import { ConsentRecordsDeclared1766200000000 } from './1766200000000-records-declared';
import { ConsentRightsRequestLog1766800000000 } from './1766800000000-rights-request-log';
import { ConsentNotices1766900000000 } from './1766900000000-notices';
import { ConsentRightsRequests1767000000000 } from './1767000000000-rights-requests';
import { ConsentRequestNoticesPurged1767100000000 } from './1767100000000-request-notices-purged';

/** In order of application. A migration that has shipped is never edited; add a new one. */
export const migrations: MigrationClass[] = [
  InitConsentSchema1764100000000,
  ConsentOutboxAndInbox1764200000000,
  ConsentSigningKeys1764300000000,
  ConsentPolicyVersions1764400000000,
  ConsentSubjects1764500000000,
  ConsentLedger1764600000000,
  ConsentGpcSignals1764700000000,
  ConsentAuthorizations1764800000000,
  ConsentRestrictions1764900000000,
  ConsentNotificationTasks1765000000000,
  ConsentDecisionReplicas1765100000000,
  ConsentAuthorizationExpiries1765200000000,
  ConsentParentalVerification1765300000000,
  ConsentRecordsDeclared1766200000000,
  ConsentRightsRequestLog1766800000000,
  ConsentNotices1766900000000,
  ConsentRightsRequests1767000000000,
  ConsentRequestNoticesPurged1767100000000,
];

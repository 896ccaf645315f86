import {
  GetPolicyRequest,
  ListPolicyVersionsReply,
  ListPolicyVersionsRequest,
  PolicyVersionReply,
} from './consent/policy.dto';
import {
  AuthorizationRef,
  AuthorizationReply,
  RecordAuthorizationRequest,
  RevokeAuthorizationRequest,
} from './consent/authorizations.dto';
import {
  CheckBatchReply,
  CheckBatchRequest,
  CheckReply,
  CheckRequest,
} from './consent/decision.dto';
import {
  ConsentEvent,
  ConsentHistoryReply,
  ConsentHistoryRequest,
  ConsentStateReply,
  GpcSignalReply,
  GpcSignalRequest,
  RecordConsentRequest,
  RedactLedgerReply,
  RedactLedgerRequest,
} from './consent/ledger.dto';
import {
  EndRestrictionRequest,
  ListRestrictionsReply,
  ListRestrictionsRequest,
  RequestRestrictionRequest,
  RestrictionReply,
} from './consent/restrictions.dto';
import {
  AnswerRightsRequest,
  ListRightsRequestsReply,
  ListRightsRequestsRequest,
  PurgeRightsRequestsReply,
  PurgeRightsRequestsRequest,
  RecordRightsRequest,
  RightsRequestReply,
} from './consent/requests.dto';
import {
  DenyRightsRequest,
  ExportRequestLogReply,
  ExportRequestLogRequest,
  ExtendRightsRequest,
  FulfilRightsRequest,
  ListRightsCasesReply,
  ListRightsCasesRequest,
  RequestLogFiguresReply,
  RightsReportReply,
  RightsReportRequest,
  RightsRequestCase,
  RightsRequestRef,
  SubmitRightsRequest,
  VerifyRightsRequest,
} from './consent/rights.dto';
import { ListNoticesReply, ListNoticesRequest } from './consent/notices.dto';
import { GetSubjectRequest, SubjectReply, UpsertSubjectRequest } from './consent/subjects.dto';
import {
  SubjectHoldingsReply,
  SubjectHoldingsRequest,
  DeclareHoldingsReply,
  DeclareHoldingsRequest,
  ListDueReply,
  ListDueRequest,
} from './retention/holdings.dto';
import {
  HoldRef,
  HoldReply,
  ListHoldsReply,
  ListHoldsRequest,
  PlaceHoldRequest,
  ReleaseHoldRequest,
} from './retention/holds.dto';
import {
  AckPurgeReply,
  AckPurgeRequest,
  ConfirmPurgeReply,
  ConfirmPurgeRequest,
  ListPurgeItemsReply,
  ListPurgeItemsRequest,
  ListSweepsReply,
  ListSweepsRequest,
  RunSweepRequest,
  SweepReply,
} from './retention/purges.dto';
import {
  ErasureRef,
  ErasureReply,
  RequestErasureForRightsRequest,
  RequestErasureRequest,
} from './retention/erasures.dto';
import {
  RecordNoticesReply,
  RecordNoticesRequest,
  RedactEntriesReply,
  RedactEntriesRequest,
} from './register/notices.dto';
import { StackHealthReply, StackHealthRequest } from './gateway/gateway.dto';
import {
  BreachAssessmentReply,
  CloseBreachRequest,
  DecideBreachRequest,
  GetBreachRequest,
  ListBreachesReply,
  ListBreachesRequest,
  NotifyBreachRequest,
  ReviewBreachRequest,
} from './register/breaches.dto';
import {
  ConsistencyProofReply,
  ConsistencyProofRequest,
  DiscloseRequest,
  DisclosureReceipt,
  InclusionProofReply,
  InclusionProofRequest,
  ReportDisclosureRequest,
  ReportReceipt,
  TreeHeadReply,
  TreeHeadRequest,
  VerifyLogReply,
  VerifyLogRequest,
} from './register/disclosures.dto';
import {
  ExportManifest,
  ExportManifestRequest,
  ExportPageReply,
  ExportPageRequest,
} from './register/exports.dto';
import {
  AccountingPdfReply,
  AccountingRef,
  AccountingReply,
  ListAccountingsReply,
  ListAccountingsRequest,
  ProduceAccountingForRightsRequest,
  ProduceAccountingRequest,
  SubjectAccountingsRequest,
} from './register/accounting.dto';
import {
  QueryEntriesReply,
  QueryEntriesRequest,
  SubjectEntriesReply,
  SubjectEntriesRequest,
} from './register/entries.dto';
import {
  AccountingSuspensionReply,
  DecideLegalRequest,
  FulfilLegalRequest,
  FulfilLegalRequestReply,
  LegalRequestIntake,
  LegalRequestRef,
  LegalRequestReply,
  ListLegalRequestsReply,
  ListLegalRequestsRequest,
  ListSuspensionsReply,
  ListSuspensionsRequest,
  SuspendAccountingRequest,
} from './register/legal-requests.dto';
import {
  GetRecipientRequest,
  ListRecipientsReply,
  ListRecipientsRequest,
  RecipientReply,
  UpsertRecipientRequest,
} from './register/recipients.dto';
import {
  RotateSigningKeyReply,
  RotateSigningKeyRequest,
  SigningKeysReply,
  SigningKeysRequest,
} from './keys/keys.dto';
import type { ServiceName } from './services';
import {
  PingReply,
  PingRequest,
  StatusReply,
  StatusRequest,
  VersionReply,
  VersionRequest,
} from './system/system.dto';

type Ctor<T> = new () => T;

/** One request-reply operation: its subject (relative to the deployment prefix) and types. */
export interface RpcDef<Req, Res> {
  readonly subject: string;
  readonly request: Ctor<Req>;
  readonly reply: Ctor<Res>;
  /** One line for the API documents. */
  readonly summary: string;
  /**
   * A query changes nothing, so a repeat is harmless: the typed client sends it no
   * Idempotency-Key (nor any header it was not given), which keeps the hot paths light.
   */
  readonly kind: 'query' | 'command';
}

function rpc<Req, Res>(
  subject: string,
  request: Ctor<Req>,
  reply: Ctor<Res>,
  summary: string,
  kind: 'query' | 'command' = 'command',
): RpcDef<Req, Res> {
  return { subject, request, reply, summary, kind };
}

/** Operations every service answers, under `<service>.system.*`. */
function systemRpcs(service: ServiceName) {
  return {
    version: rpc(
      `${service}.system.version`,
      VersionRequest,
      VersionReply,
      'The product version this instance runs.',
      'query',
    ),
    status: rpc(
      `${service}.system.status`,
      StatusRequest,
      StatusReply,
      'Instance state and its PostgreSQL and NATS checks.',
      'query',
    ),
    ping: rpc(
      `${service}.system.ping`,
      PingRequest,
      PingReply,
      'Round-trip probe; delayMs holds the request in flight.',
      'query',
    ),
    signingKeys: rpc(
      `${service}.keys.list`,
      SigningKeysRequest,
      SigningKeysReply,
      "The service's current and retired public signing keys.",
      'query',
    ),
    rotateSigningKey: rpc(
      `${service}.keys.rotate`,
      RotateSigningKeyRequest,
      RotateSigningKeyReply,
      'Activates a new signing key and retires the current one. Role: privacy_officer.',
    ),
  };
}

export type SystemRpcs = ReturnType<typeof systemRpcs>;

/**
 * The request-reply API of every service. Handlers subscribe to these subjects, the typed client
 * calls them; nothing else names a subject.
 */
export const Rpc = {
  consent: {
    ...systemRpcs('consent'),
    policyGet: rpc(
      'consent.policy.get',
      GetPolicyRequest,
      PolicyVersionReply,
      'A version of the policy bundle: the one in effect now, or the version asked for.',
      'query',
    ),
    subjectUpsert: rpc(
      'consent.subjects.upsert',
      UpsertSubjectRequest,
      SubjectReply,
      "Creates or updates a subject (the spa's systems keep status, date of birth and links current).",
    ),
    subjectGet: rpc(
      'consent.subjects.get',
      GetSubjectRequest,
      SubjectReply,
      'A subject, with its age computed now (KID-3).',
      'query',
    ),
    ledgerRecord: rpc(
      'consent.ledger.record',
      RecordConsentRequest,
      ConsentEvent,
      'Appends a grant, withdrawal, opt-out or opt-in to the consent ledger (Idempotency-Key honoured).',
    ),
    ledgerHistory: rpc(
      'consent.ledger.history',
      ConsentHistoryRequest,
      ConsentHistoryReply,
      "A subject's full consent history, oldest first.",
      'query',
    ),
    ledgerState: rpc(
      'consent.ledger.state',
      ConsentHistoryRequest,
      ConsentStateReply,
      'The current state per scope, derived from the ledger.',
      'query',
    ),
    gpcSignal: rpc(
      'consent.gpc.signal',
      GpcSignalRequest,
      GpcSignalReply,
      'Records a Global Privacy Control signal: an opt-out of sale and sharing (CCP-5).',
    ),
    authorizationRecord: rpc(
      'consent.authorizations.record',
      RecordAuthorizationRequest,
      AuthorizationReply,
      'Records a signed authorization; an incomplete one is refused naming each missing element (HIP-1, CMI-2).',
    ),
    authorizationRevoke: rpc(
      'consent.authorizations.revoke',
      RevokeAuthorizationRequest,
      AuthorizationReply,
      'Revokes an authorization, effective from receipt (HIP-2).',
    ),
    authorizationGet: rpc(
      'consent.authorizations.get',
      AuthorizationRef,
      AuthorizationReply,
      "An authorization's status at a moment: valid, expired or revoked.",
      'query',
    ),
    restrictionRequest: rpc(
      'consent.restrictions.request',
      RequestRestrictionRequest,
      RestrictionReply,
      'Records a restriction or confidential-channel request (HIP-7).',
    ),
    restrictionEnd: rpc(
      'consent.restrictions.end',
      EndRestrictionRequest,
      RestrictionReply,
      'Ends a restriction; a self-pay health-plan restriction cannot be ended by the spa alone (HIP-7).',
    ),
    restrictionList: rpc(
      'consent.restrictions.list',
      ListRestrictionsRequest,
      ListRestrictionsReply,
      "A subject's restrictions and confidential channels.",
      'query',
    ),
    check: rpc(
      'consent.decision.check',
      CheckRequest,
      CheckReply,
      'May this be shared? ALLOW or DENY with every reason as a rule id.',
      'query',
    ),
    explain: rpc(
      'consent.decision.explain',
      CheckRequest,
      CheckReply,
      'The check, with every rule evaluated and its outcome.',
      'query',
    ),
    checkBatch: rpc(
      'consent.decision.check-batch',
      CheckBatchRequest,
      CheckBatchReply,
      'Many checks at once, answered in order.',
      'query',
    ),
    ledgerRedact: rpc(
      'consent.ledger.redact',
      RedactLedgerRequest,
      RedactLedgerReply,
      "Removes a subject's personal details from its ledger entries, leaving an audited trace. Caller: retention.",
    ),
    requestRecord: rpc(
      'consent.requests.record',
      RecordRightsRequest,
      RightsRequestReply,
      'Logs a rights request as received: right, channel, requester, date (CCP-7).',
    ),
    requestAnswer: rpc(
      'consent.requests.answer',
      AnswerRightsRequest,
      RightsRequestReply,
      "Logs a request's answer: date, outcome, verification, basis of a denial (CCP-7). Once.",
    ),
    requestList: rpc(
      'consent.requests.list',
      ListRightsRequestsRequest,
      ListRightsRequestsReply,
      "A subject's entries in the rights-request log, oldest first.",
      'query',
    ),
    requestPurge: rpc(
      'consent.requests.purge',
      PurgeRightsRequestsRequest,
      PurgeRightsRequestsReply,
      "Deletes a subject's answered log entries whose period has run (RET-3). Caller: retention.",
    ),
    rightsSubmit: rpc(
      'consent.rights.submit',
      SubmitRightsRequest,
      RightsRequestCase,
      'Receives a rights request (POL-4, CCP-1, HIP-8): logged, deadlines set, receipt confirmed; an opt-out is carried out at once; a repeat of an open request is linked. Role: privacy_officer.',
    ),
    rightsVerify: rpc(
      'consent.rights.verify',
      VerifyRightsRequest,
      RightsRequestCase,
      "Matches the requester's data points at the level the right needs (CCP-3); the values are used for this only. Role: privacy_officer.",
    ),
    rightsExtend: rpc(
      'consent.rights.extend',
      ExtendRightsRequest,
      RightsRequestCase,
      'The one extension, with its reasons, told to the requester before the deadline (CCP-2, ACC-5). Role: privacy_officer.',
    ),
    rightsFulfil: rpc(
      'consent.rights.fulfil',
      FulfilRightsRequest,
      RightsRequestCase,
      'Carries out a verified request through the other services: erasure, accounting (fee-quoted after the first in 12 months, ACC-6), report, correction tasks. Role: privacy_officer.',
    ),
    rightsDeny: rpc(
      'consent.rights.deny',
      DenyRightsRequest,
      RightsRequestCase,
      'Answers a request as denied (or withdrawn after a fee quote), with its basis (CCP-7). Role: privacy_officer.',
    ),
    rightsGet: rpc(
      'consent.rights.get',
      RightsRequestRef,
      RightsRequestCase,
      'A rights request with its state, deadlines, verification and fulfilment. Role: privacy_officer or auditor.',
      'query',
    ),
    rightsList: rpc(
      'consent.rights.list',
      ListRightsCasesRequest,
      ListRightsCasesReply,
      'Rights requests, by subject, state or overdue, oldest deadline first. Role: privacy_officer or auditor.',
      'query',
    ),
    rightsReport: rpc(
      'consent.rights.report',
      RightsReportRequest,
      RightsReportReply,
      "A know or access request's report, as JSON or PDF. Role: privacy_officer or auditor.",
      'query',
    ),
    requestLogExport: rpc(
      'consent.requests.export',
      ExportRequestLogRequest,
      ExportRequestLogReply,
      'The rights-request log of a period, for an auditor (CCP-7). Role: auditor or privacy_officer.',
      'query',
    ),
    requestLogFigures: rpc(
      'consent.requests.figures',
      ExportRequestLogRequest,
      RequestLogFiguresReply,
      'Figures of a period: requests by right, met, denied, median days to answer (CCP-7). Role: auditor or privacy_officer.',
      'query',
    ),
    noticesList: rpc(
      'consent.notices.list',
      ListNoticesRequest,
      ListNoticesReply,
      'Outbound notices and their delivery state (queued, retrying, sent, failed) with every attempt. Role: auditor or privacy_officer.',
      'query',
    ),
    policyVersions: rpc(
      'consent.policy.versions',
      ListPolicyVersionsRequest,
      ListPolicyVersionsReply,
      'Every published version of the policy bundle, and which is in effect now.',
      'query',
    ),
  },
  'disclosure-register': {
    ...systemRpcs('disclosure-register'),
    recipientUpsert: rpc(
      'disclosure-register.recipients.upsert',
      UpsertRecipientRequest,
      RecipientReply,
      'A new version of a recipient (kind, legal role, address, BAA, allowed purposes and categories); versions are never overwritten.',
    ),
    recipientGet: rpc(
      'disclosure-register.recipients.get',
      GetRecipientRequest,
      RecipientReply,
      'A recipient: its current version, or the version asked for.',
      'query',
    ),
    recipientList: rpc(
      'disclosure-register.recipients.list',
      ListRecipientsRequest,
      ListRecipientsReply,
      'Every recipient, current versions.',
      'query',
    ),
    disclose: rpc(
      'disclosure-register.disclosures.disclose',
      DiscloseRequest,
      DisclosureReceipt,
      'Checks a disclosure (recipient, BAA, minimum necessary, consent) and records it, allowed or denied; answers a signed receipt. Needs Idempotency-Key.',
    ),
    report: rpc(
      'disclosure-register.disclosures.report',
      ReportDisclosureRequest,
      ReportReceipt,
      'Records a disclosure that already happened (a business associate report, ACC-3; an emergency) after the same checks; one that fails them is flagged and opens a breach assessment (HIP-9). Needs Idempotency-Key.',
    ),
    breachList: rpc(
      'disclosure-register.breaches.list',
      ListBreachesRequest,
      ListBreachesReply,
      'Breach assessments (HIP-9), oldest first, optionally in one state, with deadlines and whether one is overdue. Privacy officer or auditor, through the gateway.',
      'query',
    ),
    breachGet: rpc(
      'disclosure-register.breaches.get',
      GetBreachRequest,
      BreachAssessmentReply,
      'One breach assessment with its history. Privacy officer or auditor, through the gateway.',
      'query',
    ),
    breachReview: rpc(
      'disclosure-register.breaches.review',
      ReviewBreachRequest,
      BreachAssessmentReply,
      'A privacy officer takes an open assessment up (open → under-review).',
    ),
    breachDecide: rpc(
      'disclosure-register.breaches.decide',
      DecideBreachRequest,
      BreachAssessmentReply,
      'A privacy officer decides notifiable or not, with reasons and the four-factor risk assessment (164.402).',
    ),
    breachNotify: rpc(
      'disclosure-register.breaches.notify',
      NotifyBreachRequest,
      BreachAssessmentReply,
      'Records a notification sent for a notifiable breach (individuals, regulator, media).',
    ),
    breachClose: rpc(
      'disclosure-register.breaches.close',
      CloseBreachRequest,
      BreachAssessmentReply,
      'Closes a decided assessment: not notifiable, or notifiable with individuals and regulator notified.',
    ),
    treeHead: rpc(
      'disclosure-register.log.tree-head',
      TreeHeadRequest,
      TreeHeadReply,
      "The newest signed tree head of the register's Merkle log.",
      'query',
    ),
    inclusionProof: rpc(
      'disclosure-register.log.inclusion-proof',
      InclusionProofRequest,
      InclusionProofReply,
      "An entry's audit path to a signed tree head (RFC 9162 2.1.3): proof that the entry is in the log the head signs.",
      'query',
    ),
    consistencyProof: rpc(
      'disclosure-register.log.consistency-proof',
      ConsistencyProofRequest,
      ConsistencyProofReply,
      'Proof that an earlier signed tree head is a prefix of a later one (RFC 9162 2.1.4): nothing signed was rewritten since.',
      'query',
    ),
    verify: rpc(
      'disclosure-register.log.verify',
      VerifyLogRequest,
      VerifyLogReply,
      'Recomputes every leaf and every sealed tree head; names the first entry that does not match.',
      'query',
    ),
    exportManifest: rpc(
      'disclosure-register.exports.manifest',
      ExportManifestRequest,
      ExportManifest,
      'The signed manifest of an export (a contiguous range, or the entries matching a filter) fixed to a sealed tree head: what it holds and what it proves. Auditor or privacy officer, through the gateway.',
      'query',
    ),
    exportPage: rpc(
      'disclosure-register.exports.page',
      ExportPageRequest,
      ExportPageReply,
      "One page of an export's lines (raw bytes after the JSON reply), from a position. Auditor or privacy officer, through the gateway.",
      'query',
    ),
    noticesRecord: rpc(
      'disclosure-register.notices.record',
      RecordNoticesRequest,
      RecordNoticesReply,
      "Records a notice (a register entry) to every recipient the register shows received a subject's data (CCP-4); a repeat with the same ref records nothing again. Caller: retention.",
    ),
    entriesRedact: rpc(
      'disclosure-register.entries.redact',
      RedactEntriesRequest,
      RedactEntriesReply,
      "The register's redaction path: a subject's personal details leave the entries recorded before a date; the leaves stay and the log still verifies. Caller: retention.",
    ),
    entriesQuery: rpc(
      'disclosure-register.entries.query',
      QueryEntriesRequest,
      QueryEntriesReply,
      'Entries matching a filter (period, recipient, purpose, subject, decision), in position order, with keyset pagination (after = the previous page’s nextAfter). Auditor or privacy officer, through the gateway.',
      'query',
    ),
    legalRequestIntake: rpc(
      'disclosure-register.legal-requests.intake',
      LegalRequestIntake,
      LegalRequestReply,
      'Records a law-enforcement, court or regulator request and validates it (HIP-6, CMI-3): refused when neither law allows it, in review when HIPAA allows it and CMIA does not, accepted when both do. Privacy officer, through the gateway. Needs Idempotency-Key.',
    ),
    legalRequestList: rpc(
      'disclosure-register.legal-requests.list',
      ListLegalRequestsRequest,
      ListLegalRequestsReply,
      'Legal requests, oldest first, optionally in one state (the review queue: in-review). Privacy officer or auditor, through the gateway.',
      'query',
    ),
    legalRequestGet: rpc(
      'disclosure-register.legal-requests.get',
      LegalRequestRef,
      LegalRequestReply,
      'One legal request with its validation, history and the register entries that fulfilled it. Privacy officer or auditor, through the gateway.',
      'query',
    ),
    legalRequestDecide: rpc(
      'disclosure-register.legal-requests.decide',
      DecideLegalRequest,
      LegalRequestReply,
      'A privacy officer approves, narrows or denies a request in review (or accepted and not yet fulfilled), with reasons.',
    ),
    legalRequestFulfil: rpc(
      'disclosure-register.legal-requests.fulfil',
      FulfilLegalRequest,
      FulfilLegalRequestReply,
      'Records the disclosures made for an accepted or approved request, within its scope, as register entries linked to it. Privacy officer, through the gateway. Needs Idempotency-Key.',
    ),
    suspensionRecord: rpc(
      'disclosure-register.accounting.suspend',
      SuspendAccountingRequest,
      AccountingSuspensionReply,
      'Records an agency’s statement suspending accountings of its disclosures (ACC-8): written until its date, oral for at most 30 days. Privacy officer, through the gateway.',
    ),
    suspensionList: rpc(
      'disclosure-register.accounting.suspensions',
      ListSuspensionsRequest,
      ListSuspensionsReply,
      'Accounting suspensions (ACC-8), optionally only those in force. Privacy officer or auditor, through the gateway.',
      'query',
    ),
    accountingForRightsRequest: rpc(
      'disclosure-register.accountings.for-rights-request',
      ProduceAccountingForRightsRequest,
      AccountingReply,
      'An accounting for a rights request, produced for the privacy officer fulfilling it (ACC-5, ACC-9). Caller: consent.',
    ),
    accountingsOfSubject: rpc(
      'disclosure-register.accountings.of-subject',
      SubjectAccountingsRequest,
      ListAccountingsReply,
      "A subject's accountings, for the fee check (ACC-6). Caller: consent.",
      'query',
    ),
    entriesOfSubject: rpc(
      'disclosure-register.entries.of-subject',
      SubjectEntriesRequest,
      SubjectEntriesReply,
      "A subject's register entries, for a know or access report (CCP-1, HIP-8). Caller: consent.",
      'query',
    ),
    accountingProduce: rpc(
      'disclosure-register.accounting.produce',
      ProduceAccountingRequest,
      AccountingReply,
      'Produces and records an accounting of disclosures for a subject (ACC-1, ACC-2, ACC-4, ACC-7, ACC-8, ACC-9). Privacy officer, through the gateway.',
    ),
    accountingGet: rpc(
      'disclosure-register.accounting.get',
      AccountingRef,
      AccountingReply,
      'An accounting as it was produced and recorded (ACC-9). Privacy officer or auditor, through the gateway.',
      'query',
    ),
    accountingList: rpc(
      'disclosure-register.accounting.list',
      ListAccountingsRequest,
      ListAccountingsReply,
      'The accountings produced for a subject, newest first (ACC-9). Privacy officer or auditor, through the gateway.',
      'query',
    ),
    accountingPdf: rpc(
      'disclosure-register.accounting.pdf',
      AccountingRef,
      AccountingPdfReply,
      'An accounting rendered as a readable PDF (raw bytes after the JSON reply). Privacy officer or auditor, through the gateway.',
      'query',
    ),
  },
  retention: {
    ...systemRpcs('retention'),
    holdingsDeclare: rpc(
      'retention.holdings.declare',
      DeclareHoldingsRequest,
      DeclareHoldingsReply,
      'A holding system declares (or updates) which categories it holds for which subjects and the dates that start their clocks; answers when each is due and why (RET-1 to RET-5). Only for the calling system.',
    ),
    holdingsDue: rpc(
      'retention.holdings.due',
      ListDueRequest,
      ListDueReply,
      'Holdings due by a date (default now), soonest first, a page at a time (keyset), each with the legal holds that stop it. Operator, privacy officer or auditor, through the gateway.',
      'query',
    ),
    holdPlace: rpc(
      'retention.holds.place',
      PlaceHoldRequest,
      HoldReply,
      'A privacy officer places a legal hold (RET-6) by subject, category, system and period, with its reason: what it covers is neither expired nor erased until it is released. Needs Idempotency-Key.',
    ),
    holdRelease: rpc(
      'retention.holds.release',
      ReleaseHoldRequest,
      HoldReply,
      'A privacy officer releases a legal hold, with the reason.',
    ),
    holdGet: rpc(
      'retention.holds.get',
      HoldRef,
      HoldReply,
      'One legal hold with its history. Privacy officer, auditor or operator, through the gateway.',
      'query',
    ),
    holdList: rpc(
      'retention.holds.list',
      ListHoldsRequest,
      ListHoldsReply,
      'Legal holds, oldest first (optionally only those in force). Privacy officer, auditor or operator, through the gateway.',
      'query',
    ),
    purgeConfirm: rpc(
      'retention.purges.confirm',
      ConfirmPurgeRequest,
      ConfirmPurgeReply,
      'A holding system confirms purge items just before executing them; an item a legal hold now covers is refused (RET-6: LEGAL_HOLD), one declared again and no longer due too (NOT_DUE). Only the items of the calling system.',
    ),
    purgeAck: rpc(
      'retention.purges.ack',
      AckPurgeRequest,
      AckPurgeReply,
      'A holding system acknowledges confirmed purge items with what was done (done) or what went wrong (failed: retried with back-off, dead-lettered after the set number of attempts).',
    ),
    purgeList: rpc(
      'retention.purges.list',
      ListPurgeItemsRequest,
      ListPurgeItemsReply,
      'Purge items by state (dead-lettered ones for operators), system or erasure, a page at a time. Operator, privacy officer or auditor, through the gateway.',
      'query',
    ),
    sweepRun: rpc(
      'retention.sweeps.run',
      RunSweepRequest,
      SweepReply,
      'An operator starts a sweep now (sweeps also run on the configured schedule); answers busy if one is running on any replica.',
    ),
    sweepList: rpc(
      'retention.sweeps.list',
      ListSweepsRequest,
      ListSweepsReply,
      'Recent sweeps, newest first. Operator, privacy officer or auditor, through the gateway.',
      'query',
    ),
    erasureForRightsRequest: rpc(
      'retention.erasures.for-rights-request',
      RequestErasureForRightsRequest,
      ErasureReply,
      "A consumer's deletion request carried out for a rights request (CCP-4); a retry returns the erasure as it stands. Caller: consent.",
    ),
    holdingsOfSubject: rpc(
      'retention.holdings.of-subject',
      SubjectHoldingsRequest,
      SubjectHoldingsReply,
      'Every holding of one subject (know reports, correction tasks). Caller: consent.',
      'query',
    ),
    erasureRequest: rpc(
      'retention.erasures.request',
      RequestErasureRequest,
      ErasureReply,
      "A subject's data erased with its exceptions (CCP-4, KID-1, POL-5): each holding erased or kept under its rule, recipients told through the register, a signed certificate once every item is settled. Privacy officer, through the gateway. Needs Idempotency-Key.",
    ),
    erasureGet: rpc(
      'retention.erasures.get',
      ErasureRef,
      ErasureReply,
      'An erasure with its decisions, notices and, once complete, its signed certificate. Privacy officer or auditor, through the gateway.',
      'query',
    ),
  },
  gateway: {
    ...systemRpcs('gateway'),
    /** Every service's status, gathered by the gateway over NATS. */
    stackHealth: rpc(
      'gateway.health.stack',
      StackHealthRequest,
      StackHealthReply,
      "Every service's status, gathered by the gateway over NATS.",
      'query',
    ),
  },
} satisfies Record<ServiceName, Record<string, RpcDef<unknown, unknown>>>;

export type RpcApi = typeof Rpc;

import { type Role, Rpc, type RpcDef, SERVICE_NAMES } from '@dsg/contracts';

/**
 * Every route of the gateway's people-facing API (`/v1/...`), with the roles that may use it.
 * This table is the one place the role matrix lives (POL-7: authorised personnel only): the
 * dispatcher (api.controller.ts) refuses any role not listed before anything else runs, the
 * OpenAPI document and the README's matrix are written from it, and test/gateway-roles walks it
 * whole. A path not in the table does not exist (404). Services check the role in the gateway's
 * assertion again where they were built to (defence in depth); the table may only be narrower.
 */
export interface RouteDef {
  /** Stable name: the access log's `action`, the matrix's row. */
  readonly id: string;
  readonly method: 'GET' | 'POST' | 'PUT';
  /** Express-style path; `:name` parameters become request members of the same name. */
  readonly path: string;
  readonly roles: readonly Role[];
  readonly summary: string;
  /** The service operation it forwards to (absent: answered by the gateway itself). */
  readonly rpc?: { service: (typeof SERVICE_NAMES)[number]; op: RpcDef<unknown, unknown> };
  /**
   * POL-7: an access to register data, reports or exports. The access log records who, what,
   * which filter, when and how many entries, before the answer leaves the gateway.
   */
  readonly audited?: { count: (reply: unknown) => number };
  /**
   * Why a read is not in the access log: it returns nothing of any subject (hashes, counts,
   * businesses, the stack's state). Every other GET route is audited (route-table.spec checks).
   */
  readonly unaudited?: string;
  /** Query parameters that are members of the request's `filter` (register filters). */
  readonly filterParams?: readonly string[];
  /** A command that needs (and forwards) the caller's Idempotency-Key header. */
  readonly idempotent?: boolean;
  /** Answered as a file: the reply's raw bytes with this content type. */
  readonly binary?: string;
}

export const AUDITOR: Role = 'auditor';
export const PRIVACY_OFFICER: Role = 'privacy_officer';
export const OPERATOR: Role = 'operator';
const READERS = [AUDITOR, PRIVACY_OFFICER] as const;
const EVERYONE = [AUDITOR, PRIVACY_OFFICER, OPERATOR] as const;

/** The register's entry filter, flat in the query string. */
export const REGISTER_FILTER = [
  'recordedFrom',
  'recordedTo',
  'recipientId',
  'purpose',
  'decision',
  'clientId',
] as const;

const lengthOf =
  (member: string) =>
  (reply: unknown): number => {
    const value = (reply as Record<string, unknown> | undefined)?.[member];
    return Array.isArray(value) ? value.length : 0;
  };
const one = (): number => 1;
/** Nothing of any entry is returned (a manifest: counts, hashes and the filter itself). */
const none = (): number => 0;
const linesOf = (reply: unknown): number =>
  ((reply as { disclosures?: unknown[] }).disclosures ?? []).length;

const { consent, retention } = Rpc;
const register = Rpc['disclosure-register'];

export const ROUTES: readonly RouteDef[] = [
  // ---- The disclosure register (auditors; privacy officers read it too) ----
  {
    id: 'register.entries',
    method: 'GET',
    path: '/v1/register/entries',
    roles: READERS,
    summary:
      'Register entries matching a filter (recordedFrom, recordedTo, recipientId, purpose, decision, clientId), in position order, a page at a time (after = the previous nextAfter).',
    rpc: { service: 'disclosure-register', op: register.entriesQuery },
    filterParams: REGISTER_FILTER,
    audited: { count: lengthOf('entries') },
  },
  {
    id: 'register.export',
    method: 'GET',
    path: '/v1/register/export',
    roles: READERS,
    summary:
      'The register (or the entries matching a filter) as CSV or JSON Lines, streamed. The signed manifest comes in the Dsg-Export-Manifest header (base64url JSON); Dsg-Export-Entries says how many lines follow. Verify offline with `dsg verify-export`.',
    // The manifest's request types the query (format, treeSize, fromPosition, toPosition);
    // the lines are streamed by the dispatcher itself.
    rpc: { service: 'disclosure-register', op: register.exportManifest },
    filterParams: REGISTER_FILTER,
    audited: { count: (manifest) => (manifest as { entries: number }).entries },
  },
  {
    id: 'register.export-manifest',
    method: 'GET',
    path: '/v1/register/export/manifest',
    roles: READERS,
    summary:
      'Only the signed manifest of an export (what it would hold and prove), without its lines.',
    rpc: { service: 'disclosure-register', op: register.exportManifest },
    filterParams: REGISTER_FILTER,
    audited: { count: none },
  },
  {
    id: 'register.tree-head',
    method: 'GET',
    path: '/v1/register/tree-head',
    roles: READERS,
    summary: "The newest signed tree head of the register's Merkle log.",
    rpc: { service: 'disclosure-register', op: register.treeHead },
    unaudited: 'a signed tree head: sizes and hashes',
  },
  {
    id: 'register.inclusion-proof',
    method: 'GET',
    path: '/v1/register/proofs/inclusion',
    roles: READERS,
    summary: "An entry's audit path to a signed tree head (entryId, treeSize).",
    rpc: { service: 'disclosure-register', op: register.inclusionProof },
    unaudited: 'an audit path: hashes',
  },
  {
    id: 'register.consistency-proof',
    method: 'GET',
    path: '/v1/register/proofs/consistency',
    roles: READERS,
    summary: 'Proof that an earlier tree head is a prefix of a later one (fromSize, toSize).',
    rpc: { service: 'disclosure-register', op: register.consistencyProof },
    unaudited: 'a consistency proof: hashes',
  },
  {
    id: 'register.verify',
    method: 'GET',
    path: '/v1/register/verify',
    roles: READERS,
    summary:
      'Verifies the live register: every leaf and every sealed tree head recomputed; names the first entry that does not match.',
    rpc: { service: 'disclosure-register', op: register.verify },
    unaudited: 'a verdict: counts and, on a mismatch, a position',
  },
  // ---- Accountings of disclosures (ACC-1 … ACC-9) ----
  {
    id: 'accountings.produce',
    method: 'POST',
    path: '/v1/subjects/:clientId/accountings',
    roles: [PRIVACY_OFFICER],
    summary: 'Produces and records an accounting of disclosures for a subject (ACC-1, ACC-9).',
    rpc: { service: 'disclosure-register', op: register.accountingProduce },
    audited: { count: linesOf },
    idempotent: true,
  },
  {
    id: 'accountings.list',
    method: 'GET',
    path: '/v1/subjects/:clientId/accountings',
    roles: READERS,
    summary: "A subject's accountings, newest first (ACC-9).",
    rpc: { service: 'disclosure-register', op: register.accountingList },
    audited: { count: lengthOf('accountings') },
  },
  {
    id: 'accountings.get',
    method: 'GET',
    path: '/v1/accountings/:accountingId',
    roles: READERS,
    summary: 'An accounting as it was produced and recorded (JSON).',
    rpc: { service: 'disclosure-register', op: register.accountingGet },
    audited: { count: linesOf },
  },
  {
    id: 'accountings.pdf',
    method: 'GET',
    path: '/v1/accountings/:accountingId/pdf',
    roles: READERS,
    summary: 'An accounting as a readable PDF.',
    rpc: { service: 'disclosure-register', op: register.accountingPdf },
    binary: 'application/pdf',
    audited: { count: one },
  },
  {
    id: 'accountings.suspensions',
    method: 'GET',
    path: '/v1/accounting-suspensions',
    roles: READERS,
    summary: 'Accounting suspensions (ACC-8), optionally only those in force (activeOnly).',
    rpc: { service: 'disclosure-register', op: register.suspensionList },
    audited: { count: lengthOf('suspensions') },
  },
  {
    id: 'accountings.suspend',
    method: 'POST',
    path: '/v1/accounting-suspensions',
    roles: [PRIVACY_OFFICER],
    summary: "Records an agency's statement suspending accountings (ACC-8).",
    rpc: { service: 'disclosure-register', op: register.suspensionRecord },
    idempotent: true,
  },
  // ---- Legal requests: the privacy officer's review queue (HIP-6, CMI-3) ----
  {
    id: 'legal-requests.list',
    method: 'GET',
    path: '/v1/legal-requests',
    roles: READERS,
    summary: 'Legal requests, oldest first; state=in-review is the review queue.',
    rpc: { service: 'disclosure-register', op: register.legalRequestList },
    audited: { count: lengthOf('requests') },
  },
  {
    id: 'legal-requests.intake',
    method: 'POST',
    path: '/v1/legal-requests',
    roles: [PRIVACY_OFFICER],
    summary:
      'Records a subpoena, warrant, court order or regulator request and validates it (HIP-6, CMI-3). Needs Idempotency-Key.',
    rpc: { service: 'disclosure-register', op: register.legalRequestIntake },
    idempotent: true,
  },
  {
    id: 'legal-requests.get',
    method: 'GET',
    path: '/v1/legal-requests/:requestId',
    roles: READERS,
    summary: 'One legal request with its validation, history and fulfilling entries.',
    rpc: { service: 'disclosure-register', op: register.legalRequestGet },
    audited: { count: one },
  },
  {
    id: 'legal-requests.decide',
    method: 'POST',
    path: '/v1/legal-requests/:requestId/decision',
    roles: [PRIVACY_OFFICER],
    summary: 'Approves, narrows (with the narrower scope) or denies a request, with reasons.',
    rpc: { service: 'disclosure-register', op: register.legalRequestDecide },
  },
  {
    id: 'legal-requests.fulfil',
    method: 'POST',
    path: '/v1/legal-requests/:requestId/fulfilment',
    roles: [PRIVACY_OFFICER],
    summary: 'Records the disclosures made for an approved request. Needs Idempotency-Key.',
    rpc: { service: 'disclosure-register', op: register.legalRequestFulfil },
    idempotent: true,
  },
  // ---- Breach assessments (HIP-9) ----
  {
    id: 'breaches.list',
    method: 'GET',
    path: '/v1/breaches',
    roles: READERS,
    summary: 'Breach assessments, oldest first, optionally in one state, with deadlines.',
    rpc: { service: 'disclosure-register', op: register.breachList },
    audited: { count: lengthOf('assessments') },
  },
  {
    id: 'breaches.get',
    method: 'GET',
    path: '/v1/breaches/:assessmentId',
    roles: READERS,
    summary: 'One breach assessment with its history.',
    rpc: { service: 'disclosure-register', op: register.breachGet },
    audited: { count: one },
  },
  {
    id: 'breaches.review',
    method: 'POST',
    path: '/v1/breaches/:assessmentId/review',
    roles: [PRIVACY_OFFICER],
    summary: 'Takes an open assessment up (open → under-review).',
    rpc: { service: 'disclosure-register', op: register.breachReview },
  },
  {
    id: 'breaches.decide',
    method: 'POST',
    path: '/v1/breaches/:assessmentId/decision',
    roles: [PRIVACY_OFFICER],
    summary: 'Decides notifiable or not, with reasons and the four-factor risk assessment.',
    rpc: { service: 'disclosure-register', op: register.breachDecide },
  },
  {
    id: 'breaches.notify',
    method: 'POST',
    path: '/v1/breaches/:assessmentId/notifications',
    roles: [PRIVACY_OFFICER],
    summary: 'Records a notification sent for a notifiable breach.',
    rpc: { service: 'disclosure-register', op: register.breachNotify },
    idempotent: true,
  },
  {
    id: 'breaches.close',
    method: 'POST',
    path: '/v1/breaches/:assessmentId/close',
    roles: [PRIVACY_OFFICER],
    summary: 'Closes a decided assessment.',
    rpc: { service: 'disclosure-register', op: register.breachClose },
  },
  // ---- Recipients and their agreements ----
  {
    id: 'recipients.list',
    method: 'GET',
    path: '/v1/recipients',
    roles: READERS,
    summary: 'Every recipient (current versions): kind, legal role, BAA, allowed purposes.',
    rpc: { service: 'disclosure-register', op: register.recipientList },
    unaudited: 'businesses and their agreements',
  },
  {
    id: 'recipients.get',
    method: 'GET',
    path: '/v1/recipients/:recipientId',
    roles: READERS,
    summary: 'A recipient: its current version, or the version asked for.',
    rpc: { service: 'disclosure-register', op: register.recipientGet },
    unaudited: 'a business and its agreement',
  },
  {
    id: 'recipients.upsert',
    method: 'PUT',
    path: '/v1/recipients/:recipientId',
    roles: [PRIVACY_OFFICER],
    summary:
      'A new version of a recipient and its agreement (BAA, allowed purposes and categories), with the reason; versions are never overwritten.',
    rpc: { service: 'disclosure-register', op: register.recipientUpsert },
    idempotent: true,
  },
  // ---- Rights requests and the request log (CCP-1 … CCP-7, HIP-8) ----
  {
    id: 'rights.list',
    method: 'GET',
    path: '/v1/rights-requests',
    roles: READERS,
    summary:
      'Rights requests by subject (clientId), state or overdue=true, oldest deadline first: what awaits action.',
    rpc: { service: 'consent', op: consent.rightsList },
    audited: { count: lengthOf('requests') },
  },
  {
    id: 'rights.submit',
    method: 'POST',
    path: '/v1/rights-requests',
    roles: [PRIVACY_OFFICER],
    summary: 'Receives a rights request (POL-4, CCP-1, HIP-8). Needs Idempotency-Key.',
    rpc: { service: 'consent', op: consent.rightsSubmit },
    idempotent: true,
  },
  {
    id: 'rights.get',
    method: 'GET',
    path: '/v1/rights-requests/:requestId',
    roles: READERS,
    summary: 'A rights request with its state, deadlines, verification and fulfilment.',
    rpc: { service: 'consent', op: consent.rightsGet },
    audited: { count: one },
  },
  {
    id: 'rights.verify',
    method: 'POST',
    path: '/v1/rights-requests/:requestId/verification',
    roles: [PRIVACY_OFFICER],
    summary: "Matches the requester's data points at the level the right needs (CCP-3).",
    rpc: { service: 'consent', op: consent.rightsVerify },
  },
  {
    id: 'rights.extend',
    method: 'POST',
    path: '/v1/rights-requests/:requestId/extension',
    roles: [PRIVACY_OFFICER],
    summary: 'The one extension, with its reasons (CCP-2, ACC-5).',
    rpc: { service: 'consent', op: consent.rightsExtend },
  },
  {
    id: 'rights.fulfil',
    method: 'POST',
    path: '/v1/rights-requests/:requestId/fulfilment',
    roles: [PRIVACY_OFFICER],
    summary: 'Carries out a verified request through the other services.',
    rpc: { service: 'consent', op: consent.rightsFulfil },
  },
  {
    id: 'rights.deny',
    method: 'POST',
    path: '/v1/rights-requests/:requestId/denial',
    roles: [PRIVACY_OFFICER],
    summary: 'Answers a request as denied, with its basis (CCP-7).',
    rpc: { service: 'consent', op: consent.rightsDeny },
  },
  {
    id: 'rights.report',
    method: 'GET',
    path: '/v1/rights-requests/:requestId/report',
    roles: READERS,
    summary: "A know or access request's report (format=json or pdf).",
    rpc: { service: 'consent', op: consent.rightsReport },
    audited: { count: one },
  },
  {
    id: 'request-log.export',
    method: 'GET',
    path: '/v1/request-log',
    roles: READERS,
    summary: 'The rights-request log of a period (from, to), with a content hash (CCP-7).',
    rpc: { service: 'consent', op: consent.requestLogExport },
    audited: { count: lengthOf('entries') },
  },
  {
    id: 'request-log.figures',
    method: 'GET',
    path: '/v1/request-log/figures',
    roles: READERS,
    summary: 'Figures of a period (from, to): requests by right, met, denied, median days.',
    rpc: { service: 'consent', op: consent.requestLogFigures },
    unaudited: 'counts per period',
  },
  {
    id: 'notices.list',
    method: 'GET',
    path: '/v1/notices',
    roles: READERS,
    summary: 'Outbound notices and their delivery state, with every attempt.',
    rpc: { service: 'consent', op: consent.noticesList },
    audited: { count: lengthOf('notices') },
  },
  // ---- Retention: legal holds (RET-6), erasures ----
  {
    id: 'holds.list',
    method: 'GET',
    path: '/v1/holds',
    roles: READERS,
    summary: 'Legal holds, oldest first (activeOnly=true: those in force).',
    rpc: { service: 'retention', op: retention.holdList },
    audited: { count: lengthOf('holds') },
  },
  {
    id: 'holds.place',
    method: 'POST',
    path: '/v1/holds',
    roles: [PRIVACY_OFFICER],
    summary:
      'Places a legal hold by subject, category, system and period (RET-6). Needs Idempotency-Key.',
    rpc: { service: 'retention', op: retention.holdPlace },
    idempotent: true,
  },
  {
    id: 'holds.get',
    method: 'GET',
    path: '/v1/holds/:holdId',
    roles: READERS,
    summary: 'One legal hold with its history.',
    rpc: { service: 'retention', op: retention.holdGet },
    audited: { count: one },
  },
  {
    id: 'holds.release',
    method: 'POST',
    path: '/v1/holds/:holdId/release',
    roles: [PRIVACY_OFFICER],
    summary: 'Releases a legal hold, with the reason.',
    rpc: { service: 'retention', op: retention.holdRelease },
  },
  {
    id: 'erasures.request',
    method: 'POST',
    path: '/v1/erasures',
    roles: [PRIVACY_OFFICER],
    summary: "A subject's data erased with its exceptions (CCP-4, KID-1). Needs Idempotency-Key.",
    rpc: { service: 'retention', op: retention.erasureRequest },
    idempotent: true,
  },
  {
    id: 'erasures.get',
    method: 'GET',
    path: '/v1/erasures/:erasureId',
    roles: READERS,
    summary: 'An erasure with its decisions, notices and, once complete, its certificate.',
    rpc: { service: 'retention', op: retention.erasureGet },
    audited: { count: one },
  },
  {
    id: 'holdings.due',
    method: 'GET',
    path: '/v1/holdings/due',
    roles: READERS,
    summary: 'Holdings due by a date, soonest first, each with the holds that stop it.',
    rpc: { service: 'retention', op: retention.holdingsDue },
    audited: { count: lengthOf('holdings') },
  },
  // ---- Operations ----
  {
    id: 'operations.health',
    method: 'GET',
    path: '/v1/operations/health',
    roles: [OPERATOR],
    summary:
      "Aggregate health: every service's state, its PostgreSQL and NATS checks, and the version each runs (503 when any is not ready).",
    unaudited: "the stack's state and versions",
  },
  {
    id: 'operations.purges',
    method: 'GET',
    path: '/v1/operations/purges',
    roles: EVERYONE,
    summary:
      'Purge items by state (state=dead-lettered: what operators must look at), a page at a time.',
    rpc: { service: 'retention', op: retention.purgeList },
    audited: { count: lengthOf('items') },
  },
  {
    id: 'operations.sweeps',
    method: 'GET',
    path: '/v1/operations/sweeps',
    roles: EVERYONE,
    summary: 'Recent retention sweeps, newest first.',
    rpc: { service: 'retention', op: retention.sweepList },
    unaudited: 'sweeps: counts and times',
  },
  {
    id: 'operations.sweep',
    method: 'POST',
    path: '/v1/operations/sweeps',
    roles: [OPERATOR],
    summary: 'Starts a retention sweep now (busy if one is running).',
    rpc: { service: 'retention', op: retention.sweepRun },
  },
  {
    id: 'operations.ping',
    method: 'POST',
    path: '/v1/services/:service/ping',
    roles: [OPERATOR],
    summary: 'A round trip gateway → NATS → service → gateway (the service named in the path).',
    rpc: { service: 'gateway', op: Rpc.gateway.ping },
  },
  {
    id: 'keys.rotate',
    method: 'POST',
    path: '/v1/services/:service/signing-keys/rotate',
    roles: [PRIVACY_OFFICER],
    summary: 'Activates a new signing key of a service and retires its current one.',
  },
  // ---- The access log itself (POL-7) ----
  {
    id: 'access-log.list',
    method: 'GET',
    path: '/v1/access-log',
    roles: READERS,
    summary:
      'Who accessed register data, reports or exports: when, what, which filter, how many entries (since, until, actor, action; a page at a time).',
    audited: { count: lengthOf('entries') },
  },
];

// The demo data `npm start` puts in a fresh stack, so the first register query, export and
// accounting show something real: the reference holder's three demo clients as consent subjects,
// a few consents, disclosures to the financing partners (Cherry, CareCredit) and to the CRM
// vendor, a subpoena answered with one disclosure, an administrative request waiting in review,
// and an accounting request from a client.
//
// Run once per database, however often the stack starts: everything is looked up before it is
// written, and every write carries a fixed Idempotency-Key, so a second run adds nothing (and a
// run cut short is finished by the next one). Internal systems' writes go over NATS as those
// systems (booking, billing); the privacy officer's go through the gateway's HTTP API with a token.
// All of it is fictional: example.test addresses, 555 numbers. Nothing personal is printed.
//
// CommonJS so that start.mjs and the e2e tests (TypeScript compiled to CommonJS) share it.
const { join } = require('node:path');

/** The privacy officer the demo's legal and rights requests are recorded by (the token's sub). */
const DEMO_OFFICER = 'demo-privacy-officer';

/** The reference holder's demo clients (apps/reference-holder/src/main.ts books the same). */
const CLIENTS = [
  {
    clientId: 'demo-ana',
    dateOfBirth: '1986-04-12',
    identifiers: [
      { kind: 'email', value: 'ana@example.test' },
      { kind: 'phone', value: '555-0100' },
    ],
  },
  {
    clientId: 'demo-ben',
    dateOfBirth: '1979-11-23',
    identifiers: [
      { kind: 'email', value: 'ben@example.test' },
      { kind: 'phone', value: '555-0101' },
    ],
  },
  // A child of ten whose parent is Ana: KID-1 needs her verified consent for anything beyond
  // the basics.
  {
    clientId: 'demo-kid',
    dateOfBirth: '2016-05-01',
    identifiers: [{ kind: 'phone', value: '555-0102' }],
    guardians: ['demo-ana'],
  },
];

/** Consent ledger entries, recorded by the booking system (front desk, web forms). */
const CONSENTS = [
  {
    key: 'ana-reminders',
    clientId: 'demo-ana',
    kind: 'grant',
    scopeType: 'purpose',
    scope: 'appointment-reminders',
    method: 'web-form',
    actor: 'self',
    evidence: { form: 'DEMO-INTAKE-0001' },
  },
  {
    key: 'ben-reminders-opt-out',
    clientId: 'demo-ben',
    kind: 'opt-out',
    scopeType: 'purpose',
    scope: 'appointment-reminders',
    method: 'email-link',
    actor: 'self',
    evidence: { link: 'DEMO-UNSUBSCRIBE-0002' },
  },
  {
    key: 'ben-sale-and-sharing-opt-out',
    clientId: 'demo-ben',
    kind: 'opt-out',
    scopeType: 'sale-and-sharing',
    scope: '',
    method: 'web-form',
    actor: 'self',
    evidence: { form: 'DEMO-DNS-0003' },
  },
  {
    key: 'kid-services-parental-grant',
    clientId: 'demo-kid',
    kind: 'grant',
    scopeType: 'purpose',
    scope: 'scheduling-and-services',
    method: 'front-desk',
    actor: 'guardian',
    actorRef: 'demo-ana',
    parentalVerification: 'signed-form',
    evidence: { form: 'DEMO-PARENTAL-0004' },
  },
];

/**
 * Disclosures made by the spa's systems. The last one is denied: Ben opted out of reminders
 * (POL-4), and the register records refusals too.
 */
const DISCLOSURES = [
  {
    key: 'cherry-ana',
    caller: 'billing',
    request: {
      clientId: 'demo-ana',
      recipientId: 'cherry',
      purpose: 'payments-and-memberships',
      legalBasis: 'payment',
      categories: ['identifiers.name', 'identifiers.contact', 'payment.financing'],
      description: 'Financing application for a treatment package: name, contact, amount',
    },
  },
  {
    key: 'carecredit-ben',
    caller: 'billing',
    request: {
      clientId: 'demo-ben',
      recipientId: 'carecredit',
      purpose: 'payments-and-memberships',
      legalBasis: 'payment',
      categories: [
        'identifiers.name',
        'identifiers.contact',
        'identifiers.demographics.date-of-birth',
        'payment.financing',
      ],
      description: 'CareCredit application at checkout: name, contact, date of birth, amount',
    },
  },
  {
    key: 'crm-reminders-ana',
    caller: 'booking',
    request: {
      clientId: 'demo-ana',
      recipientId: 'crm-vendor',
      purpose: 'appointment-reminders',
      legalBasis: 'health-care-operations',
      categories: ['identifiers.name', 'identifiers.contact'],
      description: 'Appointment reminder list synchronised to the CRM: name, e-mail, phone',
    },
  },
  {
    key: 'crm-reminders-ben',
    caller: 'booking',
    request: {
      clientId: 'demo-ben',
      recipientId: 'crm-vendor',
      purpose: 'appointment-reminders',
      legalBasis: 'health-care-operations',
      categories: ['identifiers.name', 'identifiers.contact'],
      description: 'Appointment reminder list synchronised to the CRM: name, e-mail, phone',
    },
  },
];

/** The recipients the demo shares with; the register seeds them from the privacy policy. */
const RECIPIENTS = ['cherry', 'carecredit', 'crm-vendor', 'law-enforcement'];

/** A judicial subpoena for Ana's records (HIP-6, CMI-3: accepted as received). */
const SUBPOENA = {
  requesterKind: 'law-enforcement',
  agency: 'Demo County Sheriff (fictional)',
  official: { name: 'Det. Demo Example', title: 'Detective' },
  instrument: 'judicial-subpoena',
  reference: 'DEMO-SUBPOENA-2026-0142',
  recipientId: 'law-enforcement',
  scope: { subjects: ['demo-ana'], categories: ['identifiers.name', 'health.history'] },
};

/**
 * An administrative request for Ben's records: HIPAA allows it with its three attestations, CMIA
 * has no such path (CMI-3), so it waits in review for the privacy officer's decision.
 */
const ADMINISTRATIVE_REQUEST = {
  requesterKind: 'law-enforcement',
  agency: 'Demo City Police (fictional)',
  official: { name: 'Sgt. Demo Sample', title: 'Sergeant' },
  instrument: 'administrative-request',
  attestations: {
    relevantAndMaterial: true,
    specificAndLimited: true,
    deidentifiedInsufficient: true,
  },
  reference: 'DEMO-ADMIN-2026-0007',
  recipientId: 'law-enforcement',
  scope: { subjects: ['demo-ben'], categories: ['identifiers', 'health'] },
};

const SUBPOENA_FULFILMENT = [
  {
    clientId: 'demo-ana',
    categories: ['identifiers.name', 'health.history'],
    description: 'Medical history produced under the demo subpoena',
  },
];

/** Ana asks, by e-mail, for an accounting of disclosures (ACC-1): it will list the subpoena's. */
const RIGHTS_REQUEST = {
  clientId: 'demo-ana',
  right: 'accounting',
  channel: 'email',
  requester: 'subject',
};

/** Idempotency keys (the gateway takes 8-128 of A-Z a-z 0-9 . _ : -). */
const keyOf = (name) => `demo-seed.v1.${name}`;

/** The typed client of the built contracts library (npm start runs after the build). */
function builtDsgClient() {
  return require(join(__dirname, '..', '..', 'dist', 'libs', 'contracts', 'src', 'index.js'))
    .DsgClient;
}

/**
 * Seeds the demo data; answers what it added and what was there already.
 *
 * @param {object} options
 * @param {string} options.natsUrl
 * @param {string} options.subjectPrefix the services' NATS_SUBJECT_PREFIX
 * @param {(user: string) => string} options.natsPassword
 * @param {string} [options.gatewayUrl] the gateway's base URL (http://host:port)
 * @param {() => Promise<string>} [options.officerToken] a privacy officer's bearer token, whose
 *   subject is DEMO_OFFICER; without it (or gatewayUrl) the subpoena and rights request are skipped
 * @param {{ connect(options: object): Promise<any> }} [options.DsgClient] default: dist's
 */
async function seedDemo(options) {
  const DsgClient = options.DsgClient ?? builtDsgClient();
  const connect = (caller) =>
    DsgClient.connect({
      caller,
      password: options.natsPassword(caller),
      natsUrl: options.natsUrl,
      subjectPrefix: options.subjectPrefix,
      name: `demo-seed-${caller}`,
      timeoutMs: 10_000,
    });
  const added = { clients: 0, consents: 0, disclosures: 0, legalRequests: 0, rightsRequests: 0 };
  const summary = { added, disclosures: { allowed: 0, denied: 0 }, skipped: [] };
  const clients = {};
  try {
    clients.booking = await connect('booking');
    clients.billing = await connect('billing');
    const { booking } = clients;
    await checkRecipients(booking);
    added.clients = await seedClients(booking);
    added.consents = await seedConsents(booking);
    const receipts = await seedDisclosures(clients);
    added.disclosures = receipts.added;
    summary.disclosures = { allowed: receipts.allowed, denied: receipts.denied };
  } finally {
    await Promise.all(Object.values(clients).map((c) => c.close()));
  }
  if (options.gatewayUrl && options.officerToken) {
    const gateway = gatewayClient(options.gatewayUrl, await options.officerToken());
    added.legalRequests = await seedSubpoena(gateway);
    added.rightsRequests = await seedRightsRequest(gateway);
  } else {
    summary.skipped.push('subpoena', 'rights request');
  }
  return summary;
}

async function checkRecipients(client) {
  const { recipients } = await client.disclosureRegister.recipientList();
  const active = new Set(recipients.filter((r) => r.active).map((r) => r.recipientId));
  const missing = RECIPIENTS.filter((id) => !active.has(id));
  if (missing.length) {
    // The register seeds them at boot (apps/disclosure-register/seed/recipients.yaml); a missing
    // one was deactivated or renamed on purpose, so the demo does not bring it back.
    throw new Error(`demo data: the register has no active recipient ${missing.join(', ')}`);
  }
}

/** Subjects the consent service does not know yet (an upsert of a known one is an audited change). */
async function seedClients(client) {
  let added = 0;
  for (const subject of CLIENTS) {
    const known = await client.consent.subjectGet({ clientId: subject.clientId }).then(
      () => true,
      (err) => {
        if (err.code === 'REQUEST.NOT_FOUND') return false;
        throw err;
      },
    );
    if (known) continue;
    await client.consent.subjectUpsert(subject, {
      idempotencyKey: keyOf(`subject.${subject.clientId}`),
    });
    added++;
  }
  return added;
}

/**
 * Consents not in the client's history yet. The history is checked (not only the key) because
 * the entry names the policy version in effect, which may have changed since the first run.
 */
async function seedConsents(client) {
  const { version: policyVersion } = await client.consent.policyGet({});
  let added = 0;
  for (const { key, ...consent } of CONSENTS) {
    const { events } = await client.consent.ledgerHistory({ clientId: consent.clientId });
    const present = events.some(
      (e) =>
        e.kind === consent.kind &&
        e.scopeType === consent.scopeType &&
        e.scope === consent.scope &&
        e.method === consent.method &&
        e.actor === consent.actor,
    );
    if (present) continue;
    await client.consent.ledgerRecord(
      { ...consent, policyVersion },
      { idempotencyKey: keyOf(`consent.${key}`) },
    );
    added++;
  }
  return added;
}

/** Each disclosure under its own key: the register answers a repeat with the first receipt. */
async function seedDisclosures(clients) {
  const result = { added: 0, allowed: 0, denied: 0 };
  for (const { key, caller, request } of DISCLOSURES) {
    const startedAt = Date.now();
    const receipt = await clients[caller].disclosureRegister.disclose(request, {
      idempotencyKey: keyOf(`disclosure.${key}`),
    });
    // A repeat answers the first receipt, recorded before this call (the register runs on this
    // host's clock in the demo stack); the count only tells the user what this run did.
    if (Date.parse(receipt.recordedAt) >= startedAt) result.added++;
    if (receipt.decision === 'ALLOW') result.allowed++;
    else result.denied++;
  }
  return result;
}

/**
 * The subpoena, found by its reference or taken in, then fulfilled once; and the administrative
 * request, left in review for the privacy officer.
 */
async function seedSubpoena(gateway) {
  let added = 0;
  const { requests } = await gateway.get('/v1/legal-requests');
  let request = requests.find((r) => r.reference === SUBPOENA.reference);
  if (!request) {
    request = await gateway.post('/v1/legal-requests', SUBPOENA, keyOf('legal-request.subpoena'));
    added++;
  }
  if (request.state === 'accepted' || request.state === 'approved') {
    await gateway.post(
      `/v1/legal-requests/${request.requestId}/fulfilment`,
      { disclosures: SUBPOENA_FULFILMENT },
      keyOf('legal-request.subpoena.fulfilment'),
    );
  }
  if (!requests.some((r) => r.reference === ADMINISTRATIVE_REQUEST.reference)) {
    await gateway.post(
      '/v1/legal-requests',
      ADMINISTRATIVE_REQUEST,
      keyOf('legal-request.administrative'),
    );
    added++;
  }
  return added;
}

/** Ana's accounting request, unless she already has one (answered or not). */
async function seedRightsRequest(gateway) {
  const { requests } = await gateway.get(
    `/v1/rights-requests?clientId=${encodeURIComponent(RIGHTS_REQUEST.clientId)}`,
  );
  if (requests.some((r) => r.right === RIGHTS_REQUEST.right)) return 0;
  await gateway.post('/v1/rights-requests', RIGHTS_REQUEST, keyOf('rights-request.accounting'));
  return 1;
}

/** The gateway's HTTP API as a privacy officer; a problem+json answer becomes an Error. */
function gatewayClient(baseUrl, token) {
  const call = async (method, path, body, idempotencyKey) => {
    const res = await fetch(new URL(path, baseUrl), {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) {
      let problem = {};
      try {
        problem = JSON.parse(text);
      } catch {
        // not JSON: the status says enough
      }
      // The code and title only: a detail may quote the request.
      throw new Error(
        `demo data: ${method} ${path.split('?')[0]} answered ${res.status} ${problem.code ?? ''} ${problem.title ?? ''}`.trim(),
      );
    }
    return text ? JSON.parse(text) : {};
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body, idempotencyKey) => call('POST', path, body, idempotencyKey),
  };
}

const DEMO_CLIENTS = CLIENTS.map((c) => c.clientId);
const DEMO_SUBPOENA_REFERENCE = SUBPOENA.reference;
const DEMO_REVIEW_REFERENCE = ADMINISTRATIVE_REQUEST.reference;

// Shorthand only: ESM importers (start.mjs) see named exports of this form.
module.exports = {
  DEMO_OFFICER,
  DEMO_CLIENTS,
  DEMO_SUBPOENA_REFERENCE,
  DEMO_REVIEW_REFERENCE,
  seedDemo,
};

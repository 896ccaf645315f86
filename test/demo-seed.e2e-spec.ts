import { DsgClient } from '@dsg/contracts';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { e2eEnv } from './support/e2e-env';
import { natsPassword } from './support/nats-users';
import { PrivateStack } from './support/private-stack';
import { freePort, type ServiceProcess } from './support/service-process';

/** The local issuer and the demo seed of `npm start` (scripts/lib), typed for the test. */
const { LOCAL_AUDIENCE, mintToken, startLocalIdp } = require('../scripts/lib/local-idp.cjs') as {
  LOCAL_AUDIENCE: string;
  mintToken(options: {
    dir: string;
    issuer: string;
    roles: string[];
    subject?: string;
  }): Promise<string>;
  startLocalIdp(options: {
    dir: string;
    port?: number;
  }): Promise<{ issuer: string; jwksUrl: string; close(): Promise<void> }>;
};
interface SeedSummary {
  added: Record<
    'clients' | 'consents' | 'disclosures' | 'legalRequests' | 'rightsRequests',
    number
  >;
  disclosures: { allowed: number; denied: number };
  skipped: string[];
}
const { DEMO_CLIENTS, DEMO_OFFICER, DEMO_SUBPOENA_REFERENCE, DEMO_REVIEW_REFERENCE, seedDemo } =
  require('../scripts/lib/demo-seed.cjs') as {
    DEMO_CLIENTS: string[];
    DEMO_OFFICER: string;
    DEMO_SUBPOENA_REFERENCE: string;
    DEMO_REVIEW_REFERENCE: string;
    seedDemo(options: object): Promise<SeedSummary>;
  };

interface Entry {
  leaf: { type: string; decision: string; purpose: string; recipient: { id: string } };
  details?: { clientId?: string };
}

/**
 * Issue 9 item 6: the stack `npm start` brings up is seeded with demo data, so the first query
 * of the register, export and accounting show something real, and a second start adds nothing.
 * The stack runs on a database of its own (the seed's clients have fixed ids), with the gateway
 * trusting a local issuer as `npm start` sets it up.
 */
describe('demo data of npm start', () => {
  const idpDir = join(__dirname, '..', '.tmp', `demo-seed-idp-${Date.now().toString(36)}`);
  let idp: Awaited<ReturnType<typeof startLocalIdp>>;
  let stack: PrivateStack;
  let gateway: ServiceProcess;
  let ops: DsgClient;
  let first: SeedSummary;

  const token = (roles: string[], subject?: string) =>
    mintToken({ dir: idpDir, issuer: idp.issuer, roles, subject });
  const seed = () =>
    seedDemo({
      natsUrl: e2eEnv().natsUrl,
      subjectPrefix: stack.prefix,
      natsPassword,
      DsgClient,
      gatewayUrl: gateway.url(''),
      officerToken: () => token(['privacy_officer'], DEMO_OFFICER),
    });
  const get = async <T>(path: string, roles = ['auditor']): Promise<T> => {
    const res = await fetch(gateway.url(path), {
      headers: { authorization: `Bearer ${await token(roles)}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  };
  const entries = async () =>
    (await get<{ entries: Entry[] }>('/v1/register/entries?limit=1000')).entries;
  /** Rows of every table the seed writes to, as the database's owner sees them. */
  const counts = async () => {
    const tables = [
      'consent.subjects',
      'consent.subject_changes',
      'consent.ledger',
      'consent.rights_requests',
      'disclosure_register.entries',
      'disclosure_register.legal_requests',
    ];
    const counted: Record<string, number> = {};
    for (const table of tables) {
      const { rows } = await stack.db.query(`SELECT count(*)::int AS n FROM ${table}`);
      counted[table] = (rows[0] as { n: number }).n;
    }
    return counted;
  };

  beforeAll(async () => {
    mkdirSync(idpDir, { recursive: true });
    idp = await startLocalIdp({ dir: idpDir, port: await freePort() });
    stack = await PrivateStack.create('seed', [
      'consent',
      'disclosure-register',
      'retention',
      'gateway',
    ]);
    gateway = await stack.start('gateway', {
      OIDC_ISSUER: idp.issuer,
      OIDC_AUDIENCE: LOCAL_AUDIENCE,
      OIDC_JWKS_URL: idp.jwksUrl,
    });
    await Promise.all([
      stack.start('consent'),
      stack.start('disclosure-register', { SEAL_EVERY_MS: '300' }),
      stack.start('retention'),
    ]);
    ops = await stack.client('ops');
    first = await seed();
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await idp?.close();
    rmSync(idpDir, { recursive: true, force: true });
  });

  it('makes the demo clients consent subjects, with their consents in the ledger', async () => {
    expect(first.added).toEqual({
      clients: 3,
      consents: 4,
      disclosures: 4,
      legalRequests: 2,
      rightsRequests: 1,
    });
    for (const clientId of DEMO_CLIENTS) {
      const subject = await ops.consent.subjectGet({ clientId });
      expect(subject.ageBand).not.toBe('unknown');
    }
    expect((await ops.consent.subjectGet({ clientId: 'demo-kid' })).guardians).toEqual([
      'demo-ana',
    ]);
    const { states } = await ops.consent.ledgerState({ clientId: 'demo-ben' });
    expect(states).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ scope: 'appointment-reminders', kind: 'opt-out' }),
        expect.objectContaining({ scopeType: 'sale-and-sharing', kind: 'opt-out' }),
      ]),
    );
  });

  it('records disclosures to Cherry, CareCredit and the CRM vendor, and one the opt-out denied', async () => {
    const disclosures = (await entries()).filter((e) => e.leaf.type === 'disclosure');
    const to = (recipient: string, decision: string) =>
      disclosures.filter((e) => e.leaf.recipient.id === recipient && e.leaf.decision === decision);
    expect(to('cherry', 'ALLOW')).toHaveLength(1);
    expect(to('carecredit', 'ALLOW')).toHaveLength(1);
    expect(to('crm-vendor', 'ALLOW')).toHaveLength(1);
    // Ben opted out of reminders (POL-4): the register recorded the refusal too.
    expect(to('crm-vendor', 'DENY').map((e) => e.details?.clientId)).toEqual(['demo-ben']);
    expect(first.disclosures).toEqual({ allowed: 3, denied: 1 });
  });

  it('takes in a subpoena and answers it with a disclosure to law enforcement, and leaves an administrative request in review (HIP-6, CMI-3)', async () => {
    const { requests } = await get<{
      requests: { reference: string; state: string; instrument: string; disclosures: unknown[] }[];
    }>('/v1/legal-requests');
    expect(requests).toEqual([
      expect.objectContaining({
        reference: DEMO_SUBPOENA_REFERENCE,
        instrument: 'judicial-subpoena',
        state: 'fulfilled',
      }),
      expect.objectContaining({
        reference: DEMO_REVIEW_REFERENCE,
        instrument: 'administrative-request',
        state: 'in-review',
      }),
    ]);
    expect(requests[0].disclosures).toHaveLength(1);
    const lawEnforcement = (await entries()).filter(
      (e) => e.leaf.recipient?.id === 'law-enforcement' && e.leaf.decision === 'ALLOW',
    );
    expect(lawEnforcement.map((e) => e.details?.clientId)).toEqual(['demo-ana']);
  });

  it('receives a rights request: demo-ana asks for an accounting of disclosures', async () => {
    const { requests } = await get<{ requests: { right: string; state: string }[] }>(
      '/v1/rights-requests?clientId=demo-ana',
    );
    expect(requests).toEqual([
      expect.objectContaining({ right: 'accounting', state: 'awaiting-verification' }),
    ]);
  });

  it('gives the first accounting something to show: the subpoena disclosure', async () => {
    const res = await fetch(gateway.url('/v1/subjects/demo-ana/accountings'), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await token(['privacy_officer'])}`,
        'content-type': 'application/json',
        'idempotency-key': `demo-accounting-${Date.now()}`,
      },
      body: JSON.stringify({ staffTitle: 'Privacy Officer' }),
    });
    expect(res.status).toBe(200);
    // The financing and CRM disclosures are payment and operations, which an accounting leaves
    // out (ACC-2); the one to law enforcement is in it.
    const accounting = (await res.json()) as { disclosures: { recipient: { id: string } }[] };
    expect(accounting.disclosures.map((d) => d.recipient.id)).toEqual(['law-enforcement']);
  });

  it('adds nothing when run again on the same database', async () => {
    const before = await counts();
    const again = await seed();
    expect(await counts()).toEqual(before);
    expect(again.added).toEqual({
      clients: 0,
      consents: 0,
      disclosures: 0,
      legalRequests: 0,
      rightsRequests: 0,
    });
    expect(again.disclosures).toEqual({ allowed: 3, denied: 1 });
  });
});

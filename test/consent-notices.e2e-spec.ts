import {
  type DsgClient,
  ErrorCodes,
  type KeyLike,
  type NoticeReply,
  type RecipientReply,
  signedBy,
} from '@dsg/contracts';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { Client } from 'pg';
import { SMTPServer } from 'smtp-server';
import { parse, stringify } from 'yaml';
import { e2eEnv } from './support/e2e-env';
import { connectAs } from './support/nats-users';
import { PrivateStack } from './support/private-stack';
import { refusal } from './support/refusal';
import type { ServiceProcess } from './support/service-process';
import { freePort } from './support/service-process';
import { waitUntil } from './support/wait';

const seededPolicy = join(__dirname, '..', 'apps', 'consent', 'policy', 'him-medspa.policy.yaml');
const OFFICER = 'officer@medspa.test';
const CLIENT_DOMAIN = 'clients.test';

interface Mail {
  to: string[];
  from: string;
  /** The message as received, quoted-printable soft breaks undone. */
  text: string;
}

interface Hook {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  verified: boolean;
}

/**
 * The product's one notification mechanism (issue 8), end to end on a stack of its own (a new
 * policy version reaches every subject of a database): notices enqueued by the policy service
 * (POL-6) and by the register's events (CCP-2, CCP-4, HIP-9) are delivered by e-mail to a real
 * SMTP server this test runs — which turns each address's first message away with 451 — and by
 * webhook to a receiver that verifies the consent service's signature with the keys of
 * consent.keys.list; every attempt is visible to an auditor, without addresses or texts.
 */
describe('consent: the notification mechanism (POL-6, CCP-2, CCP-4, HIP-9)', () => {
  const run = Date.now().toString(36);
  let stack: PrivateStack;
  let consent: ServiceProcess;
  const consents: ServiceProcess[] = [];
  let register: ServiceProcess;
  let ops: DsgClient;
  let booking: DsgClient;
  let retention: DsgClient;
  let consentCaller: DsgClient;
  let clientSystem: NatsConnection;
  let smtp: SMTPServer;
  let hookServer: Server;
  let hookUrl: string;
  let keys: KeyLike[] = [];
  const mails: Mail[] = [];
  const rejected = new Set<string>();
  const hooks: Hook[] = [];

  const auditor = () => stack.as(['auditor'], 'consent', 'auditor-3');
  const list = async (filter: Record<string, string>) =>
    (await ops.consent.noticesList(filter, await auditor())).notices;
  /** Waits until `filter` lists `count` notices all in a final state, and answers them. */
  const settled = async (filter: Record<string, string>, count: number, timeoutMs = 20_000) => {
    let notices: NoticeReply[] = [];
    await waitUntil(
      async () => {
        notices = await list(filter);
        return (
          notices.length === count && notices.every((n) => ['sent', 'failed'].includes(n.state))
        );
      },
      timeoutMs,
      100,
    );
    return notices;
  };
  const attempts = (n: NoticeReply) => n.attempts.map((a) => [a.attempt, a.outcome, a.detail]);

  beforeAll(async () => {
    // An SMTP server that turns away the first message to each address (451), then accepts.
    const smtpPort = await freePort();
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const to = session.envelope.rcptTo.map((r) => r.address);
          const key = to.join(',');
          if (!rejected.has(key)) {
            rejected.add(key);
            return callback(Object.assign(new Error('Try again later'), { responseCode: 451 }));
          }
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          const text = Buffer.concat(chunks)
            .toString('utf8')
            .replace(/=\r?\n/g, '');
          mails.push({ to, from, text });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));

    // A webhook receiver that accepts only what verifies with consent's published keys.
    const hookPort = await freePort();
    hookUrl = `http://127.0.0.1:${hookPort}`;
    hookServer = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (raw += c));
      req.on('end', () => {
        const ts = String(req.headers['dsg-timestamp'] ?? '');
        const kid = String(req.headers['dsg-signature-kid'] ?? '');
        const sig = String(req.headers['dsg-signature'] ?? '');
        const fresh = Math.abs(Date.now() / 1000 - Number(ts)) < 300;
        const verified = fresh && signedBy(`${ts}.${raw}`, kid, sig, keys);
        hooks.push({ path: req.url ?? '', headers: req.headers, raw, verified });
        res.statusCode = verified ? 204 : 401;
        res.end();
      });
    });
    await new Promise<void>((resolve) => hookServer.listen(hookPort, '127.0.0.1', resolve));

    stack = await PrivateStack.create('notices', ['gateway', 'consent', 'disclosure-register']);
    // The spa's client system answers where a client takes notices.
    clientSystem = await connectAs(e2eEnv().natsUrl, 'booking');
    clientSystem.subscribe(`${stack.prefix}.client-system.contact`, {
      callback: (err, msg) => {
        if (err) return;
        const { clientId } = JSON.parse(new TextDecoder().decode(msg.data)) as {
          clientId: string;
        };
        const reply = clientId.startsWith('nomail-')
          ? {}
          : { email: `${clientId}@${CLIENT_DOMAIN}` };
        msg.respond(new TextEncoder().encode(JSON.stringify(reply)));
      },
    });
    await clientSystem.flush();

    const noticeEnv = {
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      NOTICE_FROM: 'privacy@medspa.test',
      PRIVACY_OFFICER_EMAIL: OFFICER,
      NOTICE_MAX_ATTEMPTS: '3',
      NOTICE_RETRY_MS: '1500',
      NOTICE_POLL_MS: '100',
    };
    await stack.start('gateway');
    const first = await stack.start('consent', noticeEnv);
    consents.push(first);
    register = await stack.start('disclosure-register', { SEAL_EVERY_MS: '300' });
    ops = await stack.client('gateway');
    booking = await stack.client('booking');
    retention = await stack.client('retention');
    consentCaller = await stack.client('consent');

    // POL-6: clients of the spa, then a material version of the policy published at a restart.
    await booking.consent.subjectUpsert({ clientId: `pol-a-${run}`, status: 'active' });
    await booking.consent.subjectUpsert({ clientId: `nomail-${run}`, status: 'active' });
    await booking.consent.subjectUpsert({ clientId: `pol-former-${run}`, status: 'inactive' });
    await first.stop();
    const bundle = parse(readFileSync(seededPolicy, 'utf8')) as { policy: object };
    Object.assign(bundle.policy, {
      version: '2026.2',
      effectiveDate: '2099-01-01',
      material: true,
    });
    const path = join(mkdtempSync(join(tmpdir(), 'dsg-policy-')), 'policy.yaml');
    writeFileSync(path, stringify(bundle));
    consent = await stack.start('consent', { ...noticeEnv, POLICY_BUNDLE_PATH: path });
    consents.push(consent);
    keys = (await ops.consent.signingKeys({})).keys;
  }, 180_000);

  afterAll(async () => {
    await clientSystem?.close();
    await stack?.stop();
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) =>
      hookServer ? hookServer.close(() => resolve()) : resolve(),
    );
  });

  it('POL-6: a material policy version is e-mailed to each active client: queued, retrying after a 451, then sent', async () => {
    // The retry is visible while it waits.
    let retrying: NoticeReply | undefined;
    await waitUntil(
      async () => {
        retrying = (await list({ type: 'policy-change', clientId: `pol-a-${run}` })).find(
          (n) => n.state === 'retrying',
        );
        return !!retrying;
      },
      10_000,
      50,
    );
    expect(retrying).toMatchObject({
      rule: 'POL-6',
      ref: '2026.2',
      channel: 'email',
      audience: 'subject',
      nextAttemptAt: expect.any(String),
      attempts: [{ attempt: 1, outcome: 'failed', detail: 'SMTP_451' }],
    });

    const [notice] = await settled({ type: 'policy-change', clientId: `pol-a-${run}` }, 1);
    expect(notice).toMatchObject({ state: 'sent', sentAt: expect.any(String) });
    expect(notice.nextAttemptAt).toBeUndefined();
    expect(attempts(notice)).toEqual([
      [1, 'failed', 'SMTP_451'],
      [2, 'sent', undefined],
    ]);
    const mail = mails.filter((m) => m.to.includes(`pol-a-${run}@${CLIENT_DOMAIN}`));
    expect(mail).toHaveLength(1);
    expect(mail[0].from).toBe('privacy@medspa.test');
    expect(mail[0].text).toContain('Subject: Our privacy policy has changed (version 2026.2)');
    expect(mail[0].text).toContain('in effect from 2099-01-01');

    // A client the client system has no address for: visible, failed after every attempt.
    const [nomail] = await settled({ type: 'policy-change', clientId: `nomail-${run}` }, 1);
    expect(nomail.state).toBe('failed');
    expect(attempts(nomail)).toEqual([
      [1, 'failed', 'NO_DESTINATION'],
      [2, 'failed', 'NO_DESTINATION'],
      [3, 'failed', 'NO_DESTINATION'],
    ]);
    // Only active clients are told.
    expect(await list({ type: 'policy-change', clientId: `pol-former-${run}` })).toEqual([]);
    // The notification task is kept beside its notice.
    const tasks = await stack.db.query(
      `SELECT client_id FROM consent.notification_tasks WHERE policy_version = '2026.2' ORDER BY client_id`,
    );
    expect(tasks.rows.map((r) => r.client_id as string)).toEqual([`nomail-${run}`, `pol-a-${run}`]);
  });

  it("CCP-4: the register's deletion notices reach a recipient's webhook, signed with consent's key; one without a contact fails with NO_DESTINATION", async () => {
    const cherry = await upsertContact('cherry', { webhookUrl: `${hookUrl}/hooks/cherry` });
    expect(cherry.noticeContact).toEqual({ webhookUrl: `${hookUrl}/hooks/cherry` });
    const clientId = `del-${run}`;
    await booking.consent.subjectUpsert({ clientId, dateOfBirth: '1984-03-03' });
    await disclose(clientId, 'cherry');
    await disclose(clientId, 'crm-vendor');

    const ref = `erasure-${run}`;
    const recorded = await retention.disclosureRegister.noticesRecord({
      clientId,
      notice: 'deletion-request',
      rule: 'CCP-4',
      ref,
    });
    expect(recorded.notices.map((n) => n.recipientId)).toEqual(['cherry', 'crm-vendor']);
    // The register announces each notice with where the recipient takes it, with its entries.
    const events = await stack.db.query(
      `SELECT envelope->'data' AS data FROM disclosure_register.outbox
        WHERE type = 'notice.recorded' AND envelope->'data'->>'ref' = $1
        ORDER BY envelope->'data'->>'recipientId'`,
      [ref],
    );
    expect(events.rows.map((r) => r.data)).toEqual([
      expect.objectContaining({
        recipientId: 'cherry',
        notice: 'deletion-request',
        contact: { webhookUrl: `${hookUrl}/hooks/cherry` },
      }),
      expect.not.objectContaining({ contact: expect.anything() }),
    ]);

    const notices = await settled({ ref }, 2);
    const byRecipient = new Map(notices.map((n) => [n.recipientId, n]));
    expect(byRecipient.get('cherry')).toMatchObject({
      type: 'deletion-to-recipient',
      audience: 'recipient',
      channel: 'webhook',
      rule: 'CCP-4',
      clientId,
      state: 'sent',
    });
    expect(attempts(byRecipient.get('cherry')!)).toEqual([[1, 'sent', undefined]]);
    expect(byRecipient.get('crm-vendor')).toMatchObject({ state: 'failed', channel: 'email' });
    expect(attempts(byRecipient.get('crm-vendor')!)).toEqual([
      [1, 'failed', 'NO_DESTINATION'],
      [2, 'failed', 'NO_DESTINATION'],
      [3, 'failed', 'NO_DESTINATION'],
    ]);

    // The receiver verified the signature over `<timestamp>.<body>` with consent.keys.list.
    const received = hooks.filter((h) => JSON.parse(h.raw).ref === ref);
    expect(received).toHaveLength(1);
    expect(received[0].verified).toBe(true);
    expect(received[0].path).toBe('/hooks/cherry');
    expect(JSON.parse(received[0].raw)).toMatchObject({
      noticeId: byRecipient.get('cherry')!.noticeId,
      type: 'deletion-to-recipient',
      rule: 'CCP-4',
      ref,
      clientId,
      recipientId: 'cherry',
      subject: `Deletion request: client ${clientId}`,
      sentAt: expect.any(String),
    });
    const { headers, raw } = received[0];
    const ts = String(headers['dsg-timestamp']);
    const kid = String(headers['dsg-signature-kid']);
    const sig = String(headers['dsg-signature']);
    expect(keys.find((k) => k.kid === kid)?.service).toBe('consent');
    expect(signedBy(`${ts}.${raw.replace('"CCP-4"', '"CCP-9"')}`, kid, sig, keys)).toBe(false);
    expect(signedBy(`${Number(ts) + 1}.${raw}`, kid, sig, keys)).toBe(false);

    // A retried request records nothing twice and enqueues nothing twice.
    await retention.disclosureRegister.noticesRecord({
      clientId,
      notice: 'deletion-request',
      rule: 'CCP-4',
      ref,
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(await list({ ref })).toHaveLength(2);
  });

  it("CCP-2: an opt-out's notices are the consent service's to record, and go only to recipients that received data after the request", async () => {
    const clientId = `opt-${run}`;
    await booking.consent.subjectUpsert({ clientId, dateOfBirth: '1984-03-03' });
    await disclose(clientId, 'crm-vendor');
    // Clearly after the first disclosure's recording, clearly before the second's.
    await new Promise((r) => setTimeout(r, 500));
    const since = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 500));
    await disclose(clientId, 'cherry');
    const ref = `optout-${run}`;
    const request = { clientId, notice: 'opt-out-request' as const, rule: 'CCP-2', ref, since };

    expect((await refusal(retention.disclosureRegister.noticesRecord(request))).code).toBe(
      ErrorCodes.FORBIDDEN,
    );
    expect(
      (
        await refusal(
          consentCaller.disclosureRegister.noticesRecord({
            ...request,
            notice: 'deletion-request',
            ref: `${ref}-d`,
          }),
        )
      ).code,
    ).toBe(ErrorCodes.FORBIDDEN);

    const recorded = await consentCaller.disclosureRegister.noticesRecord(request);
    expect(recorded.notices.map((n) => n.recipientId)).toEqual(['cherry']);
    const [notice] = await settled({ ref }, 1);
    expect(notice).toMatchObject({
      type: 'opt-out-to-recipient',
      rule: 'CCP-2',
      recipientId: 'cherry',
      channel: 'webhook',
      state: 'sent',
    });
    const received = hooks.filter((h) => JSON.parse(h.raw).ref === ref);
    expect(received.map((h) => [h.verified, JSON.parse(h.raw).type])).toEqual([
      [true, 'opt-out-to-recipient'],
    ]);
  });

  it('HIP-9: a breach decided notifiable tells the privacy officer its deadline by e-mail', async () => {
    const clientId = `breach-${run}`;
    await booking.consent.subjectUpsert({ clientId, dateOfBirth: '1984-06-01' });
    const receipt = await booking.disclosureRegister.report(
      {
        clientId,
        recipientId: 'crm-vendor',
        purpose: 'sale-of-personal-information',
        legalBasis: 'health-care-operations',
        categories: ['identifiers.name', 'identifiers.contact'],
        description: 'List sold to a broker',
        occurredAt: new Date(Date.now() - 86_400_000).toISOString(),
        source: 'business-associate',
        reportedBy: 'booking-vendor',
      },
      { idempotencyKey: `breach-${run}`, retries: 0 },
    );
    expect(receipt.flagged).toBe(true);
    const assessmentId = receipt.breachAssessmentId!;
    const officer = await stack.as(['privacy_officer'], 'disclosure-register', 'officer-9');
    await ops.disclosureRegister.breachReview({ assessmentId }, officer);
    const decided = await ops.disclosureRegister.breachDecide(
      {
        assessmentId,
        notifiable: true,
        reasons: 'Contact details disclosed for a sale; no exception applies.',
        factors: {
          natureAndExtent: 'Names and contact details of one client',
          unauthorizedPerson: 'A data broker with no agreement',
          acquiredOrViewed: 'Acquired: the list was delivered',
          mitigation: 'Deletion requested, not confirmed',
        },
      },
      officer,
    );

    const [notice] = await settled({ type: 'breach-deadline', ref: assessmentId }, 1);
    expect(notice).toMatchObject({
      audience: 'privacy-officer',
      channel: 'email',
      rule: 'HIP-9',
      state: 'sent',
    });
    expect(notice.clientId).toBeUndefined();
    expect(attempts(notice)).toEqual([
      [1, 'failed', 'SMTP_451'],
      [2, 'sent', undefined],
    ]);
    const mail = mails.filter((m) => m.to.includes(OFFICER));
    expect(mail).toHaveLength(1);
    expect(mail[0].text).toContain(
      `Subject: Notifiable breach: notifications due by ${decided.individualsDueBy.slice(0, 10)}`,
    );
    expect(mail[0].text).toContain(`by ${decided.individualsDueBy}`);
    expect(mail[0].text).toContain(assessmentId);
  });

  it('the list is for auditors and privacy officers, and carries no address and no text', async () => {
    expect((await refusal(booking.consent.noticesList({}))).code).toBe(ErrorCodes.UNAUTHENTICATED);
    expect(
      (
        await refusal(
          ops.consent.noticesList({}, await stack.as(['operator'], 'consent', 'operator-1')),
        )
      ).code,
    ).toBe(ErrorCodes.FORBIDDEN);
    const officerList = await ops.consent.noticesList(
      { limit: 2 },
      await stack.as(['privacy_officer'], 'consent', 'officer-9'),
    );
    expect(officerList.notices).toHaveLength(2);

    const all = await list({});
    expect(all.length).toBeGreaterThanOrEqual(6);
    for (const notice of all) {
      expect(Object.keys(notice).sort()).toEqual(
        expect.not.arrayContaining(['destination', 'body', 'subject', 'subjectLine']),
      );
    }
    const text = JSON.stringify(all);
    expect(text).not.toContain('@');
    expect(text).not.toContain(hookUrl);
    expect(text).not.toContain('Delete the personal information');
  });

  it('the runtime role cannot delete a notice, rewrite what it says or where it goes, or reopen one sent', async () => {
    const url = new URL(stack.databaseUrl);
    url.username = 'consent_runtime';
    url.password = '';
    const runtime = new Client({ connectionString: url.toString() });
    await runtime.connect();
    const code = (sql: string) =>
      runtime.query(sql).then(
        () => 'no error',
        (e: { code?: string }) => e.code,
      );
    try {
      await expect(code('DELETE FROM consent.notices')).resolves.toBe('42501');
      await expect(code('DELETE FROM consent.notice_attempts')).resolves.toBe('42501');
      await expect(code(`UPDATE consent.notices SET body = 'x'`)).resolves.toBe('42501');
      await expect(code(`UPDATE consent.notices SET destination = 'x@y'`)).resolves.toBe('42501');
      await expect(code(`UPDATE consent.notice_attempts SET detail = 'X'`)).resolves.toBe('42501');
      await expect(
        code(`UPDATE consent.notices SET state = 'queued' WHERE state = 'sent'`),
      ).resolves.toBe('23514');
    } finally {
      await runtime.end();
    }
  });

  it('no address reaches a log line of the consent service or the register', async () => {
    const lines = [...consents, register].flatMap((p) => p.lines);
    expect(lines.length).toBeGreaterThan(0);
    // The dispatcher's lines name notices and outcome codes.
    expect(lines.some((l) => l.includes('"outcome":"SMTP_451"'))).toBe(true);
    for (const needle of [`@${CLIENT_DOMAIN}`, OFFICER, hookUrl.replace('http://', '')]) {
      expect(lines.filter((l) => l.includes(needle))).toEqual([]);
    }
  });

  /** A new version of a seeded recipient, with where it takes notices. */
  async function upsertContact(
    recipientId: string,
    noticeContact: RecipientReply['noticeContact'],
  ): Promise<RecipientReply> {
    const {
      version: _v,
      changedBy: _b,
      changedAt: _a,
      ...current
    } = await ops.disclosureRegister.recipientGet({ recipientId });
    return ops.disclosureRegister.recipientUpsert({
      ...current,
      noticeContact,
      reason: 'Notices of deletions and opt-outs go to its webhook',
    });
  }

  /** An allowed disclosure of the client's data to a seeded recipient. */
  async function disclose(clientId: string, recipientId: 'cherry' | 'crm-vendor') {
    const receipt = await booking.disclosureRegister.disclose(
      recipientId === 'cherry'
        ? {
            clientId,
            recipientId,
            purpose: 'payments-and-memberships',
            legalBasis: 'payment',
            categories: ['identifiers.name', 'payment.financing'],
            description: 'Financing application',
          }
        : {
            clientId,
            recipientId,
            purpose: 'appointment-reminders',
            legalBasis: 'health-care-operations',
            categories: ['identifiers.contact'],
            description: 'Reminder list',
          },
      { idempotencyKey: `d-${clientId}-${recipientId}`, retries: 0 },
    );
    expect(receipt.decision).toBe('ALLOW');
  }
});

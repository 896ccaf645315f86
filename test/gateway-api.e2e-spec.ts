import { type ExportManifest, type PublicSigningKey, verifyExport } from '@dsg/contracts';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { e2eEnv, runtimeDataSource, sqlErrorCode } from './support/e2e-env';
import { discloseMixed } from './support/disclosures';
import { GatewayStack, TestIdp } from './support/gateway-stack';
import { ServiceProcess } from './support/service-process';
import { waitUntil } from './support/wait';

/**
 * The gateway as auditors, privacy officers and operators use it, over HTTP with real tokens
 * from an OIDC issuer: token checks, the person's identity carried to the services, exports
 * verified offline, the access log (POL-7), and the hardening every answer gets.
 */
describe('gateway: the people-facing API', () => {
  const run = Date.now().toString(36);
  const subjects = [`gw-a-${run}`, `gw-b-${run}`];
  let stack: GatewayStack;
  let auditor: string;
  let officer: string;
  let operator: string;
  let owner: Client;
  let gatewayDb: DataSource;
  let lastPosition = 0;

  const keys = async (): Promise<PublicSigningKey[]> =>
    (await stack.http('GET', '/.well-known/signing-keys')).body.keys;
  const verify = async (bytes: Buffer, manifest: ExportManifest) =>
    verifyExport(
      (async function* () {
        for (let i = 0; i < bytes.length; i += 501) yield bytes.subarray(i, i + 501);
      })(),
      manifest,
      await keys(),
    );
  const manifestOf = (headers: Headers): ExportManifest =>
    JSON.parse(Buffer.from(headers.get('dsg-export-manifest')!, 'base64url').toString('utf8'));
  const accessLog = async (query: string) =>
    (await stack.http('GET', `/v1/access-log?${query}`, { token: auditor })).body.entries as {
      actor: string;
      roles: string[];
      action: string;
      filter: Record<string, unknown>;
      entries: number;
      outcome: string;
      status: number;
      errorCode?: string;
      at: string;
    }[];

  beforeAll(async () => {
    stack = await GatewayStack.start();
    auditor = await stack.token('auditor', { subject: `auditor-${run}` });
    officer = await stack.token('privacy_officer', { subject: `officer-${run}` });
    operator = await stack.token('operator', { subject: `operator-${run}` });
    owner = new Client({ connectionString: e2eEnv().databaseUrl });
    await owner.connect();
    gatewayDb = await runtimeDataSource('gateway', 1).initialize();
    for (const clientId of subjects) {
      await stack.booking.consent.subjectUpsert({ clientId, dateOfBirth: '1984-05-06' });
    }
    lastPosition = await discloseMixed(stack.booking, subjects, 6, 'Gateway test');
  }, 120_000);

  afterAll(async () => {
    await owner?.end();
    await gatewayDb?.destroy();
    await stack?.close();
  });

  describe('tokens', () => {
    const refused = async (token: string | undefined, reason: RegExp, header?: string) => {
      const res = await stack.http('GET', '/v1/register/tree-head', {
        ...(token ? { token } : {}),
        ...(header ? { headers: { authorization: header } } : {}),
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ code: 'REQUEST.UNAUTHENTICATED', status: 401 });
      expect(res.body.detail).toMatch(reason);
      if (token) expect(res.raw.toString()).not.toContain(token.split('.')[1]);
    };

    it('takes a valid token, and refuses one expired, badly signed, from another issuer or for another audience', async () => {
      expect((await stack.http('GET', '/v1/register/tree-head', { token: auditor })).status).toBe(
        200,
      );
      await refused(await stack.token('auditor', { ttlSeconds: -60 }), /expired/);
      // The signature changed: the payload no longer matches it.
      const [h, p, s] = auditor.split('.');
      const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
      await refused(`${h}.${p}.${flipped}`, /signature does not verify/);
      // Signed by a key the issuer never published (another issuer's key, same claims).
      const stranger = await TestIdp.start();
      try {
        await refused(
          await stranger.token('auditor', { issuer: stack.idp.server.issuer }),
          /key the issuer does not publish/,
        );
        // The other issuer's own token: right key for it, wrong issuer for this gateway.
        await refused(await stranger.token('auditor'), /key the issuer does not publish|issuer/);
      } finally {
        await stranger.close();
      }
      await refused(
        await stack.token('auditor', { issuer: 'https://idp.example.test/realms/other' }),
        /another issuer/,
      );
      await refused(await stack.token('auditor', { audience: 'another-api' }), /another audience/);
    });

    it('reads the roles from the claim OIDC_ROLES_CLAIM names, a list or a single string', async () => {
      const custom = await ServiceProcess.start('gateway', {
        ...stack.idp.gatewayEnv,
        OIDC_ROLES_CLAIM: 'dsg_roles',
      });
      try {
        await custom.waitReady();
        const status = async (token: string) =>
          (
            await fetch(custom.url('/v1/register/tree-head'), {
              headers: { authorization: `Bearer ${token}` },
            })
          ).status;
        expect(await status(await stack.idp.token('auditor', { rolesClaim: 'dsg_roles' }))).toBe(
          200,
        );
        expect(
          await status(
            await stack.idp.token('auditor', { rolesClaim: 'dsg_roles', asString: true }),
          ),
        ).toBe(200);
        // The same role in the default claim is not this gateway's claim: no role at all.
        expect(await status(await stack.idp.token('auditor'))).toBe(403);
      } finally {
        await custom.stop();
      }
    });

    it('refuses a missing or malformed Authorization header', async () => {
      await refused(undefined, /Bearer token is required/);
      await refused(undefined, /Bearer token is required/, 'Basic YXVkaXRvcjpzZWNyZXQ=');
      await refused(undefined, /not a well-formed/, 'Bearer not-a-jwt');
    });

    it('a valid token without a product role reaches nothing (403)', async () => {
      const nobody = await stack.token('nobody');
      const res = await stack.http('GET', '/v1/register/tree-head', { token: nobody });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('REQUEST.FORBIDDEN');
    });
  });

  describe("a privacy officer's legal request, the person's identity carried to the register (HIP-6, CMI-3)", () => {
    it('takes a subpoena once per Idempotency-Key, lists it for review, and records who decided', async () => {
      const subpoena = {
        requesterKind: 'law-enforcement',
        agency: 'Los Angeles Police Department',
        official: { name: 'Det. A. Example', title: 'Detective' },
        instrument: 'administrative-request',
        attestations: {
          relevantAndMaterial: true,
          specificAndLimited: true,
          deidentifiedInsufficient: true,
        },
        reference: `SUB-${run}`,
        recipientId: 'law-enforcement',
        scope: { subjects, categories: ['identifiers', 'health'] },
      };
      const key = randomUUID();
      const missingKey = await stack.http('POST', '/v1/legal-requests', {
        token: officer,
        body: subpoena,
      });
      expect(missingKey.status).toBe(400);
      expect(missingKey.body.errors).toEqual([
        expect.objectContaining({ field: 'Idempotency-Key' }),
      ]);
      const first = await stack.http('POST', '/v1/legal-requests', {
        token: officer,
        body: subpoena,
        headers: { 'Idempotency-Key': key },
      });
      expect(first.status).toBe(200);
      expect(first.body.state).toBe('in-review');
      // The register records the person the token names, not the gateway.
      expect(first.body.history[0].by).toBe(`officer-${run}`);
      const again = await stack.http('POST', '/v1/legal-requests', {
        token: officer,
        body: subpoena,
        headers: { 'Idempotency-Key': key },
      });
      expect(again.body.requestId).toBe(first.body.requestId);

      const queue = await stack.http('GET', '/v1/legal-requests?state=in-review', {
        token: auditor,
      });
      expect(queue.status).toBe(200);
      expect(queue.body.requests.map((r: { requestId: string }) => r.requestId)).toContain(
        first.body.requestId,
      );
      const decision = {
        decision: 'narrow',
        reasons: 'Counsel advises identifiers only.',
        scope: { subjects, categories: ['identifiers'] },
      };
      const byAuditor = await stack.http(
        'POST',
        `/v1/legal-requests/${first.body.requestId}/decision`,
        { token: auditor, body: decision },
      );
      expect(byAuditor.status).toBe(403);
      const decided = await stack.http(
        'POST',
        `/v1/legal-requests/${first.body.requestId}/decision`,
        { token: officer, body: decision },
      );
      expect(decided.status).toBe(200);
      expect(decided.body.history.at(-1)).toMatchObject({
        action: 'narrowed',
        by: `officer-${run}`,
      });
    });

    it('answers bad input by field as problem+json, and a body that disagrees with its path', async () => {
      const res = await stack.http('POST', '/v1/legal-requests', {
        token: officer,
        body: { requesterKind: 'neighbour', agency: 'x' },
        headers: { 'Idempotency-Key': randomUUID() },
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const fields = res.body.errors.map((e: { field: string }) => e.field);
      expect(fields).toEqual(expect.arrayContaining(['requesterKind', 'agency', 'instrument']));
      const disagree = await stack.http('POST', `/v1/legal-requests/${randomUUID()}/decision`, {
        token: officer,
        body: { requestId: randomUUID(), decision: 'deny', reasons: 'Not a valid subpoena.' },
      });
      expect(disagree.status).toBe(400);
      expect(disagree.body.errors).toEqual([expect.objectContaining({ field: 'requestId' })]);
    });
  });

  describe('exports and the access log (POL-7)', () => {
    it('streams an export with its signed manifest; it verifies offline and one changed byte does not', async () => {
      const res = await stack.http('GET', '/v1/register/export?format=jsonl', { token: auditor });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      const manifest = manifestOf(res.headers);
      expect(Number(res.headers.get('dsg-export-entries'))).toBe(manifest.entries);
      expect(manifest.entries).toBeGreaterThan(lastPosition);
      expect(res.raw.toString().split('\n').length - 1).toBe(manifest.entries);
      await expect(verify(res.raw, manifest)).resolves.toMatchObject({
        valid: true,
        entries: manifest.entries,
      });
      const changed = Buffer.from(res.raw);
      const at = changed.indexOf('Gateway test');
      changed[at] = 'g'.charCodeAt(0);
      await expect(verify(changed, manifest)).resolves.toMatchObject({ valid: false });

      const [entry] = (await accessLog(`actor=auditor-${run}&action=register.export`)).slice(-1);
      expect(entry).toMatchObject({
        actor: `auditor-${run}`,
        roles: ['auditor'],
        action: 'register.export',
        filter: { format: 'jsonl' },
        entries: manifest.entries,
        outcome: 'served',
        status: 200,
      });
    });

    it('exports a filtered CSV (one recipient), each line with its proof, and logs its filter', async () => {
      const res = await stack.http(
        'GET',
        `/v1/register/export?format=csv&recipientId=crm-vendor&clientId=${subjects[0]}`,
        { token: auditor },
      );
      expect(res.status).toBe(200);
      const manifest = manifestOf(res.headers);
      expect(manifest).toMatchObject({
        kind: 'filtered',
        filter: { recipientId: 'crm-vendor', clientId: subjects[0] },
      });
      expect(manifest.entries).toBe(1);
      await expect(verify(res.raw, manifest)).resolves.toMatchObject({ valid: true, entries: 1 });
      const [entry] = (await accessLog(`actor=auditor-${run}&action=register.export`)).slice(-1);
      expect(entry).toMatchObject({
        filter: { format: 'csv', recipientId: 'crm-vendor', clientId: subjects[0] },
        entries: 1,
      });
    });

    it('logs every access to register entries, accountings and the request log, with how many entries', async () => {
      const entries = await stack.http(
        'GET',
        `/v1/register/entries?clientId=${subjects[1]}&limit=2`,
        { token: auditor },
      );
      expect(entries.status).toBe(200);
      expect(entries.body.entries).toHaveLength(2);

      const produce = (key: string) =>
        stack.http('POST', `/v1/subjects/${subjects[0]}/accountings`, {
          token: officer,
          body: { staffTitle: 'Privacy Officer' },
          headers: { 'Idempotency-Key': key },
        });
      const key = randomUUID();
      const produced = await produce(key);
      expect(produced.status).toBe(200);
      // A retry with the same key answers the same accounting (ACC-9: one recorded, not two).
      expect((await produce(key)).body.accountingId).toBe(produced.body.accountingId);
      const accountingId = produced.body.accountingId as string;
      const lines = produced.body.disclosures.length as number;
      const listed = await stack.http('GET', `/v1/subjects/${subjects[0]}/accountings`, {
        token: auditor,
      });
      expect(listed.status).toBe(200);
      const got = await stack.http('GET', `/v1/accountings/${accountingId}`, { token: auditor });
      expect(got.body.contentHash).toBe(produced.body.contentHash);
      const pdf = await stack.http('GET', `/v1/accountings/${accountingId}/pdf`, {
        token: auditor,
      });
      expect(pdf.status).toBe(200);
      expect(pdf.headers.get('content-type')).toBe('application/pdf');
      expect(pdf.raw.subarray(0, 5).toString()).toBe('%PDF-');
      const log = await stack.http(
        'GET',
        `/v1/request-log?from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z`,
        { token: auditor },
      );
      expect(log.status).toBe(200);

      const auditorTrail = await accessLog(`actor=auditor-${run}`);
      const last = (action: string) => auditorTrail.filter((e) => e.action === action).at(-1);
      expect(last('register.entries')).toMatchObject({
        filter: { clientId: subjects[1], limit: '2' },
        entries: 2,
        outcome: 'served',
      });
      expect(last('accountings.list')).toMatchObject({
        filter: { clientId: subjects[0] },
        entries: listed.body.accountings.length,
      });
      expect(last('accountings.get')).toMatchObject({ filter: { accountingId }, entries: lines });
      expect(last('accountings.pdf')).toMatchObject({ filter: { accountingId }, entries: 1 });
      expect(last('request-log.export')).toMatchObject({
        entries: log.body.entries.length,
        outcome: 'served',
      });
      expect(
        (await accessLog(`actor=officer-${run}&action=accountings.produce`)).at(-1),
      ).toMatchObject({
        roles: ['privacy_officer'],
        entries: lines,
        filter: { clientId: subjects[0] },
      });
      // Reading the access log is itself an access, logged.
      expect(last('access-log.list')).toMatchObject({ outcome: 'served' });
    });

    it('a privacy officer takes a know request through to its report; each read of the report is logged (CCP-1, POL-7)', async () => {
      const clientId = `gw-know-${run}`;
      await stack.booking.consent.subjectUpsert({
        clientId,
        dateOfBirth: '1986-07-08',
        identifiers: [{ kind: 'email', value: `${clientId}@example.test` }],
      });
      const submitted = await stack.http('POST', '/v1/rights-requests', {
        token: officer,
        body: { clientId, right: 'know', channel: 'email', requester: 'subject' },
        headers: { 'Idempotency-Key': randomUUID() },
      });
      expect(submitted.status).toBe(200);
      const requestId = submitted.body.requestId as string;
      const awaiting = await stack.http('GET', `/v1/rights-requests?clientId=${clientId}`, {
        token: officer,
      });
      expect(awaiting.body.requests.map((r: { requestId: string }) => r.requestId)).toEqual([
        requestId,
      ]);
      const verified = await stack.http('POST', `/v1/rights-requests/${requestId}/verification`, {
        token: officer,
        body: { points: { email: `${clientId}@example.test`, dateOfBirth: '1986-07-08' } },
      });
      expect(verified.status).toBe(200);
      const fulfilled = await stack.http('POST', `/v1/rights-requests/${requestId}/fulfilment`, {
        token: officer,
        body: { staffTitle: 'Privacy Officer' },
      });
      expect(fulfilled.status).toBe(200);
      let report: Awaited<ReturnType<GatewayStack['http']>> | undefined;
      expect(
        await waitUntil(async () => {
          report = await stack.http('GET', `/v1/rights-requests/${requestId}/report`, {
            token: auditor,
          });
          return report.status === 200;
        }, 15_000),
      ).toBe(true);
      expect(report!.body).toMatchObject({ requestId, format: 'json' });
      const pdf = await stack.http('GET', `/v1/rights-requests/${requestId}/report?format=pdf`, {
        token: auditor,
      });
      expect(pdf.headers.get('content-type')).toBe('application/pdf');
      expect(pdf.raw.subarray(0, 5).toString()).toBe('%PDF-');
      expect(pdf.headers.get('dsg-content-hash')).toBe(report!.body.contentHash);
      const reads = (await accessLog(`actor=auditor-${run}&action=rights.report`)).filter(
        (e) => e.filter.requestId === requestId && e.outcome === 'served',
      );
      expect(reads.map((e) => e.filter.format ?? 'json')).toEqual(['json', 'pdf']);
    });

    it('an export the client leaves early ends there: the access log says so, and the next export completes', async () => {
      const leaver = await stack.token('auditor', { subject: `leaver-${run}` });
      for (let i = 0; i < 5; i++) {
        const abort = new AbortController();
        const pending = fetch(stack.gateway.url('/v1/register/export?format=jsonl'), {
          headers: { authorization: `Bearer ${leaver}` },
          signal: abort.signal,
        }).then((res) => res.body?.cancel());
        setTimeout(() => abort.abort(), 2);
        await pending.catch(() => undefined);
      }
      // An export left before its lines is logged as failed, wherever it was when the client
      // went (one that had already been written out whole is served: the small register here
      // may leave in one piece). Before the fix, an export left while its manifest was fetched
      // hung for good, logged as served.
      expect(
        await waitUntil(
          async () =>
            (await accessLog(`actor=leaver-${run}&action=register.export`)).some(
              (e) => e.outcome === 'failed' && e.errorCode === 'PLATFORM.UNAVAILABLE',
            ),
          10_000,
        ),
      ).toBe(true);
      const whole = await stack.http('GET', '/v1/register/export?format=jsonl', { token: leaver });
      expect(whole.status).toBe(200);
      await expect(verify(whole.raw, manifestOf(whole.headers))).resolves.toMatchObject({
        valid: true,
      });
    });

    it('logs refused and failed accesses too; auditors and privacy officers read the log, operators do not', async () => {
      const refused = await stack.http('GET', '/v1/register/entries', { token: operator });
      expect(refused.status).toBe(403);
      const failed = await stack.http('GET', `/v1/accountings/${randomUUID()}`, {
        token: auditor,
      });
      expect(failed.status).toBe(404);
      expect(
        (await accessLog(`actor=operator-${run}&action=register.entries`)).at(-1),
      ).toMatchObject({
        roles: ['operator'],
        outcome: 'refused',
        status: 403,
        errorCode: 'REQUEST.FORBIDDEN',
        entries: 0,
      });
      expect((await accessLog(`actor=auditor-${run}&action=accountings.get`)).at(-1)).toMatchObject(
        {
          outcome: 'failed',
          status: 404,
          errorCode: 'REQUEST.NOT_FOUND',
        },
      );
      expect((await stack.http('GET', '/v1/access-log', { token: operator })).status).toBe(403);
      expect((await stack.http('GET', '/v1/access-log', { token: officer })).status).toBe(200);
      const bad = await stack.http('GET', '/v1/access-log?since=yesterday&limit=0', {
        token: auditor,
      });
      expect(bad.status).toBe(400);
      expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
        'limit',
        'since',
      ]);
    });

    it('the access log is append-only: no role can change or remove an entry', async () => {
      expect(await sqlErrorCode(gatewayDb, 'UPDATE gateway.access_log SET entries = 0')).toBe(
        '42501',
      );
      expect(await sqlErrorCode(gatewayDb, 'DELETE FROM gateway.access_log')).toBe('42501');
      // Nor backdate one: the time is the database's.
      expect(
        await sqlErrorCode(
          gatewayDb,
          `INSERT INTO gateway.access_log (at, actor, roles, action, entries, outcome, status)
           VALUES ('2020-01-01', 'someone', '{auditor}', 'register.export', 0, 'served', 200)`,
        ),
      ).toBe('42501');
      const asOwner = async (sql: string) =>
        owner.query(sql).then(
          () => 'no error',
          (e: { code?: string; message: string }) => `${e.code}: ${e.message}`,
        );
      expect(await asOwner('UPDATE gateway.access_log SET entries = 0')).toMatch(
        /^42501: the access log is append-only/,
      );
      expect(await asOwner('DELETE FROM gateway.access_log')).toMatch(/append-only/);
      expect(await asOwner('TRUNCATE gateway.access_log')).toMatch(/append-only/);
    });
  });

  describe('operators', () => {
    it("see every service's state and version, and the dead-lettered purge items", async () => {
      const health = await stack.http('GET', '/v1/operations/health', { token: operator });
      expect(health.status).toBe(200);
      expect(health.body.state).toBe('ok');
      for (const service of health.body.services) {
        expect(service).toMatchObject({ state: 'ready', version: { version: expect.any(String) } });
      }
      const dead = await stack.http('GET', '/v1/operations/purges?state=dead-lettered', {
        token: operator,
      });
      expect(dead.status).toBe(200);
      expect(Array.isArray(dead.body.items)).toBe(true);
    });
  });

  describe('hardening', () => {
    it('sets security headers on every answer, and no caching of the API', async () => {
      for (const path of ['/v1/register/tree-head', '/health', '/docs-json']) {
        const res = await fetch(stack.gateway.url(path), {
          headers: { authorization: `Bearer ${auditor}` },
        });
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('x-frame-options')).toBe('DENY');
        expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
        expect(res.headers.get('referrer-policy')).toBe('no-referrer');
        expect(res.headers.get('strict-transport-security')).toMatch(/max-age=/);
        expect(res.headers.get('x-powered-by')).toBeNull();
      }
      const api = await fetch(stack.gateway.url('/v1/register/tree-head'), {
        headers: { authorization: `Bearer ${auditor}` },
      });
      expect(api.headers.get('cache-control')).toBe('no-store');
    });

    it('answers an oversized body 413 and a malformed one 400, both problem+json without internals', async () => {
      const big = await stack.http('POST', '/v1/holds', {
        token: officer,
        body: JSON.stringify({ reason: 'x'.repeat(70_000) }),
        headers: { 'Idempotency-Key': randomUUID() },
      });
      expect(big.status).toBe(413);
      expect(big.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(big.body).toMatchObject({ code: 'REQUEST.TOO_LARGE', status: 413 });
      // The parser's refusal carries the security headers like any answer.
      expect(big.headers.get('x-content-type-options')).toBe('nosniff');
      expect(big.headers.get('cache-control')).toBe('no-store');
      const broken = await stack.http('POST', '/v1/holds', {
        token: officer,
        body: '{"reason": "unterminated',
        headers: { 'Idempotency-Key': randomUUID() },
      });
      expect(broken.status).toBe(400);
      expect(broken.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(broken.body.code).toBe('REQUEST.MALFORMED');
      const array = await stack.http('POST', '/v1/holds', {
        token: officer,
        body: '[1, 2]',
        headers: { 'Idempotency-Key': randomUUID() },
      });
      expect(array.status).toBe(400);
      for (const res of [big, broken, array]) {
        expect(res.raw.toString()).not.toMatch(/\bat [\w.<>]+ \(|node_modules|stack/);
      }
    });

    it('refuses NUL in a member by field, a method the path does not take (405, Allow), and a body that is not JSON (415)', async () => {
      const nul = await stack.http('GET', '/v1/register/entries?purpose=a%00b', { token: auditor });
      expect(nul.status).toBe(400);
      expect(nul.body.errors).toEqual([expect.objectContaining({ field: 'purpose' })]);
      const method = await stack.http('DELETE', '/v1/holds', { token: officer });
      expect(method.status).toBe(405);
      expect(method.headers.get('allow')).toBe('GET, POST');
      expect(method.body.code).toBe('REQUEST.METHOD_NOT_ALLOWED');
      const form = await stack.http('POST', '/v1/holds', {
        token: officer,
        body: 'reason=because',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'Idempotency-Key': randomUUID(),
        },
      });
      expect(form.status).toBe(415);
      expect(form.body.code).toBe('REQUEST.UNSUPPORTED');
      const prototype = await stack.http('GET', '/v1/holds?__proto__=x', { token: auditor });
      expect(prototype.status).toBe(400);
    });

    it('limits the rate per person: 429 with Retry-After, as problem+json', async () => {
      const limited = await ServiceProcess.start('gateway', {
        ...stack.idp.gatewayEnv,
        RATE_LIMIT_PER_MINUTE: '3',
      });
      try {
        await limited.waitReady();
        const call = () =>
          fetch(limited.url('/v1/operations/sweeps'), {
            headers: { authorization: `Bearer ${operator}` },
          });
        const statuses: number[] = [];
        let last: Response | undefined;
        for (let i = 0; i < 5; i++) {
          last = await call();
          statuses.push(last.status);
        }
        expect(statuses).toEqual([200, 200, 200, 429, 429]);
        expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(last!.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(await last!.json()).toMatchObject({ code: 'REQUEST.RATE_LIMITED', status: 429 });
        // Another person is not held back by the first.
        const other = await fetch(limited.url('/v1/operations/sweeps'), {
          headers: { authorization: `Bearer ${auditor}` },
        });
        expect(other.status).toBe(200);
      } finally {
        await limited.stop();
      }
    });

    it('writes no subject identifier or token into any gateway log line', () => {
      const lines = stack.gateway.lines.join('\n');
      expect(lines.length).toBeGreaterThan(0);
      for (const value of [...subjects, auditor.split('.')[1], officer.split('.')[1]]) {
        expect(lines).not.toContain(value);
      }
    });
  });
});

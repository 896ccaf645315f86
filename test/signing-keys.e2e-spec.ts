import { type PublicSigningKey, SERVICE_NAMES } from '@dsg/contracts';
import { DEVELOPMENT_SIGNING_KEY_SECRET, KeyRing, verifyWithPublishedKey } from '@dsg/platform';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { e2eEnv, runtimeDataSource } from './support/e2e-env';
import { ServiceProcess } from './support/service-process';

/**
 * Signing keys: the consent service's key ring, used here through the same KeyRing class and
 * runtime role the service uses, rotated with the operator command, and verified only against
 * what the gateway publishes at /.well-known/signing-keys — as an auditor would.
 */
describe('signing keys', () => {
  const env = e2eEnv();
  const processes: ServiceProcess[] = [];
  let dataSource: DataSource;
  let ring: KeyRing;

  const published = async (): Promise<PublicSigningKey[]> => {
    const gateway = processes.find((p) => p.service === 'gateway')!;
    const res = await fetch(gateway.url('/.well-known/signing-keys'));
    expect(res.status).toBe(200);
    return ((await res.json()) as { keys: PublicSigningKey[] }).keys;
  };

  beforeAll(async () => {
    for (const service of SERVICE_NAMES) processes.push(await ServiceProcess.start(service));
    await Promise.all(processes.map((p) => p.waitReady()));
    dataSource = await runtimeDataSource('consent', 2).initialize();
    ring = new KeyRing(dataSource, 'consent', 'consent', DEVELOPMENT_SIGNING_KEY_SECRET);
    await ring.init();
  }, 90_000);

  afterAll(async () => {
    await dataSource?.destroy();
    await Promise.all(processes.map((p) => p.stop()));
  });

  it('the gateway publishes one active Ed25519 key for every service', async () => {
    const keys = await published();
    for (const service of SERVICE_NAMES) {
      const active = keys.filter((k) => k.service === service && k.status === 'active');
      expect(active).toHaveLength(1);
      expect(active[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
      expect(active[0].kid.startsWith(`${service}-`)).toBe(true);
    }
  });

  it('a signature made with a retired key still verifies; unknown key ids and altered data do not', async () => {
    const document = JSON.stringify({ receipt: 'r-1', decision: 'ALLOW' });
    const before = ring.sign(document);
    expect(verifyWithPublishedKey(document, before, await published())).toBe(true);

    await promisify(execFile)(
      process.execPath,
      [join(__dirname, '..', 'dist', 'apps', 'consent', 'src', 'main.js'), 'rotate-signing-key'],
      { env: { PATH: process.env.PATH ?? '', DATABASE_URL: env.databaseUrl, LOG_LEVEL: 'warn' } },
    );
    await ring.reload();
    const after = ring.sign(document);
    expect(after.kid).not.toBe(before.kid);

    const keys = await published();
    const consentKeys = keys.filter((k) => k.service === 'consent');
    expect(consentKeys.find((k) => k.kid === before.kid)).toMatchObject({
      status: 'retired',
      retiredAt: expect.any(String),
    });
    expect(consentKeys.find((k) => k.kid === after.kid)).toMatchObject({ status: 'active' });

    expect(verifyWithPublishedKey(document, before, keys)).toBe(true);
    expect(verifyWithPublishedKey(document, after, keys)).toBe(true);
    expect(ring.verify(document, before)).toBe(true);
    expect(
      verifyWithPublishedKey(document, { ...after, kid: 'consent-19700101-deadbeef' }, keys),
    ).toBe(false);
    expect(ring.verify(document, { ...after, kid: 'consent-19700101-deadbeef' })).toBe(false);
    expect(verifyWithPublishedKey(document.replace('ALLOW', 'DENY'), before, keys)).toBe(false);
    // A signature by one service's key does not pass as another's key id.
    const retentionKid = keys.find((k) => k.service === 'retention' && k.status === 'active')!.kid;
    expect(verifyWithPublishedKey(document, { ...after, kid: retentionKid }, keys)).toBe(false);
  });

  it('a key row written without the secret is never published or trusted', async () => {
    // Someone with the runtime role's database access, but not SIGNING_KEY_SECRET, slips in a
    // key of their own to make forged signatures verify.
    const attacker = generateKeyPairSync('ed25519');
    const kid = 'consent-20260101-f0f0f0f0';
    await dataSource.query(
      `INSERT INTO consent.signing_keys (kid, public_key, private_key, activated_at, retired_at)
       VALUES ($1, $2, $3, now() - interval '1 day', now())`,
      [kid, attacker.publicKey.export({ format: 'pem', type: 'spki' }), randomBytes(76)],
    );
    const document = 'forged receipt';
    const forged = {
      kid,
      alg: 'EdDSA' as const,
      sig: sign(null, Buffer.from(document), attacker.privateKey).toString('base64url'),
    };
    const keys = await published();
    expect(keys.map((k) => k.kid)).not.toContain(kid);
    expect(verifyWithPublishedKey(document, forged, keys)).toBe(false);
    await ring.reload();
    expect(ring.verify(document, forged)).toBe(false);
    expect(ring.rejectedKeyIds()).toContain(kid);
  });

  it('private keys are stored encrypted, never in the clear', async () => {
    const rows = (await dataSource.query('SELECT private_key FROM consent.signing_keys')) as {
      private_key: Buffer;
    }[];
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows)
      expect(row.private_key.includes(Buffer.from('PRIVATE KEY'))).toBe(false);
    const wrongSecret = new KeyRing(dataSource, 'consent', 'consent', 'x'.repeat(40));
    await expect(wrongSecret.reload()).rejects.toThrow();
  });
});

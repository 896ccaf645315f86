import { ASSERTION_TYPE, DsgClient, type DsgError, ErrorCodes } from '@dsg/contracts';
import { DEVELOPMENT_SIGNING_KEY_SECRET, KeyRing, signAssertion } from '@dsg/platform';
import { exportJWK, generateKeyPair, type KeyLike, SignJWT } from 'jose';
import { generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { connectClient } from './support/clients';
import { runtimeDataSource } from './support/e2e-env';
import { ServiceProcess } from './support/service-process';

const ISSUER = 'https://idp.example.test/realms/medspa';
const AUDIENCE = 'dsg-gateway';

/** A stand-in identity provider: an RS256 key pair and its JWKS served on loopback. */
async function startIdentityProvider() {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  const token = (
    roles: string[],
    options: { expiresIn?: string | null; key?: KeyLike; issuer?: string } = {},
  ) => {
    const jwt = new SignJWT({ roles })
      .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
      .setIssuer(options.issuer ?? ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('person-7f3a')
      .setIssuedAt();
    // null: a token without any expiry, which must not be accepted.
    if (options.expiresIn !== null) jwt.setExpirationTime(options.expiresIn ?? '5m');
    return jwt.sign(options.key ?? privateKey);
  };
  return { server, jwksUrl, token };
}

describe('people acting through the gateway: OIDC, signed assertions, roles', () => {
  let idp: Awaited<ReturnType<typeof startIdentityProvider>>;
  let gateway: ServiceProcess;
  let consent: ServiceProcess;
  let client: DsgClient;
  let asGateway: DsgClient;
  let gatewayDb: DataSource;
  let gatewayRing: KeyRing;

  const rotate = async (service: string, bearer?: string) => {
    const res = await fetch(gateway.url(`/v1/services/${service}/signing-keys/rotate`), {
      method: 'POST',
      headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
    });
    return { status: res.status, body: (await res.json()) as { code?: string; kid?: string } };
  };
  const rotateOverNats = (assertion?: string, via: DsgClient = asGateway) =>
    via.consent
      .rotateSigningKey({}, { assertion, retries: 0 })
      .catch((e: unknown) => e as DsgError);

  beforeAll(async () => {
    idp = await startIdentityProvider();
    gateway = await ServiceProcess.start('gateway', {
      OIDC_ISSUER: ISSUER,
      OIDC_AUDIENCE: AUDIENCE,
      OIDC_JWKS_URL: idp.jwksUrl,
    });
    consent = await ServiceProcess.start('consent');
    await Promise.all([gateway.waitReady(), consent.waitReady()]);
    client = await connectClient('ops');
    // This test stands in for the gateway on the bus (its NATS user) to craft assertions.
    asGateway = await connectClient('gateway');
    gatewayDb = await runtimeDataSource('gateway', 1).initialize();
    gatewayRing = new KeyRing(gatewayDb, 'gateway', 'gateway', DEVELOPMENT_SIGNING_KEY_SECRET);
    await gatewayRing.reload();
  }, 90_000);

  afterAll(async () => {
    await client?.close();
    await asGateway?.close();
    await gatewayDb?.destroy();
    await Promise.all([gateway?.stop(), consent?.stop()]);
    idp?.server.close();
  });

  it('a privacy officer rotates a service key through the gateway (POL-7)', async () => {
    const result = await rotate('consent', await idp.token(['privacy_officer']));
    expect(result).toEqual({ status: 200, body: { kid: expect.stringMatching(/^consent-/) } });
  });

  it('an auditor is refused by the service: the assertion lacks the privacy-officer role', async () => {
    const result = await rotate('consent', await idp.token(['auditor']));
    expect(result.status).toBe(403);
    expect(result.body.code).toBe(ErrorCodes.FORBIDDEN);
  });

  it('no token, a token from another key or issuer, an expired one, or one without expiry: 401', async () => {
    const { privateKey: stranger } = await generateKeyPair('RS256');
    const tokens = [
      undefined,
      await idp.token(['privacy_officer'], { key: stranger }),
      await idp.token(['privacy_officer'], { issuer: 'https://elsewhere.example.test' }),
      await idp.token(['privacy_officer'], { expiresIn: '-1m' }),
      await idp.token(['privacy_officer'], { expiresIn: null }),
    ];
    for (const token of tokens) {
      const result = await rotate('consent', token);
      expect(result).toMatchObject({ status: 401, body: { code: ErrorCodes.UNAUTHENTICATED } });
    }
  });

  it('a service refuses a missing, forged, tampered, expired, replayed or misdirected assertion, and honours a valid one', async () => {
    const officer = { subject: 'person-7f3a', roles: ['privacy_officer' as const] };
    expect((await rotateOverNats(undefined)) as DsgError).toMatchObject({
      code: ErrorCodes.UNAUTHENTICATED,
    });

    // Forged: the gateway's key id, but signed with a key the gateway never published.
    const real = signAssertion(gatewayRing, officer, 'consent', 60);
    const [header, payload] = real.split('.');
    const { privateKey } = generateKeyPairSync('ed25519');
    const forged = `${header}.${payload}.${sign(null, Buffer.from(`${header}.${payload}`), privateKey).toString('base64url')}`;
    expect((await rotateOverNats(forged)) as DsgError).toMatchObject({
      code: ErrorCodes.UNAUTHENTICATED,
    });

    // Tampered: roles raised after signing.
    const raised = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload, 'base64url').toString()),
        roles: ['privacy_officer', 'operator'],
      }),
    ).toString('base64url');
    expect(
      (await rotateOverNats(`${header}.${raised}.${real.split('.')[2]}`)) as DsgError,
    ).toMatchObject({
      code: ErrorCodes.UNAUTHENTICATED,
    });

    // Expired: genuinely signed by the gateway, ten minutes ago, for sixty seconds.
    const expired = signAssertion(gatewayRing, officer, 'consent', 60, Date.now() - 10 * 60_000);
    expect((await rotateOverNats(expired)) as DsgError).toMatchObject({
      code: ErrorCodes.UNAUTHENTICATED,
      message: expect.stringContaining('expired'),
    });

    const auditor = signAssertion(
      gatewayRing,
      { subject: 'person-1', roles: ['auditor'] },
      'consent',
      60,
    );
    expect((await rotateOverNats(auditor)) as DsgError).toMatchObject({
      code: ErrorCodes.FORBIDDEN,
    });

    // Replayed: a valid assertion, but relayed by another NATS user than the gateway.
    expect((await rotateOverNats(real, client)) as DsgError).toMatchObject({
      code: ErrorCodes.UNAUTHENTICATED,
      message: expect.stringContaining('only from the gateway'),
    });
    // Misdirected: a valid assertion issued for another service.
    const forRetention = signAssertion(gatewayRing, officer, 'retention', 60);
    expect((await rotateOverNats(forRetention)) as DsgError).toMatchObject({
      code: ErrorCodes.UNAUTHENTICATED,
      message: expect.stringContaining('another service'),
    });

    await expect(
      asGateway.consent.rotateSigningKey({}, { assertion: real, retries: 0 }),
    ).resolves.toMatchObject({
      kid: expect.stringMatching(/^consent-/),
    });
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toMatchObject({
      typ: ASSERTION_TYPE,
      alg: 'EdDSA',
    });
  });
});

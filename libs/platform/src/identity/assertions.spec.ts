import { ASSERTION_ISSUER, ASSERTION_TYPE, type PublicSigningKey } from '@dsg/contracts';
import { generateKeyPairSync, sign } from 'node:crypto';
import { AssertionVerifier } from './assertions';

/** A gateway key and an assertion signed with it, as KeyRing would sign it. */
function gatewayKey(kid: string) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' }) as { kty: string; crv: string; x: string };
  const published = { ...jwk, kid, service: 'gateway' } as unknown as PublicSigningKey;
  const assertion = (audience: string) => {
    const now = Math.floor(Date.now() / 1000);
    const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const head = `${part({ alg: 'EdDSA', typ: ASSERTION_TYPE, kid })}.${part({
      iss: ASSERTION_ISSUER,
      aud: audience,
      sub: 'officer-1',
      roles: ['privacy_officer'],
      iat: now,
      exp: now + 60,
      jti: `${Math.random()}`,
    })}`;
    return `${head}.${sign(null, Buffer.from(head), privateKey).toString('base64url')}`;
  };
  return { published, assertion };
}

describe(AssertionVerifier.name, () => {
  it('lets calls that meet an unknown key at once share one fetch of the keys, and all pass', async () => {
    const key = gatewayKey('gw-1');
    let fetches = 0;
    const verifier = new AssertionVerifier('consent', async () => {
      fetches++;
      await new Promise((r) => setTimeout(r, 30));
      return [key.published];
    });
    const principals = await Promise.all(
      Array.from({ length: 5 }, () => verifier.verify(key.assertion('consent'))),
    );
    expect(principals.map((p) => p.subject)).toEqual(Array(5).fill('officer-1'));
    expect(fetches).toBe(1);
  });

  it('refuses an assertion for another service', async () => {
    const key = gatewayKey('gw-2');
    const verifier = new AssertionVerifier('consent', async () => [key.published]);
    await expect(verifier.verify(key.assertion('retention'))).rejects.toMatchObject({
      code: 'REQUEST.UNAUTHENTICATED',
    });
  });
});

// A local OIDC issuer for development and the demo stack: one EC P-256 key pair kept in a
// directory, its JWKS served over HTTP (with the discovery document pointing at it), and a
// function that mints signed access tokens for the product's roles. The gateway verifies these
// exactly as it verifies a real provider's (OIDC_ISSUER, OIDC_AUDIENCE, OIDC_JWKS_URL): nothing
// in the gateway knows this issuer is local. Never for production: whoever holds the key file
// can mint any role.
const { createServer } = require('node:http');
const { existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { randomUUID } = require('node:crypto');
const { exportJWK, generateKeyPair, importJWK, SignJWT } = require('jose');

const LOCAL_AUDIENCE = 'dsg-gateway';
const LOCAL_ROLES = ['auditor', 'privacy_officer', 'operator'];
const KEY_FILE = 'local-idp-key.json';

/** The key pair in `dir` (created on first use, readable by its owner only). */
async function loadKey(dir) {
  const path = join(dir, KEY_FILE);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: `local-${randomUUID().slice(0, 8)}` };
    writeFileSync(path, `${JSON.stringify(jwk)}\n`, { mode: 0o600 });
  }
  const jwk = JSON.parse(readFileSync(path, 'utf8'));
  const publicJwk = { ...jwk };
  delete publicJwk.d;
  return {
    kid: jwk.kid,
    privateKey: await importJWK({ ...jwk, alg: 'ES256' }, 'ES256'),
    publicJwk: { ...publicJwk, alg: 'ES256', use: 'sig' },
  };
}

/**
 * A signed access token for `roles` (the claim named `rolesClaim`), issued by `issuer` for the
 * gateway's audience. `subject` is the person's opaque id at the issuer.
 */
async function mintToken({
  dir,
  issuer,
  roles,
  subject,
  audience = LOCAL_AUDIENCE,
  rolesClaim = 'roles',
  rolesAsString = false,
  ttlSeconds = 3600,
}) {
  for (const role of roles) {
    if (!LOCAL_ROLES.includes(role)) {
      throw new Error(`unknown role "${role}": one of ${LOCAL_ROLES.join(', ')}`);
    }
  }
  const key = await loadKey(dir);
  // Some providers send the roles as one space-separated string: the gateway reads both.
  return new SignJWT({ [rolesClaim]: rolesAsString ? roles.join(' ') : roles })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject(subject ?? `local-${roles.join('+') || 'nobody'}`)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .setJti(randomUUID())
    .sign(key.privateKey);
}

/**
 * Serves the issuer on `host:port` (port 0: a free one): `/.well-known/openid-configuration` and
 * `/jwks.json`. Answers `{ issuer, jwksUrl, close() }`; the issuer URL is the server's own.
 */
async function startLocalIdp({ dir, host = '127.0.0.1', port = 0 }) {
  const key = await loadKey(dir);
  let issuer = '';
  const server = createServer((req, res) => {
    const send = (status, body) =>
      res
        .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(body));
    if (req.method !== 'GET') return send(405, { error: 'method not allowed' });
    if (req.url === '/jwks.json') return send(200, { keys: [key.publicJwk] });
    if (req.url === '/.well-known/openid-configuration') {
      return send(200, {
        issuer,
        jwks_uri: `${issuer}/jwks.json`,
        id_token_signing_alg_values_supported: ['ES256'],
      });
    }
    return send(404, { error: 'not found' });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  issuer = `http://${host}:${server.address().port}`;
  return {
    issuer,
    jwksUrl: `${issuer}/jwks.json`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

module.exports = { LOCAL_AUDIENCE, LOCAL_ROLES, mintToken, startLocalIdp };

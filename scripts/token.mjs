#!/usr/bin/env node
// npm run token -- ROLE [ROLE...] [--subject ID] [--ttl SECONDS]: prints a signed access token
// from the local issuer that `npm start` runs (LOCAL_IDP_PORT, default 3099; its key is in
// .data/local-idp), for the gateway's Authorization: Bearer header. Roles: auditor,
// privacy_officer, operator. For development and the demo only.
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { LOCAL_ROLES, mintToken } = require('./lib/local-idp.cjs');
const { localIdpSettings } = require('./lib/local-idp-settings.cjs');

const args = process.argv.slice(2);
const roles = [];
let subject;
let ttlSeconds = 3600;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--subject') subject = args[++i];
  else if (args[i] === '--ttl') ttlSeconds = Number(args[++i]);
  else roles.push(args[i]);
}
if (
  roles.length === 0 ||
  !Number.isInteger(ttlSeconds) ||
  ttlSeconds < 1 ||
  (!subject && subject !== undefined)
) {
  console.error(`usage: npm run --silent token -- ROLE [ROLE...] [--subject ID] [--ttl SECONDS]
roles: ${LOCAL_ROLES.join(', ')}`);
  process.exit(2);
}
const settings = localIdpSettings(join(new URL('..', import.meta.url).pathname, '.data'));
try {
  process.stdout.write(
    `${await mintToken({ dir: settings.dir, issuer: settings.issuer, roles, subject, ttlSeconds })}\n`,
  );
} catch (err) {
  console.error(`token: ${err.message}`);
  process.exit(2);
}

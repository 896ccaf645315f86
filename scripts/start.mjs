// npm start: the whole stack in one command. PostgreSQL and NATS (started privately when not
// running but installed), the build, migrations, a local token issuer (unless OIDC_ISSUER names
// the people's identity provider), then all four services and the reference holder (a demo
// booking system) beside them; seeds the demo data once per database (DSG_DEMO_DATA=off: not at
// all) and prints how to get a token and make a first call. Ctrl-C stops everything it started.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DEMO_OFFICER, seedDemo } from './lib/demo-seed.cjs';
import { DEFAULT_DATABASE_URL, DEFAULT_NATS_URL, ensureInfrastructure } from './lib/infra.mjs';
import { LOCAL_AUDIENCE, mintToken, startLocalIdp } from './lib/local-idp.cjs';
import { localIdpSettings } from './lib/local-idp-settings.cjs';
import { natsPassword } from './lib/nats-users.cjs';
import { descriptors, mainOf, migrateAll, run, SERVICE_NODE_ARGS } from './lib/services.mjs';

const root = new URL('..', import.meta.url).pathname;
/** Where ensureInfrastructure keeps private instances; the local issuer's key lives here too. */
const dataRoot = join(root, '.data');

const env = {
  ...process.env,
  DATABASE_URL: process.env.DATABASE_URL || DEFAULT_DATABASE_URL,
  NATS_URL: process.env.NATS_URL || DEFAULT_NATS_URL,
};
const children = [];
let stopInfra = async () => {};
let stopIdp = async () => {};
let stopping = false;

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  console.error('[start] stopping services');
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', resolve);
          child.kill('SIGTERM');
        }),
    ),
  );
  await stopIdp();
  await stopInfra();
  process.exit(code);
}

async function waitReady(port, name, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} did not become ready within ${timeoutMs / 1000}s`);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  stopInfra = await ensureInfrastructure({ databaseUrl: env.DATABASE_URL, natsUrl: env.NATS_URL });
  await run('npm', ['run', '--silent', 'build']);
  await migrateAll(env);
  const idp = await identityProvider();
  const services = descriptors();
  for (const service of services) {
    const child = spawn(process.execPath, [...SERVICE_NODE_ARGS, mainOf(service.name), 'serve'], {
      env: {
        ...env,
        ...(service.name === 'gateway' ? idp.gatewayEnv : {}),
        NATS_PASSWORD: process.env.NATS_PASSWORD || natsPassword(service.name),
        HTTP_PORT:
          process.env[`${service.schema.toUpperCase()}_HTTP_PORT`] ||
          String(service.defaultHttpPort),
        GRPC_PORT:
          process.env[`${service.schema.toUpperCase()}_GRPC_PORT`] ||
          String(service.defaultGrpcPort),
      },
      stdio: 'inherit',
    });
    child.once('exit', (code, signal) => {
      if (!stopping) {
        console.error(
          `[start] ${service.name} exited unexpectedly (${code ?? signal}); stopping the stack`,
        );
        void shutdown(1);
      }
    });
    children.push(child);
  }
  await Promise.all(
    services.map((s) =>
      waitReady(
        Number(process.env[`${s.schema.toUpperCase()}_HTTP_PORT`] || s.defaultHttpPort),
        s.name,
      ),
    ),
  );
  // The reference holder (a demo booking system): declares its demo clients' holdings and
  // executes the purge commands the retention service sends it, so purges run end to end here.
  const holder = spawn(
    process.execPath,
    [join(root, 'dist', 'apps', 'reference-holder', 'src', 'main.js')],
    {
      env: { ...env, NATS_PASSWORD: natsPassword('booking') },
      stdio: 'inherit',
    },
  );
  holder.once('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[start] the reference holder exited (${code ?? signal}); stopping the stack`);
      void shutdown(1);
    }
  });
  children.push(holder);
  const gateway = services.find((s) => s.name === 'gateway');
  const gatewayPort = process.env.GATEWAY_HTTP_PORT || gateway.defaultHttpPort;
  const gatewayUrl = `http://localhost:${gatewayPort}`;
  const demo = await demoData(`http://127.0.0.1:${gatewayPort}`, idp);
  console.error('');
  console.error(`[start] DSG is running. Gateway: ${gatewayUrl}  (stack health: GET /health)`);
  console.error(`[start] API reference (OpenAPI): ${gatewayUrl}/docs`);
  console.error(
    '[start] The reference holder (a demo booking system, NATS user booking) takes purge commands and correction tasks, and answers as the client system.',
  );
  if (demo) console.error(`[start] ${demo}`);
  console.error('');
  if (idp.local) {
    console.error(
      `[start] Tokens come from the local issuer on ${idp.issuer} (development only), one role or more: auditor, privacy_officer, operator. A first call:`,
    );
    console.error('');
    console.error(`  export DSG_TOKEN=$(${idp.tokenEnv}npm run --silent token -- auditor)`);
    console.error(`  curl -H "Authorization: Bearer $DSG_TOKEN" ${gatewayUrl}/v1/register/entries`);
    console.error(
      `  npx dsg export --out register.jsonl${Number(gatewayPort) === 3000 ? '' : ` --url ${gatewayUrl}`}   # then: npx dsg verify-export register.jsonl`,
    );
    console.error('');
    console.error(
      '[start] An accounting of disclosures for a demo client, as the privacy officer:',
    );
    console.error('');
    console.error(`  export DSG_TOKEN=$(${idp.tokenEnv}npm run --silent token -- privacy_officer)`);
    console.error(
      `  npx dsg accounting demo-ana --produce --staff-title "Privacy Officer"${Number(gatewayPort) === 3000 ? '' : ` --url ${gatewayUrl}`}`,
    );
  } else {
    console.error(
      `[start] People sign in with your identity provider (OIDC_ISSUER=${idp.issuer}); send its access token as Authorization: Bearer, e.g. curl -H "Authorization: Bearer $TOKEN" ${gatewayUrl}/v1/register/entries`,
    );
  }
  console.error('');
  console.error('[start] Ctrl-C stops it.');
} catch (err) {
  console.error(`[start] ${err.message}`);
  await shutdown(1);
}

/**
 * The people's identity provider for the gateway: the user's (OIDC_ISSUER and its companions
 * from the environment, passed through as they are), or else the local issuer, started here on
 * LOCAL_IDP_PORT, whose tokens `npm run token` mints.
 */
async function identityProvider() {
  if (process.env.OIDC_ISSUER) {
    console.error(
      `[start] Using your identity provider: OIDC_ISSUER=${process.env.OIDC_ISSUER} (no local issuer)`,
    );
    return { local: false, issuer: process.env.OIDC_ISSUER, gatewayEnv: {} };
  }
  const settings = localIdpSettings(dataRoot);
  let idp;
  try {
    idp = await startLocalIdp({ dir: settings.dir, host: '127.0.0.1', port: settings.port });
  } catch (err) {
    throw new Error(
      `the local token issuer could not listen on 127.0.0.1:${settings.port} (${err.code ?? err.message}): set LOCAL_IDP_PORT to a free port, or OIDC_ISSUER to your identity provider`,
    );
  }
  stopIdp = idp.close;
  return {
    local: true,
    issuer: idp.issuer,
    dir: settings.dir,
    // `npm run token` finds the issuer by the same variable.
    tokenEnv: process.env.LOCAL_IDP_PORT ? `LOCAL_IDP_PORT=${settings.port} ` : '',
    gatewayEnv: {
      OIDC_ISSUER: idp.issuer,
      OIDC_AUDIENCE: LOCAL_AUDIENCE,
      OIDC_JWKS_URL: idp.jwksUrl,
      OIDC_ROLES_CLAIM: 'roles',
    },
  };
}

/**
 * Seeds the demo data (once per database: a later start finds it and adds nothing) and answers
 * a line saying what there is. A failure is reported, not fatal: the stack is up without it.
 * The legal and rights requests need a privacy officer's token, so only the local issuer's stack
 * gets them; with the people's own identity provider nothing is seeded unless DSG_DEMO_DATA=on.
 */
async function demoData(gatewayUrl, idp) {
  const asked = (process.env.DSG_DEMO_DATA ?? '').toLowerCase();
  if (/^(off|false|0|no)$/.test(asked)) return undefined;
  // Fictional subjects in a signed, append-only register cannot be taken out again: with the
  // people's own identity provider (a real deployment, likely), only when asked for.
  if (!idp.local && !/^(on|true|1|yes)$/.test(asked)) {
    return 'No demo data: OIDC_ISSUER names your identity provider (DSG_DEMO_DATA=on seeds it anyway).';
  }
  try {
    const summary = await seedDemo({
      natsUrl: env.NATS_URL,
      subjectPrefix: env.NATS_SUBJECT_PREFIX || 'dsg',
      natsPassword: (user) => natsPassword(user),
      ...(idp.local
        ? {
            gatewayUrl,
            officerToken: () =>
              mintToken({
                dir: idp.dir,
                issuer: idp.issuer,
                roles: ['privacy_officer'],
                subject: DEMO_OFFICER,
                ttlSeconds: 300,
              }),
          }
        : {}),
    });
    const added = Object.values(summary.added).reduce((a, b) => a + b, 0);
    const { allowed, denied } = summary.disclosures;
    return [
      `Demo data: 3 clients (demo-ana, demo-ben, demo-kid) with consents; disclosures to Cherry, CareCredit and the CRM vendor (${allowed} allowed, ${denied} denied)`,
      summary.skipped.length
        ? `; the demo ${summary.skipped.join(' and ')} are seeded only with the local issuer (they need a privacy officer's token)`
        : '; a subpoena answered with one disclosure; an administrative request in review; an accounting request from demo-ana',
      added ? ` (${added} added now).` : ' (already there: nothing added).',
      ' DSG_DEMO_DATA=off skips it.',
    ].join('');
  } catch (err) {
    return `Demo data could not be seeded: ${err.message}`;
  }
}

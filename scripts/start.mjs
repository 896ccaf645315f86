// npm start: the whole stack in one command. PostgreSQL and NATS (started privately when not
// running but installed), the build, migrations, then all four services; prints the gateway URL
// once every service reports ready, and the reference holder (a demo booking system) beside them.
// Ctrl-C stops everything it started.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DEFAULT_DATABASE_URL, DEFAULT_NATS_URL, ensureInfrastructure } from './lib/infra.mjs';
import { natsPassword } from './lib/nats-users.cjs';
import { descriptors, mainOf, migrateAll, run, SERVICE_NODE_ARGS } from './lib/services.mjs';

const root = new URL('..', import.meta.url).pathname;

const env = {
  ...process.env,
  DATABASE_URL: process.env.DATABASE_URL || DEFAULT_DATABASE_URL,
  NATS_URL: process.env.NATS_URL || DEFAULT_NATS_URL,
};
const children = [];
let stopInfra = async () => {};
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
  const services = descriptors();
  for (const service of services) {
    const child = spawn(process.execPath, [...SERVICE_NODE_ARGS, mainOf(service.name), 'serve'], {
      env: {
        ...env,
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
  console.error('');
  console.error(
    `[start] DSG is running. Gateway: http://localhost:${gatewayPort}  (stack health: GET /health)`,
  );
  console.error(
    '[start] The reference holder (a demo booking system, NATS user booking) takes purge commands and correction tasks, and answers as the client system.',
  );
  console.error('[start] Ctrl-C stops it.');
} catch (err) {
  console.error(`[start] ${err.message}`);
  await shutdown(1);
}

// A private stack for one benchmark run: its own database (migrated, dropped at the end), its own
// subject prefix, and built services started as separate processes, as in production.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import net from 'node:net';
import {
  DEFAULT_DATABASE_URL,
  DEFAULT_NATS_URL,
  dropDatabase,
  ensureDatabase,
  ensureInfrastructure,
} from '../../scripts/lib/infra.mjs';
import { natsPassword } from '../../scripts/lib/nats-users.cjs';
import { deleteStreams } from '../../scripts/lib/nats-streams.cjs';
import { mainOf, migrateAll, run, SERVICE_NODE_ARGS } from '../../scripts/lib/services.mjs';

const require = createRequire(import.meta.url);
const handedOut = new Set();

/** A free port on loopback, never one this run handed out before (the OS may repeat one). */
export async function freePort() {
  for (;;) {
    const port = await probePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

function probePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function startBenchStack() {
  const serverUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const natsUrl = process.env.NATS_URL || DEFAULT_NATS_URL;
  const stopInfra = await ensureInfrastructure({ databaseUrl: serverUrl, natsUrl });
  // BENCH_NO_BUILD=1 runs dist as it is (for a build already made, or instrumented by hand).
  if (!process.env.BENCH_NO_BUILD) await run('npm', ['run', '--silent', 'build']);
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const url = new URL(serverUrl);
  url.pathname = `/dsg_bench_${runId}`;
  const databaseUrl = url.toString();
  await ensureDatabase(databaseUrl);
  await migrateAll({ ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' });
  const subjectPrefix = `bench${runId}`;
  const children = [];

  async function startService(name, extraEnv = {}) {
    const httpPort = await freePort();
    // BENCH_CPU_PROFILE=1 writes a V8 CPU profile of each service to .tmp/bench/profiles.
    // BENCH_SERVICE_NODE_ARGS adds node flags to every service (e.g. --trace-gc).
    const profile = [
      ...(process.env.BENCH_CPU_PROFILE
        ? ['--cpu-prof', '--cpu-prof-dir', '.tmp/bench/profiles']
        : []),
      ...(process.env.BENCH_SERVICE_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    ];
    const child = spawn(
      process.execPath,
      [...SERVICE_NODE_ARGS, ...profile, mainOf(name), 'serve'],
      {
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: databaseUrl,
          NATS_URL: natsUrl,
          NATS_SUBJECT_PREFIX: subjectPrefix,
          NATS_PASSWORD: natsPassword(name),
          HTTP_PORT: String(httpPort),
          GRPC_PORT: String(await freePort()),
          LOG_LEVEL: 'warn',
          ...extraEnv,
        },
        stdio: ['ignore', process.env.BENCH_SERVICE_NODE_ARGS ? 'inherit' : 'ignore', 'inherit'],
      },
    );
    children.push(child);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        // The service's HTTP port goes with its process, for a scenario that reads its /metrics.
        if ((await fetch(`http://127.0.0.1:${httpPort}/health/ready`)).ok) {
          return Object.assign(child, { httpPort });
        }
      } catch {
        // not yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${name} did not become ready`);
  }

  /** The typed client as the operators' NATS user, built from dist (scenarios call services). */
  async function opsClient(options = {}) {
    const { DsgClient } = require('../../dist/libs/contracts/src/index.js');
    return DsgClient.connect({
      caller: 'ops',
      password: natsPassword('ops'),
      natsUrl,
      subjectPrefix,
      retries: 0,
      ...options,
    });
  }

  /**
   * Stops every service started so far. run.mjs calls it after each scenario: a scenario starts
   * the services it needs, and those of the scenarios before it, left running (their timers,
   * their share of the requests of a queue group), would be measured with it.
   */
  async function stopServices() {
    const running = children.splice(0);
    for (const child of running) child.kill('SIGTERM');
    await Promise.all(
      running.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)))),
    );
  }

  async function stop() {
    await stopServices();
    await dropDatabase(databaseUrl);
    await deleteStreams(natsUrl, subjectPrefix);
    await stopInfra();
  }

  return {
    runId,
    databaseUrl,
    natsUrl,
    subjectPrefix,
    startService,
    opsClient,
    stopServices,
    stop,
  };
}

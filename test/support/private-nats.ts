import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NATS_CONFIG, natsPasswordEnv } from './nats-users';
import { freePort } from './service-process';

const BINARY = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find(
  (p) => existsSync(p),
);

/**
 * A nats-server with JetStream of the test's own, on a port of its own, which the test may stop
 * and restart (same port, same store) without touching the shared server.
 */
export class PrivateNats {
  private child?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly storeDir: string,
  ) {}

  static async start(): Promise<PrivateNats> {
    if (!BINARY) throw new Error('nats-server is not installed');
    const nats = new PrivateNats(await freePort(), mkdtempSync(join(tmpdir(), 'dsg-nats-')));
    await nats.up();
    return nats;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async restart(downForMs = 500): Promise<void> {
    await this.down();
    await new Promise((r) => setTimeout(r, downForMs));
    await this.up();
  }

  async stop(): Promise<void> {
    await this.down();
    rmSync(this.storeDir, { recursive: true, force: true });
  }

  private async up(): Promise<void> {
    // With the repository's users and permissions, as `npm start` and docker-compose run it.
    this.child = spawn(
      BINARY!,
      ['-c', NATS_CONFIG, '-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir],
      { stdio: 'ignore', env: { ...process.env, ...natsPasswordEnv() } },
    );
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await listening(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('private nats-server did not start');
  }

  private async down(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

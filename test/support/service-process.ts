import { type ServiceName, SERVICES } from '@dsg/contracts';
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { e2eEnv } from './e2e-env';
import { natsPassword } from './nats-users';

const root = join(__dirname, '..', '..');

const handedOut = new Set<number>();

/** A free port on loopback, never one this process handed out before (the OS may repeat one). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await probePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

function probePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One built service (dist/) running as its own process, as in production. */
export class ServiceProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<Exit>;
  private readonly log: WriteStream;

  private constructor(
    readonly service: ServiceName,
    readonly child: ChildProcess,
    readonly httpPort: number,
    readonly grpcPort: number,
  ) {
    this.log = createWriteStream(join(e2eEnv().logDir, `${service}-${child.pid}.log`));
    let pending = '';
    const collect = (chunk: Buffer) => {
      this.log.write(chunk);
      pending += chunk.toString('utf8');
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      this.lines.push(...parts.filter((l) => l.length > 0));
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (pending) this.lines.push(pending);
        this.log.end();
        resolve({ code, signal });
      }),
    );
  }

  static async start(
    service: ServiceName,
    env: Record<string, string> = {},
    args: string[] = ['serve'],
  ): Promise<ServiceProcess> {
    const { databaseUrl, natsUrl, subjectPrefix } = e2eEnv();
    const httpPort = await freePort();
    const grpcPort = await freePort();
    const child = spawn(
      process.execPath,
      [join(root, 'dist', 'apps', service, 'src', 'main.js'), ...args],
      {
        env: {
          PATH: process.env.PATH ?? '',
          DATABASE_URL: databaseUrl,
          NATS_URL: natsUrl,
          NATS_SUBJECT_PREFIX: subjectPrefix,
          NATS_PASSWORD: natsPassword(service),
          HTTP_PORT: String(httpPort),
          GRPC_PORT: String(grpcPort),
          HTTP_HOST: '127.0.0.1',
          GRPC_HOST: '127.0.0.1',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    return new ServiceProcess(service, child, httpPort, grpcPort);
  }

  get descriptor() {
    return SERVICES[this.service];
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.httpPort}${path}`;
  }

  async waitReady(timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) {
        throw new Error(
          `${this.service} exited with ${this.child.exitCode}:\n${this.lines.slice(-20).join('\n')}`,
        );
      }
      try {
        const res = await fetch(this.url('/health/ready'));
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(
      `${this.service} not ready after ${timeoutMs} ms:\n${this.lines.slice(-20).join('\n')}`,
    );
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

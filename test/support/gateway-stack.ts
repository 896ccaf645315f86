import type { DsgClient, Role } from '@dsg/contracts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient } from './clients';
import { ServiceProcess } from './service-process';

const localIdp = require('../../scripts/lib/local-idp.cjs') as {
  LOCAL_AUDIENCE: string;
  startLocalIdp(o: {
    dir: string;
  }): Promise<{ issuer: string; jwksUrl: string; close(): Promise<void> }>;
  mintToken(o: {
    dir: string;
    issuer: string;
    roles: string[];
    subject?: string;
    audience?: string;
    rolesClaim?: string;
    rolesAsString?: boolean;
    ttlSeconds?: number;
  }): Promise<string>;
};

export type Person = Role | 'nobody';

export interface HttpAnswer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON as the test reads it
  body: any;
  raw: Buffer;
}

interface TokenOptions {
  subject?: string;
  ttlSeconds?: number;
  issuer?: string;
  audience?: string;
  /** The claim carrying the roles (default `roles`). */
  rolesClaim?: string;
  /** The roles as one space-separated string instead of a list. */
  asString?: boolean;
}

/** The local OIDC issuer `npm start` runs, on a free port, and tokens it signs. */
export class TestIdp {
  private constructor(
    readonly server: { issuer: string; jwksUrl: string; close(): Promise<void> },
    readonly dir: string,
  ) {}

  static async start(): Promise<TestIdp> {
    const dir = mkdtempSync(join(tmpdir(), 'dsg-idp-'));
    return new TestIdp(await localIdp.startLocalIdp({ dir }), dir);
  }

  /** The gateway's environment for this issuer. */
  get gatewayEnv(): Record<string, string> {
    return {
      OIDC_ISSUER: this.server.issuer,
      OIDC_AUDIENCE: localIdp.LOCAL_AUDIENCE,
      OIDC_JWKS_URL: this.server.jwksUrl,
    };
  }

  /** A token for one role (`nobody`: a valid token carrying no product role). */
  token(person: Person | Role[], options: TokenOptions = {}): Promise<string> {
    const roles = Array.isArray(person) ? person : person === 'nobody' ? [] : [person];
    return localIdp.mintToken({
      dir: this.dir,
      issuer: options.issuer ?? this.server.issuer,
      roles,
      subject: options.subject ?? `person-${roles.join('-') || 'nobody'}`,
      ...(options.ttlSeconds !== undefined ? { ttlSeconds: options.ttlSeconds } : {}),
      ...(options.audience ? { audience: options.audience } : {}),
      ...(options.rolesClaim ? { rolesClaim: options.rolesClaim } : {}),
      ...(options.asString ? { rolesAsString: true } : {}),
    });
  }

  async close(): Promise<void> {
    await this.server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The whole stack as people reach it, for the gateway's e2e suites: a local OIDC issuer (the
 * one `npm start` runs), the gateway configured against it, and the three domain services; a
 * `booking` client for the spa's own calls; `token(role)` mints a token the gateway accepts.
 */
export class GatewayStack {
  private constructor(
    readonly processes: ServiceProcess[],
    readonly idp: TestIdp,
    readonly booking: DsgClient,
  ) {}

  static async start(
    gatewayEnv: Record<string, string> = {},
    registerEnv: Record<string, string> = { SEAL_EVERY_MS: '300' },
  ): Promise<GatewayStack> {
    const idp = await TestIdp.start();
    const processes = [
      await ServiceProcess.start('gateway', { ...idp.gatewayEnv, ...gatewayEnv }),
      await ServiceProcess.start('consent'),
      await ServiceProcess.start('disclosure-register', registerEnv),
      await ServiceProcess.start('retention'),
    ];
    await Promise.all(processes.map((p) => p.waitReady()));
    return new GatewayStack(processes, idp, await connectClient('booking'));
  }

  get gateway(): ServiceProcess {
    return this.processes[0];
  }

  token(person: Person | Role[], options: TokenOptions = {}): Promise<string> {
    return this.idp.token(person, options);
  }

  /** An HTTP call to the gateway as a person (or with no token at all). */
  async http(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<HttpAnswer> {
    const res = await fetch(this.gateway.url(path), {
      method,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      ...(options.body !== undefined
        ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }
        : {}),
    });
    const raw = Buffer.from(await res.arrayBuffer());
    const type = res.headers.get('content-type') ?? '';
    const body =
      /^application\/(problem\+)?json/.test(type) && raw.length > 0
        ? JSON.parse(raw.toString('utf8'))
        : undefined;
    return { status: res.status, headers: res.headers, body, raw };
  }

  async close(): Promise<void> {
    await this.booking.close();
    await Promise.all(this.processes.map((p) => p.stop()));
    await this.idp.close();
  }
}

import type { DsgClient, Role } from '@dsg/contracts';
import { DEVELOPMENT_SIGNING_KEY_SECRET, KeyRing, signAssertion } from '@dsg/platform';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { connectClient } from './clients';
import { e2eEnv, runtimeDataSource } from './e2e-env';
import { ServiceProcess } from './service-process';

/**
 * The disclosure register as its callers reach it, for e2e suites: gateway, consent and register
 * processes; a sharing service's client (`booking`); the test standing in for the gateway on the
 * bus (`asGateway`), signing people's assertions with the gateway's keys (`as`); the database as
 * its owner (`owner`), for what only direct SQL can show.
 */
export class RegisterStack {
  private constructor(
    readonly processes: ServiceProcess[],
    readonly booking: DsgClient,
    readonly asGateway: DsgClient,
    readonly owner: Client,
    private readonly gatewayDb: DataSource,
    private readonly gatewayRing: KeyRing,
  ) {}

  static async start(
    registerEnv: Record<string, string> = { SEAL_EVERY_MS: '300' },
  ): Promise<RegisterStack> {
    const processes = [
      await ServiceProcess.start('gateway'),
      await ServiceProcess.start('consent'),
      await ServiceProcess.start('disclosure-register', registerEnv),
    ];
    await Promise.all(processes.map((p) => p.waitReady()));
    const owner = new Client({ connectionString: e2eEnv().databaseUrl });
    await owner.connect();
    const gatewayDb = await runtimeDataSource('gateway', 1).initialize();
    const gatewayRing = new KeyRing(
      gatewayDb,
      'gateway',
      'gateway',
      DEVELOPMENT_SIGNING_KEY_SECRET,
    );
    await gatewayRing.reload();
    return new RegisterStack(
      processes,
      await connectClient('booking'),
      await connectClient('gateway'),
      owner,
      gatewayDb,
      gatewayRing,
    );
  }

  /** The register's process (its HTTP port: `register.url(path)`). */
  get register(): ServiceProcess {
    return this.processes[2];
  }

  /** Call options carrying a person's assertion, as the gateway would send them. */
  as(roles: Role[], subject = 'officer-1') {
    return {
      assertion: signAssertion(this.gatewayRing, { subject, roles }, 'disclosure-register', 60),
      retries: 0,
    };
  }

  async close(): Promise<void> {
    await this.booking.close();
    await this.asGateway.close();
    await this.owner.end();
    await this.gatewayDb.destroy();
    await Promise.all(this.processes.map((p) => p.stop()));
  }
}

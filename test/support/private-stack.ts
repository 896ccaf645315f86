import { DsgClient, type Role, type ServiceName } from '@dsg/contracts';
import { DEVELOPMENT_SIGNING_KEY_SECRET, KeyRing, signAssertion } from '@dsg/platform';
import { Client, Pool } from 'pg';
import { BookingHolder } from '../../apps/reference-holder/src/booking-holder';
import { DataSource } from 'typeorm';
import { e2eEnv } from './e2e-env';
import { deleteStreams, natsPassword } from './nats-users';
import { ServiceProcess } from './service-process';

/**
 * A stack on a database and a subject prefix of its own (created, migrated, dropped at the end):
 * for suites whose work reaches everything on the database — a sweep purges whatever is due, a
 * new policy version dates every holding — so that no other suite's rows take part.
 */
export class PrivateStack {
  readonly databaseUrl: string;
  readonly prefix: string;
  readonly db: Client;
  private readonly owner: Client;
  private readonly database: string;
  private readonly processes: ServiceProcess[] = [];
  private readonly clients: DsgClient[] = [];
  private gatewayDb?: DataSource;
  private readonly closers: (() => Promise<unknown>)[] = [];
  private gatewayRing?: KeyRing;

  private constructor(name: string) {
    const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
    this.database = `dsg_e2e_${name}_${run}`;
    this.prefix = `${name}${run}`;
    const url = new URL(e2eEnv().databaseUrl);
    url.pathname = `/${this.database}`;
    this.databaseUrl = url.toString();
    this.owner = new Client({ connectionString: e2eEnv().databaseUrl });
    this.db = new Client({ connectionString: this.databaseUrl });
  }

  /** Creates and migrates the database for `services`. */
  static async create(name: string, services: readonly ServiceName[]): Promise<PrivateStack> {
    const stack = new PrivateStack(name);
    await stack.owner.connect();
    await stack.owner.query(`CREATE DATABASE ${stack.database}`);
    for (const service of services) {
      const migrate = await ServiceProcess.start(service, { DATABASE_URL: stack.databaseUrl }, [
        'migrate',
      ]);
      const exit = await migrate.exited;
      if (exit.code !== 0) throw new Error(`${service} migrations failed (${exit.code})`);
    }
    await stack.db.connect();
    return stack;
  }

  /** Starts a replica of `service` on this stack and waits until it is ready. */
  async start(service: ServiceName, env: Record<string, string> = {}): Promise<ServiceProcess> {
    const proc = await ServiceProcess.start(service, {
      DATABASE_URL: this.databaseUrl,
      NATS_SUBJECT_PREFIX: this.prefix,
      ...env,
    });
    this.processes.push(proc);
    await proc.waitReady(60_000);
    return proc;
  }

  /** The typed client as one of the NATS users, on this stack's prefix. */
  async client(caller: string): Promise<DsgClient> {
    const client = await DsgClient.connect({
      caller,
      password: natsPassword(caller),
      natsUrl: e2eEnv().natsUrl,
      subjectPrefix: this.prefix,
    });
    this.clients.push(client);
    return client;
  }

  /**
   * The reference holder (the demo booking system) on this stack's database, as `client`'s
   * system, taking its purge commands; stopped with the stack.
   */
  async referenceHolder(client: DsgClient): Promise<{ holder: BookingHolder; pool: Pool }> {
    const pool = new Pool({ connectionString: this.databaseUrl, max: 2 });
    const holder = new BookingHolder({ client, pool, subjectPrefix: this.prefix });
    this.closers.push(
      () => holder.stop(),
      () => pool.end(),
    );
    await holder.init();
    await holder.start();
    return { holder, pool };
  }

  /**
   * Call options carrying a gateway assertion for a person with `roles` (the gateway must have
   * been started: its signing key is read from this stack's database).
   */
  async as(roles: Role[], audience: ServiceName, subject = 'person-1') {
    if (!this.gatewayRing) {
      this.gatewayDb = await new DataSource({
        type: 'postgres',
        url: this.databaseUrl,
        poolSize: 1,
      }).initialize();
      this.gatewayRing = new KeyRing(
        this.gatewayDb,
        'gateway',
        'gateway',
        DEVELOPMENT_SIGNING_KEY_SECRET,
      );
    }
    await this.gatewayRing.reload();
    return {
      assertion: signAssertion(this.gatewayRing, { subject, roles }, audience, 60),
      retries: 0,
    };
  }

  async stop(): Promise<void> {
    for (const close of this.closers) await close().catch(() => {});
    await Promise.all(this.clients.map((c) => c.close().catch(() => {})));
    await Promise.all(this.processes.map((p) => p.stop()));
    await this.gatewayDb?.destroy();
    await this.db.end().catch(() => {});
    await this.owner.query(`DROP DATABASE IF EXISTS ${this.database} WITH (FORCE)`);
    await this.owner.end();
    await deleteStreams(e2eEnv().natsUrl, this.prefix);
  }
}
